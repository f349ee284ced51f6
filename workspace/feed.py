"""``/_ws`` read side for the phone page: one person's view, template specs, and stored bytes.

The page polls ``GET /_ws/feed`` about once a second. One request returns everything that changed
for that person since a cursor (new messages in their conversations, cards they can see that were
created, delivered or updated), so the page never needs one request per conversation. Cursors are
the workspace's sequence numbers, shared by messages, cards, calls and callbacks: they never repeat,
even when a manual clock stands still.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, request

from cards import spec as card_spec
from workspace import card_view
from workspace.actors import ActorError
from workspace.messages import preview
from workspace.runtime import current
from workspace.state import State
from workspace.users import reply

blueprint = Blueprint("workspace_feed", __name__, url_prefix="/_ws")

FIRST_LOAD_MESSAGES = 300  # per conversation on a first load (since=0); later polls get all news


@blueprint.errorhandler(ActorError)
def _actor_error(error: ActorError) -> Response:
    return reply({"error": error.message}, error.status)


def _since() -> int:
    try:
        return int(request.args.get("since", "0"))
    except ValueError as exc:
        raise ActorError(400, "since 必须是整数（seq）") from exc


def can_see(state: State, card: dict[str, Any], staff_id: str) -> bool:
    """A card is seen in its 1:1 chat and by every member of a group it was delivered to."""
    for space in card["spaces"]:
        if space["spaceType"] == "IM_ROBOT" and space["spaceId"] == staff_id:
            return True
        group = state.group(space["spaceId"]) if space["spaceType"] == "IM_GROUP" else None
        if group is not None and staff_id in group["members"]:
            return True
    return False


def card_for(card: dict[str, Any], staff_id: str) -> dict[str, Any]:
    """A card as one person sees it: public params plus only their own private data (``mine``)."""
    return {
        "outTrackId": card["outTrackId"],
        "cardTemplateId": card["cardTemplateId"],
        "templateKey": card["templateKey"],
        "params": dict(card["params"]),
        "mine": dict(card["private"].get(staff_id, {})),
        "spaces": copy.deepcopy(card["spaces"]),
        "version": card["version"],
        "seq": card.get("seq", 0),
        "view": card_view.headline(card, staff_id),
    }


def _preview(state: State, message: dict[str, Any], staff_id: str) -> str:
    if message["msgtype"] == "interactiveCard":
        card = state.cards.get(message["content"].get("outTrackId", ""))
        if card is not None:
            head = card_view.headline(card, staff_id)
            return f"[卡片] {head['title']}".strip()
    return preview(message).replace("\n", " ")[:80]


@blueprint.get("/feed")
def feed() -> Response:
    """What changed for ``staffId`` since ``since``: conversations (always all of them, with their
    last message), new messages, and the cards they can see that changed."""
    staff_id = request.args.get("staffId", "")
    since = _since()
    state = current().state
    with state.lock:
        if staff_id not in state.users:
            raise ActorError(404, f"没有这个用户：{staff_id}")
        conversations, messages = [], []
        for cid, conversation in state.conversations.items():
            if staff_id not in conversation["members"]:
                continue
            items = state.messages[cid]
            last = items[-1] if items else None
            conversations.append(
                {
                    **copy.deepcopy(conversation),
                    "messageCount": len(items),
                    "lastSeq": last["seq"] if last else 0,
                    "lastTime": last["time"] if last else 0,
                    "lastSender": last["sender"] if last else None,
                    "preview": _preview(state, last, staff_id) if last else "",
                }
            )
            news = [m for m in items if m["seq"] > since]
            if since == 0:
                news = news[-FIRST_LOAD_MESSAGES:]
            messages.extend(copy.deepcopy(news))
        cards = [
            card_for(card, staff_id)
            for card in state.cards.values()
            if card.get("seq", 0) > since and can_see(state, card, staff_id)
        ]
        body = {
            "seq": state.last_seq(),
            "nowMs": current().now_ms(),
            "conversations": conversations,
            "messages": sorted(messages, key=lambda m: m["seq"]),
            "cards": cards,
        }
    return reply(body)


def _public_spec(key: str) -> dict[str, Any]:
    try:
        spec = card_spec.load(key)
    except card_spec.SpecError as exc:
        raise ActorError(404, f"没有这个卡片模板：{key}") from exc
    shown = {name: value for name, value in spec.items() if not name.startswith("_")}
    shown["actionIds"] = list(spec["_action_ids"])
    return shown


@blueprint.get("/specs")
def specs() -> Response:
    """Every card template spec (``cards/templates``), so a renderer needs one request."""
    names = card_spec.keys()  # the template files, not a dict
    return reply({"specs": {key: _public_spec(key) for key in names}})


@blueprint.get("/specs/<key>")
def one_spec(key: str) -> Response:
    return reply(_public_spec(key))


@blueprint.get("/files/<path:code>")
def file_by_code(code: str) -> Response:
    """The bytes behind a message's ``downloadCode`` (a person's photo), for display. DingTalk's
    own link goes through ``messageFiles/download``; the page is a person, not the bot."""
    state = current().state
    with state.lock:
        stored = state.files.get(code)
    if stored is None:
        abort(404)
    return _bytes(stored["data"], stored["contentType"], stored["name"])


@blueprint.get("/media/<path:media_id>")
def media_by_id(media_id: str) -> Response:
    """The bytes of a ``media_id`` the bot uploaded (an image in a card, a file it sent)."""
    state = current().state
    with state.lock:
        stored = state.media.get(media_id)
    if stored is None:
        abort(404)
    return _bytes(stored["data"], stored["contentType"], stored["name"])


def _bytes(data: bytes, content_type: str, name: str) -> Response:
    response = Response(data, status=200, content_type=content_type)
    # Pictures are shown inline; anything else downloads (never rendered as a page of ours).
    inline = content_type.startswith("image/") and "svg" not in content_type
    disposition = "inline" if inline else f"attachment; filename*=UTF-8''{quote(name or 'file')}"
    response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
