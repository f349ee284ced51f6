"""``GET /public/results``: the published results (no login; only published rows, no personal
data), and the result line on the public 行政行为码 page once a record is published."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Flask, Response, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cards.public_results import PublicResult, results_page
from handlers.documents.service import issuer_name
from handlers.draw import web as code_web
from storage.models import InspectionObject, Publication, RecordVersion
from storage.models.tasks import Task

PAGE = 20
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def rows(session: Session, query: str, page: int, tz: str) -> tuple[list[PublicResult], bool, int]:
    base = (
        select(Publication, InspectionObject, Task)
        .join(InspectionObject, InspectionObject.id == Publication.object_id)
        .join(Task, Task.id == Publication.task_id)
        .where(Publication.state == "published")
    )
    if query:
        like = f"%{query}%"
        base = base.where(or_(InspectionObject.name.like(like), InspectionObject.uscc == query.upper()))
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    found = session.execute(
        base.order_by(Publication.published_at.desc(), Publication.id.desc())
        .offset((page - 1) * PAGE)
        .limit(PAGE + 1)
    ).all()
    zone = ZoneInfo(tz)
    out = []
    for publication, obj, task in found[:PAGE]:
        out.append(
            PublicResult(
                name=obj.name,
                code=obj.uscc or obj.legacy_reg_no or "",
                task=task.number,
                day=inspected_day(session, publication) or "",
                result_code=publication.result_code or "",
                result_text=publication.result_text or "",
                body=issuer_name(session, task.lead_unit),
                published=publication.published_at.astimezone(zone).strftime("%Y-%m-%d")
                if publication.published_at
                else "",
            )
        )
    return out, len(found) > PAGE, total


def inspected_day(session: Session, publication: Publication) -> str | None:
    from storage.models import InspectionRecord

    record = session.get(InspectionRecord, publication.record_id)
    version = (
        session.get(RecordVersion, record.current_version_id)
        if record and record.current_version_id
        else None
    )
    started = (version.content if version else {}).get("started_at", "")
    return str(started)[:10] or None


def code_page_result(session: Session, task_id: int, object_id: int) -> str | None:
    row = session.execute(
        select(Publication).where(
            Publication.task_id == task_id,
            Publication.object_id == object_id,
            Publication.state == "published",
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    day = row.published_at.date().isoformat() if row.published_at else ""
    return f"{row.result_code} {row.result_text}（{day} 公示于{row.channel}）"


def register_web(app: Flask) -> None:
    if code_page_result not in code_web.result_lookups:
        code_web.result_lookups.append(code_page_result)

    @app.get("/public/results")
    def public_results() -> Response:
        query = (request.args.get("q") or "").strip()[:60]
        page = request.args.get("page", "1")
        number = max(1, min(int(page), 10_000)) if page.isdigit() else 1
        services = app.extensions["chayici"]
        with services.db.read() as session:
            found, more, total = rows(session, query, number, services.settings.timezone)
        html = results_page(found, query=query, page=number, more=more, total=total)
        return Response(html, status=200, mimetype="text/html", headers=HEADERS)
