"""Inbound routes: verify -> parse -> dedupe -> route -> record, one transaction -> fast answer.

No outbound HTTP happens here. Bad input gets a 4xx with a JSON error in Chinese; nothing is
stored for a request that fails verification or parsing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from contextlib import nullcontext
from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import ValidationError
from sqlalchemy import select, text
from werkzeug.exceptions import RequestEntityTooLarge

from bot import metrics
from bot.context import CardContext, CommandContext
from bot.dispatch import CommandFailed, handle_card, handle_message
from bot.services import Services
from bot.signature import verify_robot_signature
from storage import inbox
from storage.identity import person_for, remember_conversation
from storage.models.platform import CardInstance, InboxEvent
from storage.upsert import insert_ignore

log = logging.getLogger(__name__)

blueprint = Blueprint("dingtalk", __name__)


class Reject(Exception):
    """Abort the request with a status and a Chinese message; the transaction rolls back."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _services() -> Services:
    return current_app.extensions["chayici"]


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"error": {"code": code, "message": message}})


def _read_body(limit: int) -> bytes:
    """Read at most ``limit`` bytes; more (also for chunked bodies) is a 413."""
    if request.content_length is not None and request.content_length > limit:
        raise Reject(413, "body_too_large", f"请求体超过 {limit // 1024} KiB 上限")
    chunks: list[bytes] = []
    size = 0
    try:
        if request.content_length is not None:
            # The common case: a declared length within the limit (the stream ends there).
            first = request.stream.read(request.content_length)
            if len(first) == request.content_length:
                return first
            chunks, size = [first], len(first)
        # A stream read may return less than asked (chunked bodies arrive chunk by chunk).
        while size <= limit:
            chunk = request.stream.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge as exc:
        raise Reject(413, "body_too_large", f"请求体超过 {limit // 1024} KiB 上限") from exc
    if size > limit:
        raise Reject(413, "body_too_large", f"请求体超过 {limit // 1024} KiB 上限")
    return b"".join(chunks)


def _verify(services: Services, *, required: bool) -> None:
    timestamp, sign = request.headers.get("timestamp"), request.headers.get("sign")
    if not required and timestamp is None and sign is None:
        return
    check = verify_robot_signature(
        timestamp,
        sign,
        app_secret=services.settings.app_secret.get_secret_value(),
        now_ms=int(services.clock.now().timestamp() * 1000),
        window_ms=services.settings.sign_window_ms,
    )
    if not check.ok:
        log.warning("rejected callback signature: %s (path=%s)", check.reason, request.path)
        raise Reject(401, "bad_signature", check.reason)


def _observe(route: str, started: float, status: int) -> None:
    metrics.INBOUND.labels(route, str(status)).inc()
    metrics.INBOUND_SECONDS.labels(route).observe(time.perf_counter() - started)


def _guarded(route: str, work: Any) -> Response:
    started = time.perf_counter()
    try:
        response = work()
    except Reject as problem:
        response = _error(problem.status, problem.code, problem.message)
    _observe(route, started, response.status_code)
    return response


@blueprint.post("/dingtalk/robot")
def robot() -> Response:
    return _guarded("robot", _robot)


def _robot() -> Response:
    services = _services()
    raw = _read_body(services.settings.max_body_bytes)
    _verify(services, required=True)
    try:
        from bot.payloads import RobotMessage

        message = RobotMessage.model_validate_json(raw)
        message.body()
    except (ValidationError, ValueError) as exc:
        raise Reject(400, "bad_body", _explain(exc)) from exc

    event_key = f"robot:{message.msgId}"
    now = services.clock.now()
    try:
        try:
            wrote = _run_robot(services, message, event_key, now)
        except CommandFailed as failure:
            # Everything the command wrote was rolled back: record the event and answer with the
            # reason, in one new transaction.
            wrote = _run_robot(services, message, event_key, now, refusal=failure.message)
    except _SeenBefore:
        with services.db.read() as session:
            return _replay(session, event_key, "robot")
    if wrote:  # committed: later messages of this conversation need not write its row again
        kind = "group" if message.is_group else "private"
        services.conversations.add(message.conversationId, kind, message.conversationTitle, now)
    return Response(_EMPTY_ANSWER, status=200, mimetype="application/json")


_EMPTY_ANSWER = b"{}"  # what a chat callback answers: replies go through the outbox


class _SeenBefore(Exception):
    """The event was recorded before: a redelivery. Raised inside the transaction to undo it."""


def _run_robot(
    services: Services, message: Any, event_key: str, now: Any, *, refusal: str | None = None
) -> bool:
    """Handle the message (or just send ``refusal``), then record the event with the answer it
    queued (``storage.inbox``). Returns whether the conversation row was written."""
    db = services.db
    with db.autocommit() if db.is_postgres else nullcontext() as quick, db.write() as session:
        if inbox.seen(db, session, event_key, quick=quick):
            raise _SeenBefore
        ctx, wrote = _robot_context(services, session, message, event_key, now)
        ctx.defer_outbox()
        if refusal is None:
            handle_message(services.router, ctx)
        else:
            ctx.reply(refusal)
        fresh = inbox.record(
            db,
            session,
            event_key=event_key,
            kind="robot",
            at=now,
            messages=ctx.take_deferred(),
            max_attempts=services.settings.outbox_max_attempts,
            quick=quick,
        )
        if not fresh:
            raise _SeenBefore
    return wrote


def _robot_context(
    services: Services, session: Any, message: Any, event_key: str, now: Any
) -> tuple[CommandContext, bool]:
    """The context for a message, after noting its conversation and who is talking. The flag says
    whether the conversation row was written."""
    wrote = remember_conversation(
        session,
        conversation_id=message.conversationId,
        is_group=message.is_group,
        title=message.conversationTitle,
        now=now,
        seen=services.conversations,
    )
    corp_id = message.senderCorpId or services.settings.corp_id
    context = CommandContext(
        message=message,
        command=None,
        args="",
        session=session,
        now=now,
        settings=services.settings,
        audit_log=services.audit_log,
        person_loader=lambda: person_for(session, corp_id=corp_id, staff_id=message.senderStaffId),
        staff_id=message.senderStaffId,
        event_key=event_key,
    )
    return context, wrote


@blueprint.post("/dingtalk/card")
def card() -> Response:
    return _guarded("card", _card)


def _card() -> Response:
    services = _services()
    raw = _read_body(services.settings.max_body_bytes)
    _verify(services, required=services.settings.card_require_signature)
    try:
        from bot.payloads import CardCallback

        callback = CardCallback.model_validate_json(raw)
        action = callback.action()
    except (ValidationError, ValueError) as exc:
        raise Reject(400, "bad_body", _explain(exc)) from exc

    private = action.cardPrivateData
    action_id = private.actionIds[0] if private.actionIds else str(private.params.get("action", ""))
    digest = hashlib.sha256(callback.raw_action.encode()).hexdigest()[:32]
    event_key = f"card:{callback.outTrackId}:{callback.userId}:{digest}"
    corp_id = callback.corpId or services.settings.corp_id
    now = services.clock.now()
    with services.db.write() as session:
        card_row = session.get(CardInstance, callback.outTrackId, with_for_update=True)
        if card_row is None:
            raise Reject(404, "unknown_card", "找不到这张卡片：outTrackId 不是本系统发出的")
        if callback.spaceId and callback.spaceId != card_row.space_id:
            raise Reject(403, "wrong_space", "卡片所在的会话与记录不符")
        inserted = insert_ignore(
            session,
            InboxEvent,
            {
                "event_key": event_key,
                "kind": "card",
                "received_at": now,
                "status_code": 200,
                "response_body": "{}",
            },
            conflict_column="event_key",
        )
        if not inserted and not _renew_stale_card_event(
            session, event_key, now, services.settings.card_dedupe_seconds
        ):
            return _replay(session, event_key, "card")
        ctx = CardContext(
            card=card_row,
            action_id=action_id,
            params=dict(private.params),
            session=session,
            now=now,
            settings=services.settings,
            audit_log=services.audit_log,
            person=person_for(session, corp_id=corp_id, staff_id=callback.userId),
            staff_id=callback.userId,
            event_key=event_key,
        )
        body = handle_card(services.router, ctx)
        stored = json.dumps(body, ensure_ascii=False)
        session.execute(
            InboxEvent.__table__.update()
            .where(InboxEvent.event_key == event_key)
            .values(response_body=stored)
        )
    return Response(stored, status=200, mimetype="application/json")


def _renew_stale_card_event(session: Any, event_key: str, now: Any, window_seconds: float) -> bool:
    """A card callback carries no unique id: the same click with the same params, long after the
    first, is a new click (say, on an old card), not a redelivery. Past the window it runs again."""
    row = session.execute(
        select(InboxEvent).where(InboxEvent.event_key == event_key).with_for_update()
    ).scalar_one()
    if (now - row.received_at).total_seconds() <= window_seconds:
        return False
    row.received_at = now
    return True


def _replay(session: Any, event_key: str, route: str) -> Response:
    metrics.DUPLICATES.labels(route).inc()
    row = session.execute(select(InboxEvent).where(InboxEvent.event_key == event_key)).scalar_one()
    return Response(row.response_body, status=row.status_code, mimetype="application/json")


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ())) or "请求体"
        kind = first.get("type", "")
        if kind == "json_invalid":
            return "请求体不是合法的 JSON"
        if "recursion" in str(first.get("msg", "")).lower():
            return "请求体嵌套层级过深"
        return f"请求体字段不符合要求：{where}（{first.get('msg', '格式错误')}）"
    return f"请求体不符合要求：{exc}"


@blueprint.get("/healthz")
def healthz() -> Response:
    services = _services()
    try:
        with services.db.read() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # report, do not crash the probe
        log.error("health check failed: %s", type(exc).__name__)
        return _json(503, {"status": "unavailable", "database": "down"})
    return _json(200, {"status": "ok", "database": services.db.dialect})


@blueprint.get("/metrics")
def prometheus() -> Response:
    body, content_type = metrics.render()
    return Response(body, status=200, content_type=content_type)
