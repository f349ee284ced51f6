"""The projection also sees events appended in bulk; the CLI; the chart job refuses a tampered PNG."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.dingtalk.errors import FatalError
from bot.services import Services
from bot.ticker import Ticker
from handlers.oversight import cli, jobs
from storage.audit import AuditEntry
from storage.models import OversightFact
from storage.models.oversight import Bulletin
from tests.oversight.conftest import Loaded
from tests.oversight.test_bulletin import ticker_context
from tests.oversight.test_event_log import leadership, scheduled_bulletin
from tests.oversight.world import bj


def facts(services: Services, kind: str) -> int:
    with services.db.read() as session:
        return int(
            session.execute(
                select(func.count()).select_from(OversightFact).where(OversightFact.kind == kind)
            ).scalar_one()
        )


def test_events_appended_in_one_multi_row_insert_are_counted_by_the_next_tick(
    services: Services, week49: Loaded
) -> None:
    """The follow-up reminders audit thousands of rows with ``append_many`` (no ORM flush): reading
    the chain from a cursor sees them like any other."""
    Ticker(services).tick()
    before = facts(services, "rectification.due_soon")
    with services.db.write() as session:
        services.audit_log.append_many(
            session,
            [
                AuditEntry(
                    "rectification.due_soon",
                    "rectification",
                    str(rect),
                    "system",
                    detail={"unit_id": week49.units["A"], "task_id": week49.handles.tasks["T2"]},
                )
                for rect in week49.handles.rects.values()
            ],
            at=bj(12, 7, 8),
        )
    Ticker(services).tick()
    assert facts(services, "rectification.due_soon") == before + 5


def test_the_cli_rebuilds_the_facts_and_shows_a_stored_bulletin(services: Services, week49: Loaded) -> None:
    leadership(services)
    row = scheduled_bulletin(services)
    out: list[str] = []
    assert cli.rebuild(settings=services.settings, out=out.append) == 0
    assert "重建" in out[-1] and facts(services, "task.create") == 5
    out.clear()
    assert cli.show(row.id, settings=services.settings, out=out.append) == 0
    text = "\n".join(out)
    assert "weekly:2026-12-07T09:00" in text and "与存档一致" in text and row.text in text
    assert cli.show(999, settings=services.settings, out=out.append) == 2


class Client:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def media_upload(self, content: bytes, file_name: str, media_type: str = "file") -> str:
        self.calls.append(("upload", (len(content), media_type)))
        return "@lAmedia"

    def group_send(self, cid: str, key: str, param: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("group", (cid, key, param)))
        return {"processQueryKey": "pq"}


def test_the_chart_job_sends_the_recorded_png_and_refuses_one_that_changed(
    services: Services, week49: Loaded
) -> None:
    cid = leadership(services)
    services.clock.set(bj(12, 7, 9, 1))
    with services.db.write() as session:
        from handlers.oversight import schedule
        from handlers.oversight.periods import parse_schedule

        bulletin = schedule.send_scheduled(
            ticker_context(services, session), parse_schedule("weekly:mon:09:00")[0], bj(12, 7, 9)
        )
        bulletin_id = bulletin.id
    client = Client()
    context = type("Ctx", (), {"db": services.db, "client": client})()
    assert jobs.send_image(context, {"bulletin_id": bulletin_id, "openConversationId": cid}) == "pq"  # type: ignore[arg-type]
    assert client.calls[0][0] == "upload" and client.calls[0][1][1] == "image"
    assert client.calls[1] == ("group", (cid, "sampleImageMsg", {"photoURL": "@lAmedia"}))
    with services.db.write() as session:
        session.execute(
            update(Bulletin).where(Bulletin.id == bulletin_id).values(chart_png=b"\x89PNG tampered")
        )
    with pytest.raises(FatalError):
        jobs.send_image(context, {"bulletin_id": bulletin_id, "openConversationId": cid})  # type: ignore[arg-type]
