"""The options ``expand`` and ``remove`` share, declared once and carried as one value.

The typer declarations (``PromptOpt``, ...) keep the two commands' flags identical;
:class:`FillOptions` carries what the user chose from the command to the file and
folder runners, and turns it into a :class:`~canvasfill.pipeline.spec.JobSpec`. The job
modules are imported when a spec is built, not when the CLI starts, so ``--help``
stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from canvasfill.cli.output import fail_usage, guarded

if TYPE_CHECKING:
    from canvasfill.engines.base import Operation
    from canvasfill.imaging.encode import OutputFormat
    from canvasfill.pipeline.spec import Geometry, JobSpec

OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Output file (or folder).")]
PromptOpt = Annotated[
    str, typer.Option(help="What to see in the filled area (engines that use it).")
]
NegativeOpt = Annotated[str, typer.Option(help="What not to see (engines that use it).")]
SeedOpt = Annotated[int, typer.Option(help="Seed; -1 draws a random one (reported).")]
StepsOpt = Annotated[int | None, typer.Option(min=1, help="Amount of work; engine-specific.")]
StrengthOpt = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=1.0,
        help="0..1. Diffusion: how far to depart from the input. patch removal: the share of "
        "copied texture kept deep in the hole (default 1: sharp; 0: smooth, best PSNR).",
    ),
]
GuidanceOpt = Annotated[float | None, typer.Option(min=0.0, help="Prompt guidance scale.")]
CountOpt = Annotated[int, typer.Option("-n", "--n", min=1, max=9, help="Images to make (1..9).")]
EngineOpt = Annotated[str, typer.Option(help="Engine name, or auto for the best available.")]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="png, jpeg or webp (default: from OUTPUT's suffix).")
]
QualityOpt = Annotated[int, typer.Option(min=1, max=100, help="JPEG/WebP quality.")]
MaxWidthOpt = Annotated[int, typer.Option(min=0, help="Scale the result to fit; 0 = no limit.")]
MaxHeightOpt = Annotated[int, typer.Option(min=0, help="Scale the result to fit; 0 = no limit.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")]

_SUFFIXES = ("png", "jpg", "jpeg", "webp")


@dataclass(frozen=True, kw_only=True)
class FillOptions:
    """What every fill run shares, whatever the geometry (keyword-only: no order to get wrong)."""

    prompt: str = ""
    negative_prompt: str = ""
    seed: int = -1
    steps: int | None = None
    strength: float | None = None
    guidance: float | None = None
    n: int = 1
    engine: str = "auto"
    fmt: str | None = None
    quality: int = 95
    max_width: int = 0
    max_height: int = 0
    as_json: bool = False

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Any]) -> FillOptions:
        """The options out of a fill command's arguments (its ``locals()``), by field name.

        Each command must declare the flags in its own signature (typer reads them
        there); reading them back by name, not by position, keeps the two commands and
        this class from drifting apart: a field with no flag of that name is a KeyError
        in every test that runs the command.
        """
        return cls(**{field.name: arguments[field.name] for field in fields(cls)})

    def output_format(self, output: Path | None) -> OutputFormat:
        """``--format`` when given, else OUTPUT's suffix, else PNG.

        An OUTPUT whose suffix names no format it writes (``out.gif``) is refused before
        any work, with the formats it can write: PNG bytes in a ``.gif`` would only
        mislead whatever opens the file next.
        """
        from canvasfill.imaging.encode import OutputFormat

        suffix = output.suffix.lower().lstrip(".") if output is not None else ""
        if suffix and suffix not in _SUFFIXES:
            assert output is not None
            fail_usage(
                f"{output}: cannot write .{suffix} files; give OUTPUT one of the suffixes "
                f"it writes: {', '.join('.' + known for known in _SUFFIXES)} (or none, "
                "with --format png, jpeg or webp)"
            )
        explicit = self.fmt
        if explicit is not None:
            return guarded(lambda: OutputFormat.parse(explicit, field="format"))
        return OutputFormat.parse(suffix) if suffix else OutputFormat.PNG

    def spec(self, operation: Operation, geometry: Geometry, fmt: OutputFormat) -> JobSpec:
        """The job to run; a seed of -1 draws a fresh one each call (each image of a batch)."""
        from canvasfill.engines.base import resolve_seed
        from canvasfill.pipeline.spec import JobSpec, OutputOptions

        return JobSpec(
            operation=operation,
            geometry=geometry,
            seed=resolve_seed(self.seed),
            engine=self.engine,
            n=self.n,
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            steps=self.steps,
            strength=self.strength,
            guidance_scale=self.guidance,
            output=OutputOptions(
                format=fmt,
                quality=self.quality,
                max_width=self.max_width,
                max_height=self.max_height,
            ),
        )
