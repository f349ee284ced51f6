"""Figures match the event log: what a bulletin showed is recounted from the audit events by an
independent replay (tests/oversight/replay.py), and the derived facts rebuilt from the chain
give the same figures again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import Services
from bot.ticker import Ticker
from handlers.oversight import capture
from handlers.oversight.metrics import compute
from handlers.oversight.periods import Period
from storage.models import Conversation
from storage.models.oversight import Bulletin
from tests.oversight import dataset
from tests.oversight.conftest import Loaded
from tests.oversight.replay import Replay

COUNTS = (
    "tasks_started", "tasks_dispatched", "tasks_joint", "tasks_finished", "tasks_joined", "tasks_finished_joined",
    "accepts", "records_submitted", "records_on_time", "notices_due", "notices_served", "notices_exempt",
    "rect_due", "rect_overdue", "rect_not_corrected", "rect_closed", "rect_closed_corrected", "rect_closed_on_spot",
    "rect_closed_escalated", "pubs_published", "pubs_on_time",
)  # fmt: skip
UNIT_ONLY = ("tasks_joined", "tasks_finished_joined")  # the bureau counts each task once, by its lead


def leadership(services: Services, cid: str = "cidLEADERSHIP0001==") -> str:
    with services.db.write() as session:
        session.add(Conversation(id=cid, kind="group", title="局领导工作群", purpose="leadership"))
    return cid


def scheduled_bulletin(services: Services) -> Bulletin:
    ticker = Ticker(services)
    services.clock.set(dataset.bj(12, 1, 9))
    ticker.tick()
    services.clock.set(dataset.bj(12, 7, 9, 1))
    ticker.tick()
    with services.db.read() as session:
        row = session.execute(select(Bulletin).where(Bulletin.kind == "weekly")).scalar_one()
        session.expunge(row)
        return row


def assert_counts_match(shown: dict[str, Any], recount: dict[Any, dict[str, float]], scope: str) -> None:
    problems = []
    for unit in shown["units"]:
        for key in COUNTS:
            if unit[scope][key] != recount.get(unit["id"], {}).get(key, 0):
                problems.append(
                    (unit["name"], key, unit[scope][key], recount.get(unit["id"], {}).get(key, 0))
                )
        hours = recount.get(unit["id"], {}).get("accept_hours", 0.0)
        assert unit[scope]["accept_hours"] == pytest.approx(hours, abs=1e-3)
    for key in COUNTS:
        if key not in UNIT_ONLY and shown["bureau"][scope][key] != recount[None].get(key, 0):
            problems.append(("全局", key, shown["bureau"][scope][key], recount[None].get(key, 0)))
    assert not problems, f"(unit, figure, bulletin, event log): {problems}"


def test_the_bulletin_figures_are_recounted_from_the_audit_events(services: Services, week49: Loaded) -> None:
    leadership(services)
    row = scheduled_bulletin(services)
    shown = row.figures
    with services.db.read() as session:
        replay = Replay(session)
    end = datetime.fromisoformat(shown["period"]["end"])
    assert_counts_match(shown, replay.counts(datetime.fromisoformat(shown["period"]["start"]), end), "period")
    assert_counts_match(shown, replay.counts(datetime.fromisoformat(shown["ytd_start"]), end), "ytd")
    assert {r["id"] for r in shown["overdue_rectifications"]} == replay.open_overdue_rectifications(end)
    assert sum(p["count"] for p in shown["overdue_publications"]) == replay.open_overdue_publications(end)
    assert shown["bureau"]["period"]["tasks_started"] == 3  # the recount is not vacuous


def test_rebuilding_the_facts_from_the_chain_gives_what_the_bulletin_showed(
    services: Services, week49: Loaded
) -> None:
    leadership(services)
    row = scheduled_bulletin(services)
    tz = services.settings.timezone
    with services.db.write() as session:
        capture.rebuild(session, tz=tz, now=services.clock.now())
        period = Period(row.period_start, row.period_end)
        again = compute(session, period, tz=tz).to_json()
    assert again == row.figures
