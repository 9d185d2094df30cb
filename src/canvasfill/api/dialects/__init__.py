"""The hosted APIs canvasfill stands in for, one module each, mounted beside the native API.

Each module parses its dialect's requests into a ``JobSpec`` and renders tasks and
errors in that dialect's shape; ``http`` holds the glue they share.
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount every dialect's routes, error renderers and callback renderers on ``app``."""
    from canvasfill.api.dialects import ailab, kling, picwish, stability

    for dialect in (ailab, kling, picwish, stability):
        dialect.install(app)
