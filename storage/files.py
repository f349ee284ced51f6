"""Writing content-addressed files once, atomically.

Documents and evidence are both named by the SHA-256 of their bytes. A file is written to a
temporary name in the same folder, flushed to disk and renamed into place, so a reader never sees
half a file and a crash leaves no wrong one; an existing file with the right content is kept.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_once(target: Path, data: bytes, *, digest: str, read_only: bool = False) -> None:
    """Make ``target`` hold ``data`` (whose SHA-256 is ``digest``), unless it already does."""
    if target.exists() and sha256_hex(target.read_bytes()) == digest:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if read_only:
            os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
