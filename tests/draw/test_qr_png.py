"""The QR picture on dispatch cards: a valid PNG whose pixels are exactly the code's modules."""

from __future__ import annotations

import struct
import zlib

import segno

from cards.qr_png import PNG_SIGNATURE, png
from handlers.draw.codes import qr_png


def _read(data: bytes) -> tuple[int, int, list[list[int]]]:
    """Decode a 1-bit greyscale PNG with filter type 0 (what ``png`` writes), checking CRCs."""
    assert data.startswith(PNG_SIGNATURE)
    at, chunks = len(PNG_SIGNATURE), {}
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks[kind] = chunks.get(kind, b"") + body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour, interlace) == (1, 0, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + (width + 7) // 8
    pixels = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0
        bits = "".join(f"{byte:08b}" for byte in line[1:])[:width]
        pixels.append([int(bit) for bit in bits])  # 1 = white
    return width, height, pixels


def test_every_pixel_is_its_module_scaled_inside_a_white_border():
    qr = segno.make_qr("https://zfjg.example.gov.cn/code/ABCDEFGHIJKLMNOPQRSTUVWX", error="m", mask=0)
    matrix = qr.matrix
    width, height, pixels = _read(png(matrix, scale=3, border=2))
    size = len(matrix)
    assert width == height == (size + 4) * 3
    for y in range(height):
        for x in range(width):
            row, col = y // 3 - 2, x // 3 - 2
            dark = 0 <= row < size and 0 <= col < size and bool(matrix[row][col])
            assert pixels[y][x] == (0 if dark else 1), (x, y)


def test_a_width_not_divisible_by_eight_pads_rows_without_shifting_pixels():
    matrix = [[1, 0, 1], [0, 1, 0], [1, 1, 1]]
    width, _, pixels = _read(png(matrix, scale=1, border=1))
    assert width == 5
    assert pixels == [
        [1, 1, 1, 1, 1],
        [1, 0, 1, 0, 1],
        [1, 1, 0, 1, 1],
        [1, 0, 0, 0, 1],
        [1, 1, 1, 1, 1],
    ]


def test_the_qr_picture_draws_the_code_page_address_module_by_module():
    target = "http://127.0.0.1:8000/code/ABCDEFGHIJKLMNOPQRSTUVWX"
    _, _, pixels = _read(qr_png(target))
    matrix = segno.make_qr(target, error="m", mask=0).matrix
    end = 8 + 4 * len(matrix)  # scale 4, two border modules on each side
    assert [row[8:end:4] for row in pixels[8:end:4]] == [[0 if m else 1 for m in row] for row in matrix]
