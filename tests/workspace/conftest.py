"""Fixtures for the workspace tests (helpers live in ``support``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.workspace.support import APP_KEY, APP_SECRET, FakeBot, ManualClock, token_for
from workspace import WorkspaceConfig, WorkspaceServer, create_app


@pytest.fixture
def ws_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake_bot() -> Iterator[FakeBot]:
    bot = FakeBot()
    yield bot
    bot.stop()


@pytest.fixture
def ws_config(ws_clock: ManualClock, fake_bot: FakeBot) -> WorkspaceConfig:
    return WorkspaceConfig(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        robot_code=APP_KEY,
        corp_id="dingTESTcorp",
        agent_id=4242,
        bot_base_url=fake_bot.url,
        clock=ws_clock,
        rng_seed=7,
        callback_timeout=(2.0, 5.0),
    )


@pytest.fixture
def ws_app(ws_config: WorkspaceConfig) -> Any:
    app = create_app(ws_config)
    app.testing = True
    yield app
    app.extensions["workspace"].cancel_timers()


@pytest.fixture
def ws(ws_app: Any) -> Any:
    """The running workspace object (state, knobs)."""
    return ws_app.extensions["workspace"]


@pytest.fixture
def ws_client(ws_app: Any) -> Any:
    return ws_app.test_client()


@pytest.fixture
def ws_server(ws_config: WorkspaceConfig) -> Iterator[WorkspaceServer]:
    server = WorkspaceServer(ws_config).start()
    yield server
    server.stop()


@pytest.fixture
def people(ws_client: Any) -> dict[str, Any]:
    """Three users (two in one group) and their conversation ids."""
    users = ws_client.post(
        "/_ws/users",
        json=[
            {"staffId": "u-zhang", "name": "张三", "mobile": "13800000001"},
            {"staffId": "u-li", "name": "李四"},
            {"staffId": "u-wang", "name": "王五"},
        ],
    ).get_json()["users"]
    group = ws_client.post(
        "/_ws/groups", json=[{"title": "巡检一组", "members": ["u-zhang", "u-li"]}]
    ).get_json()
    return {
        "private": {user["staffId"]: user["conversationId"] for user in users},
        "group": group["groups"][0]["conversationId"],
    }


@pytest.fixture
def token(ws_client: Any) -> str:
    return token_for(ws_client)
