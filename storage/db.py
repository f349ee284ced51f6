"""Engine and session set-up for SQLite (embedded default) and PostgreSQL (production).

SQLite: WAL, ``busy_timeout``, and ``BEGIN IMMEDIATE`` for every write transaction. A deferred
``BEGIN`` that reads and then writes fails at once with SQLITE_BUSY when another connection wrote
in between (the busy handler is not called), so writers take the write lock up front.
Read-only sessions use a plain deferred ``BEGIN`` and never block writers in WAL mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

READONLY_OPTION = "chayici_readonly"


def make_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> Engine:
    """Create an engine with the per-backend settings this project relies on."""
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        # psycopg 3 is the supported driver; the bare scheme would pick psycopg2.
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split("///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that we can emit BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READONLY_OPTION):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine and hands out transactions.

    ``write()`` is one transaction: commit on success, roll back on any exception.
    ``read()`` is a read-only view (never commits).
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(
            self.engine.execution_options(**{READONLY_OPTION: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Session]:
        session = self._writer()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._reader()
        try:
            yield session
        finally:
            # close() detaches objects with their loaded state (rollback() would expire them).
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
