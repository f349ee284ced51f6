"""Identifiers that look like DingTalk's (msgId, conversationId, request ids, tokens, ...).

All come from one seeded ``random.Random`` so a test run is reproducible. Shapes follow the
protocol notes: conversation ids ``cid…==``, message ids ``msg…==``, request ids as upper-case
UUIDs, trace ids as lower-case hex, media ids ``@lA…``.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
import threading
import uuid

_B64 = string.ascii_letters + string.digits + "+/"
_ALNUM = string.ascii_letters + string.digits


class IdFactory:
    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def _choice(self, alphabet: str, length: int) -> str:
        with self._lock:
            return "".join(self._rng.choice(alphabet) for _ in range(length))

    def hex(self, length: int) -> str:
        return self._choice("0123456789abcdef", length)

    def integer(self, low: int, high: int) -> int:
        with self._lock:
            return self._rng.randint(low, high)

    def request_id(self) -> str:
        with self._lock:
            value = uuid.UUID(int=self._rng.getrandbits(128), version=4)
        return str(value).upper()

    def trace_id(self) -> str:
        return self.hex(32)

    def access_token(self) -> str:
        return self.hex(32)

    def msg_id(self) -> str:
        return "msg" + self._choice(_B64, 22) + "=="

    def group_conversation_id(self) -> str:
        return "cid" + self._choice(_B64, 22) + "=="

    def process_query_key(self) -> str:
        return self._choice(_B64, 43) + "="

    def carrier_id(self) -> str:
        return self._choice(_B64, 22) + "="

    def media_id(self) -> str:
        return "@lA" + self._choice(_ALNUM, 28)

    def download_code(self) -> str:
        return "mIof" + self._choice(_ALNUM, 40)

    def file_token(self) -> str:
        return self._choice(_ALNUM, 32)

    def session(self) -> str:
        return self.hex(32)

    def task_id(self) -> int:
        return self.integer(10**11, 10**12 - 1)

    def oapi_request_id(self) -> str:
        return self._choice(string.ascii_lowercase + string.digits, 12)


def stable_id(prefix: str, *parts: str, length: int = 22, suffix: str = "") -> str:
    """A deterministic id derived from ``parts`` (the same user always gets the same one)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    text = base64.b64encode(digest).decode()
    return prefix + text[:length] + suffix


def lwcp_id(*parts: str) -> str:
    """An encrypted-looking ``$:LWCP_v1:$…`` id (senderId, chatbotUserId)."""
    return stable_id("$:LWCP_v1:$", *parts, length=32)
