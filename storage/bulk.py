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
    constant_values = [bind_value(table.c[name].type, dialect, value) for name, value in constants.items()]
    if dialect.name == "postgresql":
        sql = _unnest_sql(table, tuple(columns), tuple(constants), dialect, skip_conflicts_on)
        arrays = [list(values) for values in zip(*rows, strict=True)]
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(sql, [*constant_values, *arrays])
            return int(cursor.rowcount)
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


@cache
def _unnest_sql(
    table: Table,
    columns: tuple[str, ...],
    constants: tuple[str, ...],
    dialect: Any,
    skip_conflicts_on: str | None,
) -> str:
    """Built once per shape: compiling the column types costs more than a small insert."""
    names = [*columns, *constants]
    casts = ", ".join(f"%b::{table.c[name].type.compile(dialect=dialect)}[]" for name in columns)
    fixed = "".join(f", %s::{table.c[name].type.compile(dialect=dialect)}" for name in constants)
    conflict = f" ON CONFLICT ({skip_conflicts_on}) DO NOTHING" if skip_conflicts_on else ""
    # The constants' placeholders come first in the text, so their values go first too.
    return (
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT u.*{fixed} FROM unnest({casts}) AS u{conflict}"
    )


def bind_value(type_: Any, dialect: Any, value: Any) -> Any:
    """One value through the column type's full bind processing (TypeDecorators included)."""
    processor = type_._cached_bind_processor(dialect)
    return processor(value) if processor is not None else value


__all__ = ["bind_value", "insert_rows"]
