"""Card instances as DingTalk keeps them (protocol §5.3, §5.4): create, deliver, update.

Pure state logic, no Flask: the card API views and the simulated card click both use it, so a
card changes in exactly one way whether the bot calls ``PUT /v1.0/card/instances`` or answers a
callback. Everything is validated before the first change, so a refused call leaves no trace.
"""

from __future__ import annotations

import copy
from typing import Any

from workspace.runtime import Workspace

SPACE_PREFIX = "dtv1.card//"
TEMPLATE_PREFIX, TEMPLATE_SUFFIX = "chayici.", ".schema"
SUPPORTED_SPACES = ("IM_GROUP", "IM_ROBOT")


class CardError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def template_key(card_template_id: str) -> str | None:
    """``chayici.<key>.schema`` -> ``<key>``; any other id is kept raw (no spec)."""
    if card_template_id.startswith(TEMPLATE_PREFIX) and card_template_id.endswith(TEMPLATE_SUFFIX):
        key = card_template_id[len(TEMPLATE_PREFIX) : -len(TEMPLATE_SUFFIX)]
        return key or None
    return None


def parse_spaces(open_space_id: Any) -> list[tuple[str, str]]:
    """``dtv1.card//IM_GROUP.<cid>;IM_ROBOT.<uid>`` -> [(TYPE, id)], types upper-cased.

    Case sensitivity of the type is UNCONFIRMED: both cases are accepted and stored upper-case.
    A repeated ``dtv1.card//`` prefix on later parts is accepted too.
    """
    if not isinstance(open_space_id, str) or not open_space_id.startswith(SPACE_PREFIX):
        raise CardError("param.openSpaceIdInvalid", "openSpaceId 格式不正确，应为 dtv1.card//<类型>.<ID>")
    spaces: list[tuple[str, str]] = []
    for part in open_space_id[len(SPACE_PREFIX) :].split(";"):
        part = part.strip()
        if part.startswith(SPACE_PREFIX):
            part = part[len(SPACE_PREFIX) :]
        space_type, dot, space_id = part.partition(".")
        if not part or not dot or not space_type or not space_id:
            raise CardError("param.openSpaceIdInvalid", f"openSpaceId 格式不正确：{part or '(空)'}")
        spaces.append((space_type.upper(), space_id))
    return spaces


def param_map(container: Any, where: str, *, required: bool = False) -> dict[str, str] | None:
    """``{cardParamMap: {...}}`` -> the map. Values must all be strings (ASSUMED: stricter than
    the platform is known to be, which is safer than discovering it in production)."""
    if container is None:
        if required:
            raise CardError("param.cardPublicDataEmpty", "cardData 不能为空")
        return None
    if not isinstance(container, dict):
        raise CardError("param.cardDataInvalid", f"{where} 必须是对象")
    values = container.get("cardParamMap", {})
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise CardError("param.cardDataInvalid", f"{where}.cardParamMap 必须是对象")
    for key, value in values.items():
        if not isinstance(value, str):
            raise CardError(
                "param.cardParamMapValueNotString",
                f"{where}.cardParamMap 的值必须是字符串：{key} 的值是 {type(value).__name__}",
            )
    return dict(values)


def private_maps(private: Any, where: str = "privateData") -> dict[str, dict[str, str]]:
    if private is None:
        return {}
    if not isinstance(private, dict):
        raise CardError("param.cardDataInvalid", f"{where} 必须是对象")
    maps: dict[str, dict[str, str]] = {}
    for user_id, container in private.items():
        maps[user_id] = param_map(container, f"{where}.{user_id}") or {}
    return maps


def _check_deliver_models(spaces: list[tuple[str, str]], body: dict[str, Any]) -> None:
    if any(space_type == "IM_GROUP" for space_type, _ in spaces):
        model = body.get("imGroupOpenDeliverModel")
        if not isinstance(model, dict) or not model.get("robotCode"):
            # ASSUMED code: the requirement is documented, the error code is not.
            raise CardError(
                "param.robotCodeEmpty", "投放到群聊（IM_GROUP）时 imGroupOpenDeliverModel.robotCode 不能为空"
            )


def new_card(ws: Workspace, body: dict[str, Any]) -> dict[str, Any]:
    """Validate a create request and build (not store) the card record."""
    template_id = body.get("cardTemplateId")
    if not isinstance(template_id, str) or not template_id:
        raise CardError("param.cardTemplateIdEmpty", "cardTemplateId 不能为空")
    out_track_id = body.get("outTrackId")
    if not isinstance(out_track_id, str) or not out_track_id:
        raise CardError("param.outTrackIdEmpty", "outTrackId 不能为空")
    params = param_map(body.get("cardData"), "cardData", required=True) or {}
    private = private_maps(body.get("privateData"))
    now = ws.now_ms()
    return {
        "outTrackId": out_track_id,
        "cardTemplateId": template_id,
        "templateKey": template_key(template_id),
        "callbackType": body.get("callbackType") or "STREAM",
        "callbackRouteKey": body.get("callbackRouteKey"),
        "params": params,
        "private": private,
        "spaces": [],
        "version": 1,
        # Change cursor (shared with messages and calls): the page asks for cards changed since.
        "seq": ws.state.next_seq(),
        "createdAt": now,
        "updatedAt": now,
        "history": [{"version": 1, "time": now, "kind": "create", "params": dict(params)}],
    }


def create(
    ws: Workspace, body: dict[str, Any], *, deliver: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Create (and optionally deliver) a card. An existing outTrackId keeps its card unchanged
    (ASSUMED: real behaviour unconfirmed); delivery to spaces it already reached is a no-op that
    answers with the original carrierId, so a retried call gets the same answer."""
    card = new_card(ws, body)
    spaces = parse_spaces(body.get("openSpaceId")) if deliver else []
    _check_deliver_models(spaces, body)
    with ws.state.lock:
        existing = ws.state.cards.get(card["outTrackId"])
        if existing is None:
            ws.state.cards[card["outTrackId"]] = card
        else:
            card = existing
        results = _deliver(ws, card, spaces, body)
    return card, results


def deliver(ws: Workspace, body: dict[str, Any]) -> list[dict[str, Any]]:
    out_track_id = body.get("outTrackId")
    if not isinstance(out_track_id, str) or not out_track_id:
        raise CardError("param.outTrackIdEmpty", "outTrackId 不能为空")
    spaces = parse_spaces(body.get("openSpaceId"))
    _check_deliver_models(spaces, body)
    with ws.state.lock:
        card = _card(ws, out_track_id)
        return _deliver(ws, card, spaces, body)


def _deliver(
    ws: Workspace, card: dict[str, Any], spaces: list[tuple[str, str]], body: dict[str, Any]
) -> list[dict[str, Any]]:
    results = []
    for space_type, space_id in spaces:
        done = next(
            (s for s in card["spaces"] if s["spaceType"] == space_type and s["spaceId"] == space_id), None
        )
        if done is not None:
            results.append(_result(space_type, space_id, carrier=done["carrierId"]))
            continue
        cid, error = _target(ws, space_type, space_id, body)
        if error:
            results.append(_result(space_type, space_id, error=error))
            continue
        carrier = ws.ids.carrier_id()
        assert cid is not None
        content: dict[str, Any] = {
            "outTrackId": card["outTrackId"],
            "cardTemplateId": card["cardTemplateId"],
            "templateKey": card["templateKey"],
        }
        group_model = body.get("imGroupOpenDeliverModel") or {}
        if space_type == "IM_GROUP" and isinstance(group_model.get("atUserIds"), dict):
            content["atUserIds"] = group_model["atUserIds"]
        ws.state.add_message(
            cid,
            msg_id=ws.ids.msg_id(),
            sender="bot",
            msgtype="interactiveCard",
            content=content,
            time_ms=ws.now_ms(),
            via="card/instances",
            extra={"outTrackId": card["outTrackId"], "carrierId": carrier},
        )
        card["spaces"].append(
            {"spaceType": space_type, "spaceId": space_id, "carrierId": carrier, "conversationId": cid}
        )
        card["seq"] = ws.state.next_seq()  # newly visible to the space's members
        results.append(_result(space_type, space_id, carrier=carrier))
    return results


def _target(
    ws: Workspace, space_type: str, space_id: str, body: dict[str, Any]
) -> tuple[str | None, str | None]:
    """The conversation a space means, or the deliverResults errorMsg."""
    if space_type == "IM_GROUP":
        if body["imGroupOpenDeliverModel"]["robotCode"] != ws.config.robot_code:
            return None, "robotCode 不存在"
        if ws.state.group(space_id) is None:
            return None, f"群会话不存在：{space_id}"
        return space_id, None
    if space_type == "IM_ROBOT":
        if space_id not in ws.state.users:
            return None, f"用户不存在：{space_id}"
        return ws.state.private_conversation(space_id), None
    return None, f"工作台暂不支持该场域类型：{space_type}"


def _result(
    space_type: str, space_id: str, *, carrier: str | None = None, error: str | None = None
) -> dict[str, Any]:
    return {
        "spaceType": space_type,
        "spaceId": space_id,
        "success": error is None,
        "carrierId": carrier,
        "errorMsg": error,
    }


def _card(ws: Workspace, out_track_id: str) -> dict[str, Any]:
    card = ws.state.cards.get(out_track_id)
    if card is None:
        # ASSUMED code for an unknown outTrackId.
        raise CardError("param.cardInstanceNotExist", f"卡片实例不存在：{out_track_id}")
    return card


def update(ws: Workspace, body: dict[str, Any]) -> dict[str, Any]:
    """``PUT /v1.0/card/instances``: byKey true merges, false (the default) replaces."""
    out_track_id = body.get("outTrackId")
    if not isinstance(out_track_id, str) or not out_track_id:
        raise CardError("param.outTrackIdEmpty", "outTrackId 不能为空")
    public = param_map(body.get("cardData"), "cardData")
    private = private_maps(body.get("privateData"))
    options = body.get("cardUpdateOptions") or {}
    with ws.state.lock:
        card = _card(ws, out_track_id)
        apply(ws, card, public, private, options, kind="update", actor="bot")
        return card


def apply(
    ws: Workspace,
    card: dict[str, Any],
    public: dict[str, str] | None,
    private: dict[str, dict[str, str]],
    options: Any,
    *,
    kind: str,
    actor: str,
) -> bool:
    """Change a card's data. Returns False (and changes nothing) when there is nothing to apply."""
    if public is None and not private:
        return False
    options = options if isinstance(options, dict) else {}
    by_key = bool(options.get("updateCardDataByKey", False))
    private_by_key = bool(options.get("updatePrivateDataByKey", False))
    with ws.state.lock:
        if public is not None:
            card["params"] = {**card["params"], **public} if by_key else dict(public)
        for user_id, values in private.items():
            before = card["private"].get(user_id, {})
            card["private"][user_id] = {**before, **values} if private_by_key else dict(values)
        card["version"] += 1
        card["seq"] = ws.state.next_seq()
        card["updatedAt"] = ws.now_ms()
        card["history"].append(
            {
                "version": card["version"],
                "time": card["updatedAt"],
                "kind": kind,
                "actor": actor,
                "options": {"updateCardDataByKey": by_key, "updatePrivateDataByKey": private_by_key},
                "params": copy.deepcopy(public),
                "private": copy.deepcopy(private),
            }
        )
    return True


def apply_callback_answer(ws: Workspace, card: dict[str, Any], user_id: str, answer: Any) -> dict[str, Any]:
    """Apply the bot's answer to a card callback as DingTalk does (§5.4).

    ``cardData.cardParamMap`` updates everyone's view; ``userPrivateData.cardParamMap`` updates the
    clicking user's private data (the ``privateData: {userId: ...}`` form is accepted too). An empty
    answer leaves the card unchanged. A malformed answer is not applied.
    """
    if not isinstance(answer, dict) or not answer:
        return {"applied": False, "reason": "empty answer"}
    try:
        public = param_map(answer.get("cardData"), "cardData")
        private = private_maps(answer.get("privateData"))
        own = param_map(answer.get("userPrivateData"), "userPrivateData")
    except CardError as exc:
        return {"applied": False, "reason": exc.message}
    if own is not None:
        private = {**private, user_id: {**private.get(user_id, {}), **own}}
    applied = apply(
        ws, card, public, private, answer.get("cardUpdateOptions"), kind="callback", actor=user_id
    )
    return {"applied": applied, "reason": "" if applied else "nothing to update"}
