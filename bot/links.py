"""Signed, expiring tokens for links the bot hands out (mobile forms, the dashboard login).

``<payload>.<mac>``: the payload is base64url of compact JSON claims plus ``e`` (expiry, epoch
seconds); the MAC is HMAC-SHA256 under ``settings.link_secret`` over a purpose prefix and the
payload, compared in constant time. The purpose keeps a token for one page from opening another.
A link is only a way in: the page still checks, on every request, who may see what.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any


class LinkError(ValueError):
    """``kind`` is "incomplete", "invalid" or "expired"; callers turn it into their own words."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: bytes, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), purpose + payload.encode(), hashlib.sha256).digest())


def seal(secret: str, purpose: bytes, claims: dict[str, Any], expires: datetime) -> str:
    body = {**claims, "e": int(expires.timestamp())}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, purpose, payload)}"


def unseal(
    secret: str, purpose: bytes, token: str, now: datetime, *, max_length: int = 400
) -> dict[str, Any]:
    """The claims of a valid, unexpired token (``e`` included), else ``LinkError``."""
    payload, _, mac = (token or "").partition(".")
    if not payload or not mac or len(token) > max_length:
        raise LinkError("incomplete")
    if not hmac.compare_digest(mac, _mac(secret, purpose, payload)):
        raise LinkError("invalid")
    try:
        claims = json.loads(_unb64(payload))
        expires = int(claims["e"])
    except (ValueError, KeyError, TypeError):
        raise LinkError("invalid") from None
    if not isinstance(claims, dict):
        raise LinkError("invalid")
    if now.timestamp() > expires:
        raise LinkError("expired")
    return claims
