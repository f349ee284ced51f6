"""``/_ws``: set up the people and groups, and act as them (the workspace plays the users).

JSON in, JSON out. ``say``/``send_media``/``card_action`` call the bot synchronously and answer
with what the bot answered, so a test can assert on both sides of one exchange.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, Response, request

from workspace import actors
from workspace.actors import ActorError
from workspace.replies import dumps
from workspace.runtime import current
from workspace.state import UnknownEntity

blueprint = Blueprint("workspace_users", __name__, url_prefix="/_ws")


def reply(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status=status, content_type="application/json;charset=utf-8")


@blueprint.errorhandler(ActorError)
def _actor_error(error: ActorError) -> Response:
    return reply({"error": error.message}, error.status)


@blueprint.errorhandler(UnknownEntity)
def _unknown(error: UnknownEntity) -> Response:
    return reply({"error": str(error.args[0]) if error.args else "unknown"}, 404)


def body_object() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ActorError(400, "请求体必须是 JSON 对象")
    return data


def body_list(key: str) -> list[dict[str, Any]]:
    """A JSON list, or an object holding it under ``key``, or one object."""
    data = request.get_json(silent=True)
    if isinstance(data, dict):
        data = data.get(key, [data])
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ActorError(400, f"请求体必须是对象列表（或 {{{key!r}: [...]}}）")
    return data


def _text(item: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ActorError(400, f"{key} 必须是非空字符串")
    return value


@blueprint.post("/reset")
def reset() -> Response:
    current().reset()
    return reply({"ok": True})


@blueprint.post("/users")
def add_users() -> Response:
    ws = current()
    created = []
    for item in body_list("users"):
        staff_id, name = _text(item, "staffId"), _text(item, "name")
        user = ws.state.add_user(
            staff_id,
            name,
            mobile=_text(item, "mobile", required=False),
            is_admin=bool(item.get("isAdmin", False)),
            title=_text(item, "title", required=False),
            app_key=ws.config.app_key,
        )
        created.append({**user, "conversationId": ws.state.private_conversation(staff_id)})
    return reply({"users": created})


@blueprint.get("/users")
def list_users() -> Response:
    """Everyone the workspace plays, with their 1:1 conversation (the page's identity picker)."""
    state = current().state
    with state.lock:
        people = [{**user, "conversationId": state.private_by_user[sid]} for sid, user in state.users.items()]
    return reply({"users": people})


@blueprint.post("/groups")
def add_groups() -> Response:
    ws = current()
    created = []
    for item in body_list("groups"):
        members = item.get("members") or []
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ActorError(400, "members 必须是 staffId 列表")
        cid = item.get("conversationId") or ws.ids.group_conversation_id()
        created.append(dict(ws.state.add_group(cid, _text(item, "title"), members)))
    return reply({"groups": created})


@blueprint.post("/custom_robots")
def add_custom_robots() -> Response:
    ws = current()
    created = []
    for item in body_list("robots"):
        cid = _text(item, "conversationId")
        if ws.state.group(cid) is None:
            raise ActorError(404, f"没有这个群：{cid}")
        keywords = item.get("keywords") or []
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise ActorError(400, "keywords 必须是字符串列表")
        token = item.get("access_token") or ws.ids.hex(64)
        robot = {
            "access_token": token,
            "conversationId": cid,
            "name": item.get("name") or "自定义机器人",
            "secret": item.get("secret") or "",
            "keywords": keywords,
        }
        with ws.state.lock:
            ws.state.custom_robots[token] = robot
        created.append({**robot, "webhook": f"{ws.own_base_url()}/robot/send?access_token={token}"})
    return reply({"robots": created})


def _optional_int(item: dict[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ActorError(400, f"{key} 必须是非负整数")
    return value


def _flag(item: dict[str, Any], key: str, default: bool = True) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise ActorError(400, f"{key} 必须是 true 或 false")
    return value


def _status(result: dict[str, Any]) -> int:
    """The /_ws answer is 200 when the bot was reached (whatever it said), 502 when it was not."""
    return 502 if result.get("error") else 200


@blueprint.post("/say")
def say() -> Response:
    item = body_object()
    result = actors.say(
        current(),
        staff_id=_text(item, "staffId"),
        text=_text(item, "text"),
        conversation_id=item.get("conversationId"),
        private=bool(item.get("private", False)),
        msg_id=item.get("msgId"),
        redeliver_after_ms=_optional_int(item, "redeliver_after_ms"),
        at_bot=_flag(item, "atBot"),
    )
    return reply(result, _status(result))


@blueprint.post("/redeliver")
def redeliver() -> Response:
    result = actors.redeliver(current(), _text(body_object(), "msgId"))
    return reply(result, _status(result))


@blueprint.post("/send_media")
def send_media() -> Response:
    item = body_object()
    try:
        data = base64.b64decode(_text(item, "data_base64"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ActorError(400, "data_base64 不是合法的 Base64") from exc
    result = actors.send_media(
        current(),
        staff_id=_text(item, "staffId"),
        msgtype=_text(item, "msgtype"),
        data=data,
        file_name=item.get("fileName") or "file",
        content_type=item.get("contentType") or "application/octet-stream",
        conversation_id=item.get("conversationId"),
        private=bool(item.get("private", False)),
        text=item.get("text"),
        duration=_optional_int(item, "duration"),
        msg_id=item.get("msgId"),
        at_bot=_flag(item, "atBot"),
    )
    return reply(result, _status(result))


@blueprint.post("/card_action")
def card_action() -> Response:
    item = body_object()
    params = item.get("params") or {}
    if not isinstance(params, dict):
        raise ActorError(400, "params 必须是对象")
    result = actors.card_action(
        current(),
        staff_id=_text(item, "staffId"),
        out_track_id=_text(item, "outTrackId"),
        action_id=_text(item, "actionId"),
        params=params,
        space_id=item.get("spaceId"),
    )
    return reply(result, _status(result))
