"""Who is talking: chat identities bound to people."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models.platform import ChatIdentity, Conversation, Person


def person_for(session: Session, *, corp_id: str, staff_id: str | None) -> Person | None:
    """The bound, active person for a chat user, or None for a stranger."""
    if not staff_id:
        return None
    row = session.execute(
        select(Person)
        .join(ChatIdentity, ChatIdentity.person_id == Person.id)
        .where(ChatIdentity.corp_id == corp_id, ChatIdentity.staff_id == staff_id)
    ).scalar_one_or_none()
    if row is None or not row.active:
        return None
    return row


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


def remember_conversation(
    session: Session, *, conversation_id: str, is_group: bool, title: str | None, now: datetime
) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        conversation = Conversation(
            id=conversation_id, kind="group" if is_group else "private", title=title, last_seen_at=now
        )
        session.add(conversation)
    else:
        conversation.last_seen_at = now
        if title and conversation.title != title:
            conversation.title = title
    return conversation
