"""Core statements compiled once and run straight on the driver, inside the session's transaction.

On the busiest write paths (a result submission, every audit append) SQLAlchemy's per-execution
machinery (execution context, compiled-cache lookup, result set-up, ORM row loading) cost several
times what the database did. These helpers keep the statements as SQLAlchemy Core objects, built
once at import and compiled once per database, and do at run time only what SQLAlchemy would have
done to the values: the column types' bind processors on the way in (TypeDecorators included) and
their result processors on the way out. Rows come back as plain tuples.

``send`` runs a statement without waiting for its answer (``Later``). A PostgreSQL ``Direct`` write
(``storage.batch.Batch``) keeps what is sent and puts it in front of the next statement that must
be answered, as one message: a transaction of several writes costs a round trip or two instead of
one per statement.

Not for statements with expanding ``IN`` parameters (their text depends on the values). Pending ORM
changes are flushed first, as an ORM query would (autoflush), so a raw read never misses them; a
raw write to a row the session holds as an ORM object leaves that object stale (callers on these
paths do not hold them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement, Select

from storage.batch import Batch, close


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]  # bind names, in placeholder order when positional
    positional: bool
    processors: tuple[Any, ...]  # per name: bind processor or None
    defaults: tuple[tuple[str, Any], ...]  # values fixed in the statement (``where(id == 1)``)
    results: tuple[Any, ...]  # per result column: result processor or None
    returns: bool  # the statement returns rows (a SELECT, or RETURNING)
    reads_only: bool  # a SELECT that locks nothing: it may run before a Batch's transaction opens


@cache
def _plan(dialect: Dialect, statement: ClauseElement) -> _Plan:
    """Built once per statement and database: compiling costs more than running it."""
    compiled = statement.compile(dialect=dialect)
    binds = compiled.binds
    if any(bind.expanding for bind in binds.values()):
        raise ValueError("storage.raw cannot run statements with expanding IN parameters")
    names = tuple(compiled.positiontup) if compiled.positional else tuple(binds)  # type: ignore[arg-type]
    processors = tuple(binds[name].type._cached_bind_processor(dialect) for name in names)
    defaults = tuple(
        (name, binds[name].effective_value)
        for name in dict.fromkeys(names)
        if not binds[name].required and binds[name].callable is None
    )
    columns = getattr(statement, "exported_columns", ())
    results = tuple(column.type._cached_result_processor(dialect, None) for column in columns)
    reads_only = (
        isinstance(statement, Select)
        and statement._for_update_arg is None
        and not statement._independent_ctes  # a write in a WITH (``send_expecting_one``)
    )
    return _Plan(
        compiled.string, names, compiled.positional, processors, defaults, results, bool(columns), reads_only
    )


def _arguments(plan: _Plan, params: Mapping[str, Any]) -> Any:
    values = dict(plan.defaults)
    values.update(params)
    try:
        processed = [
            value if process is None else process(value)
            for process, value in zip(plan.processors, (values[name] for name in plan.names), strict=True)
        ]
    except KeyError as missing:
        raise KeyError(f"no value for bind parameter {missing}") from None
    if plan.positional:
        return processed
    return dict(zip(plan.names, processed, strict=True))


class Direct:
    """A transaction on one pooled driver connection, without an ORM session
    (``Database.direct``): for hot paths whose every statement goes through this module or
    ``storage.upsert``. Passed where those take a session. ``batch`` is set for PostgreSQL
    writes (``Batch``), else None."""

    __slots__ = ("batch", "dialect", "driver", "info")

    def __init__(self, dialect: Dialect, driver: Any, batch: Batch | None = None) -> None:
        self.dialect = dialect
        self.driver = driver
        self.info: dict[str, Any] = {}
        self.batch = batch


def driver(session: Session | Direct) -> tuple[Dialect, Any]:
    """The dialect and driver connection to run a statement on, pending ORM changes flushed."""
    if type(session) is Direct:
        return session.dialect, session.driver
    session.flush()  # type: ignore[union-attr]  # returns at once when nothing is pending
    return _driver(session)  # type: ignore[arg-type]


def _driver(session: Session) -> tuple[Dialect, Any]:
    """The dialect and driver connection of the session's transaction. ``session.connection()``
    walks SQLAlchemy's transaction state machine on every call; the pair is kept per transaction
    (a later transaction of the same session may run on another connection)."""
    transaction = session.get_transaction()
    kept = session.info.get(_KEY)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1], kept[2]
    connection = session.connection()
    pair = (connection.dialect, connection.connection.driver_connection)
    session.info[_KEY] = (session.get_transaction(), *pair)
    return pair


_KEY = "storage.raw"


def dialect(session: Session | Direct) -> Dialect:
    """The dialect of the session's transaction (for the few statements written per database)."""
    return session.dialect if type(session) is Direct else _driver(session)[0]  # type: ignore[union-attr, arg-type]


def _cursor(
    session: Session | Direct, statement: ClauseElement, params: Mapping[str, Any]
) -> tuple[Any, _Plan]:
    plan = _plan(dialect(session), statement)
    return execute(session, plan.sql, _arguments(plan, params), reads_only=plan.reads_only), plan


def execute(session: Session | Direct, sql: str, params: Any, *, reads_only: bool = False) -> Any:
    """Run driver SQL (after whatever a ``Batch`` keeps) and return the cursor on its answer."""
    if type(session) is Direct and session.batch is not None:
        batch = session.batch
        if batch.begun or not reads_only:
            return batch.answer(sql, params)
    cursor = driver(session)[1].cursor()
    try:
        cursor.execute(sql, params)
    except BaseException:
        cursor.close()
        raise
    return cursor


def keep(session: Session | Direct, sql: str, params: Any) -> None:
    """A write without RETURNING whose answer nobody reads: kept for a ``Batch``'s next message
    (its error, if any, raised there or at the commit), else run now."""
    if type(session) is Direct and session.batch is not None:
        session.batch.add(sql, params)
        return
    execute(session, sql, params).close()


def _convert(plan: _Plan, row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(
        value if process is None else process(value) for process, value in zip(plan.results, row, strict=True)
    )


def fetch(
    session: Session | Direct, statement: ClauseElement, params: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Every row the statement returns (a SELECT, or a write with RETURNING), as tuples."""
    cursor, plan = _cursor(session, statement, params or {})
    try:
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not any(plan.results):
        return [tuple(row) for row in rows]
    return [_convert(plan, row) for row in rows]


def first(
    session: Session | Direct, statement: ClauseElement, params: Mapping[str, Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row, or None."""
    cursor, plan = _cursor(session, statement, params or {})
    try:
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else _convert(plan, row)


def run(session: Session | Direct, statement: ClauseElement, params: Mapping[str, Any] | None = None) -> int:
    """A write without RETURNING; returns the number of rows it touched."""
    cursor, _ = _cursor(session, statement, params or {})
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()


class Later:
    """A statement sent by ``send``: its rows, read when first asked for. In a ``Batch`` that
    read sends what the batch keeps (one round trip for all of it) and raises the first error
    among them; elsewhere the statement ran inside ``send``."""

    __slots__ = ("_batch", "_plan", "_rows")

    def __init__(self, batch: Batch | None, plan: _Plan, rows: list[tuple[Any, ...]] | None) -> None:
        self._batch = batch
        self._plan = plan
        self._rows = rows

    def _fill(self, fetched: Sequence[Sequence[Any]]) -> None:
        self._rows = [_convert(self._plan, row) for row in fetched]

    def rows(self) -> list[tuple[Any, ...]]:
        if self._rows is None and self._batch is not None:
            close(self._batch.flush())
        if self._rows is None:
            raise RuntimeError("no answer: an earlier statement of the transaction failed")
        return self._rows

    def first(self) -> tuple[Any, ...] | None:
        found = self.rows()
        return found[0] if found else None


def send(
    session: Session | Direct, statement: ClauseElement, params: Mapping[str, Any] | None = None
) -> Later:
    """Run a statement without waiting for its answer (see ``Later``). A statement without
    RETURNING is never read: its error, if any, is raised by the next read or by the commit."""
    plan = _plan(dialect(session), statement)
    arguments = _arguments(plan, params or {})
    if type(session) is Direct and session.batch is not None:
        later = Later(session.batch, plan, None if plan.returns else [])
        session.batch.add(plan.sql, arguments, later if plan.returns else None)
        return later
    cursor = execute(session, plan.sql, arguments)
    try:
        # SQLite completes a write with RETURNING only as its rows are read: read them now.
        rows = [_convert(plan, row) for row in cursor.fetchall()] if plan.returns else []
    finally:
        cursor.close()
    return Later(None, plan, rows)


# Raised by the database function ``chayici_expect_one`` (migration 0010).
EXPECTED_ONE = "CY001"


def expecting_one(statement: Any, what: str) -> Select:
    """``statement`` (a write with RETURNING) wrapped so that PostgreSQL fails the transaction
    (SQLSTATE ``EXPECTED_ONE``) unless it touched exactly one row. ``what`` names the row in the
    error. Build it once, at import, like every statement of this module."""
    if not what.replace("_", "").isalnum():
        raise ValueError(f"not a name: {what!r}")
    written = statement.cte("written")
    count = select(func.count()).select_from(written).scalar_subquery()
    return select(func.chayici_expect_one(count, literal_column(f"'{what}'"))).add_cte(written)


def send_expecting_one(
    session: Session | Direct, statement: ClauseElement, checked: Select, params: Mapping[str, Any]
) -> Later | None:
    """A write that must touch exactly one row, sent without waiting. In a PostgreSQL ``Batch``
    the server checks (``checked`` = ``expecting_one(statement, ...)``) and None is returned: a
    miss fails the transaction where it is next answered, at the latest its COMMIT, with an error
    for which ``missed`` is true. Elsewhere the statement runs now and the caller reads the
    ``Later`` (no row: it missed)."""
    if type(session) is Direct and session.batch is not None and session.dialect.name == "postgresql":
        send(session, checked, params)
        return None
    return send(session, statement, params)


def missed(error: BaseException) -> bool:
    """Whether ``error`` is a guarded write's miss (``send_expecting_one``)."""
    return getattr(error, "sqlstate", None) == EXPECTED_ONE


__all__ = [
    "Batch",
    "Direct",
    "Later",
    "dialect",
    "driver",
    "execute",
    "expecting_one",
    "fetch",
    "first",
    "keep",
    "missed",
    "run",
    "send",
    "send_expecting_one",
]
