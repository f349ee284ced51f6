"""Signed links to the mobile result form (``/form/<token>``).

A token binds one record to one person and expires: ``<payload>.<mac>`` where the payload is
base64url of ``{"r": record, "p": person, "e": expiry (epoch seconds)}`` and the MAC is
HMAC-SHA256 under ``settings.link_secret``, compared in constant time. The link is only a way in:
every request still checks that the person is on the record's team.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.settings import Settings

PURPOSE = b"chayici-result-form/1\n"


@dataclass(frozen=True)
class Grant:
    record_id: int
    person_id: int
    expires: int


class BadLink(ValueError):
    """The token is malformed, forged or expired. The message is for users."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(settings: Settings, payload: str) -> str:
    key = settings.link_secret.get_secret_value().encode()
    return _b64(hmac.new(key, PURPOSE + payload.encode(), hashlib.sha256).digest())


def sign(settings: Settings, record_id: int, person_id: int, now: datetime) -> str:
    expires = int((now + timedelta(hours=settings.result_link_hours)).timestamp())
    payload = _b64(json.dumps({"r": record_id, "p": person_id, "e": expires}, separators=(",", ":")).encode())
    return f"{payload}.{_mac(settings, payload)}"


def verify(settings: Settings, token: str, now: datetime) -> Grant:
    payload, _, mac = token.partition(".")
    if not payload or not mac or len(token) > 400:
        raise BadLink("链接不完整，请从结果卡片重新打开。")
    if not hmac.compare_digest(mac, _mac(settings, payload)):
        raise BadLink("链接无效，请从结果卡片重新打开。")
    try:
        data = json.loads(_unb64(payload))
        grant = Grant(int(data["r"]), int(data["p"]), int(data["e"]))
    except (ValueError, KeyError, TypeError):
        raise BadLink("链接无效，请从结果卡片重新打开。") from None
    if now.timestamp() > grant.expires:
        raise BadLink("链接已过期，请从结果卡片重新打开（卡片上的链接会自动更新）。")
    return grant


def url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/form/{token}"
