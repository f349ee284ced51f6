"""Issuing and voiding legal documents, inside the caller's one transaction.

``issue`` allocates the number (atomic per issuer, code and year; never reused), stores the
fields the document is rendered from, audits, and queues the render job: a PDF is never drawn
in a request. ``void`` keeps the row and its number and records why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from bot.context import Context
from handlers.tasks.service import today
from storage.models import Document, Unit
from storage.numbers import allocate, format_number

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
    code = ctx.settings.document_codes.get(kind)
    if not code:
        raise ValueError(f"no document code configured for kind {kind!r}")
    issuer = issuer_unit.short_name
    year = today(ctx).year
    seq = allocate(ctx.session, issuer=issuer, code=code, year=year)
    number = format_number(ctx.settings.document_number_pattern, issuer=issuer, code=code, year=year, seq=seq)
    document = Document(
        kind=kind,
        code=code,
        issuer=issuer,
        issuer_unit_id=issuer_unit.id,
        year=year,
        seq=seq,
        number=number,
        task_id=task_id,
        assignment_id=assignment_id,
        object_id=object_id,
        fields=fields,
        state="pending",
        issued_at=ctx.now,
        issued_by=ctx.actor,
        voided=False,
    )
    ctx.session.add(document)
    ctx.session.flush()
    ctx.audit(
        "document.issue",
        "document",
        document.id,
        after={"number": number, "kind": kind, "task_id": task_id, "object_id": object_id},
    )
    ctx.enqueue(
        RENDER_JOB,
        {"document_id": document.id, "send_to": list(send_to), "file_name": file_name or f"{number}.pdf"},
        key=f"document:{document.id}:render",
    )
    return document


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
