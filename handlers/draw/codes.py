"""行政行为码 (亮码检查): one unguessable code per (task, object), and its QR image.

A code is 24 base32 letters from 15 random bytes (120 bits): nobody can find a valid code by
trying, so the public page needs no login. It is stored, never derived, so it can be revoked.
The QR holds the public page's address, drawn as a PNG data URL for the card's image variable.
"""

from __future__ import annotations

import base64
import re
import secrets

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from storage.models import BehaviourCode
from storage.upsert import insert_ignore

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


def ensure(session: Session, *, task_id: int, object_id: int, now: object) -> str:
    """The code of (task, object), created on first use. Safe against a concurrent creator."""
    insert_ignore(
        session,
        BehaviourCode,
        {"code": new_code(), "task_id": task_id, "object_id": object_id, "created_at": now},
        conflict_column=("task_id", "object_id"),
    )
    return str(
        session.execute(
            select(BehaviourCode.code).where(
                BehaviourCode.task_id == task_id, BehaviourCode.object_id == object_id
            )
        ).scalar_one()
    )


def url(settings: Settings, code: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/code/{code}"


def qr_data_uri(target: str) -> str:
    """PNG data URL of a QR code for ``target`` (error correction M)."""
    return segno.make_qr(target, error="m").png_data_uri(scale=4, border=2)
