"""Image files made by hand for tests that must not decode them."""

from __future__ import annotations

import zlib


def huge_blank_png(side: int = 8192) -> bytes:
    """A PNG of side x side black RGB pixels: a few hundred KB on the wire."""
    row = b"\x00" * (1 + 3 * side)
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(row) for _ in range(side)]
    idat = b"".join(chunks) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = side.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
