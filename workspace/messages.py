"""Message formats the platform accepts from the bot, and how they are stored for display.

Two families: the OpenAPI ``msgKey`` + ``msgParam`` catalogue (protocol §4.1) and the custom
robot / sessionWebhook body (§2.2). Both are validated the way DingTalk does before anything is
delivered, then stored as ``{msgtype, content}`` in the target conversation.
"""

from __future__ import annotations

import json
from typing import Any

# msgKey -> (displayed msgtype, msgParam keys that must be present). ASSUMED: the required keys
# are our reading of the catalogue; DingTalk rejects an incomplete msgParam, the exact list is
# not published.
MSG_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sampleText": ("text", ("content",)),
    "sampleMarkdown": ("markdown", ("title", "text")),
    "sampleImageMsg": ("image", ("photoURL",)),
    "sampleLink": ("link", ("text", "title", "messageUrl")),
    "sampleActionCard": ("actionCard", ("title", "text", "singleTitle", "singleURL")),
    "sampleActionCard2": ("actionCard", ("title", "text")),
    "sampleActionCard3": ("actionCard", ("title", "text")),
    "sampleActionCard4": ("actionCard", ("title", "text")),
    "sampleActionCard5": ("actionCard", ("title", "text")),
    "sampleActionCard6": ("actionCard", ("title", "text")),
    "sampleAudio": ("audio", ("mediaId", "duration")),
    "sampleFile": ("file", ("mediaId", "fileName", "fileType")),
    "sampleVideo": ("video", ("duration", "videoMediaId", "videoType", "picMediaId")),
}

MSG_PARAM_INVALID = "msgParam must be in JSON format"

# Custom robot / sessionWebhook bodies (§2.2).
WEBHOOK_TYPES = ("text", "markdown", "link", "actionCard", "feedCard", "image")


class MessageError(ValueError):
    """A message the platform would refuse; ``code`` is the platform's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def parse_msg_param(msg_key: Any, msg_param: Any) -> tuple[str, dict[str, Any]]:
    """Check ``msgKey``/``msgParam`` and return (msgtype, the decoded parameters)."""
    if not isinstance(msg_key, str) or not msg_key:
        raise MessageError("invalidParameter.msgKey.empty", "msgKey 不能为空")
    if msg_key not in MSG_KEYS:
        raise MessageError("invalidParameter.msgKey.invalid", f"msgKey {msg_key} 不存在")
    # msgParam is a JSON *string* holding an object; an object, a Python repr or an array fails.
    if not isinstance(msg_param, str):
        raise MessageError("invalidParameter.msgParam.invalid", MSG_PARAM_INVALID)
    try:
        params = json.loads(msg_param)
    except ValueError as exc:
        raise MessageError("invalidParameter.msgParam.invalid", MSG_PARAM_INVALID) from exc
    if not isinstance(params, dict):
        raise MessageError("invalidParameter.msgParam.invalid", MSG_PARAM_INVALID)
    msgtype, required = MSG_KEYS[msg_key]
    missing = [key for key in required if key not in params]
    if missing:
        raise MessageError("invalidParameter.msgParam.invalid", f"msgParam 缺少参数 {', '.join(missing)}")
    return msgtype, params


def check_webhook_body(body: Any) -> tuple[str, dict[str, Any]]:
    """Check a §2 body; returns (msgtype, stored content = the type's object plus ``at``)."""
    if not isinstance(body, dict):
        raise MessageError("40035", "缺少参数 json")
    msgtype = body.get("msgtype")
    if msgtype not in WEBHOOK_TYPES:
        # ASSUMED errcode/text (seen only in other fakes).
        raise MessageError("400105", "不支持的 msgtype")
    content = body.get(msgtype)
    if not isinstance(content, dict):
        raise MessageError("40035", f"缺少参数 {msgtype}")
    stored = dict(content)
    if isinstance(body.get("at"), dict):
        stored["at"] = body["at"]
    return msgtype, stored


def searchable_text(msgtype: str, content: dict[str, Any]) -> str:
    """The text a custom robot's keywords are matched against."""
    parts: list[str] = []
    for key in ("content", "title", "text", "singleTitle"):
        value = content.get(key)
        if isinstance(value, str):
            parts.append(value)
    for item in content.get("links", []) if msgtype == "feedCard" else []:
        if isinstance(item, dict) and isinstance(item.get("title"), str):
            parts.append(item["title"])
    for button in content.get("btns", []) or []:
        if isinstance(button, dict) and isinstance(button.get("title"), str):
            parts.append(button["title"])
    return "\n".join(parts)


def preview(message: dict[str, Any]) -> str:
    """A one-line text for a stored message (the page and summaries show this)."""
    content = message.get("content") or {}
    msgtype = message.get("msgtype")
    if msgtype == "text":
        return str(content.get("content", ""))
    if msgtype in ("markdown", "actionCard", "link"):
        title, text = content.get("title", ""), content.get("text", "")
        return f"{title}\n{text}".strip()
    if msgtype == "richText":
        return "".join(str(item.get("text", "[图片]")) for item in content.get("richText", []))
    if msgtype == "interactiveCard":
        return f"[互动卡片] {content.get('outTrackId', '')}"
    if msgtype in ("picture", "image"):
        return "[图片]"
    if msgtype == "file":
        return f"[文件] {content.get('fileName', '')}"
    if msgtype == "audio":
        return f"[语音] {content.get('recognition', '')}".strip()
    if msgtype == "video":
        return "[视频]"
    if msgtype == "feedCard":
        return "\n".join(str(link.get("title", "")) for link in content.get("links", []))
    return json.dumps(content, ensure_ascii=False)
