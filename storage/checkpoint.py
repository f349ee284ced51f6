"""SQLite's write-ahead log copied into the database file by a thread of the worker, not by requests.

Left to itself, SQLite checkpoints inside the COMMIT that takes its log past ``wal_autocheckpoint``
pages (1,000 by default, about 4 MB): that one commit writes every page changed since the last
checkpoint back into the database file and syncs it, while the application's write lock
(``storage.db._WriteLock``) is held, so every other worker's write waits for it too. Under load a
result submission stores about 14 pages, so one request in 70 paid for the other 69.

Here request connections checkpoint only past ``BACKSTOP_PAGES`` (a log nobody else attends to,
say when no worker runs, stays bounded), and the worker process (``chayici worker``, ``chayici
demo``) runs a ``Checkpointer``: every ``interval`` seconds one PASSIVE checkpoint, which copies
what no reader still needs and waits for no reader or writer. A page changed many times between
two checkpoints is written back once. ``journal_size_limit`` trims the log file after a burst.

PostgreSQL needs none of this: its own checkpointer is a server process.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from urllib.parse import quote

log = logging.getLogger(__name__)

BACKSTOP_PAGES = 10_000  # about 40 MB of 4 KB pages: request connections checkpoint only past it
LOG_SIZE_LIMIT = 64 * 1024 * 1024  # bytes the log file is cut back to once it is fully copied


@dataclass(frozen=True)
class Progress:
    """What one checkpoint did: ``busy`` when a writer or reader kept it from the end of the log;
    ``log_frames`` in the log, ``copied`` of them now in the database file."""

    busy: bool
    log_frames: int
    copied: int


def checkpoint(path: str) -> Progress:
    """One PASSIVE checkpoint of the database file at ``path``, on a connection of its own (a
    connection is cheap next to the copy, and is never shared across threads). A missing file is
    an error, not a new empty database (``mode=rw``)."""
    connection = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=5, isolation_level=None)
    try:
        busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        connection.close()
    return Progress(bool(busy), int(frames), int(copied))


class Checkpointer:
    """A daemon thread checkpointing ``path`` every ``interval`` seconds until ``stop``."""

    def __init__(self, path: str, interval: float = 0.25) -> None:
        if interval <= 0:
            raise ValueError("the checkpoint interval must be positive")
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after a last checkpoint, so that a clean shutdown leaves the log copied."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self.interval)
            try:
                checkpoint(self.path)
            except sqlite3.Error as problem:  # a locked or vanished file: the next round tries again
                log.warning("SQLite checkpoint of %s failed: %s", self.path, problem)
            if stopping:
                return


__all__ = ["BACKSTOP_PAGES", "LOG_SIZE_LIMIT", "Checkpointer", "Progress", "checkpoint"]
