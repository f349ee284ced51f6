"""Dispatch without the workspace: exemptions, redrawing a slot after dispatch, over-cap reasons,
and the public code page's answers for unknown, malformed and withdrawn codes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.context import UserError
from handlers.draw import codes, commands, dispatch, service
from storage.models import (
    Assignment,
    AssignmentMember,
    BehaviourCode,
    CardInstance,
    Document,
    DrawRecord,
    PreNotice,
)
from tests.draw.conftest import context, make_task


def drawn_task(services, clock, world, **values) -> int:
    with services.db.write() as session:
        task = make_task(session, world, clock.now(), **values)
        service.draw_task(context(services, session), task, seed="seed-1")
        return task.id


def dispatch_now(services, world, task_id: int, **kwargs) -> int:
    with services.db.write() as session:
        task = session.get(service.Task, task_id)
        return dispatch.dispatch_task(
            context(services, session, person_id=world.lead_admin_person), task, **kwargs
        )


def test_an_exempt_task_records_the_exemption_per_object_and_issues_no_notice(services, clock, draw_world):
    task_id = drawn_task(
        services, clock, draw_world, prenotice="exempt", prenotice_reason="投诉核查，事先通知将影响检查效果"
    )
    assert dispatch_now(services, draw_world, task_id) == 12
    with services.db.read() as session:
        notices = list(session.execute(select(PreNotice)).scalars())
        documents = session.execute(select(func.count()).select_from(Document)).scalar_one()
    assert len(notices) == 4 and documents == 0
    assert {(n.mode, n.state, n.exempt_reason) for n in notices} == {
        ("exempt", "exempt", "投诉核查，事先通知将影响检查效果")
    }


def test_only_the_lead_units_admin_may_dispatch(services, clock, draw_world):
    task_id = drawn_task(services, clock, draw_world)
    with services.db.write() as session, pytest.raises(UserError):
        dispatch.dispatch_task(
            context(services, session, person_id=draw_world.approver_person),
            session.get(service.Task, task_id),
        )


def test_redrawing_a_slot_after_dispatch_withdraws_the_old_team_and_dispatches_the_new_one(
    services, clock, draw_world
):
    task_id = drawn_task(services, clock, draw_world)
    dispatch_now(services, draw_world, task_id)
    with services.db.read() as session:
        old = session.execute(
            select(Assignment).where(Assignment.slot == 3, Assignment.state == "dispatched")
        ).scalar_one()
        old_cards = [
            m.card_id
            for m in session.execute(
                select(AssignmentMember).where(AssignmentMember.assignment_id == old.id)
            ).scalars()
        ]
        old_code = session.execute(
            select(BehaviourCode.code).where(BehaviourCode.object_id == old.object_id)
        ).scalar_one()
    with services.db.write() as session:
        task = session.get(service.Task, task_id)
        ctx = context(services, session, person_id=draw_world.lead_admin_person)
        toast = commands.redraw(ctx, task, "3", "该户已停业")
    assert "第 3 户" in toast
    with services.db.read() as session:
        new = session.execute(
            select(Assignment).where(Assignment.slot == 3, Assignment.state == "dispatched")
        ).scalar_one()
        new_members = list(
            session.execute(
                select(AssignmentMember).where(AssignmentMember.assignment_id == new.id)
            ).scalars()
        )
        withdrawn = {c: session.get(CardInstance, c).state for c in old_cards}
        old_doc = session.execute(select(Document).where(Document.assignment_id == old.id)).scalar_one()
        kinds = [r.kind for r in session.execute(select(DrawRecord).order_by(DrawRecord.id)).scalars()]
    assert new.object_id != old.object_id and {m.state for m in new_members} == {"pending"}
    assert all(session_card for session_card in (m.card_id for m in new_members))
    assert set(withdrawn.values()) == {"readonly"}
    assert old_doc.voided and "重新抽取" in old_doc.void_reason
    assert kinds == ["full", "slot"]
    with services.db.read() as session:
        from handlers.draw.web import page_for

        page = page_for(session, old_code)
    assert page is not None and not page.valid and page.inspectors == []


def test_objects_over_the_yearly_cap_need_a_reason_before_dispatch(services, clock, draw_world):
    task_id = drawn_task(services, clock, draw_world)
    with services.db.write() as session:
        row = session.execute(select(DrawRecord)).scalar_one()
        first = row.result["slots"][0]["object"]
        row.warnings = [{"object": first, "unit": draw_world.lead, "count": 2}]
    with pytest.raises(UserError) as refused:
        dispatch_now(services, draw_world, task_id)
    assert "理由" in refused.value.message and refused.value.fields == {"overcap_reason": "请填写理由"}
    assert dispatch_now(services, draw_world, task_id, overcap_reason="群众多次投诉，确需再次检查") == 12
    with services.db.read() as session:
        task = session.get(service.Task, task_id)
    assert task.state == "dispatched" and task.overcap_reason == "群众多次投诉，确需再次检查"


def test_codes_are_long_random_base32_and_typing_variants_are_accepted():
    code = codes.new_code()
    assert len(code) == 24 and codes.normalise(code) == code
    assert codes.normalise(codes.display(code).lower()) == code
    assert codes.normalise("ABC") is None and codes.normalise("<script>alert(1)</script>") is None
    assert len({codes.new_code() for _ in range(200)}) == 200


def test_unknown_or_malformed_codes_get_a_plain_404_page(client, services, clock, draw_world):
    for path in ("/code/AAAAAAAAAAAAAAAAAAAAAAAA", "/code/not-a-code", "/code/%3Cscript%3E"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "未找到该行政行为码" in response.get_data(as_text=True)


def test_dispatching_twice_is_refused_and_sends_nothing_more(services, clock, draw_world):
    task_id = drawn_task(services, clock, draw_world, window=(date(2026, 12, 3), date(2026, 12, 4)))
    dispatch_now(services, draw_world, task_id)
    with services.db.read() as session:
        before = session.execute(select(func.count()).select_from(CardInstance)).scalar_one()
    with pytest.raises(UserError):
        dispatch_now(services, draw_world, task_id)
    with services.db.read() as session:
        assert session.execute(select(func.count()).select_from(CardInstance)).scalar_one() == before
