"""INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: Any, values: dict[str, Any], *, conflict_column: str) -> bool:
    """Insert one row unless a row with the same unique ``conflict_column`` exists.

    Returns True when the row was inserted. Uses the database's own conflict handling, so two
    transactions racing on the same key cannot both insert (no check-then-insert window).
    """
    dialect = session.get_bind().dialect.name
    table = model.__table__
    if dialect == "postgresql":
        stmt = (
            postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=[conflict_column])
        )
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=[conflict_column])
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
    # rowcount is not reliable for ON CONFLICT DO NOTHING across drivers; RETURNING is.
    primary = list(table.primary_key.columns)[0]
    return session.execute(stmt.returning(primary)).first() is not None
