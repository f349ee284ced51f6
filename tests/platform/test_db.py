"""Write transactions: the SQLite write lock around them and PostgreSQL's idle-connection ping."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from sqlalchemy import text

from storage import db as db_module
from storage.db import Database


def _lock_is_free(path: str) -> bool:
    fd = os.open(path, os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops a lock taken here
    return True


def test_a_sqlite_write_holds_the_file_lock_until_it_commits(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/lock.db")
    lock_file = f"{tmp_path}/lock.db.wlock"
    with database.write() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
        assert not _lock_is_free(lock_file)
        with database.write() as inner:  # nested in one thread: taken once, still held after
            assert inner is not session
        assert not _lock_is_free(lock_file)
    assert _lock_is_free(lock_file)
    with pytest.raises(RuntimeError), database.write():
        raise RuntimeError("rolled back")
    assert _lock_is_free(lock_file)
    database.dispose()


def test_sqlite_writers_in_several_threads_all_commit(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/threads.db")
    with database.write() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(50):
                with database.write() as session:
                    count = session.execute(text("SELECT count(*) FROM t")).scalar_one()
                    session.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": count})
        except BaseException as problem:  # pragma: no cover - reported below
            errors.append(problem)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with database.read() as session:
        values = session.execute(text("SELECT n FROM t ORDER BY n")).scalars().all()
    assert values == list(range(200))  # every read-then-write saw the previous commit
    database.dispose()


def test_an_idle_postgresql_connection_that_died_is_replaced_before_use(pg_ready, monkeypatch):
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
    database = Database(pg_ready)
    try:
        with database.write() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        killer = Database(pg_ready)
        with killer.write() as session:
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
        with database.write() as session:  # the pooled connection is dead: pinged and replaced
            assert session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        database.dispose()
