"""Signed links to the mobile result form (``/form/<token>``).

A token binds one record to one person and expires: ``<payload>.<mac>`` where the payload is
base64url of ``{"r": record, "p": person, "e": expiry (epoch seconds)}`` and the MAC is
HMAC-SHA256 under ``settings.link_secret``, compared in constant time. The link is only a way in:
every request still checks that the person is on the record's team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.links import LinkError, seal, unseal
from bot.settings import Settings

PURPOSE = b"chayici-result-form/1\n"
MESSAGES = {
    "incomplete": "链接不完整，请从结果卡片重新打开。",
    "invalid": "链接无效，请从结果卡片重新打开。",
    "expired": "链接已过期，请从结果卡片重新打开（卡片上的链接会自动更新）。",
}


@dataclass(frozen=True)
class Grant:
    record_id: int
    person_id: int
    expires: int


class BadLink(ValueError):
    """The token is malformed, forged or expired. The message is for users."""


def sign(settings: Settings, record_id: int, person_id: int, now: datetime) -> str:
    expires = now + timedelta(hours=settings.result_link_hours)
    return seal(settings.link_secret.get_secret_value(), PURPOSE, {"r": record_id, "p": person_id}, expires)


def verify(settings: Settings, token: str, now: datetime) -> Grant:
    try:
        claims = unseal(settings.link_secret.get_secret_value(), PURPOSE, token, now, max_length=400)
        return Grant(int(claims["r"]), int(claims["p"]), int(claims["e"]))
    except LinkError as problem:
        raise BadLink(MESSAGES[problem.kind]) from None
    except (KeyError, TypeError, ValueError):
        raise BadLink(MESSAGES["invalid"]) from None


def url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/form/{token}"
