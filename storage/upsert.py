"""INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


@cache
def _statement(dialect: str, table: Any, conflict_columns: tuple[str, ...]) -> Insert:
    """Built once per table: constructing statements costs more than running them here."""
    if dialect == "postgresql":
        base = postgresql.insert(table)
    elif dialect == "sqlite":
        base = sqlite.insert(table)
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
    primary = next(iter(table.primary_key.columns))
    # rowcount is not reliable for ON CONFLICT DO NOTHING across drivers; RETURNING is.
    return base.on_conflict_do_nothing(index_elements=list(conflict_columns)).returning(primary)


def insert_ignore(
    session: Session, model: Any, values: dict[str, Any], *, conflict_column: str | tuple[str, ...]
) -> bool:
    """Insert one row unless a row with the same unique ``conflict_column`` exists.

    Returns True when the row was inserted. Uses the database's own conflict handling, so two
    transactions racing on the same key cannot both insert (no check-then-insert window).
    """
    dialect = session.get_bind().dialect.name
    columns = (conflict_column,) if isinstance(conflict_column, str) else conflict_column
    statement = _statement(dialect, model.__table__, columns)
    return session.execute(statement, values).first() is not None
