"""The rectification's closing rules (BR-23, BR-25), service, and the dispositions' rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.context import UserError
from handlers.directory.snapshots import entity_type_of
from handlers.followup import dispositions, service
from handlers.followup.service import RecheckInput
from storage import history
from storage.models import (
    AuditEvent,
    CreditProposal,
    Evidence,
    InspectionObject,
    Rectification,
    Referral,
    Transfer,
)
from tests.followup.conftest import ctx
from tests.helpers import make_unit


def _events(services, entity_type: str, entity_id: int) -> list[tuple[str, dict]]:
    import json

    with services.db.read() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.body)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.id)
        ).all()
    return [(action, json.loads(body)["detail"] or {}) for action, body in rows]


def _recheck(services, flow, *, person: int | None = None, **values) -> str:
    values.setdefault("inspected_at", "")
    values.setdefault("inspectors", [str(i) for i in flow.inspectors])
    values.setdefault("outcome", "corrected")
    values.setdefault("facts", "纸箱杂物已清理，人行道通行正常")
    with services.db.write() as session:
        c = ctx(services, session, person or flow.people[0])
        return service.recheck(c, service.lock(c, flow.rect), RecheckInput(**values))


def test_a_rectification_closes_as_corrected_only_with_a_recheck_by_two_inspectors(services, clock, flow):
    clock.set(datetime(2026, 12, 21, 2, tzinfo=UTC))
    with pytest.raises(UserError) as alone:
        _recheck(services, flow, inspectors=[str(flow.inspectors[0])])
    assert "不少于2名" in alone.value.fields["inspectors"]
    with pytest.raises(UserError) as stranger:
        _recheck(services, flow, inspectors=[str(flow.inspectors[0]), "999"])
    assert "inspectors" in stranger.value.fields
    with services.db.read() as session:
        assert session.get(Rectification, flow.rect).state == "ordered"
    message = _recheck(services, flow, inspectors=[str(i) for i in flow.inspectors[:2]])
    assert "已整改" in message
    with services.db.read() as session:
        rect = session.get(Rectification, flow.rect)
        assert (rect.state, rect.closed_how, rect.outcome) == ("closed", "corrected", "corrected")
    events = _events(services, "rectification", flow.rect)
    assert [a for a, _ in events][-2:] == ["rectification.reinspected", "rectification.closed"]
    assert events[-2][1]["outcome"] == "corrected" and events[-1][1]["how"] == "corrected"
    assert all({"unit_id", "task_id"} <= set(d) for a, d in events if a != "rectification.order")


def test_an_on_the_spot_note_closes_a_rectification_without_a_recheck(services, clock, flow):
    with services.db.write() as session:
        c = ctx(services, session, flow.people[1])
        with pytest.raises(UserError):
            service.close_on_spot(c, service.lock(c, flow.rect), "  ")
    with services.db.write() as session:
        c = ctx(services, session, flow.people[1])
        service.close_on_spot(c, service.lock(c, flow.rect), "当事人当场搬走纸箱，恢复通行")
    with services.db.read() as session:
        assert session.get(Rectification, flow.rect).closed_how == "on_spot"
    assert _events(services, "rectification", flow.rect)[-1] == (
        "rectification.closed",
        {
            "how": "on_spot",
            "note": "当事人当场搬走纸箱，恢复通行",
            "task_id": flow.task,
            "unit_id": _unit(services, flow),
        },
    )


def _unit(services, flow) -> int:
    with services.db.read() as session:
        return session.get(Rectification, flow.rect).unit_id


def test_not_corrected_without_a_next_step_and_reason_is_refused(services, clock, flow):
    clock.set(datetime(2026, 12, 21, 2, tzinfo=UTC))
    for missing in (
        {"next_step": ""},
        {"next_step": "case", "reason": ""},
        {"next_step": "referral", "reason": "超出职权"},
    ):
        with pytest.raises(UserError) as refused:
            _recheck(services, flow, outcome="not_corrected", **{"reason": "逾期未改", **missing})
        assert refused.value.fields
    with services.db.read() as session:
        assert session.get(Rectification, flow.rect).state == "ordered"
    with services.db.write() as session:
        department = make_unit(session, "丽水市市场监督管理局", "丽市监", "external")
    _recheck(
        services,
        flow,
        outcome="not_corrected",
        next_step="referral",
        target=f"referral:{department.id}",
        reason="涉及食品经营许可，属市场监管部门职责",
    )
    with services.db.read() as session:
        rect = session.get(Rectification, flow.rect)
        referral = session.execute(select(Referral)).scalar_one()
    assert rect.state == "escalated" and rect.next_step == "referral"
    actions = [a for a, _ in _events(services, "rectification", flow.rect)]
    assert actions[-3:] == [
        "rectification.reinspected",
        "rectification.not_corrected",
        "rectification.escalated",
    ]
    assert _events(services, "rectification", flow.rect)[-1][1]["next_step"] == "referral"
    with services.db.write() as session:
        c = ctx(services, session, flow.lead_admin)
        dispositions.answer_referral(c, dispositions.lock(c, "referral", referral.id), "已立案调查")
    with services.db.read() as session:
        assert session.get(Rectification, flow.rect).closed_how == "escalated"
    assert [a for a, _ in _events(services, "referral", referral.id)] == [
        "referral.create",
        "referral.decide",
        "referral.close",
    ]


def test_a_transfer_cannot_be_marked_transferred_without_the_required_attachments(services, clock, flow):
    with services.db.write() as session:
        police = make_unit(session, "丽水市公安局莲都区分局", "莲都公安", "police")
        c = ctx(services, session, flow.lead_admin)
        rect = service.lock(c, flow.rect)
        from storage.models import Finding

        transfer = dispositions.create_transfer(
            c,
            rect,
            session.get(Finding, rect.finding_id),
            str(police.id),
            "涉嫌生产销售伪劣产品",
            offence="生产、销售伪劣产品罪",
        )
        transfer_id = transfer.id
        assert len(transfer.team) >= 2
    with services.db.write() as session:
        c = ctx(services, session, flow.leader)
        dispositions.decide_transfer(c, dispositions.lock(c, "transfer", transfer_id), True, "")
    for kind in ("letter", "report", "items"):
        _attach(services, flow, transfer_id, kind)
    with services.db.write() as session, pytest.raises(UserError) as refused:
        c = ctx(services, session, flow.lead_admin)
        dispositions.mark_transferred(c, dispositions.lock(c, "transfer", transfer_id))
    assert "检验报告或鉴定结论" in refused.value.message
    with services.db.read() as session:
        assert session.get(Transfer, transfer_id).state == "approved"
    _attach(services, flow, transfer_id, "tests")
    with services.db.write() as session:
        c = ctx(services, session, flow.lead_admin)
        dispositions.mark_transferred(c, dispositions.lock(c, "transfer", transfer_id))
    with services.db.read() as session:
        assert session.get(Transfer, transfer_id).state == "transferred"
    assert [a for a, _ in _events(services, "transfer", transfer_id)] == [
        "transfer.create",
        "transfer.decide",
        "transfer.transferred",
    ]


def _attach(services, flow, transfer_id: int, kind: str) -> None:
    with services.db.write() as session:
        session.add(
            Evidence(
                record_id=flow.record,
                kind="file",
                source="chat",
                role=f"transfer:{transfer_id}:{kind}",
                file_name=f"{kind}.pdf",
                sha256=f"{kind:0<64}"[:64],
                size=10,
                storage_key="x",
                state="stored",
                received_at=services.clock.now(),
            )
        )


def test_a_decided_credit_listing_sets_the_key_supervision_flag_with_history(services, clock, flow):
    with services.db.write() as session:
        c = ctx(services, session, flow.people[0])
        rect = service.lock(c, flow.rect)
        from storage.models import Finding

        proposal = dispositions.create_credit(
            c, rect, session.get(Finding, rect.finding_id), "key_supervision", "屡次责令改正仍未改正"
        )
        proposal_id, object_id = proposal.id, proposal.object_id
    with services.db.read() as session:
        assert session.get(InspectionObject, object_id).key_supervision_from is None  # a proposal only
    with services.db.write() as session:
        c = ctx(services, session, flow.lead_admin)
        dispositions.decide_credit(
            c,
            dispositions.lock(c, "credit", proposal_id),
            True,
            "市信用办决定列入",
            date(2026, 12, 10),
            date(2029, 12, 9),
        )
    with services.db.read() as session:
        obj = session.get(InspectionObject, object_id)
        assert (obj.key_supervision_from, obj.key_supervision_to) == (date(2026, 12, 10), date(2029, 12, 9))
        before = history.as_of(session, entity_type_of(obj), object_id, datetime(2026, 12, 2, tzinfo=UTC))
        now = history.as_of(session, entity_type_of(obj), object_id, clock.now())
        assert session.get(CreditProposal, proposal_id).decision == "listed"
    assert now["key_supervision_from"] == "2026-12-10"
    assert before is None or before.get("key_supervision_from") in (None, "")
    assert [a for a, _ in _events(services, "credit", proposal_id)] == [
        "credit.create",
        "credit.decide",
        "credit.close",
    ]


def test_service_is_recorded_with_method_time_and_who(services, clock, flow):
    with services.db.write() as session:
        c = ctx(services, session, flow.people[0])
        message = service.serve(c, service.lock(c, flow.rect), "on_site", clock.now())
    assert "当场送达" in message
    with services.db.read() as session:
        rect = session.get(Rectification, flow.rect)
        assert (rect.state, rect.service_method, rect.served_by) == (
            "served",
            "on_site",
            f"person:{flow.people[0]}",
        )
        assert (
            session.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "rectification.served")
            ).scalar_one()
            == 1
        )
    assert _events(services, "rectification", flow.rect)[-1][1]["channel"] == "on_site"


def test_answering_a_report_closes_it_and_its_reminder_and_a_second_answer_is_refused(services, clock, flow):
    from storage.models import DueItem, Finding, Report

    with services.db.write() as session:
        make_unit(session, "丽水市人民政府", "丽水市政府", "government")
        c = ctx(services, session, flow.lead_admin)
        rect = session.get(Rectification, flow.rect)
        report = dispositions.create_report(
            c, rect, session.get(Finding, rect.finding_id), "燃气管道重大隐患", urgent=False
        )
        report_id = report.id
    with services.db.write() as session, pytest.raises(UserError):
        c = ctx(services, session, flow.lead_admin)
        dispositions.answer_report(c, dispositions.lock(c, "report", report_id), "  ")
    with services.db.write() as session:
        c = ctx(services, session, flow.lead_admin)
        said = dispositions.answer_report(c, dispositions.lock(c, "report", report_id), "已责成燃气公司整改")
    assert said == f"已记录上报第{report_id}号的反馈，上报办结。"
    with services.db.read() as session:
        row = session.get(Report, report_id)
        pending = session.execute(
            select(func.count())
            .select_from(DueItem)
            .where(DueItem.ref == f"report:{report_id}", DueItem.state == "pending")
        ).scalar_one()
    assert (row.state, row.response) == ("answered", "已责成燃气公司整改") and pending == 0
    assert [a for a, _ in _events(services, "report", report_id)] == [
        "report.create",
        "report.decide",
        "report.close",
    ]
    with services.db.write() as session, pytest.raises(UserError):
        c = ctx(services, session, flow.lead_admin)
        dispositions.answer_report(c, dispositions.lock(c, "report", report_id), "再次反馈")
