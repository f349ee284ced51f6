"""The two DingTalk signatures the workspace computes.

Robot and card callbacks (protocol §1.2): ``sign = Base64(HMAC-SHA256(AppSecret, ts + "\\n" +
AppSecret))``, sent as headers ``timestamp``/``sign``. Custom robots (§2.1) use the same
formula with the robot's ``SEC…`` secret, URL-encoded in the query; the workspace receives the
query already URL-decoded once (as DingTalk does) and compares in constant time.

This mirrors ``bot.signature`` on purpose: the workspace may not import ``bot``, and a fake that
shared the bot's code could not catch the bot's mistakes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def hmac_sign(timestamp: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def callback_headers(timestamp_ms: int, app_secret: str) -> dict[str, str]:
    """Headers of a robot or card callback, exactly as DingTalk sends them."""
    timestamp = str(timestamp_ms)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "timestamp": timestamp,
        "sign": hmac_sign(timestamp, app_secret),
    }


def check_custom_robot_sign(
    timestamp: str | None, sign: str | None, *, secret: str, now_ms: int, window_ms: int
) -> str | None:
    """None when the signed URL is acceptable, else DingTalk's errmsg for errcode 310000."""
    if not timestamp or not sign or not timestamp.isascii() or not timestamp.isdigit():
        return "sign not match"
    if abs(now_ms - int(timestamp)) > window_ms:
        return "invalid timestamp"
    expected = hmac_sign(timestamp, secret)
    if not hmac.compare_digest(expected.encode(), sign.encode("utf-8", "replace")):
        return "sign not match"
    return None
