"""The compiled inner loops of the ``patch`` engine: PatchMatch search, voting, NNF upsampling.

Everything here is a plain numba function over flat arrays, so the solver
(``solver.py``) stays readable numpy. Conventions shared by every kernel:

- ``feat`` is the float32 HxWxC feature image (colour first, then gradient channels);
  patches are ``(2r+1)^2`` squares around a centre pixel.
- Targets are the patch centres that touch the hole, listed in raster order
  (``ty``, ``tx``); ``tidx`` maps a pixel to its target index or -1. Every target
  centre lies at least ``r`` pixels inside the image, so no kernel checks bounds.
- The nearest-neighbour field (NNF) stores, per target, the centre of its source
  patch (``nnf_y``, ``nnf_x``) and the patch distance ``nnf_d``. ``valid`` marks the
  centres whose whole patch is known: the only allowed sources.

Randomness comes from a xorshift generator seeded from the caller's seed, the band
and the iteration, never from thread-local state, so results do not depend on how
many threads numba runs. The search runs in horizontal bands in parallel; a band
propagates only within itself and reads the reuse counts as they stood when the
iteration began, which keeps it deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True, inline="always")
def _xorshift(state: np.uint64) -> np.uint64:
    state ^= state << np.uint64(13)
    state ^= state >> np.uint64(7)
    state ^= state << np.uint64(17)
    return state


@njit(cache=True, nogil=True, inline="always")
def _below(state: np.uint64, n: int) -> int:
    """An integer in [0, n) from a generator state (n is small; modulo bias is negligible)."""
    return int(state % np.uint64(n))


@njit(cache=True, nogil=True)
def patch_distance(
    feat: NDArray[np.float32], y0: int, x0: int, y1: int, x1: int, r: int, cutoff: float
) -> float:
    """Sum of squared feature differences between two patches; stops early past ``cutoff``."""
    channels = feat.shape[2]
    total = 0.0
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            for c in range(channels):
                diff = feat[y0 + dy, x0 + dx, c] - feat[y1 + dy, x1 + dx, c]
                total += diff * diff
        if total > cutoff:
            return total
    return total


@njit(cache=True, nogil=True, parallel=True)
def compute_distances(
    feat: NDArray[np.float32],
    ty: NDArray[np.int32],
    tx: NDArray[np.int32],
    nnf_y: NDArray[np.int32],
    nnf_x: NDArray[np.int32],
    r: int,
    out: NDArray[np.float32],
) -> None:
    """Refresh every target's distance to its current source (after the image changed)."""
    for k in prange(ty.shape[0]):
        out[k] = patch_distance(feat, ty[k], tx[k], nnf_y[k], nnf_x[k], r, np.inf)


@njit(cache=True, nogil=True)
def count_usage(
    nnf_y: NDArray[np.int32], nnf_x: NDArray[np.int32], usage: NDArray[np.int32]
) -> None:
    """How many targets copy from each source centre: the reuse penalty's input."""
    usage[:, :] = 0
    for k in range(nnf_y.shape[0]):
        usage[nnf_y[k], nnf_x[k]] += 1


@njit(cache=True, nogil=True, inline="always")
def _try(
    feat: NDArray[np.float32],
    valid: NDArray[np.bool_],
    usage: NDArray[np.int32],
    penalty: float,
    source_cost: NDArray[np.float32],
    y: int,
    x: int,
    cy: int,
    cx: int,
    r: int,
    reach: int,
    best_cost: float,
) -> tuple[bool, float, float]:
    """Whether source ``(cy, cx)`` beats ``best_cost``; returns (better, cost, distance)."""
    if not valid[cy, cx] or abs(cy - y) > reach or abs(cx - x) > reach:
        return False, best_cost, 0.0
    extra = penalty * usage[cy, cx] + source_cost[cy, cx]
    if extra >= best_cost:
        return False, best_cost, 0.0
    d = patch_distance(feat, y, x, cy, cx, r, best_cost - extra)
    cost = d + extra
    if cost < best_cost:
        return True, cost, d
    return False, best_cost, 0.0


@njit(cache=True, nogil=True, parallel=True)
def patchmatch(
    feat: NDArray[np.float32],
    valid: NDArray[np.bool_],
    tidx: NDArray[np.int32],
    ty: NDArray[np.int32],
    tx: NDArray[np.int32],
    band_start: NDArray[np.int64],
    src_y: NDArray[np.int32],
    src_x: NDArray[np.int32],
    nnf_y: NDArray[np.int32],
    nnf_x: NDArray[np.int32],
    nnf_d: NDArray[np.float32],
    usage: NDArray[np.int32],
    penalty: float,
    source_cost: NDArray[np.float32],
    r: int,
    reach: int,
    iterations: int,
    max_radius: int,
    seed: int,
) -> None:
    """Improve the NNF in place: PatchMatch propagation, random search, one global jump.

    Odd iterations scan backwards (propagating from below and from the right), as in
    Barnes et al. Cost is patch distance plus ``penalty`` times the number of
    targets already copying the candidate source, so one source patch is not stamped
    over a whole region, plus the source's own ``source_cost`` (the solver's locality
    prior: zero everywhere, or higher for sources far from the hole).
    """
    height, width = valid.shape
    bands = band_start.shape[0] - 1
    sources = src_y.shape[0]
    for it in range(iterations):
        for b in prange(bands):
            start = band_start[b]
            stop = band_start[b + 1]
            if start == stop:
                continue
            state = (np.uint64(seed) + np.uint64(1)) * _GOLDEN
            state ^= np.uint64(b * 2654435761 + it * 40503 + 12345)
            state = _xorshift(_xorshift(state | np.uint64(1)))
            row_lo = ty[start]
            row_hi = ty[stop - 1]
            step = 1 if it % 2 == 0 else -1
            for j in range(stop - start):
                k = start + j if step == 1 else stop - 1 - j
                y = ty[k]
                x = tx[k]
                by = nnf_y[k]
                bx = nnf_x[k]
                bd = nnf_d[k]
                best = bd + penalty * usage[by, bx] + source_cost[by, bx]
                if abs(by - y) > reach or abs(bx - x) > reach:
                    best = np.inf  # a start from beyond the reach must be replaced
                # propagation from the left/right neighbour (same row, same band)
                n = tidx[y, x - step]
                if n >= 0:
                    cy = nnf_y[n]
                    cx = nnf_x[n] + step
                    if 0 <= cx < width and (cy != by or cx != bx):
                        ok, best_new, d = _try(
                            feat, valid, usage, penalty, source_cost, y, x, cy, cx, r, reach, best
                        )
                        if ok:
                            best, bd, by, bx = best_new, d, cy, cx
                # propagation from the row above/below, if it is in this band
                ny = y - step
                if row_lo <= ny <= row_hi:
                    n = tidx[ny, x]
                    if n >= 0:
                        cy = nnf_y[n] + step
                        cx = nnf_x[n]
                        if 0 <= cy < height and (cy != by or cx != bx):
                            ok, best_new, d = _try(
                                feat, valid, usage, penalty, source_cost,
                                y, x, cy, cx, r, reach, best,
                            )  # fmt: skip
                            if ok:
                                best, bd, by, bx = best_new, d, cy, cx
                # random search in windows halving around the current best
                radius = max_radius
                while radius >= 1:
                    state = _xorshift(state)
                    cy = min(max(by + _below(state, 2 * radius + 1) - radius, 0), height - 1)
                    state = _xorshift(state)
                    cx = min(max(bx + _below(state, 2 * radius + 1) - radius, 0), width - 1)
                    if cy != by or cx != bx:
                        ok, best_new, d = _try(
                            feat, valid, usage, penalty, source_cost, y, x, cy, cx, r, reach, best
                        )
                        if ok:
                            best, bd, by, bx = best_new, d, cy, cx
                    radius //= 2
                # one jump anywhere within reach, to escape a poor basin
                if sources > 0:
                    state = _xorshift(state)
                    cy = min(max(y + _below(state, 2 * reach + 1) - reach, 0), height - 1)
                    state = _xorshift(state)
                    cx = min(max(x + _below(state, 2 * reach + 1) - reach, 0), width - 1)
                    ok, best_new, d = _try(
                        feat, valid, usage, penalty, source_cost, y, x, cy, cx, r, reach, best
                    )
                    if ok:
                        best, bd, by, bx = best_new, d, cy, cx
                nnf_y[k] = by
                nnf_x[k] = bx
                nnf_d[k] = bd


@njit(cache=True, nogil=True, parallel=True)
def vote(
    feat: NDArray[np.float32] | NDArray[np.uint8],
    hole: NDArray[np.bool_],
    tidx: NDArray[np.int32],
    nnf_y: NDArray[np.int32],
    nnf_x: NDArray[np.int32],
    weight: NDArray[np.float32],
    r: int,
    top: int,
    left: int,
    out: NDArray[np.float32],
) -> None:
    """Each hole pixel becomes the weighted mean of what every overlapping patch copies there.

    ``out`` is a window of the image whose corner is (``top``, ``left``): the whole
    image, or only the hole's bounding box when the image is large. It holds the
    voted channels (the first ``out.shape[2]`` of ``feat``: the colour, then the
    texture channels when the solver uses them); only its hole pixels are written.
    ``feat`` may be the photo itself (uint8) when only its colour is voted.
    """
    height, width = hole.shape
    channels = out.shape[2]
    for wy in prange(out.shape[0]):
        y = wy + top
        sums = np.empty(channels, dtype=np.float64)
        for wx in range(out.shape[1]):
            x = wx + left
            if not hole[y, x]:
                continue
            sums[:] = 0.0
            total = 0.0
            for dy in range(-r, r + 1):
                cy = y - dy
                if cy < 0 or cy >= height:
                    continue
                for dx in range(-r, r + 1):
                    cx = x - dx
                    if cx < 0 or cx >= width:
                        continue
                    k = tidx[cy, cx]
                    if k < 0:
                        continue
                    w = weight[k]
                    sy = nnf_y[k] + dy
                    sx = nnf_x[k] + dx
                    for c in range(channels):
                        sums[c] += w * feat[sy, sx, c]
                    total += w
            if total > 0.0:
                for c in range(channels):
                    out[wy, wx, c] = sums[c] / total


@njit(cache=True, nogil=True, parallel=True)
def upsample_nnf(
    ty: NDArray[np.int32],
    tx: NDArray[np.int32],
    coarse_tidx: NDArray[np.int32],
    coarse_nnf_y: NDArray[np.int32],
    coarse_nnf_x: NDArray[np.int32],
    valid: NDArray[np.bool_],
    out_y: NDArray[np.int32],
    out_x: NDArray[np.int32],
) -> None:
    """Carry a coarse level's NNF up one level by doubling its offsets.

    A fine target takes the offset (source minus target) of the nearest coarse target
    around its coarse pixel, doubled; if that lands off the valid source, the nearest
    valid centre in a small window is used. A target with neither (the hole was not
    there one level down: a thin stroke appears) is left at -1 for the caller.
    """
    height, width = valid.shape
    coarse_h, coarse_w = coarse_tidx.shape
    for k in prange(ty.shape[0]):
        y = ty[k]
        x = tx[k]
        cy0 = min(y // 2, coarse_h - 1)
        cx0 = min(x // 2, coarse_w - 1)
        found = -1
        fy = 0
        fx = 0
        for ring in range(3):
            for dy in range(-ring, ring + 1):
                for dx in range(-ring, ring + 1):
                    if found >= 0 or max(abs(dy), abs(dx)) != ring:
                        continue
                    qy = cy0 + dy
                    qx = cx0 + dx
                    if 0 <= qy < coarse_h and 0 <= qx < coarse_w and coarse_tidx[qy, qx] >= 0:
                        found = coarse_tidx[qy, qx]
                        fy = qy
                        fx = qx
        done = False
        if found >= 0:
            sy = y + 2 * (coarse_nnf_y[found] - fy)
            sx = x + 2 * (coarse_nnf_x[found] - fx)
            sy = min(max(sy, 0), height - 1)
            sx = min(max(sx, 0), width - 1)
            for ring in range(3):
                for dy in range(-ring, ring + 1):
                    for dx in range(-ring, ring + 1):
                        if done or max(abs(dy), abs(dx)) != ring:
                            continue
                        qy = sy + dy
                        qx = sx + dx
                        if 0 <= qy < height and 0 <= qx < width and valid[qy, qx]:
                            out_y[k] = qy
                            out_x[k] = qx
                            done = True
        if not done:
            out_y[k] = -1
            out_x[k] = -1


@njit(cache=True, nogil=True, parallel=True)
def vote_mode(
    feat: NDArray[np.float32] | NDArray[np.uint8],
    hole: NDArray[np.bool_],
    tidx: NDArray[np.int32],
    nnf_y: NDArray[np.int32],
    nnf_x: NDArray[np.int32],
    weight: NDArray[np.float32],
    r: int,
    top: int,
    left: int,
    out: NDArray[np.float32],
    bandwidth: float,
    steps: int = 3,
) -> None:
    """``vote``'s sibling that moves each hole pixel to the mode of what the
    overlapping patches copy there (the mean-shift vote of Wexler et al. 2007). The
    shift starts from the best-weighted copy and takes ``steps`` steps with a Gaussian
    kernel of sigma ``bandwidth`` grey levels on the colour (the first three
    channels): where the copies agree the pixel is their weighted mean, where they
    disagree (two textures, or two phases of one, meet there) it is the mean of the
    best copy's group only, not a blend of both. ``steps`` 0 keeps the best-weighted
    copy itself (the best-match vote). Same other arguments as ``vote``."""
    height, width = hole.shape
    channels = out.shape[2]
    side = 2 * r + 1
    inv = 1.0 / (2.0 * bandwidth * bandwidth)
    for wy in prange(out.shape[0]):
        y = wy + top
        values = np.empty((side * side, channels), dtype=np.float64)
        weights = np.empty(side * side, dtype=np.float64)
        centre = np.empty(channels, dtype=np.float64)
        sums = np.empty(channels, dtype=np.float64)
        for wx in range(out.shape[1]):
            x = wx + left
            if not hole[y, x]:
                continue
            n = 0
            total = 0.0
            best = -1.0
            for dy in range(-r, r + 1):
                cy = y - dy
                if cy < 0 or cy >= height:
                    continue
                for dx in range(-r, r + 1):
                    cx = x - dx
                    if cx < 0 or cx >= width:
                        continue
                    k = tidx[cy, cx]
                    if k < 0:
                        continue
                    w = weight[k]
                    sy = nnf_y[k] + dy
                    sx = nnf_x[k] + dx
                    for c in range(channels):
                        values[n, c] = feat[sy, sx, c]
                    weights[n] = w
                    if w > best:
                        best = w
                        for c in range(channels):
                            centre[c] = values[n, c]
                    total += w
                    n += 1
            if n == 0 or (steps > 0 and total <= 0.0):
                continue
            for _ in range(steps):
                sums[:] = 0.0
                mass = 0.0
                for i in range(n):
                    d2 = 0.0
                    for c in range(3):
                        diff = values[i, c] - centre[c]
                        d2 += diff * diff
                    w = weights[i] * np.exp(-d2 * inv)
                    for c in range(channels):
                        sums[c] += w * values[i, c]
                    mass += w
                if mass <= 1e-12 * total:
                    break
                for c in range(channels):
                    centre[c] = sums[c] / mass
            for c in range(channels):
                out[wy, wx, c] = centre[c]
