"""Where evidence bytes live: a small interface with a folder implementation (the default).

Evidence is content-addressed: the key is the SHA-256 of the bytes, so a file is written once,
two identical photos share it, and every read is checked against the hash. Object storage can be
added later by registering another factory in ``STORES`` (``settings.evidence_store`` =
``"<kind>:<location>"``); nothing else in the code knows where bytes are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from bot.settings import Settings
from storage.files import sha256_hex, write_once


class Tampered(ValueError):
    """Stored bytes no longer match their SHA-256."""


class BlobStore(Protocol):
    def put(self, data: bytes) -> tuple[str, str]:
        """Store ``data``; returns (sha256, storage key). Idempotent."""
        ...

    def get(self, key: str, sha256: str) -> bytes:
        """The bytes, checked against ``sha256`` (raises ``Tampered``)."""
        ...


class FolderStore:
    """``<root>/<sha[:2]>/<sha256>``, written atomically (temp file, fsync, rename), never changed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> tuple[str, str]:
        digest = sha256_hex(data)
        key = f"{digest[:2]}/{digest}"
        write_once(self.root / key, data, digest=digest, read_only=True)
        return digest, key

    def get(self, key: str, sha256: str) -> bytes:
        data = (self.root / key).read_bytes()
        if sha256_hex(data) != sha256:
            raise Tampered(f"evidence {key} does not match its SHA-256")
        return data


def _folder(settings: Settings, location: str) -> BlobStore:
    return FolderStore(Path(location) if location else Path(settings.data_dir) / "evidence")


STORES: dict[str, Callable[[Settings, str], BlobStore]] = {"folder": _folder}


def open_store(settings: Settings) -> BlobStore:
    kind, _, location = settings.evidence_store.partition(":")
    try:
        factory = STORES[kind]
    except KeyError:
        raise ValueError(f"unknown evidence store {kind!r}; known: {sorted(STORES)}") from None
    return factory(settings, location)
