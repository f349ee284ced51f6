"""The Alembic migrations and the models describe the same schema, and the newest migration can
be undone and redone: a model changed without its migration (or the reverse) fails here, not on
a deployed database."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import storage.models  # noqa: F401  # registers every table on Base.metadata
from storage.base import Base
from storage.db import Database
from storage.migrate import alembic_config, current, upgrade


def _differences(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def _indexes(database: Database, table: str) -> dict[str, list[str]]:
    return {index["name"]: index["column_names"] for index in inspect(database.engine).get_indexes(table)}


def test_the_migrated_schema_is_the_schema_of_the_models(services):
    assert _differences(services.db) == []


def test_the_newest_migration_can_be_undone_and_redone(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/m.db")
    try:
        upgrade(database.engine)
        assert current(database.engine) == "0011"
        assert _indexes(database, "inspection_record")["ix_inspection_record_task"] == ["task_id"]
        assert "ix_audit_event_at" not in _indexes(database, "audit_event")
        config = alembic_config(database.engine.url.render_as_string(hide_password=False))
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0010")
        assert current(database.engine) == "0010"
        assert _indexes(database, "inspection_record")["ix_inspection_record_task"] == ["task_id", "state"]
        assert "ix_audit_event_at" in _indexes(database, "audit_event")
        upgrade(database.engine)
        assert _differences(database) == []
    finally:
        database.dispose()
