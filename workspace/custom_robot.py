"""Custom (webhook) robots and sessionWebhook replies (protocol §2, §1.3).

Both answer HTTP 200 and report problems in ``errcode``. Order of checks for ``/robot/send``:
token -> body size -> signature -> rate (20/min, then a 10-minute block) -> body -> keywords.
"""

from __future__ import annotations

import json
from collections import deque

from flask import Response, request

from workspace.limits import admit_custom_robot
from workspace.messages import MessageError, check_webhook_body, searchable_text
from workspace.replies import OapiError, oapi_json
from workspace.runtime import current
from workspace.signing import check_custom_robot_sign

MAX_BODY_BYTES = 20_000
OK = {"errcode": 0, "errmsg": "ok"}


def _body() -> tuple[str, dict]:
    try:
        data = json.loads(request.get_data(cache=True) or b"")
        return check_webhook_body(data)
    except ValueError as exc:
        if isinstance(exc, MessageError):
            raise OapiError(int(exc.code), exc.message) from exc
        raise OapiError(40035, "缺少参数 json") from exc


def robot_send() -> Response:
    ws = current()
    token = request.args.get("access_token")
    if not token:
        raise OapiError(40035, "缺少参数 access_token")
    with ws.state.lock:
        robot = ws.state.custom_robots.get(token)
    if robot is None:
        raise OapiError(300001, "token is not exist")
    if len(request.get_data(cache=True)) > MAX_BODY_BYTES:
        raise OapiError(460101, "description: body 大小不合法;solution:请保持大小在 20000bytes 以内;")
    now = ws.now_ms()
    if robot.get("secret"):
        problem = check_custom_robot_sign(
            request.args.get("timestamp"),
            request.args.get("sign"),
            secret=robot["secret"],
            now_ms=now,
            window_ms=ws.config.custom_robot_sign_window_ms,
        )
        if problem:
            raise OapiError(310000, problem)
    with ws.state.lock:
        window = ws.state.robot_windows.setdefault(token, deque())
        admitted, blocked_until = admit_custom_robot(
            window,
            ws.state.robot_blocked_until.get(token, 0),
            now_ms=now,
            per_minute=ws.config.custom_robot_per_minute,
            block_ms=ws.config.custom_robot_block_s * 1000,
        )
        ws.state.robot_blocked_until[token] = blocked_until
    if not admitted:
        raise OapiError(130101, "send too fast, exceed 20 times per minute")
    msgtype, content = _body()
    keywords = robot.get("keywords") or []
    if keywords and not any(word in searchable_text(msgtype, content) for word in keywords):
        raise OapiError(310000, "keywords not in content")
    ws.state.add_message(
        robot["conversationId"],
        msg_id=ws.ids.msg_id(),
        sender=f"customRobot:{robot['name']}",
        msgtype=msgtype,
        content=content,
        time_ms=now,
        via="robot/send",
    )
    return oapi_json(OK)


def send_by_session() -> Response:
    ws = current()
    now = ws.now_ms()
    with ws.state.lock:
        session = ws.state.sessions.get(request.args.get("session") or "")
    if session is None or now >= session["expires_ms"]:
        raise OapiError(300001, "session 不存在")
    msgtype, content = _body()
    ws.state.add_message(
        session["conversationId"],
        msg_id=ws.ids.msg_id(),
        sender="bot",
        msgtype=msgtype,
        content=content,
        time_ms=now,
        via="sendBySession",
    )
    return oapi_json(OK)
