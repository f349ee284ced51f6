"""Many rows in one statement, without SQLAlchemy's per-row parameter processing.

A tick that moves ten thousand rectifications writes ten thousand audit events and ten thousand
outbox rows. Through ``session.execute(insert(table), rows)`` most of that time goes to
SQLAlchemy turning every value of every row into driver form (type processors, datetime
formatting, JSON encoding), not to the database. Here the caller hands over values that are
already in driver form (str, int, float, bool, None; JSON already encoded), values that are the
same for every row are processed once, and the rows go to the driver as they are:

- SQLite: one ``executemany`` on the session's own connection.
- PostgreSQL: one ``INSERT … SELECT … FROM unnest(%b::type[], …)``: a single round trip with one
  binary array per column (psycopg's text arrays escape every element with a regular expression
  in Python), and ``ON CONFLICT … DO NOTHING`` still works (COPY cannot skip conflicts).

Both run inside the session's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
    skip_conflicts_on: str | None = None,
) -> int:
    """Insert ``rows`` (one value per name in ``columns``, in driver form) plus ``constants``
    (ORM values, the same for every row). Rows whose ``skip_conflicts_on`` value already exists
    are skipped. Returns how many rows were inserted."""
    if not rows:
        return 0
    constants = dict(constants or {})
    connection = session.connection()
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    if dialect.name == "postgresql":
        sql, params = unnest_insert(
            table, columns, rows, constants, dialect, skip_conflicts_on=skip_conflicts_on
        )
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(sql, params)
            return int(cursor.rowcount)
    constant_values = [bind_value(table.c[name].type, dialect, value) for name, value in constants.items()]
    names = [*columns, *constants]
    conflict = f" ON CONFLICT ({skip_conflicts_on}) DO NOTHING" if skip_conflicts_on else ""
    placeholders = ", ".join("?" for _ in names)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders}){conflict}"
    tail = tuple(constant_values)
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, [(*row, *tail) for row in rows])
        return int(cursor.rowcount)
    finally:
        cursor.close()


def unnest_insert(
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any],
    dialect: Any,
    *,
    skip_conflicts_on: str | None = None,
    where: str = "",
) -> tuple[str, list[Any]]:
    """PostgreSQL text and parameters of ``INSERT … SELECT … FROM unnest(…)`` for ``rows``.

    ``where`` (SQL without parameters) is added as the SELECT's condition, so the insert can be
    made to depend on another part of the same statement. Used alone by ``insert_rows`` and inside
    a larger statement by ``storage.inbox``.
    """
    sql = _unnest_sql(table, tuple(columns), tuple(constants), dialect, skip_conflicts_on, where)
    constant_values = [bind_value(table.c[name].type, dialect, value) for name, value in constants.items()]
    arrays = [list(values) for values in zip(*rows, strict=True)]
    return sql, [*constant_values, *arrays]


@cache
def _unnest_sql(
    table: Table,
    columns: tuple[str, ...],
    constants: tuple[str, ...],
    dialect: Any,
    skip_conflicts_on: str | None,
    where: str,
) -> str:
    """Built once per shape: compiling the column types costs more than a small insert."""
    names = [*columns, *constants]
    casts = ", ".join(f"%b::{table.c[name].type.compile(dialect=dialect)}[]" for name in columns)
    fixed = "".join(f", %s::{table.c[name].type.compile(dialect=dialect)}" for name in constants)
    conflict = f" ON CONFLICT ({skip_conflicts_on}) DO NOTHING" if skip_conflicts_on else ""
    condition = f" WHERE {where}" if where else ""
    # The constants' placeholders come first in the text, so their values go first too.
    return (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"SELECT u.*{fixed} FROM unnest({casts}) AS u{condition}{conflict}"
    )


def bind_value(type_: Any, dialect: Any, value: Any) -> Any:
    """One value through the column type's full bind processing (TypeDecorators included)."""
    processor = type_._cached_bind_processor(dialect)
    return processor(value) if processor is not None else value


__all__ = ["bind_value", "insert_rows", "unnest_insert"]
