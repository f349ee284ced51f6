"""The draw's random numbers: SHA-256 in counter mode, the same on every machine and Python.

Why not ``random.Random``: its output for a given seed is an implementation detail of CPython
(and seeding from a string goes through a hash that has changed between versions). A draw must be
replayable by anyone, in any language, years later, from the published seed alone.

Definition (version 1, documented in docs/draw-and-dispatch.md):

    block(i) = SHA-256( "chayici-draw/1" 0x00 seed 0x00 label 0x00 uint64_be(i) ),  i = 0, 1, 2, ...

The stream is the concatenation block(0) || block(1) || ... . ``randbelow(n)`` reads the next 8
bytes as a big-endian unsigned integer x and returns ``x % n`` if ``x < 2**64 - (2**64 % n)``,
otherwise reads the next 8 bytes (rejection, so every value is equally likely). ``randbelow(1)``
returns 0 without reading. ``shuffle`` is Fisher-Yates from the last position down:
for i = len-1 .. 1: j = randbelow(i + 1); swap(i, j).

Each purpose gets its own ``label`` (e.g. ``objects/D``, ``team/3``), so a change in how many
numbers one part uses never shifts the numbers of another part.
"""

from __future__ import annotations

import hashlib
from typing import TypeVar

T = TypeVar("T")

DOMAIN = b"chayici-draw/1"
_WORD = 8
_SPACE = 1 << 64


class Stream:
    """A deterministic stream of random integers for one (seed, label)."""

    def __init__(self, seed: str, label: str) -> None:
        self._prefix = DOMAIN + b"\x00" + seed.encode() + b"\x00" + label.encode() + b"\x00"
        self._counter = 0
        self._buffer = b""

    def _take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            block = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def randbelow(self, n: int) -> int:
        """A uniform integer in [0, n)."""
        if n <= 0:
            raise ValueError("randbelow needs n >= 1")
        if n == 1:
            return 0
        limit = _SPACE - (_SPACE % n)
        while True:
            value = int.from_bytes(self._take(_WORD), "big")
            if value < limit:
                return value % n

    def shuffle(self, items: list[T]) -> list[T]:
        """Shuffle ``items`` in place (Fisher-Yates) and return it."""
        for i in range(len(items) - 1, 0, -1):
            j = self.randbelow(i + 1)
            items[i], items[j] = items[j], items[i]
        return items
