"""What the simulated people do: talk to the bot, send photos and files, click card buttons.

Each action first changes what the people see (their message appears in the conversation), then
sends the bot the callback DingTalk would send, and finally applies the bot's answer the way
DingTalk would (a synchronous reply message, or a card update). No bot logic lives here.
"""

from __future__ import annotations

import copy
from typing import Any

from cards import spec as card_spec
from workspace import card_store
from workspace.callbacks import card_callback_body, post_signed, robot_message_body
from workspace.messages import MessageError, check_webhook_body
from workspace.runtime import Workspace

MEDIA_TYPES = ("picture", "file", "audio", "video", "richText")
GROUP_FORBIDDEN_MEDIA = ("audio", "video", "file")


class ActorError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def conversation_for(
    ws: Workspace, staff_id: str, conversation_id: str | None, private: bool
) -> dict[str, Any]:
    with ws.state.lock:
        if staff_id not in ws.state.users:
            raise ActorError(404, f"没有这个用户：{staff_id}")
        if private:
            return ws.state.conversations[ws.state.private_conversation(staff_id)]
        if not conversation_id:
            raise ActorError(400, "需要 conversationId（群聊）或 private: true（单聊）")
        group = ws.state.group(conversation_id)
        if group is None:
            raise ActorError(404, f"没有这个群：{conversation_id}")
        if staff_id not in group["members"]:
            raise ActorError(403, f"{staff_id} 不是群 {group['title']} 的成员")
        return group


def _send_message(
    ws: Workspace,
    *,
    staff_id: str,
    conversation: dict[str, Any],
    msgtype: str,
    payload: dict[str, Any],
    shown: dict[str, Any],
    msg_id: str | None,
    at_bot: bool = True,
) -> dict[str, Any]:
    msg_id = msg_id or ws.ids.msg_id()
    create_at = ws.now_ms()
    cid = conversation["conversationId"]
    if conversation["kind"] == "group" and not at_bot:
        # DingTalk gives a robot only the group messages that @-mention it: the others are seen by
        # the members and never reach the bot.
        ws.state.add_message(
            cid,
            msg_id=msg_id,
            sender=staff_id,
            msgtype=msgtype,
            content=shown,
            time_ms=create_at,
            via="user",
            extra={"atBot": False},
        )
        return {"msgId": msg_id, "conversationId": cid, "status": None, "response": None, "error": None}
    body = robot_message_body(
        ws,
        staff_id=staff_id,
        conversation=conversation,
        msgtype=msgtype,
        payload=payload,
        msg_id=msg_id,
        create_at=create_at,
    )
    ws.state.add_message(
        cid,
        msg_id=msg_id,
        sender=staff_id,
        msgtype=msgtype,
        content=shown,
        time_ms=create_at,
        via="user",
        extra={"atBot": True} if conversation["kind"] == "group" else None,
    )
    with ws.state.lock:
        ws.state.sent_bodies[msg_id] = body
    outcome = post_signed(ws, ws.config.robot_callback_url, body, kind="robot", ref=msg_id)
    _deliver_sync_reply(ws, cid, outcome)
    return {"msgId": msg_id, "conversationId": cid, **outcome}


def _deliver_sync_reply(ws: Workspace, cid: str, outcome: dict[str, Any]) -> None:
    """A message in the callback's response body is shown as the bot's reply (legacy path,
    UNCONFIRMED for enterprise robots; ``{}`` and ``{"msgtype":"empty"}`` show nothing)."""
    answer = outcome.get("response")
    if not ws.config.deliver_sync_replies or outcome.get("status") != 200 or not isinstance(answer, dict):
        return
    if not answer.get("msgtype") or answer.get("msgtype") == "empty":
        return
    try:
        msgtype, content = check_webhook_body(answer)
    except MessageError:
        return
    ws.state.add_message(
        cid,
        msg_id=ws.ids.msg_id(),
        sender="bot",
        msgtype=msgtype,
        content=content,
        time_ms=ws.now_ms(),
        via="syncReply",
    )


def say(
    ws: Workspace,
    *,
    staff_id: str,
    text: str,
    conversation_id: str | None = None,
    private: bool = False,
    msg_id: str | None = None,
    redeliver_after_ms: int | None = None,
    at_bot: bool = True,
) -> dict[str, Any]:
    """A text message to the bot: @-mention in a group (content starts with one space), plain in 1:1.

    ``at_bot=False`` in a group is a message to the other members only: shown, not sent to the bot.
    """
    conversation = conversation_for(ws, staff_id, conversation_id, private)
    content = f" {text}" if conversation["kind"] == "group" else text
    result = _send_message(
        ws,
        staff_id=staff_id,
        conversation=conversation,
        msgtype="text",
        payload={"content": content},
        shown={"content": text},
        msg_id=msg_id,
        at_bot=at_bot,
    )
    if redeliver_after_ms is not None and result["status"] is not None:
        ws.schedule(redeliver_after_ms / 1000, lambda: redeliver(ws, result["msgId"]))
    return result


def redeliver(ws: Workspace, msg_id: str) -> dict[str, Any]:
    """Send the identical body again (same msgId, same createAt) with a fresh timestamp/sign."""
    with ws.state.lock:
        body = ws.state.sent_bodies.get(msg_id)
    if body is None:
        raise ActorError(404, f"没有发送过这条消息：{msg_id}")
    outcome = post_signed(ws, ws.config.robot_callback_url, body, kind="robot-redelivery", ref=msg_id)
    return {"msgId": msg_id, "conversationId": body["conversationId"], **outcome}


def send_media(
    ws: Workspace,
    *,
    staff_id: str,
    msgtype: str,
    data: bytes,
    file_name: str,
    content_type: str,
    conversation_id: str | None = None,
    private: bool = False,
    text: str | None = None,
    duration: int | None = None,
    msg_id: str | None = None,
    at_bot: bool = True,
) -> dict[str, Any]:
    """A photo, file, voice, video or text-plus-photo message (§1.1.1); ``at_bot`` as for ``say``."""
    if msgtype not in MEDIA_TYPES:
        raise ActorError(400, f"msgtype 必须是 {', '.join(MEDIA_TYPES)} 之一")
    if not data:
        raise ActorError(400, "data_base64 不能为空")
    conversation = conversation_for(ws, staff_id, conversation_id, private)
    if conversation["kind"] == "group" and msgtype in GROUP_FORBIDDEN_MEDIA:
        raise ActorError(400, "钉钉群聊中不能 @机器人 发送语音、视频或文件，请在单聊中发送")
    code = _store_file(ws, data, file_name, content_type)
    payload: dict[str, Any]
    if msgtype == "picture":
        payload = {
            "pictureDownloadCode": _store_file(ws, data, file_name, content_type),
            "downloadCode": code,
        }
    elif msgtype == "file":
        payload = {
            "spaceId": str(ws.ids.integer(10**9, 10**10 - 1)),
            "fileName": file_name,
            "downloadCode": code,
            "fileId": str(ws.ids.integer(10**10, 10**11 - 1)),
        }
    elif msgtype == "audio":
        payload = {
            "duration": duration if duration is not None else 3000,
            "downloadCode": code,
            "recognition": text or "",
        }
    elif msgtype == "video":
        payload = {
            "duration": str(duration if duration is not None else 5),
            "videoType": "mp4",
            "downloadCode": code,
        }
    else:
        items: list[dict[str, Any]] = [{"text": text}] if text else []
        items.append(
            {
                "pictureDownloadCode": _store_file(ws, data, file_name, content_type),
                "downloadCode": code,
                "type": "picture",
            }
        )
        payload = {"richText": items}
    shown = {**payload, "fileName": file_name, "contentType": content_type, "size": len(data)}
    return _send_message(
        ws,
        staff_id=staff_id,
        conversation=conversation,
        msgtype=msgtype,
        payload=payload,
        shown=shown,
        msg_id=msg_id,
        at_bot=at_bot,
    )


def _store_file(ws: Workspace, data: bytes, name: str, content_type: str) -> str:
    code = ws.ids.download_code()
    with ws.state.lock:
        ws.state.files[code] = {"data": data, "name": name, "contentType": content_type}
    return code


def _visible_space(
    ws: Workspace, card: dict[str, Any], staff_id: str, space_id: str | None
) -> dict[str, Any]:
    for space in card["spaces"]:
        if space_id and space["spaceId"] != space_id:
            continue
        if space["spaceType"] == "IM_ROBOT" and space["spaceId"] == staff_id:
            return space
        group = ws.state.group(space["spaceId"]) if space["spaceType"] == "IM_GROUP" else None
        if group is not None and staff_id in group["members"]:
            return space
    raise ActorError(403, f"{staff_id} 看不到这张卡片（未投放到其单聊或所在的群）")


def _check_action(card: dict[str, Any], action_id: str) -> None:
    """A person can only press a button the template has (when we know the template)."""
    key = card.get("templateKey")
    if not key:
        return
    try:
        known = card_spec.action_ids(key)
    except card_spec.SpecError:
        return
    if action_id not in known:
        raise ActorError(
            400, f"卡片模板 {key} 没有 actionId 为 {action_id} 的按钮（可用：{', '.join(known) or '无'}）"
        )


def card_action(
    ws: Workspace,
    *,
    staff_id: str,
    out_track_id: str,
    action_id: str,
    params: dict[str, Any] | None = None,
    space_id: str | None = None,
) -> dict[str, Any]:
    """A button press or form submission: the callback, then the bot's answer applied to the card."""
    with ws.state.lock:
        card = ws.state.cards.get(out_track_id)
        if card is None:
            raise ActorError(404, f"没有这张卡片：{out_track_id}")
        if staff_id not in ws.state.users:
            raise ActorError(404, f"没有这个用户：{staff_id}")
        space = dict(_visible_space(ws, card, staff_id, space_id))
    _check_action(card, action_id)
    body = card_callback_body(
        ws,
        out_track_id=out_track_id,
        staff_id=staff_id,
        space=space,
        action_id=action_id,
        params=params or {},
    )
    outcome = post_signed(ws, ws.config.card_callback_url, body, kind="card", ref=out_track_id)
    if outcome["status"] == 200:
        applied = card_store.apply_callback_answer(ws, card, staff_id, outcome["response"])
    else:
        # The bot refused or failed: DingTalk shows an error to the user and leaves the card as is.
        applied = {"applied": False, "reason": f"bot answered {outcome['status'] or outcome['error']}"}
    with ws.state.lock:
        card["history"].append(
            {
                "kind": "action",
                "time": ws.now_ms(),
                "actor": staff_id,
                "actionId": action_id,
                "params": dict(params or {}),
                "status": outcome["status"],
                "applied": applied["applied"],
            }
        )
        snapshot = copy.deepcopy(card)
    return {**outcome, **applied, "card": snapshot}
