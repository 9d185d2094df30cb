"""canvasfill: self-hosted image expansion (outpainting) and object removal (inpainting).

Python use::

    import canvasfill
    result = canvasfill.expand("photo.jpg", left=0.25, right=0.25)
    result.images[0].save("wide.png")
"""

from importlib.metadata import PackageNotFoundError, version

from canvasfill.errors import CanvasfillError, EngineError, ErrorCode, InputError
from canvasfill.python_api import Result, expand, find_mask, remove

try:
    # pyproject.toml is the one place the version is written; the CLI's --version, the
    # OpenAPI document and /healthz all read it from here
    __version__ = version("canvasfill")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "CanvasfillError",
    "EngineError",
    "ErrorCode",
    "InputError",
    "Result",
    "__version__",
    "expand",
    "find_mask",
    "remove",
]
