"""Who is talking: chat identities bound to people, and the conversations we have seen.

These run on every inbound message, so they are single statements built once.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
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


class SeenConversations:
    """Conversations this process recorded lately, with the kind and title it wrote.

    A busy group would otherwise rewrite its conversation row on every message (one statement of
    the few on the callback path). An entry is added only after the transaction that wrote the
    row committed, so a rolled-back first message never hides a missing row. Within ``ttl``
    ``last_seen_at`` may lag by up to that long; a new title or kind is written at once.
    """

    def __init__(self, ttl: timedelta = timedelta(minutes=10), max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, str | None, datetime]] = {}

    def fresh(self, conversation_id: str, kind: str, title: str | None, now: datetime) -> bool:
        entry = self._seen.get(conversation_id)
        if entry is None:
            return False
        seen_kind, seen_title, written_at = entry
        same_title = title is None or title == seen_title
        return seen_kind == kind and same_title and now - written_at < self._ttl

    def add(self, conversation_id: str, kind: str, title: str | None, now: datetime) -> None:
        with self._lock:
            if len(self._seen) >= self._max:
                self._seen.clear()  # rare; the next message of each group writes its row again
            previous = self._seen.get(conversation_id)
            if title is None and previous is not None:
                title = previous[1]
            self._seen[conversation_id] = (kind, title, now)


def remember_conversation(
    session: Session,
    *,
    conversation_id: str,
    is_group: bool,
    title: str | None,
    now: datetime,
    seen: SeenConversations | None = None,
) -> bool:
    """Record a conversation (and its latest title) in one statement, unless ``seen`` says this
    process wrote the same kind and title lately. Returns True when the row was written."""
    kind = "group" if is_group else "private"
    if seen is not None and seen.fresh(conversation_id, kind, title, now):
        return False
    statement = _conversation_upsert(session.get_bind().dialect.name)
    session.execute(
        statement,
        {
            "id": conversation_id,
            "kind": kind,
            "title": title,
            "last_seen_at": now,
        },
    )
    return True
