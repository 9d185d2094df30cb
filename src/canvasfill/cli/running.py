"""Running one fill from files: read the image (and mask), run the pipeline, write, report.

The same :func:`canvasfill.pipeline.run.run_job` the server's workers run, with no
task record; imported here on first use, since it brings numpy, OpenCV and pydantic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from canvasfill.cli.options import FillOptions
from canvasfill.cli.output import EXIT_BAD_INPUT, fail, guarded, print_json, say, summary, write

if TYPE_CHECKING:
    from canvasfill.engines.base import Operation
    from canvasfill.pipeline.run import JobOutput
    from canvasfill.pipeline.spec import Geometry, JobSpec


def process(spec: JobSpec, image: Path, mask: Path | None) -> JobOutput:
    """Run ``spec`` on the bytes of ``image`` (and ``mask``)."""
    from canvasfill.pipeline.run import run_job

    mask_bytes = mask.read_bytes() if mask is not None else None
    return run_job(spec, image.read_bytes(), mask_bytes)


def run_file(
    operation: Operation,
    geometry: Geometry,
    image: Path,
    output: Path,
    mask: Path | None,
    options: FillOptions,
) -> None:
    """Fill one image file into OUTPUT (numbered when n > 1) and say what was written."""
    if not image.is_file():
        fail(f"{image}: no such file or folder", EXIT_BAD_INPUT)
    if mask is not None and not mask.is_file():
        fail(f"{mask}: no such mask file", EXIT_BAD_INPUT)
    fmt = options.output_format(output)
    spec = options.spec(operation, geometry, fmt)
    result = guarded(lambda: process(spec, image, mask))
    written = write(result, output, fmt)
    if options.as_json:
        print_json(summary(image, written, result))
        return
    for path in written:
        say(f"wrote {path}")
    say(f"engine {result.engine}, seed {result.seed}, {result.seconds:.2f} s")
