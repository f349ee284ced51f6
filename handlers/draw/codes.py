"""行政行为码 (亮码检查): one unguessable code per (task, object), and its QR image.

A code is 24 base32 letters from 15 random bytes (120 bits): nobody can find a valid code by
trying, so the public page needs no login. It is stored, never derived, so it can be revoked.
The QR holds the public page's address, drawn as a PNG data URL for the card's image variable.
"""

from __future__ import annotations

import base64
import re
import secrets
from functools import lru_cache

import segno
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.settings import Settings
from cards import qr_png as qr_png_module
from storage.models import BehaviourCode

CODE_LENGTH = 24
CODE_PATTERN = re.compile(r"[A-Z2-7]{24}")


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii")


def normalise(text: str) -> str | None:
    """A code as typed or scanned (spaces, hyphens, lower case allowed), or None if malformed."""
    code = re.sub(r"[\s-]", "", text or "").upper()
    return code if CODE_PATTERN.fullmatch(code) else None


def display(code: str) -> str:
    """Groups of four, easier to read aloud and to compare."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def _codes(session: Session, task_id: int, object_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(object_ids), 900):
        rows = session.execute(
            select(BehaviourCode.object_id, BehaviourCode.code).where(
                BehaviourCode.task_id == task_id, BehaviourCode.object_id.in_(object_ids[start : start + 900])
            )
        )
        found.update({int(object_id): str(code) for object_id, code in rows})
    return found


def ensure_many(session: Session, *, task_id: int, object_ids: list[int], now: object) -> dict[int, str]:
    """Codes of many objects of one task, creating the missing ones in one statement."""
    wanted = sorted(set(object_ids))
    found = _codes(session, task_id, wanted)
    missing = [o for o in wanted if o not in found]
    if missing:
        session.execute(
            insert(BehaviourCode),
            [{"code": new_code(), "task_id": task_id, "object_id": o, "created_at": now} for o in missing],
        )
        found.update(_codes(session, task_id, missing))
    return found


def url(settings: Settings, code: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/code/{code}"


def qr_url(settings: Settings, code: str) -> str:
    """Address of the QR picture of a code's public page, which the dispatch card shows.

    The card carries this address, not the picture: drawing a QR costs about 1.5 ms, and a
    dispatch of a thousand cards would otherwise draw two hundred of them inside the lead's
    request and store each picture in every card row and outbox row. The picture is drawn when a
    phone first asks for it (``GET /code/<code>/qr.png``) and cached there.
    """
    return f"{url(settings, code)}/qr.png"


@lru_cache(maxsize=4096)
def qr_png(target: str) -> bytes:
    """PNG of a QR code for ``target`` (error correction M).

    The mask pattern is fixed: every one of the eight masks is valid (ISO/IEC 18004) and phone
    scanners read them all; choosing the "best" one means scoring all eight and costs 2.9 ms of
    the 3.5 ms per code.
    """
    return qr_png_module.png(segno.make_qr(target, error="m", mask=0).matrix, scale=4, border=2)
