"""One byte form per snapshot: canonical JSON, its SHA-256, and the compressed copy we store.

The hash is taken over the canonical JSON (sorted keys, no spaces, UTF-8), never over the
compressed bytes, so the compression level can change without changing any published hash.
"""

from __future__ import annotations

import hashlib
import json
import threading
import zlib
from typing import Any

_LARGE = 1 << 20  # above this, compress fast (level 1); below, compress well (level 6)


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(snapshot: dict[str, Any]) -> tuple[bytes, str]:
    """(zlib-compressed canonical JSON, SHA-256 hex of the uncompressed canonical JSON)."""
    data = canonical_bytes(snapshot)
    return zlib.compress(data, 1 if len(data) > _LARGE else 6), digest(data)


class Packing:
    """``pack`` with the slow half (SHA-256 and zlib, both of which release the GIL) running in a
    thread, so a big snapshot is compressed while the draw's rows are being written."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self._data = canonical_bytes(snapshot)
        self._result: tuple[bytes, str] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="draw-snapshot-pack", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            data = self._data
            self._result = (zlib.compress(data, 1 if len(data) > _LARGE else 6), digest(data))
        except BaseException as exc:  # handed to the caller in result()
            self._error = exc

    def result(self) -> tuple[bytes, str]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def unpack(blob: bytes) -> tuple[dict[str, Any], str]:
    """(snapshot, SHA-256 of its canonical JSON as stored). Raises ValueError if unreadable."""
    try:
        data = zlib.decompress(blob)
        value = json.loads(data)
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"snapshot is not readable: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError("snapshot is not a JSON object")
    return value, digest(data)
