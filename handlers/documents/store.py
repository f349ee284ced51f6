"""Content-addressed file storage under ``settings.data_dir``.

A file lives at ``documents/<first two hex>/<sha256><suffix>``: the name is its hash, so a file is
written once, can be checked at any time, and two identical renderings share one file.
"""

from __future__ import annotations

from pathlib import Path

from storage.files import sha256_hex, write_once

ROOT = "documents"


def relative_path(sha256: str, suffix: str) -> str:
    return f"{ROOT}/{sha256[:2]}/{sha256}{suffix}"


def put(data_dir: Path | str, data: bytes, *, suffix: str = ".pdf") -> tuple[str, str]:
    """Store ``data``; returns (path relative to data_dir, sha256). Atomic (temp file + rename)."""
    digest = sha256_hex(data)
    relative = relative_path(digest, suffix)
    write_once(Path(data_dir) / relative, data, digest=digest)
    return relative, digest


def read(data_dir: Path | str, relative: str, sha256: str) -> bytes:
    """The stored bytes, checked against their hash (ValueError if the file was altered)."""
    data = (Path(data_dir) / relative).read_bytes()
    if sha256_hex(data) != sha256:
        raise ValueError(f"stored file {relative} does not match its SHA-256")
    return data
