"""``GET /code/<code>``: the public page behind a 行政行为码 QR. No login: the code itself is the
credential (120 random bits). Read-only, one short read transaction, no outbound calls."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cards.code_page import CodePage, code_page, not_found_page
from handlers.documents.service import issuer_name
from handlers.draw import codes
from handlers.draw.service import LIVE
from storage.models import Assignment, AssignmentMember, BehaviourCode, Inspector, Unit
from storage.models.tasks import Task

# Later capabilities (result publication) add a lookup: (session, task id, object id) -> text.
result_lookups: list[Callable[[Session, int, int], str | None]] = []

HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
}


def page_for(session: Session, code: str) -> CodePage | None:
    row = session.execute(select(BehaviourCode).where(BehaviourCode.code == code)).scalar_one_or_none()
    if row is None:
        return None
    task = session.get(Task, row.task_id)
    if task is None:
        return None
    assignment = session.execute(
        select(Assignment).where(
            Assignment.task_id == task.id,
            Assignment.object_id == row.object_id,
            Assignment.state == "dispatched",
        )
    ).scalar_one_or_none()
    inspectors: list[tuple[str, str]] = []
    if assignment is not None:
        members = session.execute(
            select(Inspector)
            .join(AssignmentMember, AssignmentMember.inspector_id == Inspector.id)
            .where(AssignmentMember.assignment_id == assignment.id, AssignmentMember.state.in_(LIVE))
            .order_by(AssignmentMember.position)
        ).scalars()
        inspectors = [(i.person.name, i.cert_no or "") for i in members]
    unit_ids = [task.lead_unit_id, *(u.unit_id for u in task.units if u.state == "agreed")]
    names = {u.id: u.name for u in session.execute(select(Unit).where(Unit.id.in_(unit_ids))).scalars()}
    items = [item.power_item for item in task.scenario.items]
    valid = assignment is not None and task.state not in ("cancelled",)
    result = next(
        (text for lookup in result_lookups if (text := lookup(session, task.id, row.object_id))), None
    )
    return CodePage(
        code=codes.display(code),
        status="有效" if valid else "已失效（该检查已撤销或已改派）",
        valid=valid,
        body=issuer_name(session, task.lead_unit),
        units=[names[u] for u in unit_ids if u in names],
        inspectors=inspectors if valid else [],
        items=[item.name for item in items],
        bases=list(dict.fromkeys(item.legal_basis for item in items if item.legal_basis)),
        window=f"{task.window_start.isoformat()} 至 {task.window_end.isoformat()}",
        result=result or "检查结果尚未公示。",
    )


def register_web(app: Flask) -> None:
    @app.get("/code/<string:text>")
    def behaviour_code(text: str) -> Response:
        code = codes.normalise(text)
        page = None
        if code is not None:
            services = app.extensions["chayici"]
            with services.db.read() as session:
                page = page_for(session, code)
        if page is None:
            return Response(not_found_page(), status=404, mimetype="text/html", headers=HEADERS)
        return Response(code_page(page), status=200, mimetype="text/html", headers=HEADERS)

    @app.get("/code/<string:text>/qr.png")
    def behaviour_code_qr(text: str) -> Response:
        """The QR picture a dispatch card shows: the address of the code's public page. Only for
        codes that exist; the picture never changes, so phones and proxies may keep it."""
        code = codes.normalise(text)
        services = app.extensions["chayici"]
        known = None
        if code is not None:
            with services.db.read() as session:
                known = session.execute(select(BehaviourCode.id).where(BehaviourCode.code == code)).first()
        if code is None or known is None:
            return Response(not_found_page(), status=404, mimetype="text/html", headers=HEADERS)
        return Response(
            codes.qr_png(codes.url(services.settings, code)),
            status=200,
            mimetype="image/png",
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )
