"""SQLite's log is copied into the database file by the worker's thread, not by request commits."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import checkpoint
from storage.db import Database

PAGE = 4096


def _database(tmp_path: Path) -> tuple[Database, str]:
    path = str(tmp_path / "c.db")
    database = Database(f"sqlite:///{path}")
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (n INTEGER, b BLOB)"))
    return database, path


def _fill(database: Database, commits: int, pages_each: int, start: int = 0) -> None:
    """``commits`` transactions through pooled request connections, each adding about
    ``pages_each`` pages."""
    for n in range(start, start + commits):
        with database.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO filler (n, b) VALUES (:n, randomblob(:size))"),
                {"n": n, "size": pages_each * PAGE},
            )


def _rows_in_database_file(path: str) -> int:
    """Rows of ``filler`` as the database file holds them, the log ignored (``immutable``: no
    locks, so only while no checkpoint is writing the file; -1 if one was caught mid-write)."""
    connection = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM filler").fetchone()[0])
    except sqlite3.OperationalError:  # the table itself is still only in the log
        return 0
    except sqlite3.DatabaseError:  # a page read while the checkpointer wrote it
        return -1
    finally:
        connection.close()


def test_request_connections_checkpoint_only_past_the_backstop(tmp_path: Path) -> None:
    database, path = _database(tmp_path)
    with database.engine.connect() as connection:
        setting = connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
    assert setting == checkpoint.BACKSTOP_PAGES
    _fill(database, commits=15, pages_each=100)  # past SQLite's default of 1,000 pages
    # Nothing was copied back on the way: every page is still in the log, none in the file.
    assert _rows_in_database_file(path) == 0
    progress = checkpoint.checkpoint(path)
    assert progress.log_frames >= 1500
    database.dispose()


def test_a_checkpoint_copies_the_log_into_the_database_file(tmp_path: Path) -> None:
    database, path = _database(tmp_path)
    _fill(database, commits=3, pages_each=2)
    assert _rows_in_database_file(path) == 0
    progress = checkpoint.checkpoint(path)
    assert not progress.busy
    assert progress.copied == progress.log_frames > 0
    assert _rows_in_database_file(path) == 3
    database.dispose()


def test_writes_after_a_checkpoint_restart_the_log_instead_of_growing_it(tmp_path: Path) -> None:
    database, path = _database(tmp_path)
    _fill(database, commits=10, pages_each=20)
    first = checkpoint.checkpoint(path)
    _fill(database, commits=1, pages_each=20, start=10)
    second = checkpoint.checkpoint(path)
    assert second.log_frames < first.log_frames
    assert _rows_in_database_file(path) == 11
    database.dispose()


def test_the_thread_copies_the_log_once_more_when_stopped(tmp_path: Path) -> None:
    database, path = _database(tmp_path)
    checkpointer = database.checkpointer(interval=3600)  # its timer never fires in this test
    assert checkpointer is not None
    checkpointer.start()
    _fill(database, commits=2, pages_each=2)
    assert _rows_in_database_file(path) == 0
    checkpointer.stop()
    assert _rows_in_database_file(path) == 2
    database.dispose()


def test_the_thread_checkpoints_on_its_interval(tmp_path: Path) -> None:
    database, path = _database(tmp_path)
    checkpointer = checkpoint.Checkpointer(path, interval=0.02)
    checkpointer.start()
    try:
        _fill(database, commits=2, pages_each=2)
        deadline = time.monotonic() + 10
        seen_while_running = False
        while not seen_while_running and time.monotonic() < deadline:
            seen_while_running = _rows_in_database_file(path) == 2
            time.sleep(0.02)
    finally:
        checkpointer.stop()
    assert seen_while_running
    database.dispose()


def test_a_failed_checkpoint_is_logged_and_the_thread_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such-folder" / "x.db"
    checkpointer = checkpoint.Checkpointer(str(missing), interval=0.01)
    checkpointer.start()
    deadline = time.monotonic() + 10
    while (
        not any("checkpoint" in record.getMessage() for record in caplog.records)
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert checkpointer._thread is not None and checkpointer._thread.is_alive()
    checkpointer.stop()
    assert any("SQLite checkpoint" in record.getMessage() for record in caplog.records)


def test_a_checkpoint_of_a_missing_file_fails_instead_of_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "gone.db"
    with pytest.raises(sqlite3.OperationalError):
        checkpoint.checkpoint(str(missing))
    assert not missing.exists()


def test_only_a_sqlite_file_gets_a_checkpointer(tmp_path: Path) -> None:
    assert Database("sqlite://").checkpointer(1.0) is None
    database, path = _database(tmp_path)
    made = database.checkpointer(2.5)
    assert made is not None and made.path == path and made.interval == 2.5
    with pytest.raises(ValueError):
        checkpoint.Checkpointer(path, interval=0)
    database.dispose()
