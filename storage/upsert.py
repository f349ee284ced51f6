"""INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike, one row at a time.

This is on the hot path of every callback (the inbox row that dedupes it, the outbox row of its
answer). Through ``session.execute(insert(...))`` SQLAlchemy's statement machinery (execution
context, compiled-cache lookup, result set set-up) cost more CPU than the database did: on
PostgreSQL about twice the driver's own work. So the statement text is built once per table and
set of columns, values go through the column types' bind processors (which is all SQLAlchemy
would have done to them) and the row goes straight to the driver on the session's connection,
inside the session's transaction. Python-side column defaults are applied as SQLAlchemy would.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from storage import raw


@dataclass(frozen=True)
class _Plan:
    """One statement shape: its text and how to turn the caller's values into driver values."""

    sql: str
    columns: tuple[str, ...]  # in placeholder order: given values first, then defaults
    processors: tuple[Any, ...]
    defaults: tuple[tuple[str, Any], ...]  # (name, scalar or callable) for columns not given


@cache
def _plan(dialect: Dialect, table: Table, given: frozenset[str], conflict: tuple[str, ...]) -> _Plan:
    """Built once per shape: building and compiling statements costs more than running them."""
    if dialect.name not in ("postgresql", "sqlite"):  # pragma: no cover - the two supported databases
        raise RuntimeError(f"unsupported database {dialect.name}")
    unknown = given - set(table.c.keys())
    if unknown:
        raise KeyError(f"{table.name} has no column {', '.join(sorted(unknown))}")
    defaults: list[tuple[str, Any]] = []
    for column in table.c:
        if column.name in given or column.default is None:
            continue
        default = column.default
        if not (default.is_scalar or default.is_callable):  # pragma: no cover - none in our models
            raise RuntimeError(f"{table.name}.{column.name}: only scalar or callable defaults")
        defaults.append((column.name, default.arg))
    names = (*sorted(given), *(name for name, _ in defaults))
    mark = "%s" if dialect.name == "postgresql" else "?"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join(mark for _ in names)}) "
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    )
    processors = tuple(table.c[name].type._cached_bind_processor(dialect) for name in names)
    return _Plan(sql, names, processors, tuple(defaults))


def insert_ignore(
    session: Session | raw.Direct,
    model: Any,
    values: dict[str, Any],
    *,
    conflict_column: str | tuple[str, ...],
) -> bool:
    """Insert one row unless a row with the same unique ``conflict_column`` exists.

    Returns True when the row was inserted. Uses the database's own conflict handling, so two
    transactions racing on the same key cannot both insert (no check-then-insert window).
    ``values`` are ORM values (datetimes, dicts for JSON columns), as for ``session.add``.
    """
    sql, params = _statement(session, model, values, conflict_column)
    cursor = raw.execute(session, sql, params)
    try:
        # Both drivers count only inserted rows for ON CONFLICT DO NOTHING (0 when skipped).
        return bool(cursor.rowcount == 1)
    finally:
        cursor.close()


def send_ignore(
    session: Session | raw.Direct,
    model: Any,
    values: dict[str, Any],
    *,
    conflict_column: str | tuple[str, ...],
) -> None:
    """``insert_ignore`` without waiting to learn whether the row went in: in a PostgreSQL
    ``Database.direct`` write (``raw.Batch``) the statement goes with the transaction's next
    round trip."""
    raw.keep(session, *_statement(session, model, values, conflict_column))


def _statement(
    session: Session | raw.Direct, model: Any, values: dict[str, Any], conflict_column: str | tuple[str, ...]
) -> tuple[str, list[Any]]:
    """The statement's driver SQL and values."""
    dialect = raw.dialect(session)
    table = model.__table__
    conflict = (conflict_column,) if isinstance(conflict_column, str) else conflict_column
    plan = _plan(dialect, table, frozenset(values), conflict)
    row = [values[name] for name in plan.columns[: len(plan.columns) - len(plan.defaults)]]
    # A callable default is wrapped by SQLAlchemy to take an execution context; ours ignore it.
    row.extend(value(None) if callable(value) else value for _, value in plan.defaults)
    params = [
        value if process is None else process(value)
        for process, value in zip(plan.processors, row, strict=True)
    ]
    return plan.sql, params
