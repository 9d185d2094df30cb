"""Quality metrics on the filled pixels only, as ``../shared/eval/README.md`` asks.

- PSNR over the hole's pixels (all three channels).
- SSIM: scikit-image's SSIM map (7x7 Gaussian-free window, data range 255) averaged
  over the hole's pixels; computed on the hole's bounding box plus a margin, which
  gives the same values inside the hole and is much faster on large images.
- Seam discontinuity: for every pair of 4-neighbours across the hole's border (one
  filled, one known), the difference between the result's step across the pair and
  the ground truth's step, in grey levels, averaged. 0 means the fill meets the known
  region exactly as the real picture does; a visible seam makes it large.
- Sharpness ratio: the mean gradient magnitude (Sobel, luminance) of the result over
  the hole's pixels divided by that of the ground truth. 1 is right; a smear scores
  far below 1 (and can still do well on PSNR and SSIM), noise above 1.
- Blurred SSIM: SSIM after a Gaussian blur of sigma 3 px on both images. It forgives
  a texture's random phase (grass continued with other blades) but not a broken line
  or a wrong colour: structure, not grain.
- Flat share: of the 16x16 blocks of the fill (blocks at least half filled) where the
  truth is not flat, the share whose gradient energy is under a tenth of the truth's:
  the grey blotches where a fill gave up. A smear scores high, a textured fill low.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray
from skimage.metrics import structural_similarity

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]

_SSIM_MARGIN = 8
BLUR_SIGMA = 3.0
BLOCK = 16
FLAT_RATIO = 0.1
"""A block is flat when its gradient energy is under this share of the truth's."""
TRUTH_FLAT = 4.0
"""Truth blocks with a mean squared gradient (grey levels per pixel) under this (an rms
step of 2 levels) are flat themselves and do not count."""


def psnr(result: RGB, truth: RGB, mask: Mask) -> float:
    diff = result[mask].astype(np.float64) - truth[mask].astype(np.float64)
    mse = float(np.mean(diff * diff))
    return float("inf") if mse == 0 else 10.0 * float(np.log10(255.0**2 / mse))


def ssim(result: RGB, truth: RGB, mask: Mask) -> float:
    rows, cols = np.nonzero(mask)
    top = max(int(rows.min()) - _SSIM_MARGIN, 0)
    left = max(int(cols.min()) - _SSIM_MARGIN, 0)
    bottom = int(rows.max()) + _SSIM_MARGIN + 1
    right = int(cols.max()) + _SSIM_MARGIN + 1
    box = (slice(top, bottom), slice(left, right))
    _, full = structural_similarity(
        truth[box], result[box], channel_axis=2, data_range=255, full=True
    )
    return float(np.mean(np.asarray(full)[mask[box]]))


def seam(result: RGB, truth: RGB, mask: Mask) -> float:
    res = result.astype(np.float64)
    gt = truth.astype(np.float64)
    errors = []
    for axis in (0, 1):
        a = [slice(None), slice(None)]
        b = [slice(None), slice(None)]
        a[axis] = slice(0, -1)
        b[axis] = slice(1, None)
        across = mask[tuple(a)] != mask[tuple(b)]
        step_result = res[tuple(a)] - res[tuple(b)]
        step_truth = gt[tuple(a)] - gt[tuple(b)]
        errors.append(np.abs(step_result - step_truth)[across])
    joined = np.concatenate(errors)
    return float(joined.mean()) if joined.size else 0.0


def _gradient_magnitude(image: RGB) -> NDArray[np.float32]:
    grey = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(np.sqrt(gx * gx + gy * gy), dtype=np.float32)


def sharpness(result: RGB, truth: RGB, mask: Mask) -> float:
    ours = float(_gradient_magnitude(result)[mask].mean())
    real = float(_gradient_magnitude(truth)[mask].mean())
    return ours / real if real > 0 else float("nan")


def blurred_ssim(result: RGB, truth: RGB, mask: Mask) -> float:
    """SSIM on the hole after a Gaussian blur of ``BLUR_SIGMA`` px on both images."""
    soft_result = np.asarray(cv2.GaussianBlur(result, (0, 0), BLUR_SIGMA))
    soft_truth = np.asarray(cv2.GaussianBlur(truth, (0, 0), BLUR_SIGMA))
    return ssim(soft_result, soft_truth, mask)


def _energy(image: RGB) -> NDArray[np.float32]:
    grey = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3) / 4.0
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3) / 4.0
    return np.asarray(gx * gx + gy * gy, dtype=np.float32)


def flat_share(result: RGB, truth: RGB, mask: Mask) -> float:
    """Percentage of the fill's non-flat blocks that the fill left flat (nan if none)."""
    height, width = mask.shape
    rows, cols = height // BLOCK, width // BLOCK
    crop = (slice(0, rows * BLOCK), slice(0, cols * BLOCK))

    def block_sums(plane: NDArray[np.float32]) -> NDArray[np.float64]:
        tiles = plane[crop].reshape(rows, BLOCK, cols, BLOCK)
        return np.asarray(tiles.sum(axis=(1, 3)), dtype=np.float64)

    inside = mask.astype(np.float32)
    count = block_sums(inside)
    counted = count >= BLOCK * BLOCK / 2
    ours = block_sums(_energy(result) * inside)[counted] / count[counted]
    real = block_sums(_energy(truth) * inside)[counted] / count[counted]
    textured = real > TRUTH_FLAT
    if not textured.any():
        return float("nan")
    return 100.0 * float(np.mean(ours[textured] < FLAT_RATIO * real[textured]))
