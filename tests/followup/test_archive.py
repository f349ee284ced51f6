"""立卷归档: a closed task's dossier verifies, a flipped byte fails, the task closes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.context import JobContext
from handlers.archive import dossier, run
from handlers.documents.jobs import render_document
from handlers.followup import service
from handlers.publication import service as publication
from storage.models import Archive, AuditEvent, Document
from storage.models.tasks import Task
from tests.followup.conftest import build_flow, ctx


def _render_all(services) -> None:
    with services.db.read() as session:
        ids = list(session.execute(select(Document.id).where(Document.sha256.is_(None))).scalars())
    for document_id in ids:
        job = JobContext(services.db, services.settings, None, services.audit_log, services.clock.now(), 1, 0)  # type: ignore[arg-type]
        render_document(job, {"document_id": document_id, "send_to": []})


def test_a_closed_task_is_archived_its_dossier_verifies_and_a_flipped_byte_fails(
    services, clock, client, draw_world, capsys
):
    flow = build_flow(services, clock, client, draw_world, count=1)
    with services.db.read() as session:
        number = session.get(Task, flow.task).number
    assert run(services, number) == 1 and "整改尚未办结" in capsys.readouterr().out
    with services.db.write() as session:
        c = ctx(services, session, flow.people[0])
        service.close_on_spot(c, service.lock(c, flow.rect), "当场清理完毕")
    with services.db.write() as session:
        publication.publish(ctx(services, session, flow.lead_admin), session.get(Task, flow.task))
    _render_all(services)
    assert run(services, number) == 0
    with services.db.read() as session:
        row = session.execute(select(Archive)).scalar_one()
        assert session.get(Task, flow.task).state == "closed"
        documents = session.execute(select(Document).where(Document.task_id == flow.task)).scalars().all()
    path = Path(services.settings.data_dir) / row.path
    assert dossier.verify(path) == []
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = {entry["path"] for entry in manifest["files"]}
        events = json.loads(archive.read("timeline.json"))
    assert {"timeline.json", "records.json", "toc.pdf"} <= names
    with services.db.read() as session:  # each event names the chain it links into
        chained = dict(session.execute(select(AuditEvent.id, AuditEvent.chain_id)).all())
    assert events and all(event["chain"] == chained[event["id"]] for event in events)
    assert sum(name.startswith("documents/") for name in names) == len(documents)
    data = bytearray(path.read_bytes())
    for offset in (len(data) // 3, 40):  # inside a member, and in a local header
        broken = path.parent / f"broken-{offset}.zip"
        flipped = bytearray(data)
        flipped[offset] ^= 0x01
        broken.write_bytes(bytes(flipped))
        assert dossier.verify(broken), offset
    assert run(services, number) == 0  # once archived, the same archive (immutable)
    with services.db.read() as session:
        assert len(session.execute(select(Archive)).scalars().all()) == 1
