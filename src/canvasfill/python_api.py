"""``canvasfill.expand``, ``canvasfill.remove`` and ``canvasfill.find_mask``: the library's
front door for Python code.

They build the same job spec the CLI and the server build and run it in-process, so a
notebook gets exactly what a request would get.

``import canvasfill`` imports this module, and so does every command of the CLI (the
package comes first): the pipeline, numpy and Pillow are imported when a function is
called, not here, so importing canvasfill stays cheap.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PIL import Image

    from canvasfill.engines.detect import DetectKind
    from canvasfill.pipeline.spec import Geometry, JobSpec

ImageInput: TypeAlias = "str | Path | bytes | Image.Image | NDArray[np.uint8]"


@dataclass(frozen=True)
class Result:
    images: list[Image.Image]
    engine: str
    seed: int
    seconds: float


def expand(
    image: ImageInput,
    *,
    left: float = 0.0,
    right: float = 0.0,
    top: float = 0.0,
    bottom: float = 0.0,
    pixels: bool = False,
    mask: ImageInput | None = None,
    engine: str = "auto",
    seed: int = -1,
    n: int = 1,
    prompt: str = "",
    negative_prompt: str = "",
    steps: int | None = None,
    strength: float | None = None,
    guidance_scale: float | None = None,
    max_width: int = 0,
    max_height: int = 0,
    detect: str | None = None,
) -> Result:
    """Expand ``image``: sides as fractions of its width/height (or pixels with
    ``pixels=True``), or canvas mode when ``mask`` is given. ``seed=-1`` is random.

    ``detect="subject"`` finds the photo's subject (``u2netp`` weights) and keeps it out
    of the fill's sources, so ``patch`` does not repeat it in the new border."""
    from canvasfill.engines.base import Operation, resolve_seed
    from canvasfill.imaging.encode import OutputFormat
    from canvasfill.pipeline.spec import (
        CanvasMask,
        JobSpec,
        OutputOptions,
        PixelExpansion,
        RatioExpansion,
    )

    geometry: Geometry
    if mask is not None:
        geometry = CanvasMask()
    elif pixels:
        geometry = PixelExpansion(
            left=int(left), right=int(right), top=int(top), bottom=int(bottom)
        )
    else:
        geometry = RatioExpansion(left=left, right=right, top=top, bottom=bottom)
    spec = JobSpec(
        operation=Operation.EXPAND,
        geometry=geometry,
        seed=resolve_seed(seed),
        engine=engine,
        n=n,
        prompt=prompt,
        negative_prompt=negative_prompt,
        steps=steps,
        strength=strength,
        guidance_scale=guidance_scale,
        output=OutputOptions(format=OutputFormat.PNG, max_width=max_width, max_height=max_height),
        keep_out=_subject_only(detect),
    )
    return _run(spec, image, mask)


def _subject_only(detect: str | None) -> tuple[DetectKind, ...]:
    from canvasfill.pipeline.spec import parse_detect

    if detect is None:
        return ()
    kinds = parse_detect(detect)
    if kinds != ("subject",):
        raise ValueError(
            f"an expansion's detect is 'subject' (kept out of the fill), not {detect!r}"
        )
    return kinds


def find_mask(image: ImageInput, detect: str | Sequence[str] = "text") -> Image.Image:
    """What ``detect`` (``"text"``, ``"subject"`` or both) finds in ``image``, as a mode
    ``L`` mask of its size (255 where found), as ``POST /v1/masks`` answers it; nothing
    found raises ``InputError`` with code ``nothing_to_remove``."""
    from canvasfill.engines.base import Operation
    from canvasfill.pipeline.run import run_job
    from canvasfill.pipeline.spec import DetectedMask, JobSpec, parse_detect

    kinds = parse_detect(detect if isinstance(detect, str) else ",".join(detect))
    spec = JobSpec(
        operation=Operation.REMOVE, geometry=DetectedMask(detect=kinds), seed=0, mask_only=True
    )
    return _load(run_job(spec, _as_bytes(image)).images[0].data)


def remove(
    image: ImageInput,
    mask: ImageInput | None = None,
    *,
    boxes: Sequence[tuple[int, int, int, int]] = (),
    grow: int = 0,
    detect: str | Sequence[str] | None = None,
    engine: str = "auto",
    seed: int = -1,
    n: int = 1,
    prompt: str = "",
    steps: int | None = None,
    strength: float | None = None,
) -> Result:
    """Remove what ``mask`` marks (white) or what lies in ``boxes`` of (x, y, w, h).

    ``detect`` (``"text"``, ``"subject"``, ``"text,subject"`` or a sequence of those)
    finds what to remove instead; a ``mask`` or ``boxes`` given with it are added to
    what is found. Nothing found raises ``InputError`` with code ``nothing_to_remove``;
    the detectors' weights come from ``canvasfill models pull ppocr-det`` / ``u2netp``.

    ``strength`` as the CLI's ``--strength``: for ``patch``, left out (or 1) is the
    sharp fill; lower values fade texture the photo cannot predict toward a smooth
    guess (closer on PSNR/SSIM in big holes of grass or gravel, and softer)."""
    from canvasfill.engines.base import Operation, resolve_seed
    from canvasfill.pipeline.spec import (
        Box,
        BoxRemoval,
        DetectedMask,
        JobSpec,
        MaskRemoval,
        parse_detect,
    )

    geometry: Geometry
    given = tuple(Box(x=x, y=y, width=w, height=h) for x, y, w, h in boxes)
    if detect is not None:
        kinds = parse_detect(detect if isinstance(detect, str) else ",".join(detect))
        geometry = DetectedMask(detect=kinds, boxes=given, grow=grow)
    elif boxes:
        geometry = BoxRemoval(boxes=given, grow=grow)
    else:
        geometry = MaskRemoval(grow=grow)
    spec = JobSpec(
        operation=Operation.REMOVE,
        geometry=geometry,
        seed=resolve_seed(seed),
        engine=engine,
        n=n,
        prompt=prompt,
        steps=steps,
        strength=strength,
    )
    return _run(spec, image, mask)


def _run(spec: JobSpec, image: ImageInput, mask: ImageInput | None) -> Result:
    from canvasfill.pipeline.run import run_job

    output = run_job(spec, _as_bytes(image), None if mask is None else _as_bytes(mask))
    images = [_load(item.data) for item in output.images]
    return Result(images=images, engine=output.engine, seed=output.seed, seconds=output.seconds)


def _load(data: bytes) -> Image.Image:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        return opened.copy()


def _as_bytes(source: ImageInput) -> bytes:
    import numpy as np
    from PIL import Image

    if isinstance(source, bytes):
        return source
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    picture = Image.fromarray(source) if isinstance(source, np.ndarray) else source
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
