"""Chat evidence with several open records (the bot asks; a foreign record is refused and
audited), the full-process record (``chayici record``), and what the directory now shows."""

from __future__ import annotations

import hashlib
from collections import Counter

from sqlalchemy import select

from handlers.directory.activity import recent_inspections
from handlers.results.cli import record as print_record
from storage.models import (
    Assignment,
    AuditEvent,
    Document,
    Evidence,
    EvidenceFocus,
    InspectionObject,
    InspectionRecord,
    Inspector,
)
from tests.draw.test_dispatch_live import approve, dispatch, staff_of
from tests.results.conftest import accepted_team, answers, on_site, png, png64, submit, toast


def test_media_with_two_open_records_asks_which_refuses_a_foreign_record_and_remembers_the_choice(
    live, services, draw_world
):
    approve(live)
    members = dispatch(live)
    busy = next(i for i, n in Counter(m.inspector_id for m in members).items() if n >= 2)
    mine = [m for m in members if m.inspector_id == busy]
    for member in mine:
        live.click(staff_of(member), f"dispatch-{member.assignment_id}-{member.inspector_id}", "accept")
    other = next(m for m in members if m.assignment_id not in {x.assignment_id for x in mine})
    live.click(staff_of(other), f"dispatch-{other.assignment_id}-{other.inspector_id}", "accept")
    live.drain()
    staff = staff_of(mine[0])
    live.send_media(staff, "picture", png64(5), "a.png", "image/png")
    live.drain()
    with services.db.read() as session:
        waiting = session.execute(select(Evidence)).scalar_one()
        person = session.get(Inspector, busy).person_id
        by_assignment = {r.assignment_id: r.id for r in session.execute(select(InspectionRecord)).scalars()}
    assert waiting.record_id is None and waiting.sha256 == hashlib.sha256(png(5)).hexdigest()
    pick = f"evidence-pick-{person}-{waiting.id}"
    assert len(live.card(pick)["params"]["options"]) > 2
    foreign = by_assignment[other.assignment_id]
    refused = live.click(staff, pick, "pick", record=str(foreign))
    assert "只能" in toast(refused)
    with services.db.read() as session:
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "evidence.attach_refused")
        ).scalar_one()
        assert audit.entity_id == str(foreign) and session.get(Evidence, waiting.id).record_id is None

    own = by_assignment[mine[1].assignment_id]
    chosen = live.click(staff, pick, "pick", record=str(own))
    assert "已归入" in toast(chosen)
    live.send_media(staff, "picture", png64(6), "b.png", "image/png")
    live.drain()
    with services.db.read() as session:
        rows = list(session.execute(select(Evidence).order_by(Evidence.id)).scalars())
        assert session.get(EvidenceFocus, person).record_id == own
    assert [r.record_id for r in rows] == [own, own] and {r.state for r in rows} == {"stored"}
    texts = [
        m["content"].get("content", "")
        for m in live.messages(live.private_cid(staff))
        if m["msgtype"] == "text"
    ]
    assert any(f"SHA-256 {rows[1].sha256}" in t for t in texts)


def test_the_full_process_record_prints_every_step_with_document_and_evidence_hashes(
    live, services, draw_world
):
    team = accepted_team(live)
    on_site(services)
    live.send_media(team.staff[1], "picture", png64(7), "现场.png", "image/png")
    live.drain()
    answer = submit(live, team.staff[0], team.card(0), **answers())
    assert "已提交第1版" in toast(answer), answer
    live.drain()
    lines: list[str] = []
    with services.db.read() as session:
        evidence = session.execute(select(Evidence)).scalar_one()
        assignment = session.get(Assignment, team.assignment)
        obj = session.get(InspectionObject, assignment.object_id)
        docs = list(session.execute(select(Document).where(Document.object_id == obj.id)).scalars())
    code = print_record("1", obj.name, settings=services.settings, out=lines.append)
    text = "\n".join(lines)
    assert code == 0
    for phrase in (
        "一键分发",
        "接受派单",
        "证据存证",
        "提交结果",
        "责令改正",
        "丽综执责改〔2026〕1号",
        evidence.sha256,
    ):
        assert phrase in text, phrase
    assert all(d.sha256 in text for d in docs)
    assert print_record("1", "不存在的对象", settings=services.settings, out=lines.append) == 2

    with services.db.read() as session:
        seen = recent_inspections(session, obj.id)
    assert len(seen) == 1 and "发现问题 1 项" in seen[0].result and seen[0].day.isoformat() == "2026-12-03"
