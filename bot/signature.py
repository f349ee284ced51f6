"""DingTalk robot-callback signatures.

sign = Base64(HMAC-SHA256(key=AppSecret, msg=timestamp + "\\n" + AppSecret)), standard Base64
with padding and no URL-encoding. The signature covers the timestamp only, not the body, so a
captured header pair is replayable within the window: dedupe on msgId is the second guard.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


def robot_sign(timestamp: str, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode(), f"{timestamp}\n{app_secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    reason: str = ""


def verify_robot_signature(
    timestamp: str | None, sign: str | None, *, app_secret: str, now_ms: int, window_ms: int
) -> SignatureCheck:
    """Check the ``timestamp``/``sign`` headers. The window is inclusive: |now - ts| <= window."""
    if not timestamp or not sign:
        return SignatureCheck(False, "缺少 timestamp 或 sign 请求头")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 16:
        return SignatureCheck(False, "timestamp 请求头不是毫秒时间戳")
    if abs(now_ms - int(timestamp)) > window_ms:
        return SignatureCheck(False, "timestamp 超出允许的时间窗口")
    expected = robot_sign(timestamp, app_secret)
    if not hmac.compare_digest(expected.encode(), sign.encode("utf-8", "replace")):
        return SignatureCheck(False, "签名不正确")
    return SignatureCheck(True)
