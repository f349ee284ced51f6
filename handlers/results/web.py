"""``/form/<token>``: the mobile result form, served by the bot.

- ``GET /form/<token>``: the page (cards/result_form.py), with the shared draft and a submission
  id minted for this page;
- ``POST /form/<token>/save`` and ``/submit``: JSON ``{values, submission_id, deprecated_id,
  draft_version}``; the same rules as the card (``service``), one transaction with its audit
  and outbox rows; answers 200, 409 (conflict, with the current state), 422 (errors per field);
- ``POST /form/<token>/photo``: one photo as the raw body (``X-File-Name``, ``X-Taken-At``,
  ``X-Lat``/``X-Lon``/``X-Accuracy``), stored by SHA-256 on the record.

The token is signed, expires, and names the person and the record; every request also checks
that the person is still an accepted member of the record's team (a refusal is audited).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import orjson
from flask import Flask, Response, request

from bot.context import Context, UserError
from bot.services import Services
from cards.result_form import message_page, page
from handlers.results import evidence, links, publish, quick, records, rows, service
from handlers.results.records import NotOnTeam
from handlers.results.views import KIND_LABELS, mint, status
from storage.base import load_json
from storage.models import NOTICES, RESULT_CODES, InspectionRecord

HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
NOTICE_LABELS = {
    "recusal": "申请回避的权利",
    "cooperation": "配合检查的义务",
    "remedies": "陈述申辩、复议和诉讼的权利",
}
SIGNATURE_FIELDS = {"party_signature_data": "party", "inspector_signature_data": "inspector"}
MAX_SIGNATURE_BYTES = 300 * 1024


class _Discard(Exception):
    """Leaves a form's write transaction by rolling it back; carries the answer."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _json(status_code: int, body: dict[str, Any]) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=status_code,
        mimetype="application/json",
        headers=HEADERS,
    )


def _html(status_code: int, text: str, nonce: str = "") -> Response:
    csp = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src 'self' data: blob:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        if nonce
        else "default-src 'none'; style-src 'unsafe-inline'"
    )
    return Response(
        text, status=status_code, mimetype="text/html", headers={**HEADERS, "Content-Security-Policy": csp}
    )


def _context(
    services: Services, session: Any, grant: links.Grant, key: str, *, plain: bool = False
) -> Context:
    """The link's person as the actor (an ORM ``Person``). With ``plain`` nobody yet: the caller
    sets a ``rows.PersonRow`` once the team is loaded (``rows.act_as``)."""
    person: Any = None
    staff = None
    if not plain:
        found = session.execute(
            records.PERSON_AND_STAFF, {"person_id": grant.person_id, "corp_id": services.settings.corp_id}
        ).first()
        person, staff = found if found is not None else (None, None)
    return Context(
        session=session,
        now=services.clock.now(),
        settings=services.settings,
        audit_log=services.audit_log,
        person=person if person is not None and person.active else None,
        staff_id=staff,
        event_key=key,
    )


def state(
    ctx: Context,
    loaded: records.Loaded | rows.RowsLoaded,
    *,
    submission_id: str = "",
    evidence: list[Any] | None = None,
    version: Any = None,
) -> dict[str, Any]:
    """What the page shows; ``evidence`` = ``records.evidence_rows`` and ``version`` = the
    current version when the caller has them."""
    record = loaded.record
    if version is None or version.id != record.current_version_id:
        version = rows.version_by_id(ctx, record.current_version_id)
    draft = dict(record.draft)
    draft.setdefault("inspectors", [str(m.inspector.id) for m in loaded.team])
    attached = records.evidence_rows(ctx, record.id) if evidence is None else evidence
    shown = [(row.kind, row.sha256) for row in attached if row.state == "stored"]
    editable = record.state in records.EDITABLE
    hint = {
        "submitted": "结果已提交。在这里提交即为修改，修改后保存为新版本，原版本留存。",
        "returned": f"牵头单位退回了结果：{record.return_reason or ''}。请修改后重新提交。",
        "reviewed": "结果已审核通过，不能再修改。",
        "withdrawn": "本户已重新抽取，这条记录不再填写。",
    }.get(record.state, "同组人员共用这一份记录，保存草稿后同组人员的卡片会同步更新。")
    return {
        "record": record.id,
        "person": ctx.person.id if ctx.person else 0,
        "me": ctx.person.name if ctx.person else "",
        "object": loaded.obj.name,
        "task": loaded.task.number,
        "status": status(loaded),
        "hint": hint,
        "version": record.version,
        "draft_version": record.draft_version,
        "submission_id": submission_id or mint(),
        "deprecated_id": version.instance_id if version is not None else "",
        "editable": editable,
        "draft": draft,
        "items": [
            {
                "n": n,
                "name": item["name"],
                "points": item.get("points", []),
                "default_days": item["default_days"],
                "min_days": item["min_days"],
            }
            for n, item in enumerate(record.items, start=1)
        ],
        "team": [
            {"id": m.inspector.id, "name": m.name, "cert": m.inspector.cert_no or ""} for m in loaded.team
        ],
        "codes": [[code, f"{code} {label}"] for code, label in RESULT_CODES.items()],
        "notices": [[key, NOTICE_LABELS[key]] for key in NOTICES],
        "evidence": [{"kind": KIND_LABELS.get(kind, kind), "sha": sha} for kind, sha in shown],
    }


def _submitted(ctx: Context, loaded: records.Loaded | rows.RowsLoaded, outcome: service.Outcome) -> Response:
    """The answer to a stored or duplicate submission; created: the version's job refreshes the
    cards and issues the documents."""
    return _json(
        200,
        {
            "ok": True,
            "kind": outcome.kind,
            "message": outcome.message,
            "warnings": outcome.warnings,
            "version": outcome.version.version if outcome.version else None,
            "state": state(ctx, loaded, evidence=outcome.evidence, version=outcome.version),
        },
    )


def _signatures(
    ctx: Context, loaded: records.Loaded | rows.RowsLoaded, values: dict[str, Any], member: Any
) -> None:
    """Drawn signatures arrive as PNG data URLs; each is stored as evidence before the rules run."""
    for name, role in SIGNATURE_FIELDS.items():
        raw = values.pop(name, "")
        if not raw:
            continue
        head, _, data = str(raw).partition(",")
        if head != "data:image/png;base64":
            raise UserError("签名格式不对，请重新签名。", fields={"signature": "签名格式不对"})
        try:
            png = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise UserError("签名数据不完整，请重新签名。", fields={"signature": "签名数据不完整"}) from None
        if len(png) > MAX_SIGNATURE_BYTES or not png.startswith(b"\x89PNG"):
            raise UserError("签名图片不对，请清除后重新签名。", fields={"signature": "签名图片不对"})
        evidence.store_upload(
            ctx,
            loaded,
            png,
            kind="signature",
            content_type="image/png",
            file_name="签名.png",
            role="party" if role == "party" else f"inspector:{member.inspector.id}",
        )


def register_web(app: Flask) -> None:
    def services() -> Services:
        return app.extensions["chayici"]

    def grant_or_none(token: str) -> tuple[links.Grant | None, str]:
        try:
            return links.verify(services().settings, token, services().clock.now()), ""
        except links.BadLink as bad:
            return None, str(bad)

    @app.get("/form/<string:token>")
    def result_form(token: str) -> Response:
        grant, problem = grant_or_none(token)
        if grant is None:
            return _html(403, message_page("无法打开表单", problem))
        with services().db.read() as session:
            ctx = _context(services(), session, grant, "form:view")
            record = session.get(InspectionRecord, grant.record_id)
            if record is None:
                return _html(404, message_page("找不到检查记录", "这条检查记录不存在。"))
            loaded = records.load(ctx, record)
            member = loaded.member_for(grant.person_id)
            if member is None or member.member.state != "accepted":
                return _html(403, message_page("无权填写", "您不在本户检查组中，不能填写这条检查记录。"))
            nonce = secrets.token_urlsafe(16)
            return _html(200, page(state(ctx, loaded), nonce=nonce), nonce)

    def write(
        token: str, action: str, work: Any, *, plain: bool = False, grant: links.Grant | None = None
    ) -> Response:
        """``work(ctx, loaded)`` in one write transaction under the task and record locks;
        ``plain``: the record as plain rows (``rows.py``) instead of ORM objects; ``grant``: the
        token's, when the caller has checked it already."""
        if grant is None:
            grant, problem = grant_or_none(token)
            if grant is None:
                return _json(403, {"ok": False, "message": problem})
        try:
            with services().db.write() as session:
                ctx = _context(
                    services(),
                    session,
                    grant,
                    f"form:{action}:{grant.record_id}:{secrets.token_hex(8)}",
                    plain=plain,
                )
                if plain:
                    loaded: Any = rows.lock(ctx, grant.record_id)
                    rows.act_as(ctx, loaded, grant.person_id)
                else:
                    loaded = service.lock(ctx, grant.record_id)
                # No savepoint: nothing is written before ``work``, so a problem the user can fix
                # rolls the whole transaction back (_Discard); a refusal or a conflict commits
                # what the work audited before raising.
                try:
                    answer = work(ctx, loaded)
                except NotOnTeam as refused:
                    return _json(403, {"ok": False, "message": refused.message})
                except service.Conflict as conflict:
                    return _json(
                        409,
                        {
                            "ok": False,
                            "code": conflict.code,
                            "message": conflict.message,
                            "state": state(ctx, loaded),
                        },
                    )
                except UserError as problem_:
                    raise _Discard(
                        _json(422, {"ok": False, "message": problem_.message, "errors": problem_.fields})
                    ) from None
        except _Discard as discarded:
            return discarded.response
        except UserError as problem_:  # raised while locking (unknown record)
            return _json(404, {"ok": False, "message": problem_.message})
        # A work may answer with a callable: its page state is then built after the commit, out
        # of the write lock (SQLite) and the audit order lock (PostgreSQL, storage/audit.py).
        return answer if isinstance(answer, Response) else answer()

    def body() -> dict[str, Any]:
        limit = services().settings.form_max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise UserError("提交的内容过大（签名或文字过多），请精简后重试。")
        raw = request.get_data(cache=False)[: limit + 1]
        if len(raw) > limit:
            raise UserError("提交的内容过大（签名或文字过多），请精简后重试。")
        try:
            data = load_json(raw or b"{}")
        except ValueError:
            raise UserError("提交的内容不是合法的 JSON。") from None
        if not isinstance(data, dict) or not isinstance(data.get("values", {}), dict):
            raise UserError("提交的内容格式不对。")
        return data

    @app.post("/form/<string:token>/save")
    def form_save(token: str) -> Response:
        def work(ctx: Context, loaded: records.Loaded) -> Response:
            data = body()
            values = dict(data.get("values", {}))
            member = records.require_member(ctx, loaded)
            _signatures(ctx, loaded, values, member)
            outcome = service.save_draft(ctx, loaded, values, seen=str(data.get("draft_version", "")))
            if outcome.kind == "saved":
                publish.refresh_cards(ctx, loaded)
            return _json(
                200,
                {"ok": True, "kind": outcome.kind, "message": outcome.message, "state": state(ctx, loaded)},
            )

        return write(token, "save", work)

    @app.post("/form/<string:token>/submit")
    def form_submit(token: str) -> Response:
        grant, problem = grant_or_none(token)
        if grant is None:
            return _json(403, {"ok": False, "message": problem})
        try:  # read before any transaction: nothing to wait for while holding locks
            data = body()
        except UserError as problem_:
            return _json(422, {"ok": False, "message": problem_.message, "errors": problem_.fields})
        if not any(data.get("values", {}).get(name) for name in SIGNATURE_FIELDS):
            # Decided on a lock-free read, stored with a guarded update (quick.py); None: the
            # locked path below decides again from scratch.
            done = quick.submit(services(), grant, data, _submitted)
            if isinstance(done, UserError):
                return _json(422, {"ok": False, "message": done.message, "errors": done.fields})
            if done is not None:
                return done

        def work(ctx: Context, loaded: rows.RowsLoaded) -> Response | Callable[[], Response]:
            values = dict(data.get("values", {}))
            member = records.require_member(ctx, loaded)
            _signatures(ctx, loaded, values, member)
            outcome = service.submit(ctx, loaded, values, via="form", **service.form_ids(data))
            # A new version brings everything its page state shows (no statement): built after
            # the commit. A duplicate reads the evidence, so inside the transaction.
            if outcome.kind == "created":
                return lambda: _submitted(ctx, loaded, outcome)
            return _submitted(ctx, loaded, outcome)

        return write(token, "submit", work, plain=True, grant=grant)

    @app.post("/form/<string:token>/photo")
    def form_photo(token: str) -> Response:
        def work(ctx: Context, loaded: records.Loaded) -> Response:
            records.require_member(ctx, loaded)
            if loaded.record.state not in records.EDITABLE:
                raise UserError("这条记录已不能再添加材料。")
            limit = ctx.settings.evidence_max_bytes
            if request.content_length is not None and request.content_length > limit:
                raise UserError(f"照片超过 {limit // 1024 // 1024} MB，请压缩后再传。")
            data = request.get_data(cache=False)
            if not data or len(data) > limit:
                raise UserError("照片为空或过大。")
            content_type = (request.headers.get("Content-Type") or "application/octet-stream").split(";")[0]
            if not content_type.startswith("image/"):
                raise UserError("这里只接收照片；其他文件请在单聊中发给机器人。")
            taken = request.headers.get("X-Taken-At", "")
            taken_at = datetime.fromtimestamp(int(taken) / 1000, tz=UTC) if taken.isdigit() else None
            location = None
            try:
                location = (
                    float(request.headers["X-Lat"]),
                    float(request.headers["X-Lon"]),
                    float(request.headers.get("X-Accuracy", "-1")),
                )
            except (KeyError, ValueError):
                location = None
            row = evidence.store_upload(
                ctx,
                loaded,
                data,
                kind="photo",
                content_type=content_type,
                file_name=unquote(request.headers.get("X-File-Name", "现场照片.jpg"))[:255] or "现场照片.jpg",
                taken_at=taken_at,
                location=location,
            )
            publish.refresh_cards(ctx, loaded)
            return _json(200, {"ok": True, "sha256": row.sha256, "size": row.size, "id": row.id})

        return write(token, "photo", work)
