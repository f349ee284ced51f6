"""Signed, expiring login links to the progress page (``/dashboard/login?t=<token>``).

``<payload>.<mac>``: base64url of ``{"p": person, "e": expiry}`` and an HMAC-SHA256 under
``settings.link_secret`` with its own purpose prefix (a result-form token is no dashboard token),
compared in constant time. The same token is then kept in an HttpOnly cookie scoped to
``/dashboard``; every request checks it again, and that the person still holds a role that may
see the page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.settings import Settings

PURPOSE = b"chayici-dashboard/1\n"
COOKIE = "chayici_dashboard"


@dataclass(frozen=True)
class Grant:
    person_id: int
    expires: int


class BadLink(ValueError):
    """Malformed, forged or expired. The message is for users."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(settings: Settings, payload: str) -> str:
    key = settings.link_secret.get_secret_value().encode()
    return _b64(hmac.new(key, PURPOSE + payload.encode(), hashlib.sha256).digest())


def sign(settings: Settings, person_id: int, now: datetime) -> str:
    expires = int((now + timedelta(hours=settings.dashboard_link_hours)).timestamp())
    payload = _b64(json.dumps({"p": person_id, "e": expires}, separators=(",", ":")).encode())
    return f"{payload}.{_mac(settings, payload)}"


def verify(settings: Settings, token: str, now: datetime) -> Grant:
    payload, _, mac = (token or "").partition(".")
    if not payload or not mac or len(token) > 300:
        raise BadLink("链接不完整，请在钉钉中向机器人发送「看板」重新获取。")
    if not hmac.compare_digest(mac, _mac(settings, payload)):
        raise BadLink("链接无效，请在钉钉中向机器人发送「看板」重新获取。")
    try:
        data = json.loads(_unb64(payload))
        grant = Grant(int(data["p"]), int(data["e"]))
    except (ValueError, KeyError, TypeError):
        raise BadLink("链接无效，请在钉钉中向机器人发送「看板」重新获取。") from None
    if now.timestamp() > grant.expires:
        raise BadLink("登录已过期，请在钉钉中向机器人发送「看板」重新获取链接。")
    return grant


def url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/dashboard/login?t={token}"
