"""Callbacks the workspace sends to the bot, built and signed as DingTalk does (§1.1, §1.2, §5.4).

Robot message bodies carry the common fields in the order of the protocol's sample, a fresh
``sessionWebhook`` pointing back at the workspace, and ``sessionWebhookExpiredTime = createAt +
5 400 000``. Every callback is POSTed synchronously with explicit timeouts and recorded.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from workspace.ids import lwcp_id
from workspace.replies import dumps
from workspace.runtime import Workspace
from workspace.signing import callback_headers

MAX_RECORDED_TEXT = 4000


def robot_message_body(
    ws: Workspace,
    *,
    staff_id: str,
    conversation: dict[str, Any],
    msgtype: str,
    payload: dict[str, Any],
    msg_id: str,
    create_at: int,
) -> dict[str, Any]:
    """The §1.1 body. ``payload`` is ``{"content": ...}`` for text, the content object otherwise."""
    config = ws.config
    user = ws.state.user(staff_id)
    is_group = conversation["kind"] == "group"
    chatbot_user_id = lwcp_id("robot", config.corp_id, config.robot_code)
    session = ws.ids.session()
    expires = create_at + config.session_webhook_ttl_ms
    with ws.state.lock:
        ws.state.sessions[session] = {
            "conversationId": conversation["conversationId"],
            "staffId": staff_id,
            "expires_ms": expires,
        }
    body: dict[str, Any] = {"conversationId": conversation["conversationId"]}
    if is_group:
        body["atUsers"] = [{"dingtalkId": chatbot_user_id}]
    body.update(
        {
            "chatbotCorpId": config.corp_id,
            "chatbotUserId": chatbot_user_id,
            "msgId": msg_id,
            "senderNick": user["name"],
            "isAdmin": bool(user.get("isAdmin")),
            "senderStaffId": staff_id,
            "sessionWebhookExpiredTime": expires,
            "createAt": create_at,
            "senderCorpId": config.corp_id,
            "conversationType": "2" if is_group else "1",
            "senderId": lwcp_id("user", config.corp_id, staff_id),
        }
    )
    if is_group:
        body["conversationTitle"] = conversation["title"]
        body["isInAtList"] = True
    body["sessionWebhook"] = f"{ws.own_base_url()}/robot/sendBySession?session={session}"
    if msgtype == "text":
        body["text"] = payload
    else:
        body["content"] = payload
    body["robotCode"] = config.app_key
    body["msgtype"] = msgtype
    return body


def card_callback_body(
    ws: Workspace,
    *,
    out_track_id: str,
    staff_id: str,
    space: dict[str, Any],
    action_id: str,
    params: dict[str, Any],
) -> dict[str, Any]:
    """The HTTP card callback (§5.4): ``content`` and ``value`` are the same JSON *string*."""
    action = {"cardPrivateData": {"actionIds": [action_id], "params": {**params, "action": action_id}}}
    encoded = dumps(action)
    return {
        "outTrackId": out_track_id,
        "corpId": ws.config.corp_id,
        "userId": staff_id,
        "userIdType": 1,
        "type": "actionCallback",
        "spaceType": space["spaceType"],
        "spaceId": space["spaceId"],
        "content": encoded,
        "value": encoded,
        "extension": "{}",
    }


def post_signed(ws: Workspace, url: str, body: dict[str, Any], *, kind: str, ref: str) -> dict[str, Any]:
    """POST one signed callback to the bot and record it. Never raises for network trouble."""
    now = ws.now_ms()
    headers = callback_headers(now, ws.config.app_secret)
    outcome: dict[str, Any] = {"status": None, "response": None, "error": None}
    session = requests.Session()
    session.trust_env = False  # never send a loopback callback through a proxy from the environment
    try:
        response = session.post(
            url,
            data=dumps(body).encode(),
            headers=headers,
            timeout=ws.config.callback_timeout,
            allow_redirects=False,
        )
        outcome["status"] = response.status_code
        try:
            outcome["response"] = response.json()
        except ValueError:
            outcome["response"] = response.text[:MAX_RECORDED_TEXT]
    except requests.RequestException as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        session.close()
    ws.state.record_callback(
        {
            "kind": kind,
            "ref": ref,
            "url": url,
            "headers": {"timestamp": headers["timestamp"], "sign": headers["sign"]},
            "body": json.loads(dumps(body)),
            "time": now,
            **outcome,
        }
    )
    return outcome
