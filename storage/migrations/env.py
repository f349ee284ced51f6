"""Alembic environment: batch mode on SQLite, named constraints from the models' metadata."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import storage.models  # noqa: F401  (fills Base.metadata)
from storage.base import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():  # pragma: no cover - we never generate offline SQL
    raise SystemExit("offline migrations are not supported")
run_migrations_online()
