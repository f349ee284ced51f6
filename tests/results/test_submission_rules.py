"""Submission rules through the mobile form's endpoints (the same service the card uses):
validation per field, ODK submission ids, versions, optimistic concurrency, evidence rules."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from bot.dingtalk.errors import FatalError
from handlers.draw import dispatch, service
from handlers.results import links
from handlers.results.blobs import open_store
from storage.models import (
    AssignmentMember,
    AuditEvent,
    Document,
    Evidence,
    InspectionRecord,
    Inspector,
    RecordVersion,
)
from tests.draw.conftest import context, make_task
from tests.results.conftest import answers, png, run_worker


@dataclass
class Setup:
    record: int
    people: list[int]  # person ids of the accepted members
    outsider: int  # an accepted inspector of another slot


@pytest.fixture
def setup(services, clock, draw_world) -> Setup:
    with services.db.write() as session:
        task = make_task(session, draw_world, clock.now())
        service.draw_task(context(services, session), task, seed="seed-1")
        dispatch.dispatch_task(context(services, session, person_id=draw_world.lead_admin_person), task)
    with services.db.write() as session:
        members = list(session.execute(select(AssignmentMember).order_by(AssignmentMember.id)).scalars())
        first = members[0].assignment_id
        mine = [m for m in members if m.assignment_id == first]
        other = next(m for m in members if m.assignment_id != first)
        people = []
        for member in [*mine, other]:
            person = session.get(Inspector, member.inspector_id).person_id
            dispatch.accept(context(services, session, person_id=person), member.id)
            people.append(person)
        record = session.execute(
            select(InspectionRecord).where(InspectionRecord.assignment_id == first)
        ).scalar_one()
    clock.set(datetime(2026, 12, 3, 3, 0, tzinfo=UTC))
    return Setup(record.id, people[:-1], people[-1])


def post(client, services, setup: Setup, action: str, *, person: int | None = None, **body):
    token = links.sign(services.settings, setup.record, person or setup.people[0], services.clock.now())
    return client.post(f"/form/{token}/{action}", json=body)


def submission(submission_id: str = "a" * 32, deprecated_id: str = "", draft_version: str = "", **values):
    return {
        "submission_id": submission_id,
        "deprecated_id": deprecated_id,
        "draft_version": draft_version,
        "values": answers(**values),
    }


def count(services, model) -> int:
    with services.db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_record_needs_two_inspectors_a_result_for_every_item_and_facts_for_a_failed_item(
    client, services, setup
):
    documents = count(services, Document)
    alone = post(
        client, services, setup, "submit", **submission(inspectors=str(_inspector(services, setup.people[0])))
    )
    assert alone.status_code == 422 and "不少于2名" in alone.json["errors"]["inspectors"]
    missing = post(client, services, setup, "submit", **submission(item_2=""))
    assert missing.status_code == 422 and "燃气使用安全检查" in missing.json["errors"]["item_2"]
    no_facts = post(client, services, setup, "submit", **submission(item_1_note=""))
    assert no_facts.status_code == 422 and "事实" in no_facts.json["errors"]["item_1_note"]
    codes = post(client, services, setup, "submit", **submission(codes="1"))
    assert codes.status_code == 422 and "codes" in codes.json["errors"]
    past = post(client, services, setup, "submit", **submission(item_1_deadline="2026-12-02"))
    assert past.status_code == 422 and "晚于今天" in past.json["errors"]["item_1_deadline"]
    run_worker(services)
    assert count(services, RecordVersion) == 0 and count(services, Document) == documents
    with services.db.read() as session:
        assert session.get(InspectionRecord, setup.record).state == "draft"


def _inspector(services, person_id: int) -> int:
    with services.db.read() as session:
        return session.execute(select(Inspector.id).where(Inspector.person_id == person_id)).scalar_one()


def test_same_submission_id_with_the_same_answers_is_received_once_and_other_answers_conflict(
    client, services, setup
):
    first = post(client, services, setup, "submit", **submission())
    assert first.status_code == 200 and first.json["kind"] == "created", first.json
    assert "正在生成" in first.json["message"]  # documents are the worker's job
    run_worker(services)
    for _ in range(2):
        again = post(client, services, setup, "submit", **submission())
        assert (
            again.status_code == 200
            and again.json["kind"] == "duplicate"
            and "已收到" in again.json["message"]
        )
    other = post(client, services, setup, "submit", **submission(item_1_note="另一种说法"))
    assert other.status_code == 409 and other.json["code"] == "409.1"
    run_worker(services)
    assert count(services, RecordVersion) == 1
    with services.db.read() as session:
        orders = session.execute(
            select(func.count()).select_from(Document).where(Document.kind == "rectify_order")
        )
        assert orders.scalar_one() == 1


def test_an_edit_is_a_new_version_naming_the_current_one_and_editing_an_old_one_is_refused(
    client, services, setup
):
    v1 = post(client, services, setup, "submit", **submission("1" * 32)).json
    run_worker(services)  # version 1's documents are issued before the edit
    v2 = post(
        client,
        services,
        setup,
        "submit",
        **submission("2" * 32, deprecated_id="1" * 32, item_1="fail_now", item_1_note="消防通道堵塞"),
        person=setup.people[1],  # a teammate edits
    )
    assert v2.status_code == 200 and v2.json["version"] == 2, v2.json
    stale = post(
        client, services, setup, "submit", **submission("3" * 32, deprecated_id="1" * 32, item_2="na")
    )
    assert stale.status_code == 409 and stale.json["code"] == "409.9" and "第2版" in stale.json["message"]
    fresh_start = post(client, services, setup, "submit", **submission("4" * 32))
    assert fresh_start.status_code == 409 and "修改结果" in fresh_start.json["message"]
    run_worker(services)
    with services.db.read() as session:
        versions = list(session.execute(select(RecordVersion).order_by(RecordVersion.version)).scalars())
        orders = list(
            session.execute(
                select(Document).where(Document.kind == "rectify_order").order_by(Document.id)
            ).scalars()
        )
    assert [(v.version, v.current, v.deprecated_id) for v in versions] == [
        (1, False, None),
        (2, True, "1" * 32),
    ]
    assert versions[0].content["items"][0]["result"] == "fail"  # the first version is kept as it was
    assert [o.voided for o in orders] == [True, False] and orders[1].fields["immediate"] is True
    assert v1["state"]["deprecated_id"] == "1" * 32


def test_two_teammates_saving_at_once_the_second_is_told_and_shown_the_current_state(client, services, setup):
    first = post(client, services, setup, "save", values={"present_name": "王店长"}, draft_version="0")
    assert first.status_code == 200 and first.json["kind"] == "saved"
    second = post(
        client,
        services,
        setup,
        "save",
        values={"present_name": "赵经理"},
        draft_version="0",
        person=setup.people[1],
    )
    assert second.status_code == 409 and "保存草稿" in second.json["message"]
    assert (
        second.json["state"]["draft"]["present_name"] == "王店长"
        and second.json["state"]["draft_version"] == 1
    )
    retry = post(
        client,
        services,
        setup,
        "save",
        values={"present_name": "赵经理"},
        draft_version="1",
        person=setup.people[1],
    )
    assert retry.status_code == 200
    with services.db.read() as session:
        record = session.get(InspectionRecord, setup.record)
        conflicts = session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "record.conflict")
        ).scalar_one()
    assert record.draft["present_name"] == "赵经理" and record.draft_version == 2 and conflicts == 1
    assert [e["fields"] for e in record.draft_log] == [["在场人员"], ["在场人员"]]


def test_a_photo_on_somebody_elses_record_is_refused_and_audited_and_stored_bytes_match_their_hash(
    client, services, setup
):
    token = links.sign(services.settings, setup.record, setup.outsider, services.clock.now())
    refused = client.post(f"/form/{token}/photo", data=png(9), headers={"Content-Type": "image/png"})
    assert refused.status_code == 403
    with services.db.read() as session:
        denied = session.execute(
            select(AuditEvent).where(
                AuditEvent.action == "access.denied", AuditEvent.entity_type == "inspection_record"
            )
        ).scalar_one()
    assert denied.entity_id == str(setup.record) and count(services, Evidence) == 0

    token = links.sign(services.settings, setup.record, setup.people[0], services.clock.now())
    stored = client.post(
        f"/form/{token}/photo",
        data=png(3),
        headers={"Content-Type": "image/png", "X-Lat": "28.45", "X-Lon": "119.92"},
    )
    assert stored.status_code == 200 and stored.json["sha256"] == hashlib.sha256(png(3)).hexdigest()
    with services.db.read() as session:
        row = session.execute(select(Evidence)).scalar_one()
    assert row.lat == 28.45 and open_store(services.settings).get(row.storage_key, row.sha256) == png(3)
    with pytest.raises(DBAPIError), services.db.write() as session:  # evidence is immutable
        session.execute(update(Evidence).where(Evidence.id == row.id).values(sha256="0" * 64))
    with pytest.raises(DBAPIError), services.db.write() as session:
        session.execute(text("DELETE FROM evidence"))


def test_form_links_are_signed_bound_and_expire_and_the_page_is_small_and_self_contained(
    client, services, setup
):
    token = links.sign(services.settings, setup.record, setup.people[0], services.clock.now())
    page = client.get(f"/form/{token}")
    assert page.status_code == 200 and "门前三包责任落实检查" in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "nonce-" in policy and "https://" not in page.text
    assert len(page.data) < 40_000 and 'src="http' not in page.text
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(f"/form/{forged}").status_code == 403
    outsider = links.sign(services.settings, setup.record, setup.outsider, services.clock.now())
    assert client.get(f"/form/{outsider}").status_code == 403
    services.clock.advance(hours=services.settings.result_link_hours + 1)
    expired = client.get(f"/form/{token}")
    assert expired.status_code == 403 and "过期" in expired.text


def _pdf_tool(*command: str) -> str:
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} (poppler-utils) is not installed; cannot read the PDF")
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_drawn_signatures_are_printed_on_the_site_record_and_tampered_bytes_stop_the_print(
    client, services, setup
):
    party, inspector = png(21), png(22)
    body = submission(
        signature="electronic",
        party_signature_data="data:image/png;base64," + base64.b64encode(party).decode(),
        inspector_signature_data="data:image/png;base64," + base64.b64encode(inspector).decode(),
    )
    answer = post(client, services, setup, "submit", **body)
    assert answer.status_code == 200 and answer.json["kind"] == "created", answer.json
    run_worker(services)
    with services.db.read() as session:
        record = session.execute(select(Document).where(Document.kind == "site_record")).scalar_one()
        names = {e.sha256: e.role for e in session.execute(select(Evidence)).scalars()}
    labels = [entry["label"] for entry in record.fields["signature_images"]]
    assert labels[0] == "被检查人签名" and labels[1].startswith("检查人员签名（")
    assert (
        {entry["sha256"] for entry in record.fields["signature_images"]}
        == {
            hashlib.sha256(party).hexdigest(),
            hashlib.sha256(inspector).hexdigest(),
        }
        == set(names)
    )
    path = Path(services.settings.data_dir) / record.file_path
    text_out = _pdf_tool("pdftotext", str(path), "-")
    assert "被检查人签名" in text_out and "电子签名存证" in text_out
    listing = _pdf_tool("pdfimages", "-list", str(path)).splitlines()[2:]
    assert len([line for line in listing if line.split()[2] == "image"]) == 2

    # The same record printed again after the party's bytes were changed on disk: refused.
    from handlers.documents.jobs import _pictures
    from handlers.results.blobs import open_store as store_of

    entry = record.fields["signature_images"][0]
    stored = Path(services.settings.data_dir) / "evidence" / entry["key"]
    assert store_of(services.settings).get(entry["key"], entry["sha256"]) == party
    stored.chmod(0o644)
    stored.write_bytes(png(99))
    with pytest.raises(FatalError, match="cannot be printed"):
        _pictures(SimpleNamespace(settings=services.settings), record.fields)


def _events(services, action: str) -> int:
    with services.db.read() as session:
        return session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        ).scalar_one()


def test_a_record_changed_between_the_check_and_the_write_is_decided_again_under_the_locks(
    client, services, setup, monkeypatch
):
    """The form's submission is checked on a lock-free read (handlers/results/quick.py); a
    teammate's save landing right after that read must not be overwritten by the stale copy."""
    from handlers.results import quick, rows

    original = rows.peek

    def peek_then_teammate_saves(ctx, record_id, **kwargs):
        loaded = original(ctx, record_id, **kwargs)
        saved = post(
            client,
            services,
            setup,
            "save",
            values={"narrative": "同事补充的检查情况"},
            person=setup.people[1],
        )
        assert saved.status_code == 200 and saved.json["kind"] == "saved"
        return loaded

    monkeypatch.setattr(quick.rows, "peek", peek_then_teammate_saves)
    answer = post(client, services, setup, "submit", **submission())
    assert answer.status_code == 200 and answer.json["kind"] == "created", answer.json
    with services.db.read() as session:
        record = session.get(InspectionRecord, setup.record)
        versions = session.execute(select(func.count()).select_from(RecordVersion)).scalar_one()
    assert versions == 1 and record.version == 1 and record.state == "submitted"
    # the locked path started from the saved draft: both the teammate's field and the answers
    assert record.draft["narrative"] == "同事补充的检查情况" and record.draft["present_name"] == "李店长"
    assert record.draft_version == 2 and [e["action"] for e in record.draft_log] == ["保存草稿", "提交"]
    assert _events(services, "record.submit") == 1


def test_the_same_submission_stored_between_the_check_and_the_write_is_answered_as_received(
    client, services, setup, monkeypatch
):
    from handlers.results import quick, rows

    original = rows.peek
    raced: list = []

    def peek_then_the_same_submission_lands(ctx, record_id, **kwargs):
        loaded = original(ctx, record_id, **kwargs)
        if not raced:  # a redelivery of the same submission, stored first (only once)
            raced.append(None)
            raced[0] = post(client, services, setup, "submit", **submission())
        return loaded

    monkeypatch.setattr(quick.rows, "peek", peek_then_the_same_submission_lands)
    answer = post(client, services, setup, "submit", **submission())
    assert raced[0].status_code == 200 and raced[0].json["kind"] == "created"
    assert answer.status_code == 200 and answer.json["kind"] == "duplicate", answer.json
    assert count(services, RecordVersion) == 1 and _events(services, "record.submit") == 1


def test_a_submission_by_somebody_off_the_team_is_refused_and_audited_once(client, services, setup):
    refused = post(client, services, setup, "submit", person=setup.outsider, **submission())
    assert refused.status_code == 403 and "检查组" in refused.json["message"]
    assert count(services, RecordVersion) == 0 and _events(services, "access.denied") == 1


def test_submissions_on_an_unchanged_record_are_stored_without_the_locked_path(
    client, services, setup, monkeypatch
):
    """After a saved draft (start time set) and for an edit (the current version retired), the
    guarded update must match what was read: a guard that never matched would quietly send every
    submission down the locked path."""
    from handlers.results import quick

    fell_back: list[bool] = []
    original = quick.submit

    def watched(*args, **kwargs):
        answer = original(*args, **kwargs)
        fell_back.append(answer is None)
        return answer

    monkeypatch.setattr(quick, "submit", watched)
    saved = post(client, services, setup, "save", values={"present_name": "王店长"}, draft_version="0")
    assert saved.status_code == 200
    v1 = post(client, services, setup, "submit", **submission("1" * 32))
    v2 = post(client, services, setup, "submit", **submission("2" * 32, deprecated_id="1" * 32, item_2="na"))
    assert (v1.status_code, v2.status_code, v2.json["version"]) == (200, 200, 2), (v1.json, v2.json)
    assert fell_back == [False, False]
    with services.db.read() as session:
        versions = session.execute(select(RecordVersion.version, RecordVersion.current)).all()
    assert sorted(versions) == [(1, False), (2, True)]


def test_the_one_statement_read_on_postgresql_brings_what_the_separate_statements_read(
    client, services, setup
):
    """The form's read on PostgreSQL brings team, versions and evidence as JSON
    (storage.nested); decoded, they must equal what the plain statements return, typed alike
    (dates, UTC times, booleans), or the checks would judge other data than the locked path."""
    if not services.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite reads with separate statements")
    from bot.context import Context
    from handlers.results import quick, records, rows

    v1 = post(client, services, setup, "submit", **submission("1" * 32))
    assert v1.status_code == 200 and v1.json["kind"] == "created"
    with services.db.write() as session:
        session.add_all(
            [
                Evidence(record_id=setup.record, kind="signature", source="form", role="party",
                         sha256="a" * 64, state="stored", received_at=services.clock.now()),
                Evidence(record_id=setup.record, kind="picture", source="chat", state="pending",
                         received_at=services.clock.now()),
            ]
        )  # fmt: skip
    with services.db.direct(write=True) as handle:
        ctx = quick._context(Context, services, handle, "test", services.clock.now())
        plain = rows.peek(ctx, setup.record)
        whole = rows.peek(ctx, setup.record, instance_id="1" * 32)
        assert plain.prefetched is None and whole.prefetched is not None
        assert (whole.record, whole.task, whole.assignment, whole.obj) == (
            plain.record,
            plain.task,
            plain.assignment,
            plain.obj,
        )
        assert whole.team == plain.team and len(whole.team) == len(setup.people)
        assert whole.team[0].inspector.cert_valid_to is not None  # a date came back as a date
        ahead = whole.prefetched
        known = rows.version_by_instance(ctx, "1" * 32)
        assert known is not None and ahead.known == known and ahead.current == known
        assert ahead.known.submitted_at.tzinfo is not None
        assert ahead.evidence == records.evidence_rows(ctx, setup.record) and len(ahead.evidence) == 2
        assert ahead.version_id > known.id
        unknown = rows.peek(ctx, setup.record, instance_id="9" * 32).prefetched
        assert unknown is not None and unknown.known is None and unknown.current == known
