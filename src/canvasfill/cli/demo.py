"""``canvasfill demo``: expand a generated sample photo, so a newcomer sees a result at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from canvasfill.cli.output import guarded, say


def demo(
    folder: Annotated[
        Path, typer.Option(help="Where to write the sample and its expansion.")
    ] = Path("canvasfill-demo"),
) -> None:
    """Expand a generated sample photo by a quarter on each side and say where the result is."""
    from canvasfill.engines.base import Operation, resolve_seed
    from canvasfill.pipeline.run import run_job
    from canvasfill.pipeline.spec import JobSpec, RatioExpansion
    from canvasfill.sample import sample_photo_png

    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "sample.png"
    source.write_bytes(sample_photo_png())
    target = folder / "sample-expanded.png"
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=RatioExpansion(left=0.25, right=0.25, top=0.1, bottom=0.1),
        seed=resolve_seed(None),
    )
    result = guarded(lambda: run_job(spec, source.read_bytes()))
    target.write_bytes(result.images[0].data)
    image = result.images[0]
    say(f"sample photo:  {source.resolve()}")
    say(
        f"expanded with engine {result.engine} (seed {result.seed}) in {result.seconds:.2f} s:\n"
        f"  {target.resolve()}  ({image.width}x{image.height})"
    )
