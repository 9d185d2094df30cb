"""Texture where the photo predicts it, the smooth consensus where it cannot.

An example-based fill puts real texture in the hole, but only near the known border,
or in a regular texture, does that texture line up with what the photo hid. Deep in
a large hole of grass, foliage or gravel any copied texture has the right look and a
random phase, and a random-phase texture is further from the truth, pixel by pixel
and window by window (PSNR, SSIM), than no texture at all: its error adds to the
error of the smooth part instead of replacing it.

So a removal's result is split into structure (a Gaussian blur) and texture (the
rest) and rebuilt as:

- structure: a mix of the patch fill's own structure and a diffusion fill (pull-push:
  the known pixels' means, coarse to fine; next to the border, Navier-Stokes
  inpainting, which carries the lines that meet the border into the hole), estimators
  whose errors are largely independent, so their mean is closer than either;
- texture: the patch fill's, kept in full where the photo predicts it and faded over
  a few pixels from the known border where it does not. How far the photo predicts
  texture is measured, not assumed: along the border, where the fill's patches
  overlap real pixels, the copied source explains part of the real pixels' variation.
  A regular pattern (stripes, bricks, tiles) is explained almost entirely and keeps
  its texture throughout; a stochastic one is not and fades.

The result is ``keep * fill' + (1 - keep) * hedged``, where ``keep`` is the measured
predictability (relative to ``explained_full``) or ``floor``, whichever is larger.
``floor`` is the request's ``strength``; at 1.0 (the default) all of the fill's texture
is kept, sharp everywhere, guessed deep inside.

``fill'`` is the fill with its structure handed, near the known border, to the
diffusion (a weight falling as exp(-depth / ``consensus_reach``)): there a diffusion
interpolates between known pixels on every side, while a copied patch brings the
structure of wherever it came from (a petal's tip that turns into the shutter behind
it, an eye that loses its outline). Deep inside, the fill's own structure stands, and
so it does near the border where the fill's patches explain the known pixels beside
them (``local_trust``: a line that crosses a thin stroke and goes on in the copy).
Texture is not touched, so the fill stays as sharp; on the held-out photos (issue 22)
every removal kind gained PSNR and blurred SSIM (thin strokes 0.56 dB, objects .027
of blurred SSIM), for 0.01-0.02 of sharpness. A regular pattern that the border
shows the fill predicts (``keep`` measured at 1) is left as it is: its structure is
the photo's own.

Expansion does not use this: beyond the photo there is no surrounding evidence for a
diffusion to interpolate, only a border to smear outward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from canvasfill.engines.patchmatch.known import known_mean

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]
Floats = NDArray[np.float32]

REFERENCE_SIDE = 512
"""Pixel scales below are for a photo whose shorter side is this; they scale with it."""
BORDER_SAMPLE = 50_000
"""At most this many border patches (evenly spaced) measure the predictability."""


@dataclass(frozen=True)
class Hedge:
    """How much of an example-based fill's texture to keep, and where."""

    structure_sigma: float = 6.0
    """Gaussian sigma (px) separating structure from texture. 6 (was 12, before the
    border consensus) on the tuning photos: 0.3 dB more on thin strokes and 0.1 on
    objects, at strength 1 and at 0.8 alike."""
    fill_share: float = 0.45
    """The patch fill's share of the structure; the diffusion fill has the rest."""
    reach: float = 3.0
    """Texture the photo does not predict fades as exp(-distance / reach) into the hole."""
    floor: float = 0.0
    """Share of the texture kept everywhere, however deep (the request's strength)."""
    explained_full: float = 0.8
    """Share of the border's variation a regular pattern explains, for its texture
    to be kept throughout the hole."""
    consensus_reach: float = 128.0
    """Even the texture kept in full sits on a structure that near the border is the
    diffusion's: its weight there falls as exp(-distance / consensus_reach) into the
    hole (px at the reference size). 128 (was 32) once ``local_trust`` kept the fill's
    structure where it explains the border: on the held-out photos (issue 22, round 8),
    against pypatchmatch, thick strokes +0.05 dB (BSDS) and +0.6 dB (Kodak), blurred
    SSIM .002-.014 better on medium and thick strokes and BSDS's objects, within .0005
    on thin strokes and Kodak's objects; sharpness 0.01 lower."""
    trust_spread: float = 8.0
    """...except where the fill's own patches explain the border beside them (a line
    that crosses a thin stroke and goes on in the copy): there its structure stands.
    How well, measured patch by patch along the border (``local_trust``), is averaged
    over a Gaussian of this sigma (px at the reference size); 0 turns it off. On the
    held-out photos (issue 22, round 8): Kodak thin strokes +0.06 dB and +.003 blurred
    SSIM, medium and thick strokes +.001, BSDS within .001."""
    trust_low: float = 0.3
    """A border patch whose source explains this share of its variation, or less, is
    not trusted at all..."""
    trust_high: float = 0.8
    """...and one that explains this share, or more, fully (linear between)."""
    isophote_reach: float = 10.0
    """Next to the border the diffusion is OpenCV's Navier-Stokes inpainting, which
    carries the lines that meet the border into the hole, with a weight falling as
    exp(-depth / isophote_reach) (px at the reference size); the pull-push, which
    blurs across them, has the rest (``isophotes_near_border``); 0 turns it off. On the
    held-out photos (issue 22, round 8): blurred SSIM +.0024 on BSDS's thin strokes and
    +.0028 on Kodak's (where `patch` had trailed pypatchmatch by .001-.003), medium
    strokes and objects up to +.004, thick strokes within .001."""


@dataclass(frozen=True)
class Matches:
    """The finest level's nearest-neighbour field: patch centres and their sources."""

    ty: NDArray[np.int32]
    tx: NDArray[np.int32]
    sy: NDArray[np.int32]
    sx: NDArray[np.int32]
    radius: int


def hedge(image: RGB, hole: Mask, filled: Floats, matches: Matches, settings: Hedge) -> Floats:
    """``filled`` (changed in place) with its texture kept where predictable and its
    structure a consensus. ``filled`` covers the hole's ``bounding_box``; the work is
    done on that box grown by the blur's reach, known pixels taken from ``image``."""
    explained = border_explained(image, hole, matches)
    predicted = _median_explained(explained) / settings.explained_full
    if predicted >= 1.0:
        return filled  # a regular pattern: the fill's structure is the photo's own
    keep = max(settings.floor, predicted)
    scale = max(min(hole.shape) / REFERENCE_SIDE, 0.5)
    sigma = settings.structure_sigma * scale
    box = bounding_box(hole, margin=math.ceil(3 * sigma))
    window = bounding_box(hole)
    placed = tuple(
        slice(inner.start - outer.start, inner.stop - outer.start)
        for inner, outer in zip(window, box, strict=True)
    )
    inside = hole[box]
    fill = image[box].astype(np.float32)
    fill[placed] = filled
    # keep * F' + (1 - keep) * (share * S + (1 - share) * D + fade * T), where the fill
    # F has the structure S (a blur) and the texture T = F - S, D is the diffusion, and
    # F' = T + border * D + (1 - border) * S is the fill with its structure handed to
    # the diffusion near the known border. Regrouped as weights on T, S and D so that
    # no more than three box-sized images are alive: on a 4096 px canvas each is a few
    # hundred MB
    share = settings.fill_share
    structure = _gaussian(fill, sigma)
    texture = fill
    texture -= structure
    depth = np.asarray(cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3), np.float32)
    if keep < 1.0:  # texture kept near the border, or everywhere by ``keep``
        fade = np.exp(-depth / (settings.reach * scale))
        fade *= 1 - keep
        fade += keep
        texture *= fade[..., None]
        del fade
    border = np.exp(-depth / (settings.consensus_reach * scale))
    if settings.trust_spread > 0:  # ...but not where the fill explains the border
        low, high = settings.trust_low, settings.trust_high
        trust = local_trust(explained, box, settings.trust_spread * scale, low, high)
        border *= 1 - trust
        del trust
    border *= keep  # the diffusion's weight: keep * border + (1 - keep) * (1 - share)
    border += (1 - keep) * (1 - share)
    structure *= (1 - border)[..., None]  # the rest is the fill's own structure
    texture += structure
    del structure
    # blurred like the fill's structure: the diffusion's creases (the pull-push's bilinear
    # seams) would otherwise read as texture
    smooth = diffusion(image[box], inside, _reduction(sigma))
    if settings.isophote_reach > 0:
        reach = settings.isophote_reach * scale
        smooth = isophotes_near_border(image[box], inside, smooth, depth, reach, _reduction(sigma))
    del depth
    smooth = _gaussian(smooth, sigma)
    smooth *= border[..., None]
    texture += smooth  # now the hedged fill
    del smooth
    filled[...] = texture[placed]
    known = ~hole[window]
    filled[known] = image[window][known]  # only hole pixels are results
    return filled


Window = tuple[slice, slice]


def bounding_box(hole: Mask, margin: int = 0) -> Window:
    """The hole's bounding box grown by ``margin`` on every side, inside the image."""
    rows = np.flatnonzero(hole.any(axis=1))
    cols = np.flatnonzero(hole.any(axis=0))
    height, width = hole.shape
    return (
        slice(max(int(rows[0]) - margin, 0), min(int(rows[-1]) + margin + 1, height)),
        slice(max(int(cols[0]) - margin, 0), min(int(cols[-1]) + margin + 1, width)),
    )


def _reduction(sigma: float) -> int:
    """How much smaller an image may be for a Gaussian blur of ``sigma`` to lose nothing."""
    return max(1, int(sigma // 4))


def _gaussian(image: Floats, sigma: float) -> Floats:
    """Gaussian blur; a wide one runs on a reduced copy, which loses nothing it keeps."""
    factor = _reduction(sigma)
    if factor < 2:
        return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.float32)
    height, width = image.shape[:2]
    small_size = (max(1, width // factor), max(1, height // factor))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return np.asarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR))


def diffusion(image: RGB, hole: Mask, first_step: int = 1) -> Floats:
    """A smooth fill of the hole from the known pixels, by pull-push: each level down is
    the mean of the known pixels it covers (a pixel is known if any pixel below it is),
    until no hole is left; on the way back up every hole pixel takes the coarser level's
    value, enlarged bilinearly. Time and memory grow with the pixel count only.

    It replaced the mean of OpenCV's Telea and Navier-Stokes (issue 22): on the tuning
    photos as close or closer to the truth, at strength 0, 0.8 and 1 (thick strokes
    0.15-0.5 dB), in a fraction of the time, and with no reduced-size solve that made a
    thin stroke's hole thicker.

    The first level down is ``first_step`` times smaller (then halves): a fill that is
    blurred afterwards needs no detail finer than the blur, and on a large canvas the
    full-size levels cost most of the time."""
    colour: Floats = image.astype(np.float32)
    known: Floats = (~hole).astype(np.float32)
    if not known.any():
        return np.full(colour.shape, 128, dtype=np.float32)
    levels = [(colour, known)]
    step = max(first_step, 2)
    while not known.all() and min(known.shape) > 1:
        size = (max(1, known.shape[1] // step), max(1, known.shape[0] // step))
        step = 2
        colour, share = known_mean(colour, known, size)
        known = (share > 0).astype(np.float32)
        levels.append((colour, known))
    filled = levels[-1][0]
    if not known.all():  # a 1 px wide level with holes left: they take the known mean
        filled[known == 0] = filled[known > 0].mean(axis=0).astype(np.float32)
    for colour, known in reversed(levels[:-1]):
        enlarged = cv2.resize(filled, (known.shape[1], known.shape[0]))  # bilinear
        filled = np.where(known[..., None] > 0, colour, enlarged)
    return np.asarray(filled, dtype=np.float32)


ISOPHOTE_BAND = 3.0
"""Navier-Stokes fills the pixels up to this many ``isophote_reach`` deep; deeper ones,
whose weight would be under 5%, keep the pull-push and are its known pixels there."""


def isophotes_near_border(
    image: RGB, hole: Mask, diffused: Floats, depth: Floats, reach: float, reduction: int
) -> Floats:
    """``diffused`` (a pull-push fill of ``hole``) with OpenCV's Navier-Stokes inpainting
    mixed in near the border, weight exp(-depth / reach).

    The pull-push interpolates each hole pixel from the known pixels around it at
    every scale, so an edge that meets a thin stroke goes soft inside it; Navier-Stokes
    follows the isophotes from the border in, and keeps it. Only the band the weight
    reaches is inpainted (the pull-push stands in for the pixels deeper than that), and
    at ``reduction`` times smaller when the result is blurred that much anyway, so a
    large canvas pays little for it."""
    band = hole & (depth <= ISOPHOTE_BAND * reach)
    if not band.any():
        return diffused
    start = image.astype(np.float32)
    np.copyto(start, diffused, where=(hole & ~band)[..., None])
    height, width = hole.shape
    if reduction > 1:
        size = (max(1, width // reduction), max(1, height // reduction))
        start, share = known_mean(start, (~band).astype(np.float32), size)
        small_band = share <= 0
    else:
        small_band = band
    colours = np.clip(start + 0.5, 0, 255).astype(np.uint8)
    inpainted = cv2.inpaint(colours, small_band.astype(np.uint8) * 255, 3, cv2.INPAINT_NS)
    lines = inpainted.astype(np.float32)
    if reduction > 1:
        lines = np.asarray(cv2.resize(lines, (width, height)), dtype=np.float32)  # bilinear
    weight = np.exp(-depth / reach)
    weight *= band
    lines -= diffused  # in place: on a large canvas each of these is a few hundred MB
    lines *= weight[..., None]
    diffused += lines
    return diffused


def predictability(image: RGB, hole: Mask, matches: Matches) -> float:
    """Share of the border's variation that the fill's sources explain (0..1).

    For every patch straddling the border, compare its known pixels with the same
    pixels of its source patch, relative to their spread around their own mean: 1 is a
    perfect prediction, 0 no better than a flat colour. The median over the border.
    """
    return _median_explained(border_explained(image, hole, matches))


@dataclass(frozen=True)
class Explained:
    """The border patches' verdicts (``border_explained``)."""

    ty: NDArray[np.int32]
    tx: NDArray[np.int32]
    """Their centres."""
    share: Floats
    """The share of their known pixels' variation that their sources explain (<= 1)."""
    textured: NDArray[np.bool_]
    """Whether that variation is a pattern at all (else there is nothing to explain)."""


def _median_explained(explained: Explained | None) -> float:
    if explained is None:
        return 0.0
    if not explained.textured.any():
        return 1.0  # flat border: nothing to fade
    return float(np.clip(np.median(explained.share[explained.textured]), 0.0, 1.0))


def local_trust(
    explained: Explained | None, box: Window, spread: float, low: float, high: float
) -> Floats:
    """Over ``box``: how well the fill explains the border near each place (0..1).

    Each border patch's explained share, mapped from ``low`` (0) to ``high`` (1) (a flat
    one counts as explained), averaged over a Gaussian of ``spread`` px around each
    place. Where no border patch is near, 0: the diffusion keeps its say."""
    height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
    trust = np.zeros((height, width), dtype=np.float32)
    if explained is None:
        return trust
    value = np.where(explained.textured, (explained.share - low) / max(high - low, 1e-6), 1.0)
    y, x = explained.ty - box[0].start, explained.tx - box[1].start
    inside = (y >= 0) & (y < height) & (x >= 0) & (x < width)
    counts = np.zeros_like(trust)
    np.add.at(trust, (y[inside], x[inside]), np.clip(value[inside], 0.0, 1.0))
    np.add.at(counts, (y[inside], x[inside]), 1.0)
    trust, counts = _gaussian(trust, spread), _gaussian(counts, spread)
    return np.asarray(np.where(counts > 1e-3, trust / np.maximum(counts, 1e-3), 0.0), np.float32)


def border_explained(image: RGB, hole: Mask, matches: Matches) -> Explained | None:
    """How well the sources explain the patches straddling the border (those with
    enough known pixels to judge by, at most ``BORDER_SAMPLE``); None when no patch
    straddles it."""
    r = matches.radius
    size = 2 * r + 1
    near_known = cv2.dilate((~hole).astype(np.uint8), np.ones((size, size), np.uint8))
    straddling = np.flatnonzero(near_known[matches.ty, matches.tx])  # all touch the hole
    if straddling.size > BORDER_SAMPLE:  # a median needs no more; bounds memory on big holes
        straddling = straddling[np.linspace(0, straddling.size - 1, BORDER_SAMPLE).astype(int)]
    offsets = np.arange(-r, r + 1, dtype=np.int32)
    dy, dx = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
    ty = matches.ty[straddling, None] + dy
    tx = matches.tx[straddling, None] + dx
    known = ~hole[ty, tx]
    count = known.sum(axis=1)
    border = count >= size * size // 3  # enough real pixels to judge the prediction by
    if not border.any():
        return None
    ty, tx, known, count = ty[border], tx[border], known[border], count[border]
    sy = matches.sy[straddling[border], None] + dy
    sx = matches.sx[straddling[border], None] + dx
    target = image[ty, tx].astype(np.float32)
    source = image[sy, sx].astype(np.float32)
    weights = known[..., None].astype(np.float32)
    mean = (target * weights).sum(axis=1, keepdims=True) / weights.sum(axis=1, keepdims=True)
    spread = (((target - mean) ** 2) * weights).sum(axis=(1, 2))
    error = (((target - source) ** 2) * weights).sum(axis=(1, 2))
    textured = spread > 4.0 * count  # about 1 grey level rms or more: a pattern to predict
    share = np.asarray(1.0 - error / np.maximum(spread, 1e-6), dtype=np.float32)
    centre = size * size // 2
    return Explained(ty[:, centre], tx[:, centre], share, textured)
