"""QR codes as small PNG pictures, drawn fast.

segno encodes the code (the module matrix); its PNG writer builds each pixel row through Python
generators, 1.4 ms a code on our machine. The bot draws a code's picture when a phone first asks
for it (``GET /code/<code>/qr.png``), so that request pays it, not the dispatch. A one-bit greyscale PNG of the same picture is a few lines of ``zlib``: each
module row becomes one bit string, turned into bytes at once and repeated ``scale`` times
(0.3 ms a code).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(matrix: Sequence[Sequence[int]], *, scale: int = 4, border: int = 2) -> bytes:
    """A black-on-white PNG of a module matrix (truthy = dark), ``border`` quiet modules around."""
    width = (len(matrix) + 2 * border) * scale
    row_bytes = (width + 7) // 8
    light, dark = "1" * scale, "0" * scale
    edge = "1" * (border * scale)
    pad = "1" * (row_bytes * 8 - width)  # bits after the last pixel of a row are ignored
    quiet = b"\x00" + b"\xff" * row_bytes  # filter type 0, then an all-white row
    rows = [quiet] * (border * scale)
    for modules in matrix:
        bits = edge + "".join(dark if module else light for module in modules) + edge + pad
        rows.extend([b"\x00" + int(bits, 2).to_bytes(row_bytes, "big")] * scale)
    rows.extend([quiet] * (border * scale))
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
