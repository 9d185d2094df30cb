"""A visible watermark for the copies a caller asks to be marked (Kling's ``watermark_info``).

Diagonal rows of translucent text across the whole image: easy to see, hard to crop
away, and the unmarked result is always produced beside it.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

DEFAULT_TEXT = "canvasfill"
OPACITY = 0.35


def watermark(rgb: NDArray[np.uint8], text: str = DEFAULT_TEXT) -> NDArray[np.uint8]:
    """A marked copy of ``rgb``: white text with a dark outline, tiled on a diagonal."""
    height, width = rgb.shape[:2]
    side = int(np.hypot(width, height)) + 2
    overlay = np.zeros((side, side), dtype=np.uint8)
    scale = max(0.4, min(width, height) / 600)
    thickness = max(1, round(scale * 2))
    (text_width, text_height), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    step_x, step_y = text_width + text_height * 3, text_height * 5
    for row, y in enumerate(range(text_height, side, step_y)):
        offset = (row % 2) * step_x // 2
        for x in range(-offset, side, step_x):
            cv2.putText(
                overlay, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness, cv2.LINE_AA
            )
    rotation = cv2.getRotationMatrix2D((side / 2, side / 2), 30, 1.0)
    rotated = cv2.warpAffine(overlay, rotation, (side, side))
    top, left = (side - height) // 2, (side - width) // 2
    alpha = rotated[top : top + height, left : left + width].astype(np.float32) / 255.0 * OPACITY
    marked = rgb.astype(np.float32) * (1 - alpha[:, :, None]) + 255.0 * alpha[:, :, None]
    return np.asarray(np.clip(marked + 0.5, 0, 255), dtype=np.uint8)
