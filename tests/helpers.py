"""Helpers for tests: signed callbacks, people, message bodies."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.signature import robot_sign
from storage.models.platform import ChatIdentity, Person, PersonRole, Unit

CORP = "dingchayicicorp"
GROUP = "cidTESTgroup0001AbCdEf=="
_ids = itertools.count(1)


def signed_headers(secret: str, timestamp_ms: int) -> dict[str, str]:
    ts = str(timestamp_ms)
    return {
        "timestamp": ts,
        "sign": robot_sign(ts, secret),
        "Content-Type": "application/json; charset=utf-8",
    }


def robot_body(
    text: str,
    *,
    staff_id: str | None = "staff-1",
    group: bool = True,
    msg_id: str | None = None,
    conversation_id: str = GROUP,
    created_ms: int = 1_764_550_800_000,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "msgtype": "text",
        "text": {"content": (" " + text) if group else text},
        "msgId": msg_id or f"msgTEST{next(_ids):012d}==",
        "createAt": created_ms,
        "conversationType": "2" if group else "1",
        "conversationId": conversation_id if group else f"cidp-{staff_id}",
        "senderId": "$:LWCP_v1:$sender",
        "senderNick": "测试用户",
        "senderCorpId": CORP,
        "chatbotUserId": "$:LWCP_v1:$bot",
        "robotCode": "dingchayicidemo",
        "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "sessionWebhookExpiredTime": created_ms + 5_400_000,
    }
    if staff_id is not None:
        body["senderStaffId"] = staff_id
    if group:
        body["conversationTitle"] = "联合检查工作群"
        body["isInAtList"] = True
        body["atUsers"] = [{"dingtalkId": "$:LWCP_v1:$bot"}]
    body.update(extra)
    return body


def post_robot(client: Any, secret: str, body: dict[str, Any] | bytes, now: datetime, **headers: str) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    all_headers = signed_headers(secret, int(now.timestamp() * 1000))
    all_headers.update(headers)
    return client.post("/dingtalk/robot", data=raw, headers=all_headers)


def card_body(
    out_track_id: str, user_id: str, action_id: str, params: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    content = json.dumps(
        {"cardPrivateData": {"actionIds": [action_id], "params": {"action": action_id, **(params or {})}}},
        ensure_ascii=False,
    )
    body = {
        "outTrackId": out_track_id,
        "corpId": CORP,
        "userId": user_id,
        "userIdType": 1,
        "type": "actionCallback",
        "content": content,
        "value": content,
        "extension": "{}",
    }
    body.update(extra)
    return body


def make_unit(
    session: Session,
    name: str = "市综合行政执法局",
    short: str = "丽综执",
    kind: str = "bureau",
    parent: Unit | None = None,
) -> Unit:
    unit = Unit(name=name, short_name=short, kind=kind, parent_id=parent.id if parent else None, active=True)
    session.add(unit)
    session.flush()
    return unit


def make_person(
    session: Session,
    name: str,
    staff_id: str,
    *,
    now: datetime,
    roles: tuple[str, ...] = (),
    unit: Unit | None = None,
    corp_id: str = CORP,
) -> Person:
    person = Person(name=name, unit_id=unit.id if unit else None, active=True, created_at=now)
    session.add(person)
    session.flush()
    for role in roles:
        session.add(PersonRole(person_id=person.id, role=role, unit_id=unit.id if unit else None))
    session.add(ChatIdentity(corp_id=corp_id, staff_id=staff_id, person_id=person.id, nick=name))
    session.flush()
    session.refresh(person)
    return person
