"""The submission request stores the version and queues one ``results.issue`` job; the worker
issues the findings, documents and cards. A job whose version was replaced before it ran does
nothing, the newer version's job issues against what was issued before, and a job runs once
however many workers pick it up."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event, func, select

from bot.context import JobContext
from handlers.results import issue
from storage.models import (
    AuditEvent,
    CardInstance,
    Document,
    DueItem,
    Finding,
    OutboxMessage,
    RecordVersion,
    Rectification,
)
from tests.results.conftest import run_worker
from tests.results.test_submission_rules import count, post, setup, submission

__all__ = ["setup"]  # the fixture, shared with the submission rules


def _results_documents(services) -> list[Document]:
    with services.db.read() as session:
        return list(
            session.execute(
                select(Document).where(Document.kind != "inspection_notice").order_by(Document.id)
            ).scalars()
        )


def _jobs(services) -> list[OutboxMessage]:
    with services.db.read() as session:
        return list(
            session.execute(
                select(OutboxMessage).where(OutboxMessage.kind == issue.ISSUE_JOB).order_by(OutboxMessage.id)
            ).scalars()
        )


def _job(services) -> JobContext:
    now = services.clock.now()
    return JobContext(services.db, services.settings, None, services.audit_log, now, 1, 0)  # type: ignore[arg-type]


def test_the_request_stores_the_version_and_one_job_and_the_worker_issues_the_rest(client, services, setup):
    run_worker(services)  # the draw's notices, so that what follows is the submission's alone
    with services.db.read() as session:
        events_before = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    statements: list[str] = []

    def counted(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", counted)
    try:
        answer = post(client, services, setup, "submit", **submission())
    finally:
        event.remove(services.db.engine, "before_cursor_execute", counted)
    assert answer.status_code == 200 and answer.json["kind"] == "created", answer.json
    assert "结果已收到" in answer.json["message"] and "正在生成" in answer.json["message"]
    assert len(statements) <= 15, statements  # was about 87 when the request issued everything
    with services.db.read() as session:
        version = session.execute(select(RecordVersion)).scalar_one()
        actions = list(
            session.execute(
                select(AuditEvent.action).where(AuditEvent.id > events_before).order_by(AuditEvent.id)
            ).scalars()
        )
    assert actions == ["record.submit"] and version.site_record_doc_id is None
    assert _results_documents(services) == [] and count(services, Finding) == 0
    jobs = _jobs(services)
    assert [(j.dedupe_key, j.payload["version_id"], j.state) for j in jobs] == [
        (f"results:issue:{version.id}", version.id, "pending")
    ]

    run_worker(services)
    docs = _results_documents(services)
    assert sorted(d.kind for d in docs) == ["rectify_order", "registration", "site_record"]
    assert all(d.state == "rendered" and not d.voided for d in docs)
    assert {d.issued_by for d in docs} == {f"person:{setup.people[0]}"}  # for the submitter
    with services.db.read() as session:
        rect = session.execute(select(Rectification)).scalar_one()
        version = session.get(RecordVersion, version.id)
        reminders = session.execute(
            select(func.count()).select_from(DueItem).where(DueItem.ref == f"rectification:{rect.id}")
        ).scalar_one()
        review_cards = session.execute(
            select(func.count()).select_from(CardInstance).where(CardInstance.template_key == "result_review")
        ).scalar_one()
        actors = set(
            session.execute(
                select(AuditEvent.actor).where(
                    AuditEvent.id > events_before,
                    AuditEvent.action.in_(("finding.create", "rectification.order", "document.issue")),
                )
            ).scalars()
        )
    assert rect.state == "ordered" and rect.unit_id is not None  # the follow-up's hook ran
    assert reminders >= 2 and review_cards >= 1
    assert version.site_record_doc_id in {d.id for d in docs}
    assert actors == {f"person:{setup.people[0]}"}
    assert [j.state for j in _jobs(services)] == ["sent"]

    again = issue.run(_job(services), {"record_id": setup.record, "version_id": version.id})
    assert "already issued" in again and len(_results_documents(services)) == 3


def test_a_version_replaced_before_its_job_ran_gets_nothing_and_the_newest_is_issued_against_the_last_issued(
    client, services, setup
):
    v1 = post(client, services, setup, "submit", **submission("1" * 32))
    assert v1.status_code == 200, v1.json
    run_worker(services)
    v2 = post(
        client,
        services,
        setup,
        "submit",
        **submission("2" * 32, deprecated_id="1" * 32, item_1="fail_now", item_1_note="消防通道堵塞"),
    )
    v3 = post(
        client,
        services,
        setup,
        "submit",
        **submission("3" * 32, deprecated_id="2" * 32, item_1_note="门前堆放纸箱，已占用盲道"),
        person=setup.people[1],
    )
    assert v2.status_code == 200 and v3.status_code == 200 and v3.json["version"] == 3, v3.json
    run_worker(services)

    with services.db.read() as session:
        versions = {v.version: v for v in session.execute(select(RecordVersion)).scalars()}
        findings = list(session.execute(select(Finding).order_by(Finding.id)).scalars())
        rects = list(session.execute(select(Rectification).order_by(Rectification.id)).scalars())
        refs = dict(
            session.execute(
                select(OutboxMessage.dedupe_key, OutboxMessage.platform_ref).where(
                    OutboxMessage.kind == issue.ISSUE_JOB
                )
            ).all()
        )
    assert versions[2].site_record_doc_id is None and versions[2].registration_doc_id is None
    assert "superseded" in refs[f"results:issue:{versions[2].id}"]
    docs = {d.id: d for d in _results_documents(services)}
    sheets = [(d.kind, d.voided) for d in docs.values() if d.kind != "rectify_order"]
    assert sorted(sheets) == [
        ("registration", False),
        ("registration", True),
        ("site_record", False),
        ("site_record", True),
    ]
    assert not docs[versions[3].site_record_doc_id].voided and docs[versions[1].site_record_doc_id].voided
    assert docs[versions[3].site_record_doc_id].fields["version"] == 3
    orders = [d for d in docs.values() if d.kind == "rectify_order"]
    assert [o.voided for o in orders] == [True, False]
    assert orders[1].fields["facts"] == "门前堆放纸箱，已占用盲道" and orders[1].fields["immediate"] is False
    assert [(f.current, f.version_id) for f in findings] == [
        (False, versions[1].id),
        (True, versions[3].id),
    ]
    assert [r.state for r in rects] == ["cancelled", "ordered"]


def test_two_workers_running_the_same_job_at_once_issue_the_documents_once(client, services, setup):
    answer = post(client, services, setup, "submit", **submission())
    assert answer.status_code == 200, answer.json
    version_id = _jobs(services)[0].payload["version_id"]
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def one() -> None:
        try:
            start.wait()
            results.append(issue.run(_job(services), {"record_id": setup.record, "version_id": version_id}))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(r.split()[-1] for r in results) == ["issued", "issued"]  # "issued", "already issued"
    assert sum("already" in r for r in results) == 1
    assert len(_results_documents(services)) == 3 and count(services, Rectification) == 1
