"""Fixtures for the directory tests: a small demo directory and the replies the bot queued."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from chayici.demo_data import DemoDirectory, build_demo_directory
from storage.models.platform import OutboxMessage


@pytest.fixture
def demo(services: Any, clock: Any) -> DemoDirectory:
    """The demo directory with a few objects (the full 2,000 are tested in test_demo_data)."""
    with services.db.write() as session:
        return build_demo_directory(session, now=clock.now(), audit_log=services.audit_log, objects=40)


def replies(services: Any) -> list[str]:
    """Texts the bot queued, oldest first (markdown text, plain content, or a card's body)."""
    with services.db.read() as session:
        rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
    texts = []
    for row in rows:
        payload = row.payload
        if "msgParam" in payload:
            param = payload["msgParam"]
            texts.append(param.get("text") or param.get("content") or "")
        elif "cardData" in payload:
            texts.append(payload["cardData"]["cardParamMap"].get("body", ""))
    return texts
