"""Multi-scale example-based completion (Wexler et al. 2007) with PatchMatch search.

The hole is solved coarse to fine. At the coarsest level it starts from a diffusion
fill; at every level, EM iterations alternate a PatchMatch search (Barnes et al. 2009)
for each patch touching the hole with a vote in which every hole pixel becomes the
weighted mean of what the overlapping source patches put there. Votes are weighted
by patch similarity and by confidence, which falls off with distance from the known
region, so the trusted border leads. The NNF found at one level, with its offsets
doubled, starts the next.

Large canvases: levels wider than ``SolverSettings.work_side`` only refine what the level
below found (one short search around the upsampled NNF and one vote), so time and
memory grow with the pixel count, not with the search.

A removal then passes the full-size fill and its NNF through ``hedge.py``, which keeps
the texture the photo predicts and fades the guessed rest to a smooth consensus.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from canvasfill.engines.patchmatch import kernels
from canvasfill.engines.patchmatch.hedge import Hedge, Matches, hedge

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]
Floats = NDArray[np.float32]

_BANDS = 32
"""Horizontal bands the search runs in parallel; fixed so results do not depend on cores."""


@dataclass(frozen=True)
class SolverSettings:
    """The solver's knobs; ``patch`` derives them from the request's ``steps``."""

    patch_radius: int = 3
    """Patches are (2r+1)^2 pixels."""
    em_iterations: int = 4
    """EM iterations (search + vote) at each level up to the working resolution."""
    coarse_extra: int = 4
    """Extra EM iterations at the coarsest level, where the layout of the fill is decided."""
    search_iterations: int = 2
    """PatchMatch sweeps per EM iteration."""
    work_side: int = 640
    """Levels whose longer side exceeds this only refine the level below (one short pass)."""
    min_side: int = 80
    """Coarsest level's shorter side is at least this: coarser levels leave too few whole
    source patches, and the fill drifts to whatever large flat region remains."""
    gradient_weight: float = 1.0
    """Weight of the luminance-gradient channels in the patch distance."""
    reuse_penalty: float = 0.02
    """Cost per target already copying a source, as a fraction of the median distance."""
    confidence_base: float = 2.0
    """Vote confidence is ``base ** -(distance to the known region)``."""
    refine_radius: int = 4
    """Random-search radius for the refine-only levels above ``work_side``."""
    reach: float = 1.0
    """Sources lie within this fraction of the level's longer side from their target
    (at least ``min_reach`` pixels): nearby content is the likelier continuation."""
    min_reach: int = 16
    hedge: Hedge | None = None
    """When set, the texture the photo does not predict fades to a smooth consensus
    (``hedge.py``); removal sets it, expansion does not."""


@dataclass
class _Level:
    image: RGB
    hole: Mask


@dataclass
class _Field:
    """A level's solved state: its targets and their nearest-neighbour field."""

    tidx: NDArray[np.int32]
    nnf_y: NDArray[np.int32]
    nnf_x: NDArray[np.int32]


def complete(image: RGB, hole: Mask, settings: SolverSettings, seed: int) -> RGB:
    """``image`` with the ``hole`` pixels synthesised from the rest; known pixels unchanged."""
    if not hole.any():
        return image.copy()
    r = settings.patch_radius
    if not _sources(hole, r).any():
        return _diffuse(image, hole)
    levels = _pyramid(image, hole, settings)
    rng = np.random.default_rng(seed)
    filled: Floats | None = None
    previous: _Field | None = None
    for depth in range(len(levels) - 1, -1, -1):
        level = levels[depth]
        refine_only = max(level.image.shape[:2]) > settings.work_side and previous is not None
        if previous is None:
            colour = _diffuse(level.image, level.hole).astype(np.float32)
        else:
            assert filled is not None
            colour = _upsample_colour(level, filled)
        iterations = settings.em_iterations
        if previous is None:
            iterations += settings.coarse_extra
        if refine_only:
            iterations = 1
        filled, previous = _solve_level(
            level, colour, previous, settings, iterations, refine_only, rng
        )
    assert filled is not None
    assert previous is not None
    if settings.hedge is not None:
        ty, tx = (a.astype(np.int32) for a in np.nonzero(previous.tidx >= 0))
        matches = Matches(ty, tx, previous.nnf_y, previous.nnf_x, r)
        filled = hedge(image, hole, filled, matches, settings.hedge)
    out = image.copy()
    out[hole] = np.clip(filled[hole] + 0.5, 0, 255).astype(np.uint8)
    return out


def _diffuse(image: RGB, hole: Mask) -> RGB:
    """A smooth first guess (Telea), also the answer when no whole patch is known."""
    if hole.all():
        return np.full_like(image, 128)
    return np.asarray(cv2.inpaint(image, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA))


def _sources(hole: Mask, r: int) -> Mask:
    """Patch centres whose whole patch lies inside the image and outside the hole."""
    size = 2 * r + 1
    known = (~hole).astype(np.uint8)
    eroded = cv2.erode(known, np.ones((size, size), np.uint8), borderValue=0)
    valid = eroded.astype(bool)
    valid[:r] = False
    valid[-r:] = False
    valid[:, :r] = False
    valid[:, -r:] = False
    return valid


def _targets(hole: Mask, r: int) -> Mask:
    """Patch centres inside the image whose patch touches the hole."""
    size = 2 * r + 1
    grown = cv2.dilate(hole.astype(np.uint8), np.ones((size, size), np.uint8)).astype(bool)
    inner = np.zeros_like(grown)
    inner[r:-r, r:-r] = True
    return grown & inner


def _pyramid(image: RGB, hole: Mask, settings: SolverSettings) -> list[_Level]:
    """Levels from full size down, halving until too small to hold enough source patches."""
    r = settings.patch_radius
    levels = [_Level(image, hole)]
    while True:
        top = levels[-1]
        height, width = top.hole.shape
        if min(height, width) // 2 < settings.min_side:
            break
        inner = cv2.distanceTransform(top.hole.astype(np.uint8), cv2.DIST_L2, 3)
        if float(inner.max()) <= r:
            break  # the hole is already thin at this scale: nothing to gain below
        smaller = _shrink_mask(top.hole)
        if int(_sources(smaller, r).sum()) < 4 * (2 * r + 1) ** 2:
            break
        size = (smaller.shape[1], smaller.shape[0])
        shrunk = cv2.resize(top.image, size, interpolation=cv2.INTER_AREA)
        levels.append(_Level(np.asarray(shrunk, dtype=np.uint8), smaller))
    return levels


def _shrink_mask(hole: Mask) -> Mask:
    """Half-size mask in which a pixel is hole if any pixel it covers is."""
    height, width = hole.shape
    padded = np.zeros((height + height % 2, width + width % 2), dtype=bool)
    padded[:height, :width] = hole
    if height % 2:
        padded[height] = padded[height - 1]
    if width % 2:
        padded[:, width] = padded[:, width - 1]
    half = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2)
    return np.asarray(half.any(axis=(1, 3)))


def _upsample_colour(level: _Level, coarse: Floats) -> Floats:
    """The level's pixels, with its hole started from the coarser solution enlarged."""
    height, width = level.hole.shape
    enlarged = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    colour = level.image.astype(np.float32)
    colour[level.hole] = enlarged[level.hole]
    return colour


def _features(colour: Floats, weight: float) -> Floats:
    """Colour plus weighted luminance gradients, so structure lines count in the match."""
    if weight <= 0:
        return colour.copy()  # the vote writes into colour while reading these
    grey = colour @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3) * (weight / 4.0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3) * (weight / 4.0)
    return np.ascontiguousarray(np.dstack([colour, gx, gy]).astype(np.float32))


def _confidence(hole: Mask, base: float) -> Floats:
    distance = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    return np.asarray(np.power(base, -distance), dtype=np.float32)


def _solve_level(
    level: _Level,
    colour: Floats,
    previous: _Field | None,
    settings: SolverSettings,
    iterations: int,
    refine_only: bool,
    rng: np.random.Generator,
) -> tuple[Floats, _Field]:
    r = settings.patch_radius
    hole = level.hole
    valid = _sources(hole, r)
    target_mask = _targets(hole, r)
    ty, tx = (a.astype(np.int32) for a in np.nonzero(target_mask))
    tidx = np.full(hole.shape, -1, dtype=np.int32)
    tidx[ty, tx] = np.arange(ty.size, dtype=np.int32)
    src_y, src_x = (a.astype(np.int32) for a in np.nonzero(valid))
    band_start = _bands(ty)
    nnf_y = np.empty_like(ty)
    nnf_x = np.empty_like(tx)
    if previous is None:
        pick = rng.integers(0, src_y.size, size=ty.size)
        nnf_y[:] = src_y[pick]
        nnf_x[:] = src_x[pick]
    else:
        kernels.upsample_nnf(
            ty, tx, previous.tidx, previous.nnf_y, previous.nnf_x, valid, src_y, src_x,
            int(rng.integers(0, 2**31)), nnf_y, nnf_x,
        )  # fmt: skip
    nnf_d = np.empty(ty.size, dtype=np.float32)
    usage = np.zeros(hole.shape, dtype=np.int32)
    confidence = _confidence(hole, settings.confidence_base)[ty, tx]
    reach = max(settings.min_reach, round(settings.reach * max(hole.shape)))
    max_radius = settings.refine_radius if refine_only else reach
    sweeps = 1 if refine_only else settings.search_iterations
    if previous is not None:
        # vote once with the upsampled field before searching: it puts sharp source
        # pixels where the enlarged coarse solution is blurred, and a search on the
        # blur would prefer the flattest patches of the image
        colour = np.ascontiguousarray(colour)
        kernels.vote(_features(colour, 0.0), hole, tidx, nnf_y, nnf_x, confidence, r, colour)
    for _ in range(iterations):
        feat = _features(colour, settings.gradient_weight)
        kernels.compute_distances(feat, ty, tx, nnf_y, nnf_x, r, nnf_d)
        kernels.count_usage(nnf_y, nnf_x, usage)
        penalty = settings.reuse_penalty * float(np.median(nnf_d)) if nnf_d.size else 0.0
        kernels.patchmatch(
            feat, valid, tidx, ty, tx, band_start, src_y, src_x, nnf_y, nnf_x, nnf_d, usage,
            penalty, r, reach, sweeps, max_radius, int(rng.integers(0, 2**31)),
        )  # fmt: skip
        sigma2 = max(float(np.percentile(nnf_d, 75)), 1e-6)
        weight = (np.exp(-nnf_d / (2.0 * sigma2)) * confidence).astype(np.float32)
        colour = np.ascontiguousarray(colour)
        kernels.vote(feat, hole, tidx, nnf_y, nnf_x, weight, r, colour)
    return colour, _Field(tidx=tidx, nnf_y=nnf_y, nnf_x=nnf_x)


def _bands(ty: NDArray[np.int32]) -> NDArray[np.int64]:
    """Start index of each of ``_BANDS`` row bands in the raster-ordered target list."""
    if ty.size == 0:
        return np.zeros(2, dtype=np.int64)
    edges = np.linspace(int(ty[0]), int(ty[-1]) + 1, _BANDS + 1)
    return np.searchsorted(ty, edges, side="left").astype(np.int64)
