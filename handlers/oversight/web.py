"""``/dashboard``: the progress page for leaders and unit admins, and its .xlsx export.

- ``GET /dashboard/login?t=<token>``: checks the signed link from 看板, keeps it in an HttpOnly
  cookie scoped to ``/dashboard`` (so the token leaves the address bar and the history), audits the
  login, redirects to the page;
- ``GET /dashboard`` (``?p=week|month|year`` or ``?from=&to=``): the page;
- ``GET /dashboard/export.xlsx`` (same parameters): the workbook, audited.

Each request re-checks the token and that the person is active and still holds a role allowed
to see the page. One transaction per request: derive new facts, compute, read (no outbound calls).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask, Response, redirect, request

from bot.services import Services
from cards.oversight.page import dashboard, message_page
from handlers.oversight import export, links, views
from storage.audit import AuditEntry
from storage.models import Person
from storage.models.platform import ROLE_AUDITOR, ROLE_LEADER, ROLE_SYSADMIN, ROLE_UNIT_ADMIN

ALLOWED = {ROLE_LEADER, ROLE_UNIT_ADMIN, ROLE_AUDITOR, ROLE_SYSADMIN}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
}


def _html(status: int, text: str) -> Response:
    return Response(text, status=status, mimetype="text/html", headers=HEADERS)


def _refuse(status: int, text: str) -> Response:
    return _html(status, message_page("无法打开看板", text))


def _person(services: Services, session: Any, token: str) -> tuple[Person | None, str]:
    """The person the token names, if it is valid and they may see the page; else a reason."""
    try:
        grant = links.verify(services.settings, token, services.clock.now())
    except links.BadLink as exc:
        return None, str(exc)
    person = session.get(Person, grant.person_id)
    if person is None or not person.active:
        return None, "您的账号已停用，不能查看看板。"
    if not person.role_names() & ALLOWED:
        return None, "看板仅供局领导和单位管理员查看。"
    return person, ""


def _audit(services: Services, session: Any, person: Person, action: str, detail: dict[str, Any]) -> None:
    services.audit_log.append(
        session,
        AuditEntry(
            action=action,
            entity_type="dashboard",
            entity_id=str(person.id),
            actor=f"person:{person.id}",
            actor_person_id=person.id,
            detail=detail,
        ),
        at=services.clock.now(),
    )


def _highlight(person: Person) -> int | None:
    return person.unit_id if person.has_role(ROLE_UNIT_ADMIN) and not person.has_role(ROLE_LEADER) else None


def register_web(app: Flask) -> None:
    def services() -> Services:
        return app.extensions["chayici"]  # type: ignore[no-any-return]

    @app.get("/dashboard/login")
    def dashboard_login() -> Response:
        token = request.args.get("t", "")
        with services().db.write() as session:
            person, reason = _person(services(), session, token)
            if person is None:
                return _refuse(403, reason)
            _audit(services(), session, person, "dashboard.login", {"via": "link"})
            grant = links.verify(services().settings, token, services().clock.now())
        response = redirect("/dashboard", code=303)
        response.headers.update(HEADERS)
        max_age = max(0, grant.expires - int(services().clock.now().timestamp()))
        secure = services().settings.public_base_url.startswith("https://")
        response.set_cookie(
            links.COOKIE,
            token,
            max_age=max_age,
            path="/dashboard",
            httponly=True,
            secure=secure,
            samesite="Lax",
        )
        return response

    def _requested_view(session: Any) -> Response | tuple[Any, Any, Any]:
        """The signed-in person, the chosen period and its view; or the refusal to answer with."""
        now = services().clock.now()
        tz = services().settings.timezone
        person, reason = _person(services(), session, request.cookies.get(links.COOKIE, ""))
        if person is None:
            return _refuse(401, reason)
        try:
            choice = views.choose(dict(request.args), now, tz)
        except views.BadPeriod as exc:
            return _refuse(400, str(exc))
        _, view = views.build(session, choice, now=now, tz=tz, highlight=_highlight(person))
        return person, choice, view

    @app.get("/dashboard")
    def dashboard_page() -> Response:
        with services().db.write() as session:
            found = _requested_view(session)
            if isinstance(found, Response):
                return found
            _, _, view = found
        return _html(200, dashboard(view))

    @app.get("/dashboard/export.xlsx")
    def dashboard_export() -> Response:
        with services().db.write() as session:
            found = _requested_view(session)
            if isinstance(found, Response):
                return found
            person, choice, view = found
            _audit(
                services(),
                session,
                person,
                "dashboard.export",
                {
                    "period_start": choice.period.start.isoformat(),
                    "period_end": choice.period.end.isoformat(),
                },
            )
        body = export.workbook(view)
        name = f"综合查一次工作进度-{view['period_label']}.xlsx"
        headers = {
            **HEADERS,
            "Content-Disposition": f"attachment; filename=\"dashboard.xlsx\"; filename*=UTF-8''{quote(name)}",
        }
        return Response(
            body,
            status=200,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=headers,
        )
