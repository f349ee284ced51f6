"""Who is talking: chat identities bound to people, and the conversations we have seen.

These run on every inbound message, so they are single statements built once.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models.platform import ChatIdentity, Conversation, Person

_PERSON_ID = select(ChatIdentity.person_id).where(
    ChatIdentity.corp_id == bindparam("corp_id"), ChatIdentity.staff_id == bindparam("staff_id")
)


def person_for(session: Session, *, corp_id: str, staff_id: str | None) -> Person | None:
    """The bound, active person for a chat user, or None for a stranger (one cheap query)."""
    if not staff_id:
        return None
    person_id = session.execute(_PERSON_ID, {"corp_id": corp_id, "staff_id": staff_id}).scalar_one_or_none()
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    if person is None or not person.active:
        return None
    return person


def staff_ids_of(session: Session, person_ids: list[int], *, corp_id: str) -> dict[int, str]:
    """Chat user ids of people, for addressing them 1:1."""
    if not person_ids:
        return {}
    rows = session.execute(
        select(ChatIdentity.person_id, ChatIdentity.staff_id).where(
            ChatIdentity.person_id.in_(person_ids), ChatIdentity.corp_id == corp_id
        )
    )
    return {person_id: staff_id for person_id, staff_id in rows}


@cache
def _conversation_upsert(dialect: str) -> Any:
    table = Conversation.__table__
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={
            "last_seen_at": insert.excluded.last_seen_at,
            "title": func.coalesce(insert.excluded.title, table.c.title),
        },
    )


def remember_conversation(
    session: Session, *, conversation_id: str, is_group: bool, title: str | None, now: datetime
) -> None:
    """Record a conversation (and its latest title) in one statement."""
    statement = _conversation_upsert(session.get_bind().dialect.name)
    session.execute(
        statement,
        {
            "id": conversation_id,
            "kind": "group" if is_group else "private",
            "title": title,
            "last_seen_at": now,
        },
    )
