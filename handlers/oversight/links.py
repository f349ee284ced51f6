"""Signed, expiring login links to the progress page (``/dashboard/login?t=<token>``).

``<payload>.<mac>``: base64url of ``{"p": person, "e": expiry}`` and an HMAC-SHA256 under
``settings.link_secret`` with its own purpose prefix (a result-form token is no dashboard token),
compared in constant time. The same token is then kept in an HttpOnly cookie scoped to
``/dashboard``; every request checks it again, and that the person still holds a role that may
see the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.links import LinkError, seal, unseal
from bot.settings import Settings

PURPOSE = b"chayici-dashboard/1\n"
COOKIE = "chayici_dashboard"
MESSAGES = {
    "incomplete": "链接不完整，请在钉钉中向机器人发送「看板」重新获取。",
    "invalid": "链接无效，请在钉钉中向机器人发送「看板」重新获取。",
    "expired": "登录已过期，请在钉钉中向机器人发送「看板」重新获取链接。",
}


@dataclass(frozen=True)
class Grant:
    person_id: int
    expires: int


class BadLink(ValueError):
    """Malformed, forged or expired. The message is for users."""


def sign(settings: Settings, person_id: int, now: datetime) -> str:
    expires = now + timedelta(hours=settings.dashboard_link_hours)
    return seal(settings.link_secret.get_secret_value(), PURPOSE, {"p": person_id}, expires)


def verify(settings: Settings, token: str, now: datetime) -> Grant:
    try:
        claims = unseal(settings.link_secret.get_secret_value(), PURPOSE, token, now, max_length=300)
        return Grant(int(claims["p"]), int(claims["e"]))
    except LinkError as problem:
        raise BadLink(MESSAGES[problem.kind]) from None
    except (KeyError, TypeError, ValueError):
        raise BadLink(MESSAGES["invalid"]) from None


def url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/dashboard/login?t={token}"
