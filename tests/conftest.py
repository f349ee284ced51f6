"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when configured), a manual
clock, settings, the app, and the local workspace running on loopback.

Set ``CHAYICI_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test`` to run the
whole suite against PostgreSQL (CI does both).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from bot.clock import ManualClock
from bot.services import Services
from bot.settings import Settings
from chayici import build_app, build_services
from storage.base import Base
from storage.db import Database
from storage.migrate import upgrade

TEST_SECRET = "test-app-secret-0123456789"
PG_URL = os.environ.get("CHAYICI_TEST_DATABASE_URL", "")
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Beijing, a Tuesday


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test session; each test gets a copy (migrations run once)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    database.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_ready() -> str:
    """A migrated PostgreSQL database, or skip when none is configured."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set CHAYICI_TEST_DATABASE_URL to run this test")
    database = Database(PG_URL)
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(database.engine)
    database.dispose()
    return PG_URL


# Empties the tables a test wrote to and restarts every id sequence, in one round trip. A TRUNCATE
# of all fifty tables made new files for each of them and their indexes: 0.35 s a test, a third of
# the PostgreSQL run; a test touches a handful of tables.
_RESET_PG = """
DO $$
DECLARE
    name text;
    used boolean;
    busy text[] := '{}';
BEGIN
    FOREACH name IN ARRAY string_to_array('{tables}', ',') LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', name) INTO used;
        IF used THEN
            busy := busy || name;
        END IF;
    END LOOP;
    IF array_length(busy, 1) > 0 THEN
        EXECUTE 'TRUNCATE ' || (SELECT string_agg(format('%I', t), ', ') FROM unnest(busy) AS t) || ' CASCADE';
    END IF;
    PERFORM setval(c.oid, 1, false)
    FROM pg_class AS c
    WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace;
END
$$
"""


def _truncate_pg(url: str) -> None:
    database = Database(url)
    tables = ",".join(table.name for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        # A DO block takes no parameters; the names are our own tables.
        connection.execute(text(_RESET_PG.replace("{tables}", tables)))
    database.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if PG_URL:
        url = request.getfixturevalue("pg_ready")
        _truncate_pg(url)
        return url
    template = request.getfixturevalue("sqlite_template")
    target = tmp_path / "chayici.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "app_secret": TEST_SECRET,
        "audit_key": "test-audit-key",
        "link_secret": "test-link-secret",
        "outbox_backoff_base_seconds": 0.01,
        "outbox_backoff_cap_seconds": 0.05,
        "outbox_idle_sleep_seconds": 0.02,
        "http_read_timeout": 5.0,
        "rate_limits": {
            "api:robot": "1000/1",
            "api:card": "1000/1",
            "api:oapi": "1000/1",
            "group": "1000/60",
        },
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "data")


@pytest.fixture
def services(settings: Settings, clock: ManualClock) -> Iterator[Services]:
    built = build_services(settings, clock=clock)
    yield built
    built.db.dispose()


@pytest.fixture
def app(services: Services) -> Any:
    flask_app = build_app(services)
    flask_app.testing = True
    return flask_app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class LiveServer:
    """A WSGI app served on a loopback port in a thread (the workspace needs a real URL)."""

    def __init__(self, wsgi_app: Any, port: int = 0) -> None:
        self._server = make_server("127.0.0.1", port, wsgi_app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live(services: Services) -> Iterator[Any]:
    """The bot on a loopback port and the local workspace, wired to each other."""
    from tests.live import Live

    running = Live(services)
    yield running
    running.close()
