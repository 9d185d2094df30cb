"""The methods the benchmarks compare, each as ``fill(image, mask) -> image``.

canvasfill's engines run as the service runs them: the engine's fill, composited
with the engine's own feather (known pixels exact). ``pypatchmatch`` runs as its
package ships, with ``patch_size=3`` (7x7 patches), the setting its examples use and
the one behind the issue's "2-4 s at 1024 px"; its default of 15 (31x31 patches) takes
over ten times longer here.

``patch`` runs with its defaults: a removal gets the sharp fill (strength 1).
``patch-smooth`` is ``patch`` at strength 0, the removal hedge at its smoothest
(``engines/patchmatch/hedge.py``; the default before issue 22). It is there so the
tables show what the hedge trades: sharpness deep in a hole for pixels closer to the
truth. ``patch-mean`` is ``patch`` with the plain weighted-mean vote for its output
(``SolverSettings.mode_bandwidth`` 0) instead of the default mode vote: what the
mode vote trades (sharpness and fewer flat blocks for a little PSNR).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from canvasfill.engines.base import FillParams, Operation
from canvasfill.engines.registry import get_engine
from canvasfill.imaging.composite import composite

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]
Fill = Callable[[RGB, Mask], RGB]

PEERS = ("telea", "ns", "pypatchmatch")
SMOOTH = "patch-smooth"
MEAN = "patch-mean"
ALL = ("patch", SMOOTH, MEAN, *PEERS)
SEED = 7
PYPATCHMATCH_PATCH_SIZE = 3


def engine_fill(
    name: str, operation: Operation = Operation.REMOVE, strength: float | None = None
) -> Fill:
    engine = get_engine(name)

    def fill(image: RGB, mask: Mask) -> RGB:
        params = FillParams(seed=SEED, operation=operation, strength=strength)
        (result,) = engine.fill(image, mask, params)
        return composite(image, result, mask, engine.feather)

    return fill


def mean_fill(operation: Operation) -> Fill:
    from dataclasses import replace

    from canvasfill.engines.patch import settings_for
    from canvasfill.engines.patchmatch.solver import complete

    settings = replace(settings_for(None, None, operation), mode_bandwidth=0.0)
    feather = get_engine("patch").feather

    def fill(image: RGB, mask: Mask) -> RGB:
        result = complete(np.ascontiguousarray(image), np.ascontiguousarray(mask), settings, SEED)
        return composite(image, result, mask, feather)

    return fill


def pypatchmatch_fill(image: RGB, mask: Mask) -> RGB:
    from patchmatch import patch_match

    holes = mask.astype(np.uint8) * 255
    result = patch_match.inpaint(image, holes, patch_size=PYPATCHMATCH_PATCH_SIZE)
    return np.asarray(result, dtype=np.uint8)


def method(name: str, operation: Operation = Operation.REMOVE) -> Fill:
    if name == "pypatchmatch":
        return pypatchmatch_fill
    if name == SMOOTH:
        return engine_fill("patch", operation, strength=0.0)
    if name == MEAN:
        return mean_fill(operation)
    return engine_fill(name, operation)


def warm_up() -> None:
    """Pay every one-off cost (numba compile, library load) before anything is timed."""
    from canvasfill.engines.patch import warm_up as patch_warm_up

    patch_warm_up()
    image = np.zeros((48, 48, 3), dtype=np.uint8)
    image[:, ::4] = 200
    mask = np.zeros((48, 48), dtype=bool)
    mask[16:32, 16:32] = True
    for name in ALL:
        method(name)(image, mask)
