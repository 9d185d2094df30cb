"""Is an image file whole and decodable? Checked without holding its pixels.

The API process refuses a corrupt or cut-short upload at once, but a 195 KB PNG may
declare 8192x8192 pixels: decoding it to answer that question would take hundreds of
megabytes per request. So each format is checked the cheapest honest way:

- PNG: every IDAT chunk's CRC, and its zlib stream inflated in 1 MB pieces that are
  thrown away, counted against the size the header promises.
- JPEG: decoded at 1/8 scale (libjpeg's DCT scaling reads every entropy-coded block but
  keeps 1/64 of the pixels); progressive files keep a full coefficient buffer, so that
  decode reserves its size from the budget.
- Anything else (WebP): a full decode inside the budget.

The worker decodes the file in full when the task runs.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image

from canvasfill.errors import ErrorCode, InputError
from canvasfill.imaging.budget import MemoryBudget

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_INFLATE_PIECE = 2**20
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
"""(x start, y start, x step, y step) of the seven interlace passes."""
JPEG_SCALE = 8
PROGRESSIVE_BYTES_PER_SAMPLE = 2
"""libjpeg keeps one 16-bit coefficient per sample of a progressive file while decoding."""
FULL_DECODE_BYTES_PER_PIXEL = 8
"""A full decode's peak: the decoded RGBA image and one converted copy."""


def verify_image(image: Image.Image, data: bytes, budget: MemoryBudget, *, field: str) -> None:
    """Raise ``InputError`` (``truncated_image`` or ``invalid_image``) unless ``data``
    decodes; ``image`` is ``data`` opened by Pillow, header read, no pixel loaded."""
    try:
        if image.format == "PNG":
            _verify_png(data, field)
        elif image.format == "JPEG":
            _verify_jpeg(image, budget)
        else:
            width, height = image.size
            with budget.reserve(width * height * FULL_DECODE_BYTES_PER_PIXEL):
                image.load()
    except (OSError, SyntaxError, ValueError, zlib.error, struct.error) as exc:
        raise _broken(field, str(exc)) from None


def decode_cost(image: Image.Image) -> int:
    """Bytes a full decode of ``image`` holds at its peak (Pillow's copy and one more)."""
    width, height = image.size
    return width * height * max(len(image.getbands()), 1) * 2


def _verify_jpeg(image: Image.Image, budget: MemoryBudget) -> None:
    width, height = image.size
    scaled = (max(width // JPEG_SCALE, 1), max(height // JPEG_SCALE, 1))
    progressive = bool(image.info.get("progressive") or image.info.get("progression"))
    samples = width * height * max(len(image.getbands()), 1)
    cost = samples * PROGRESSIVE_BYTES_PER_SAMPLE if progressive else samples // JPEG_SCALE**2
    with budget.reserve(cost):
        image.draft(image.mode, scaled)
        image.load()


def _verify_png(data: bytes, field: str) -> None:
    if not data.startswith(PNG_SIGNATURE) or len(data) < 33:
        raise _broken(field, "not a PNG stream")
    width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", data[16:29])
    expected = _png_raw_size(width, height, depth * _PNG_CHANNELS.get(colour, 4), interlace)
    inflater = zlib.decompressobj()
    produced = 0
    position = 8
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > len(data):
            break
        if kind == b"IDAT":
            body = data[position + 8 : end - 4]
            (crc,) = struct.unpack(">I", data[end - 4 : end])
            if zlib.crc32(kind + body) != crc:
                raise _broken(field, "an IDAT chunk's checksum does not match")
            pending = body
            while pending and not inflater.eof:
                produced += len(inflater.decompress(pending, _INFLATE_PIECE))
                pending = inflater.unconsumed_tail
        elif kind == b"IEND":
            break
        position = end
    while not inflater.eof and produced < expected:  # output still held back by zlib
        piece = inflater.decompress(b"", _INFLATE_PIECE)
        if not piece:
            break
        produced += len(piece)
    if produced < expected:
        raise InputError(
            ErrorCode.TRUNCATED_IMAGE,
            f"the {field} file is cut short: its pixel data ends after {produced:,} of "
            f"{expected:,} bytes; send the whole file",
            field=field,
        )


def _png_raw_size(width: int, height: int, bits_per_pixel: int, interlace: int) -> int:
    """Bytes of filtered scanlines the header promises (each row: a filter byte + pixels)."""

    def rows(w: int, h: int) -> int:
        return 0 if w == 0 or h == 0 else h * (1 + (w * bits_per_pixel + 7) // 8)

    if not interlace:
        return rows(width, height)
    return sum(
        rows((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy) for x0, y0, dx, dy in _ADAM7
    )


def _broken(field: str, reason: str) -> InputError:
    code = ErrorCode.TRUNCATED_IMAGE if "truncated" in reason else ErrorCode.INVALID_IMAGE
    what = "cut short" if code is ErrorCode.TRUNCATED_IMAGE else "corrupt"
    return InputError(
        code, f"the {field} file is {what} and cannot be decoded ({reason})", field=field
    )
