"""The worker's ``document.render`` job: draw the PDF, store it by hash, then send it.

Rendering happens outside any transaction (it is the slow part); recording the file, sending it
and the per-kind follow-ups (``on_rendered``) then happen in one short transaction. The job is
idempotent: a document already rendered is not drawn again, and the sends have fixed keys.
"""

from __future__ import annotations

from typing import Any

from bot.context import Context, JobContext, Users
from bot.dingtalk.errors import FatalError
from cards.documents import render_pdf
from handlers.documents import store
from handlers.documents.service import on_rendered
from handlers.results.blobs import Tampered, open_store
from storage.models import Document


def _pictures(job: JobContext, fields: dict[str, Any]) -> dict[str, bytes]:
    """The drawn signatures a document prints, read from the evidence store and checked against
    their SHA-256. Bytes that no longer match stop the rendering: a legal record must not show a
    signature other than the one that was given."""
    store = open_store(job.settings)
    pictures: dict[str, bytes] = {}
    for entry in fields.get("signature_images", []):
        try:
            pictures[entry["sha256"]] = store.get(entry["key"], entry["sha256"])
        except (OSError, Tampered) as exc:
            raise FatalError(f"signature {entry['sha256'][:12]} cannot be printed: {exc}") from exc
    return pictures


def render_document(job: JobContext, payload: dict[str, Any]) -> str:
    document_id = int(payload["document_id"])
    with job.db.read() as session:
        document = session.get(Document, document_id)
        if document is None:
            raise FatalError(f"document {document_id} does not exist")
        rendered = document.sha256 is not None
        kind, number, fields = document.kind, document.number, dict(document.fields)
    path = digest = None
    size = 0
    if not rendered:
        data = render_pdf(
            kind, number, fields, font_path=job.settings.cjk_font_path, pictures=_pictures(job, fields)
        )
        path, digest = store.put(job.settings.data_dir, data, suffix=".pdf")
        size = len(data)
    with job.db.write() as session:
        document = session.get(Document, document_id, with_for_update=True)
        assert document is not None
        ctx = Context(
            session=session,
            now=job.now,
            settings=job.settings,
            audit_log=job.audit_log,
            person=None,
            staff_id=None,
            event_key=f"document:{document_id}",
        )
        if document.sha256 is None and path is not None:
            document.file_path, document.sha256, document.size = path, digest, size
            document.state = "rendered"
            document.rendered_at = job.now
            ctx.audit(
                "document.render",
                "document",
                document.id,
                after={"number": document.number, "sha256": digest, "size": size},
            )
        recipients = [staff for staff in payload.get("send_to", []) if staff]
        if recipients and not document.voided and document.file_path:
            ctx.send_file(
                Users.of(*recipients),
                path=document.file_path,
                file_name=payload.get("file_name") or f"{document.number}.pdf",
                key=f"document:{document.id}:send",
            )
        for hook in on_rendered.get(document.kind, []):
            hook(ctx, document)
        return document.sha256 or ""
