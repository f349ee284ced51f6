"""Through the local workspace: a real task (posted, negotiated, approved, drawn, dispatched,
accepted, a result with one failed item, reviewed), then 通报 from a leader. The leadership group
gets the markdown and the chart as a picture, the picture is the PNG the bulletin recorded, and
the figures it showed are recounted from the audit events the real code wrote."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import select

from storage.models import Conversation, InspectionRecord
from storage.models.oversight import Bulletin
from tests.draw.conftest import draw_world, live
from tests.draw.test_dispatch_live import STAFF
from tests.oversight.replay import Replay
from tests.oversight.test_event_log import assert_counts_match
from tests.results.conftest import accepted_team, answers, on_site, submit, toast


def test_a_leaders_bulletin_reaches_the_leadership_group_with_its_chart_and_matches_the_event_log(
    live: Any, services: Any, draw_world: Any
) -> None:
    team = accepted_team(live)
    on_site(services)
    answer = submit(live, team.staff[0], team.card(0), **answers())
    assert "已提交第1版" in toast(answer), answer
    live.drain()
    with services.db.read() as session:
        record = session.execute(select(InspectionRecord)).scalar_one()
    review = live.click(
        "lead-admin", f"review-{record.id}-{draw_world.lead_admin_person}", "approve", version=1
    )
    assert "审核通过" in toast(review), review
    live.drain()

    cid = live.group("局领导工作群", ["leader"])
    with services.db.write() as session:
        session.add(Conversation(id=cid, kind="group", title="局领导工作群", purpose="leadership"))
    services.clock.advance(hours=2)
    live.say("leader", "通报", group=draw_world.group)
    live.drain()

    with services.db.read() as session:
        bulletin = session.execute(select(Bulletin)).scalar_one()
        session.expunge(bulletin)
        replay = Replay(session)
    messages = live.messages(cid)
    kinds = [m["msgKey"] for m in messages]
    assert kinds == ["sampleMarkdown", "sampleImageMsg"], kinds
    assert messages[0]["content"]["text"] == bulletin.text
    media = requests.get(f"{live.url}/_ws/media/{messages[1]['content']['photoURL']}", timeout=10)
    assert media.status_code == 200 and hashlib.sha256(media.content).hexdigest() == bulletin.chart_sha256

    shown = bulletin.figures
    lead = next(u for u in shown["units"] if u["id"] == draw_world.lead)
    assert (
        lead["period"]["tasks_started"],
        lead["period"]["tasks_dispatched"],
        lead["period"]["tasks_joint"],
    ) == (1, 1, 1)
    assert lead["period"]["records_submitted"] == 1 and lead["period"]["accepts"] >= 1
    end = datetime.fromisoformat(shown["period"]["end"])
    assert_counts_match(shown, replay.counts(datetime.fromisoformat(shown["period"]["start"]), end), "period")
    assert_counts_match(shown, replay.counts(datetime.fromisoformat(shown["ytd_start"]), end), "ytd")
    assert STAFF  # the workspace people of the draw tests


__all__ = ["draw_world", "live"]  # fixtures of the draw tests, used here
