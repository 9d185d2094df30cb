"""The removal hedge: texture kept where the photo predicts it, faded where it cannot."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from canvasfill.engines.base import FillParams, Operation
from canvasfill.engines.patch import PatchEngine, settings_for
from canvasfill.engines.patchmatch.hedge import (
    Hedge,
    Matches,
    border_explained,
    bounding_box,
    diffusion,
    hedge,
    isophotes_near_border,
    local_trust,
    predictability,
)
from tests.engines.test_patch import centre_hole, stripes

RGB = NDArray[np.uint8]


def noisy_ramp(side: int = 96, seed: int = 3) -> RGB:
    """A smooth ramp under strong white noise: a texture with no predictable phase."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side].astype(np.float32)
    ramp = np.stack([60 + xx, 90 + yy, 140 - xx / 2], axis=-1)
    return np.clip(ramp + rng.normal(0, 30, size=ramp.shape), 0, 255).astype(np.uint8)


def shifted_matches(hole: NDArray[np.bool_], shift: tuple[int, int], r: int = 3) -> Matches:
    """Every patch touching the hole matched to the patch ``shift`` away (all known)."""
    size = 2 * r + 1
    touching = cv2.dilate(hole.astype(np.uint8), np.ones((size, size), np.uint8))
    ty, tx = np.nonzero(touching)
    keep = (ty >= r) & (tx >= r) & (ty < hole.shape[0] - r) & (tx < hole.shape[1] - r)
    ty, tx = ty[keep].astype(np.int32), tx[keep].astype(np.int32)
    return Matches(ty, tx, ty + np.int32(shift[0]), tx + np.int32(shift[1]), r)


def fill(image: RGB, hole: NDArray[np.bool_], strength: float | None) -> RGB:
    params = FillParams(seed=4, operation=Operation.REMOVE, strength=strength)
    (result,) = PatchEngine().fill(image, hole, params)
    return result


def test_a_regular_pattern_is_predictable_and_noise_is_not() -> None:
    hole = np.zeros((64, 64), dtype=bool)
    hole[20:30, 20:44] = True  # a source 24 rows below lies wholly outside the hole
    matches = shifted_matches(hole, (24, 0))
    assert predictability(stripes(64, 64), hole, matches) > 0.95
    assert predictability(noisy_ramp(64), hole, matches) < 0.2


def test_diffusion_continues_a_flat_colour_and_interpolates_a_ramp() -> None:
    flat = np.full((300, 500, 3), (20, 200, 90), dtype=np.uint8)
    hole = centre_hole(300, 500, 80)
    smooth = diffusion(flat, hole)
    assert smooth.shape == (300, 500, 3)
    assert float(np.abs(smooth[hole] - flat[hole]).max()) < 0.01
    reduced = diffusion(flat, hole, first_step=6)  # a first level 6x smaller: the same
    assert reduced.shape == (300, 500, 3)
    assert float(np.abs(reduced[hole] - flat[hole]).max()) < 0.01
    assert np.array_equal(reduced[~hole], flat[~hole].astype(np.float32))
    xx = np.broadcast_to(np.arange(500, dtype=np.float32) / 2, (300, 500))
    ramp = np.dstack([xx, xx, xx]).astype(np.uint8)
    thin = np.zeros((300, 500), dtype=bool)
    thin[:, 200:206] = True  # a 6 px stroke across the ramp
    error = np.abs(diffusion(ramp, thin)[thin] - ramp[thin].astype(np.float32))
    assert float(error.mean()) < 1.5  # the ramp steps 0.5 a pixel: 3 grey levels across


def test_diffusion_of_an_image_with_almost_nothing_known() -> None:
    image = np.zeros((9, 40, 3), dtype=np.uint8)
    image[4, 39] = (200, 100, 50)
    hole = np.ones((9, 40), dtype=bool)
    hole[4, 39] = False
    assert np.allclose(diffusion(image, hole), (200, 100, 50))
    assert np.all(diffusion(image, np.ones((9, 40), dtype=bool)) == 128)


def test_full_strength_keeps_the_texture_and_hands_the_border_structure_to_diffusion() -> None:
    """At strength 1 no texture fades, but the fill's structure (its blur) gives way to
    the diffusion's near the known border: a fill two shades too bright there is pulled
    to the photo's level, and deep inside keeps its own."""
    image = noisy_ramp(128)
    hole = centre_hole(128, 128, 32)
    window = bounding_box(hole)
    noise = np.random.default_rng(0).normal(0, 20, (128, 128, 3)).astype(np.float32)
    filled = (235 + noise)[window]
    matches = shifted_matches(hole, (-26, 0))
    assert predictability(image, hole, matches) < 0.2  # nothing shortcuts the hedge
    # a reach of 16 px here (32 at the reference size): the 64 px hole has a core 28
    # px deep, where the fill's structure must be nearly all its own
    result = hedge(image, hole, filled.copy(), matches, Hedge(floor=1.0, consensus_reach=32))

    def grain(a: NDArray[np.float32]) -> float:
        return float(np.abs(np.diff(a[16:48, 16:48], axis=1)).mean())

    assert grain(result) > 0.9 * grain(filled)  # the texture kept in full
    inside = hole[window]
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)[window]
    truth = image[window].astype(np.float32)
    rim = inside & (depth <= 3)
    assert np.abs(result[rim] - truth[rim]).mean() < 0.5 * np.abs(filled[rim] - truth[rim]).mean()
    core = depth >= 28
    assert result[core].mean() > 0.8 * filled[core].mean()
    assert np.array_equal(result[~inside], truth[~inside])


def test_unpredictable_texture_fades_and_lands_closer_to_the_truth() -> None:
    truth = noisy_ramp()
    hole = centre_hole(96, 96, 24)
    given = truth.copy()
    given[hole] = 0
    hedged = fill(given, hole, strength=0.0).astype(np.float32)
    raw = fill(given, hole, strength=1.0).astype(np.float32)
    centre = (slice(40, 56), slice(40, 56))  # 16 px from the border: the noise is a guess

    def grain(result: NDArray[np.float32]) -> float:
        """Mean step between horizontal neighbours in the centre: the texture's strength."""
        return float(np.abs(np.diff(result[centre], axis=1)).mean())

    assert grain(hedged) < 0.3 * grain(raw)

    def error(result: NDArray[np.float32]) -> float:
        return float(np.mean((result[hole] - truth[hole].astype(np.float32)) ** 2))

    assert error(hedged) < 0.8 * error(raw)
    assert np.array_equal(hedged[~hole], truth[~hole].astype(np.float32))


def test_strength_sets_the_floor_and_expansion_is_never_hedged() -> None:
    assert settings_for(None, 0.0).hedge == Hedge(floor=0.0)
    assert settings_for(None, 0.3).hedge == Hedge(floor=0.3)
    assert settings_for(None, 1.0).hedge == Hedge(floor=1.0)
    assert settings_for(None, None, Operation.EXPAND).hedge is None
    # nor is an expansion's carried field polished (it measured worse on its goals)
    assert settings_for(None).polish_rounds > 0
    assert settings_for(None, None, Operation.EXPAND).polish_rounds == 0


def test_an_absent_strength_is_the_sharp_fill() -> None:
    """The default removal keeps all of the fill's texture; the smooth hedge is asked for."""
    assert settings_for(None).hedge == Hedge(floor=1.0)
    truth = noisy_ramp(64)
    hole = centre_hole(64, 64, 20)
    given = truth.copy()
    given[hole] = 0
    assert np.array_equal(fill(given, hole, strength=None), fill(given, hole, strength=1.0))
    assert not np.array_equal(fill(given, hole, strength=None), fill(given, hole, strength=0.0))


def bars_beside_noise(height: int = 80, width: int = 144, split: int = 56) -> RGB:
    """Vertical bars 16 px wide left of ``split`` (a pattern a copy 32 rows down
    continues exactly), the unpredictable noisy ramp right of it."""
    image = noisy_ramp(max(height, width))[:height, :width].copy()
    xx = np.arange(split)
    bright = (xx // 16) % 2 == 0
    image[:, :split] = np.where(bright[None, :, None], (220, 200, 60), (40, 60, 150))
    return image


def stroke() -> NDArray[np.bool_]:
    hole = np.zeros((80, 144), dtype=bool)
    hole[30:37, 8:136] = True  # a 7 px stroke across the bars and the noise
    return hole


def test_local_trust_is_high_where_the_sources_explain_the_border_and_low_elsewhere() -> None:
    image, hole = bars_beside_noise(), stroke()
    explained = border_explained(image, hole, shifted_matches(hole, (32, 0)))
    window = bounding_box(hole)
    trust = local_trust(explained, window, spread=4.0, low=0.3, high=0.8)
    assert trust.shape == hole[window].shape
    inside = hole[window]
    left, right = np.zeros_like(inside), np.zeros_like(inside)
    left[:, 8:40] = True  # columns 16..47 of the photo: bars, 8 px clear of the noise
    right[:, 64:120] = True
    assert float(trust[inside & left].mean()) > 0.9
    assert float(trust[inside & right].mean()) < 0.2
    assert np.all(local_trust(None, window, 4.0, 0.3, 0.8) == 0)  # nothing to judge by


def test_the_fill_keeps_its_structure_where_it_explains_the_border() -> None:
    """Across the bars the copy continues the bars exactly; the diffusion would soften
    their edges in the stroke. With local trust the bars stand there, while over the
    noise the structure is still handed to the diffusion."""
    image, hole = bars_beside_noise(), stroke()
    matches = shifted_matches(hole, (32, 0))
    assert predictability(image, hole, matches) < 0.8  # the noise rules the median
    window = bounding_box(hole)
    copied = image[window].astype(np.float32)  # the copy is the truth: the ideal fill
    trusting = hedge(image, hole, copied.copy(), matches, Hedge(floor=1.0))
    doubting = hedge(image, hole, copied.copy(), matches, Hedge(floor=1.0, trust_spread=0))
    inside = hole[window]
    bars = inside.copy()
    bars[:, 48:] = False
    truth = image[window].astype(np.float32)

    def error(result: NDArray[np.float32], where: NDArray[np.bool_]) -> float:
        return float(np.abs(result[where] - truth[where]).mean())

    assert error(trusting, bars) < 0.3 * error(doubting, bars)
    noise = inside.copy()
    noise[:, :64] = False
    assert abs(error(trusting, noise) - error(doubting, noise)) < 0.1 * error(doubting, noise)


def test_near_the_border_the_diffusion_carries_an_edge_across_a_thin_stroke() -> None:
    """A soft vertical edge crossed by a 9 px stroke: the pull-push blurs it inside the
    stroke, Navier-Stokes carries it through. At half size (a large canvas, whose
    structure is blurred by 8 px or more afterwards) the same holds after that blur."""
    columns = np.arange(160, dtype=np.float32)
    edge = 200 / (1 + np.exp(-(columns - 80) / 3))
    image = np.repeat(np.broadcast_to(edge, (120, 160))[..., None], 3, axis=2).astype(np.uint8)
    hole = np.zeros((120, 160), dtype=bool)
    hole[56:65, 10:150] = True
    depth = np.asarray(cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3), np.float32)
    near_edge = hole.copy()
    near_edge[:, :60] = near_edge[:, 100:] = False
    truth = image.astype(np.float32)

    def error(fill: NDArray[np.float32], blur: float = 0.0) -> float:
        expected = truth
        if blur:
            fill, expected = (
                np.asarray(cv2.GaussianBlur(a, (0, 0), blur), np.float32) for a in (fill, truth)
            )
        return float(np.abs(fill[near_edge] - expected[near_edge]).mean())

    pulled = diffusion(image, hole)
    lines = isophotes_near_border(image, hole, pulled.copy(), depth, 10.0, 1)
    assert error(lines) < 0.5 * error(pulled)
    smaller = isophotes_near_border(image, hole, pulled.copy(), depth, 10.0, 2)
    assert error(smaller, blur=8.0) < 0.5 * error(pulled, blur=8.0)
    assert np.array_equal(lines[~hole], pulled[~hole])  # known pixels are not touched
    shallow = isophotes_near_border(image, hole, pulled.copy(), depth, 0.5, 1)
    deep = depth > 1.5  # past three reaches of 0.5 px: the pull-push alone
    assert np.array_equal(shallow[deep], pulled[deep])
