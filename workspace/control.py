"""``/_ws``: look inside the workspace (calls, conversations, cards) and turn its knobs.

``since`` parameters are sequence numbers (``seq`` of calls and messages), not times: two events
can share a millisecond, sequence numbers never repeat.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, Response, request

from workspace import card_view
from workspace.actors import ActorError
from workspace.config import API_FAMILIES
from workspace.faults import FaultConfigError
from workspace.runtime import current
from workspace.users import body_object, reply

blueprint = Blueprint("workspace_control", __name__, url_prefix="/_ws")


@blueprint.errorhandler(ActorError)
def _actor_error(error: ActorError) -> Response:
    return reply({"error": error.message}, error.status)


def _since() -> int:
    try:
        return int(request.args.get("since", "0"))
    except ValueError as exc:
        raise ActorError(400, "since 必须是整数（seq）") from exc


@blueprint.get("/calls")
def calls() -> Response:
    return reply({"calls": current().state.calls_since(request.args.get("path") or None, _since())})


@blueprint.delete("/calls")
def clear_calls() -> Response:
    state = current().state
    with state.lock:
        state.calls.clear()
    return reply({"ok": True})


@blueprint.get("/callbacks")
def callbacks() -> Response:
    state = current().state
    since = _since()
    with state.lock:
        items = [copy.deepcopy(item) for item in state.callbacks if item["seq"] > since]
    return reply({"callbacks": items})


@blueprint.get("/conversations")
def conversations() -> Response:
    state = current().state
    with state.lock:
        items = [
            {**copy.deepcopy(c), "messageCount": len(state.messages[cid])}
            for cid, c in state.conversations.items()
        ]
    return reply({"conversations": items})


@blueprint.get("/conversations/<path:cid>/messages")
def messages(cid: str) -> Response:
    state = current().state
    if cid not in state.conversations:
        raise ActorError(404, f"没有这个会话：{cid}")
    return reply({"messages": state.messages_since(cid, _since())})


def _card_json(card: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(card), "view": card_view.headline(card)}


@blueprint.get("/cards")
def cards() -> Response:
    state = current().state
    with state.lock:
        items = [_card_json(card) for card in state.cards.values()]
    return reply({"cards": items})


@blueprint.get("/cards/<path:out_track_id>")
def card(out_track_id: str) -> Response:
    state = current().state
    with state.lock:
        found = state.cards.get(out_track_id)
        if found is None:
            raise ActorError(404, f"没有这张卡片：{out_track_id}")
        return reply(_card_json(found))


@blueprint.get("/state")
def summary() -> Response:
    ws = current()
    config = ws.config
    return reply(
        {
            **ws.state.summary(),
            "nowMs": ws.now_ms(),
            "baseUrl": ws.own_base_url(),
            "botBaseUrl": config.bot_base_url,
            "appKey": config.app_key,
            "robotCode": config.robot_code,
            "corpId": config.corp_id,
            "agentId": config.agent_id,
            "faults": ws.faults.as_json(),
            "qps": dict(ws.qps),
            "throttleStatus": ws.throttle_status,
        }
    )


@blueprint.get("/faults")
def get_faults() -> Response:
    ws = current()
    return reply({**ws.faults.as_json(), "qps": dict(ws.qps), "throttle_status": ws.throttle_status})


@blueprint.post("/faults")
def set_faults() -> Response:
    ws = current()
    item = body_object()
    qps = item.get("qps", {})
    if not isinstance(qps, dict) or any(
        family not in API_FAMILIES or not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        for family, limit in qps.items()
    ):
        raise ActorError(400, f"qps 必须是 {{族: 正整数}}，族为 {', '.join(API_FAMILIES)}")
    status = item.get("throttle_status", ws.throttle_status)
    if status not in (403, 429):
        raise ActorError(400, "throttle_status 只能是 403 或 429")
    try:
        ws.faults.configure(item)
    except FaultConfigError as exc:
        raise ActorError(400, str(exc)) from exc
    ws.qps.update(qps)
    ws.throttle_status = status
    return get_faults()


@blueprint.post("/clock")
def clock() -> Response:
    ws = current()
    item = body_object()
    for key in ("offset_ms", "advance_ms"):
        value = item.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ActorError(400, f"{key} 必须是整数")
    with ws.state.lock:
        if item.get("offset_ms") is not None:
            ws.state.clock_offset_ms = item["offset_ms"]
        if item.get("advance_ms") is not None:
            ws.state.clock_offset_ms += item["advance_ms"]
        offset = ws.state.clock_offset_ms
    return reply({"offsetMs": offset, "nowMs": ws.now_ms()})
