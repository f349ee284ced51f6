"""Content-addressed file storage under ``settings.data_dir``.

A file lives at ``documents/<first two hex>/<sha256><suffix>``: the name is its hash, so a file is
written once, can be checked at any time, and two identical renderings share one file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

ROOT = "documents"


def relative_path(sha256: str, suffix: str) -> str:
    return f"{ROOT}/{sha256[:2]}/{sha256}{suffix}"


def put(data_dir: Path | str, data: bytes, *, suffix: str = ".pdf") -> tuple[str, str]:
    """Store ``data``; returns (path relative to data_dir, sha256). Atomic (temp file + rename)."""
    digest = hashlib.sha256(data).hexdigest()
    relative = relative_path(digest, suffix)
    target = Path(data_dir) / relative
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == digest:
        return relative, digest
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return relative, digest


def read(data_dir: Path | str, relative: str, sha256: str) -> bytes:
    """The stored bytes, checked against their hash (ValueError if the file was altered)."""
    data = (Path(data_dir) / relative).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"stored file {relative} does not match its SHA-256")
    return data
