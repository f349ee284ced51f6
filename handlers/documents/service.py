"""Issuing and voiding legal documents, inside the caller's one transaction.

``issue`` allocates the number (atomic per issuer, code and year; never reused), stores the
fields the document is rendered from, audits, and queues the render job: a PDF is never drawn
in a request. ``void`` keeps the row and its number and records why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.context import Context
from handlers.tasks.service import today
from storage import outbox
from storage.models import Document, Unit
from storage.numbers import allocate_block, format_number

RENDER_JOB = "document.render"

# kind -> callbacks run in the render job's transaction once the PDF is stored
on_rendered: dict[str, list[Callable[[Context, Document], None]]] = {}


def issuer_name(session: Session, unit: Unit) -> str:
    """The body that issues documents: the top of the unit's tree (the bureau, not the office)."""
    seen = {unit.id}
    while unit.parent_id is not None and unit.parent_id not in seen:
        parent = session.get(Unit, unit.parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        unit = parent
    return unit.name


@dataclass(frozen=True)
class Request:
    """One document to issue: what ``issue``/``issue_many`` take."""

    kind: str
    issuer_unit: Unit
    fields: dict[str, Any]
    task_id: int | None = None
    assignment_id: int | None = None
    object_id: int | None = None
    send_to: tuple[str, ...] = ()
    file_name: str | None = None


def issue(
    ctx: Context,
    *,
    kind: str,
    issuer_unit: Unit,
    fields: dict[str, Any],
    task_id: int | None = None,
    assignment_id: int | None = None,
    object_id: int | None = None,
    send_to: Sequence[str] = (),
    file_name: str | None = None,
) -> Document:
    """Number and record a document; the worker renders it and sends it to ``send_to``."""
    request = Request(kind, issuer_unit, fields, task_id, assignment_id, object_id, tuple(send_to), file_name)
    return issue_many(ctx, [request])[0]


def issue_many(ctx: Context, requests: Sequence[Request]) -> list[Document]:
    """Issue several documents in one event: one number allocation per (issuer, code, year)."""
    year = today(ctx).year
    numbers: dict[tuple[str, str], list[int]] = {}
    for request in requests:
        code = ctx.settings.document_codes.get(request.kind)
        if not code:
            raise ValueError(f"no document code configured for kind {request.kind!r}")
        numbers.setdefault((request.issuer_unit.short_name, code), [])
    for (issuer, code), block in numbers.items():
        wanted = sum(
            1
            for r in requests
            if r.issuer_unit.short_name == issuer and ctx.settings.document_codes[r.kind] == code
        )
        block.extend(reversed(allocate_block(ctx.session, issuer=issuer, code=code, year=year, count=wanted)))
    documents = []
    for request in requests:
        issuer, code = request.issuer_unit.short_name, ctx.settings.document_codes[request.kind]
        seq = numbers[(issuer, code)].pop()
        number = format_number(
            ctx.settings.document_number_pattern, issuer=issuer, code=code, year=year, seq=seq
        )
        documents.append(
            Document(
                kind=request.kind,
                code=code,
                issuer=issuer,
                issuer_unit_id=request.issuer_unit.id,
                year=year,
                seq=seq,
                number=number,
                task_id=request.task_id,
                assignment_id=request.assignment_id,
                object_id=request.object_id,
                fields=request.fields,
                state="pending",
                issued_at=ctx.now,
                issued_by=ctx.actor,
                voided=False,
            )
        )
    ctx.session.add_all(documents)
    ctx.session.flush()
    # One audit append and one outbox insert for the lot: a dispatch issues hundreds of notices.
    ctx.audit_many(
        [
            (
                "document.issue",
                "document",
                document.id,
                {
                    "after": {
                        "number": document.number,
                        "kind": document.kind,
                        "task_id": document.task_id,
                        "object_id": document.object_id,
                    }
                },
            )
            for document in documents
        ]
    )
    ctx.enqueue_many(
        [
            outbox.Pending(
                RENDER_JOB,
                f"document:{document.id}:render",
                {
                    "document_id": document.id,
                    "send_to": list(request.send_to),
                    "file_name": request.file_name or f"{document.number}.pdf",
                },
                (f"job:{RENDER_JOB}",),
            )
            for request, document in zip(requests, documents, strict=True)
        ]
    )
    return documents


def void(ctx: Context, document: Document, reason: str) -> None:
    """Mark a document void. Its number stays used; the reason is kept (BR-20)."""
    if document.voided:
        return
    if not reason:
        raise ValueError("a document is voided only with a reason")
    document.voided = True
    document.void_reason = reason[:300]
    document.voided_at = ctx.now
    ctx.audit(
        "document.void", "document", document.id, after={"number": document.number}, detail={"reason": reason}
    )
