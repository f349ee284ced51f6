"""一公开: the result set has no personal data; the public page shows only published results;
the code page shows the result once published; a corrected order turns A into E."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from handlers.followup import service
from handlers.followup.service import RecheckInput
from handlers.publication import service as publication
from handlers.publication.export import result_set, write
from storage.models import BehaviourCode, InspectionObject, Inspector, Person, Publication
from storage.models.tasks import Task
from tests.followup.conftest import ctx


def _publish(services, flow, channel: str = "门户网站") -> None:
    with services.db.write() as session:
        c = ctx(services, session, flow.lead_admin, "lead-admin")
        publication.publish(c, session.get(Task, flow.task), channel)


def test_the_exported_result_set_contains_no_personal_data(services, clock, flow, tmp_path):
    with services.db.write() as session:
        obj = session.get(InspectionObject, session.get(Publication, 1).object_id)
        obj.legal_rep, obj.contact_name, obj.contact_phone = "张法人", "李联系", "13912345678"
        people = [p.name for p in session.execute(select(Person)).scalars()]
        inspectors = [i.person.name for i in session.execute(select(Inspector)).scalars()]
        object_name = obj.name
    _publish(services, flow)
    with services.db.read() as session:
        rows = result_set(session, include_pending=True, tz=services.settings.timezone)
    csv_path, json_path = write(rows, tmp_path / "out")
    text = csv_path.read_text(encoding="utf-8-sig") + json_path.read_text(encoding="utf-8")
    assert (
        object_name in text
        and "A" in json.loads(json_path.read_text(encoding="utf-8"))["results"][0]["result_code"]
    )
    for private in ["张法人", "李联系", "13912345678", "莲都区", *people, *inspectors]:
        assert private not in text, private
    assert set(rows[0]) == {
        "name", "code", "task", "date", "result_code", "result", "body", "state", "published_at", "channel", "due_date",
    }  # fmt: skip


def test_the_public_page_lists_only_published_results_and_the_code_page_shows_the_result(
    services, clock, client, flow
):
    with services.db.read() as session:
        name = session.get(InspectionObject, session.get(Publication, 1).object_id).name
        code = session.execute(
            select(BehaviourCode.code).where(BehaviourCode.object_id == session.get(Publication, 1).object_id)
        ).scalar_one()
    before = client.get("/public/results", query_string={"q": name})
    assert before.status_code == 200 and "没有找到" in before.get_data(as_text=True)
    assert "检查结果尚未公示" in client.get(f"/code/{code}").get_data(as_text=True)
    _publish(services, flow)
    page = client.get("/public/results", query_string={"q": name}).get_data(as_text=True)
    assert name in page and "发现问题待后续处理" in page and "<script" not in page
    assert "发现问题待后续处理" in client.get(f"/code/{code}").get_data(as_text=True)
    with services.db.read() as session:
        uscc = session.get(InspectionObject, session.get(Publication, 1).object_id).uscc
    assert name in client.get("/public/results", query_string={"q": uscc}).get_data(as_text=True)


def test_a_corrected_order_turns_the_published_result_from_a_into_e(services, clock, flow):
    _publish(services, flow)
    clock.set(datetime(2026, 12, 21, 2, tzinfo=UTC))
    with services.db.write() as session:
        c = ctx(services, session, flow.people[0])
        service.recheck(
            c,
            service.lock(c, flow.rect),
            RecheckInput("", [str(i) for i in flow.inspectors], "corrected", "已清理完毕"),
        )
    with services.db.read() as session:
        row = session.get(Publication, 1)
    assert (row.result_code, row.result_text) == ("E", "发现问题经责令已改正")
