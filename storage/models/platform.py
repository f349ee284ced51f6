"""Tables of the platform edge: people and chat identities, inbox, outbox, cards, audit, due items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, JsonText, UtcDateTime

# Roles a person may hold. Commands declare which of these they need.
ROLE_INSPECTOR = "inspector"
ROLE_UNIT_ADMIN = "unit_admin"
ROLE_LEADER = "leader"
ROLE_AUDITOR = "auditor"
ROLE_SYSADMIN = "sysadmin"
ROLES = (ROLE_INSPECTOR, ROLE_UNIT_ADMIN, ROLE_LEADER, ROLE_AUDITOR, ROLE_SYSADMIN)


class Unit(Base):
    """A department, office or squad (部门 / 处室 / 执法队). Extended by the directory capability."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default="dept")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    # Printed on documents as the issuing body's contact details.
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    # Who approves this unit's inspection tasks (head of unit or a bureau leader).
    approver_person_id: Mapped[int | None] = mapped_column(Integer)


class Person(Base):
    """A human known to the bot. Inspectors, admins and leaders are all people."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    mobile: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    roles: Mapped[list[PersonRole]] = relationship(
        back_populates="person", lazy="selectin", cascade="all, delete-orphan"
    )
    identities: Mapped[list[ChatIdentity]] = relationship(back_populates="person", lazy="select")

    def role_names(self) -> set[str]:
        return {role.role for role in self.roles}

    def has_role(self, role: str, unit_id: int | None = None) -> bool:
        for held in self.roles:
            if held.role == role and (unit_id is None or held.unit_id in (None, unit_id)):
                return True
        return False


class PersonRole(Base):
    """One role a person holds, optionally scoped to a unit (a unit admin administers one unit)."""

    __tablename__ = "person_role"
    __table_args__ = (UniqueConstraint("person_id", "role", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))

    person: Mapped[Person] = relationship(back_populates="roles")


class ChatIdentity(Base):
    """Binds a chat user (corp id + senderStaffId) to a person. Unbound users are strangers."""

    __tablename__ = "chat_identity"
    __table_args__ = (UniqueConstraint("corp_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    corp_id: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    nick: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person] = relationship(back_populates="identities")


class Conversation(Base):
    """A chat the bot has seen or been configured for (group or 1:1)."""

    __tablename__ = "conversation"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "group" | "private"
    title: Mapped[str | None] = mapped_column(String(100))
    purpose: Mapped[str | None] = mapped_column(String(30))  # e.g. "leadership" for bulletins
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InboxEvent(Base):
    """One accepted inbound event. The unique key makes a redelivery replay the stored answer."""

    __tablename__ = "inbox_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # "robot" | "card"
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    status_code: Mapped[int] = mapped_column(Integer, default=200)
    response_body: Mapped[str] = mapped_column(Text, default="{}")


class OutboxMessage(Base):
    """Something to send to the platform (or another background job), sent only by the worker.

    ``dedupe_key`` is deterministic and unique: enqueueing the same thing twice is a no-op.
    ``coalesce_key`` groups rows of which only the newest unsent one matters (card updates).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_claim", "state", "next_attempt_at"),
        Index("ix_outbox_coalesce", "coalesce_key", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(250), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[Any] = mapped_column(JsonText)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    rate_keys: Mapped[str] = mapped_column(String(300), default="")
    coalesce_key: Mapped[str | None] = mapped_column(String(250))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RateEvent(Base):
    """One send (or reservation) against a rate-limit key; the sliding window counts these rows."""

    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_event_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    started: Mapped[bool] = mapped_column(Boolean, default=False)
    outbox_id: Mapped[int | None] = mapped_column(Integer, index=True)


class CardInstance(Base):
    """A card we created. Card callbacks are accepted only for cards in this table."""

    __tablename__ = "card_instance"
    __table_args__ = (Index("ix_card_instance_entity", "entity_type", "entity_id"),)

    out_track_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    template_key: Mapped[str] = mapped_column(String(60))
    space_type: Mapped[str] = mapped_column(String(20))  # IM_GROUP | IM_ROBOT
    space_id: Mapped[str] = mapped_column(String(128))
    # Staff ids allowed to act on the card; empty means any bound person (roles still apply).
    audience: Mapped[list[str]] = mapped_column(JsonText, default=list)
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(80))
    params: Mapped[dict[str, str]] = mapped_column(JsonText, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(12), default="active")  # active | readonly
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEvent(Base):
    """Append-only, HMAC-chained record of every state change (执法全过程记录).

    ``body`` is the canonical JSON that was hashed; the other columns are copies for querying
    and are checked against it on verification.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not indexed (migration 0011): nothing looks events up by time or person, and every state
    # change of the system paid for both index entries. Ids grow in commit order, so a period is
    # an id range.
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    actor_person_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Which chain the row links into (``storage.chains``): one per PostgreSQL connection at a
    # time; SQLite and everything written before chains existed use chain 1.
    chain_id: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class AuditHead(Base):
    """The newest link of one chain (``id`` = the events' ``chain_id``): its hash and length,
    so that a deleted tail shows. Only the connection holding the chain moves it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=0)


class DueItem(Base):
    """Something that becomes due at ``due_at`` (a reminder, a deadline). The ticker scans these."""

    __tablename__ = "due_item"
    __table_args__ = (Index("ix_due_item_scan", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    ref: Mapped[str] = mapped_column(String(120), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(250), unique=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[Any] = mapped_column(JsonText, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | done | cancelled | failed
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
