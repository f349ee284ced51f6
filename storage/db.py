"""Engine and session set-up for SQLite (embedded default) and PostgreSQL (production).

SQLite: WAL, ``busy_timeout``, and ``BEGIN IMMEDIATE`` for every write transaction. A deferred
``BEGIN`` that reads and then writes fails at once with SQLITE_BUSY when another connection wrote
in between (the busy handler is not called), so writers take the write lock up front.
Read-only sessions use a plain deferred ``BEGIN`` and never block writers in WAL mode.

On a SQLite file, ``Database.write()`` also holds an exclusive ``flock`` on ``<file>.wlock`` for
the transaction. Writers queue on it in the kernel and wake as soon as the holder commits;
SQLite's own busy handler instead sleeps 1, 2, 5, 10 … ms between retries, longer than most of
our write transactions, so two web workers spent much of their time asleep (webhook bench: 384
against 470 req/s with the lock, p99 83 against 29 ms). The busy timeout stays as the backstop
for connections that write outside ``write()`` (migrations, tests).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from storage import chains, checkpoint, raw
from storage.base import load_json

READONLY_OPTION = "chayici_readonly"
# Set in a write session's ``info`` once its transaction has taken a database connection.
CONNECTED_KEY = "chayici_connected"


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
    # JSON from the server (storage/nested.py's json_agg reads) parsed by orjson.
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=10, json_deserializer=load_json)
    _ping_idle_connections(engine)
    return engine


# A pooled PostgreSQL connection idle for longer than this is pinged before use.
IDLE_PING_SECONDS = 10.0


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it sat idle for a while.

    ``pool_pre_ping`` pings at every checkout: one more round trip on every request, a sixth of
    a callback's. A connection in steady use has just proved itself; one that idled (the server
    may have restarted or dropped it) is pinged, and a dead one is replaced before the request
    sees it. A connection that dies while in use fails that transaction, and SQLAlchemy then
    discards every connection as old as it.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["chayici_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("chayici_idle_since", None)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()  # leave no transaction open behind the ping
        except Exception as problem:
            raise DisconnectionError("the pooled connection no longer answers") from problem


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
        # Checkpoints belong to the worker's thread, not to a request's commit: storage/checkpoint.py.
        cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint.BACKSTOP_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={checkpoint.LOG_SIZE_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: through ``exec_driver_sql`` SQLAlchemy's execution machinery
        # cost more than the statement, on every transaction.
        readonly = conn.get_execution_options().get(READONLY_OPTION)
        conn.connection.driver_connection.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _sqlite_file(url: str) -> str | None:
    if not url.startswith("sqlite") or "///" not in url:  # "sqlite://" is a database in memory
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return None if not path or path == ":memory:" else path


def _mark_connected(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info[CONNECTED_KEY] = True


def has_connected(session: Session) -> bool:
    """Whether this write transaction has sent anything to the database yet.

    A transaction that has not may still choose how its first statement is sent (for example as
    one autocommitted statement, see ``storage.inbox``).
    """
    return bool(session.info.get(CONNECTED_KEY))


class _WriteLock:
    """An exclusive ``flock`` per thread, taken around each SQLite write transaction.

    Each thread opens its own descriptor (flock excludes open file descriptions, so two threads
    of one worker exclude each other too), reopened after a fork (a child must not share its
    parent's description). Nested ``write()`` calls in one thread lock once.
    """

    def __init__(self, path: str) -> None:
        self._path = path + ".wlock"
        self._local = threading.local()

    @contextmanager
    def held(self) -> Iterator[None]:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.fd = os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600)
            local.pid = os.getpid()
            local.depth = 0
        if local.depth == 0:
            fcntl.flock(local.fd, fcntl.LOCK_EX)
        local.depth += 1
        try:
            yield
        finally:
            local.depth -= 1
            if local.depth == 0:
                fcntl.flock(local.fd, fcntl.LOCK_UN)


@contextmanager
def _batched(dialect: Any, connection: Any) -> Iterator[raw.Direct]:
    """A PostgreSQL write transaction as a ``raw.Batch``: the connection in autocommit mode, BEGIN
    sent with the first statement that writes or locks, the writes whose answers nobody waits for
    kept until the next statement that is answered, and the COMMIT sent with the last of them. On
    an error the transaction (open or failed) is rolled back here."""
    connection.autocommit = True
    batch: raw.Batch | None = None
    try:
        batch = raw.Batch(connection)
        yield raw.Direct(dialect, connection, batch)
        batch.finish()
    except BaseException:
        if batch is not None:
            batch.failed()
        if connection.info.transaction_status != connection.info.transaction_status.IDLE:
            with suppress(connection.Error):  # a broken connection: the pool discards it
                connection.execute("ROLLBACK")
        raise
    finally:
        if connection.info.transaction_status == connection.info.transaction_status.IDLE:
            connection.autocommit = False  # as the pool lends it (a broken one is discarded)


class Database:
    """Owns the engine and hands out transactions.

    ``write()`` is one transaction: commit on success, roll back on any exception.
    ``read()`` is a read-only view (never commits).
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._writer, "after_begin", _mark_connected)
        readonly: dict[str, Any] = {READONLY_OPTION: True}
        if self.engine.dialect.name == "postgresql":
            readonly["postgresql_readonly"] = True
        self._reader = sessionmaker(self.engine.execution_options(**readonly), expire_on_commit=False)
        sqlite_file = _sqlite_file(url)
        self.sqlite_file = sqlite_file
        self._write_lock = _WriteLock(sqlite_file) if sqlite_file else None
        self._autocommit_engine: Engine | None = None
        if self.is_postgres:  # no connection is made until one is used
            self._autocommit_engine = create_engine(
                self.engine.url,
                isolation_level="AUTOCOMMIT",
                pool_size=2,
                max_overflow=10,
                connect_args={"options": "-c synchronous_commit=off"},
                json_deserializer=load_json,
            )
            _ping_idle_connections(self._autocommit_engine)
            chains.install(self.engine)

    def checkpointer(self, interval: float) -> checkpoint.Checkpointer | None:
        """The worker's SQLite checkpoint thread (not started), or None: PostgreSQL checkpoints
        itself, and an in-memory database has no log."""
        return checkpoint.Checkpointer(self.sqlite_file, interval) if self.sqlite_file else None

    @contextmanager
    def checkpointing(self, interval: float) -> Iterator[None]:
        """The block runs with the SQLite checkpoint thread (``checkpointer``) beside it; on
        PostgreSQL it just runs. The thread's last checkpoint is made as the block ends."""
        checkpointer = self.checkpointer(interval)
        if checkpointer is None:
            yield
            return
        checkpointer.start()
        try:
            yield
        finally:
            checkpointer.stop()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Session]:
        if self._write_lock is None:
            with self._transaction() as session:
                yield session
            return
        with self._write_lock.held(), self._transaction() as session:
            yield session

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        session = self._writer()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (PostgreSQL: ``BEGIN READ ONLY``, so a stray write fails).

        On PostgreSQL it ends with COMMIT, not ROLLBACK: psycopg forgets every prepared
        statement of its connection at a ROLLBACK (and sends ``DEALLOCATE ALL``), so each read
        ended by a rollback made the next transactions on that pooled connection plan all their
        statements again (0.5 ms a statement, more than running it).
        """
        session = self._reader()
        try:
            yield session
            if self.is_postgres and session.in_transaction():
                session.commit()
        finally:
            # close() detaches objects with their loaded state (rollback() would expire them).
            session.close()

    @contextmanager
    def direct(self, *, write: bool) -> Iterator[raw.Direct]:
        """One transaction on a pooled driver connection, without an ORM session: commit on
        success, roll back on any exception. For hot paths whose statements all go through
        ``storage.raw`` and ``storage.upsert``: a session's set-up, connection checkout, begin,
        commit and close cost several of their statements. Writes on SQLite take the same file
        lock and ``BEGIN IMMEDIATE`` as ``write()``. Reads on PostgreSQL are single autocommitted
        statements, not one snapshot; writes on PostgreSQL are batched (``_batched``, ``raw.Batch``):
        an error of a statement sent with ``raw.send`` is raised by the next read or at the end,
        and plain SELECTs before the first write run outside the transaction."""
        if not write and self._autocommit_engine is not None:
            # PostgreSQL reads on the autocommit pool: no BEGIN and COMMIT round trips; each
            # statement sees the data as committed when it runs (callers that need more check it
            # when they write, as handlers/results/quick.py does).
            pooled = self._autocommit_engine.raw_connection()
            try:
                yield raw.Direct(self.engine.dialect, pooled.driver_connection)
            finally:
                pooled.close()
            return
        pooled = self.engine.raw_connection()  # checked out and returned outside the file lock
        try:
            connection = pooled.driver_connection
            if self.is_postgres:  # commits or rolls back itself
                with _batched(self.engine.dialect, connection) as handle:
                    yield handle
                return
            held = self._write_lock.held() if write and self._write_lock is not None else nullcontext()
            with held:
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield raw.Direct(self.engine.dialect, connection)
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
        finally:
            pooled.close()

    @contextmanager
    def autocommit(self) -> Iterator[Any]:
        """A PostgreSQL driver connection in autocommit mode, from a pool of its own.

        For single statements that are whole transactions by themselves (``storage.inbox``): no
        ``BEGIN``/``COMMIT`` round trips, and none of a session's set-up. Connections of this pool
        stay in autocommit, so nothing is switched back and forth at checkout. They also run with
        ``synchronous_commit = off`` (a commit does not wait for the WAL flush): use them only
        for what may be lost in a database crash and redone, never for a record.
        """
        if self._autocommit_engine is None:
            raise RuntimeError("autocommit connections are for PostgreSQL")
        connection = self._autocommit_engine.raw_connection()
        try:
            yield connection.driver_connection
        finally:
            connection.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._autocommit_engine is not None:
            self._autocommit_engine.dispose()
