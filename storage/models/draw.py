"""The draw (双随机) and what follows from it: assignments, teams, 行政行为码, pre-notices.

A ``draw_record`` keeps everything needed to replay a draw: the pool snapshot itself (zlib of
canonical JSON), its SHA-256, the seed and the algorithm version. Records are never changed
except to mark them superseded; a redraw is a new record that points at the one it replaces.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonText, UtcDateTime

DRAW_KINDS = ("full", "slot", "replacement")
DECLINE_REASONS = {"recusal": "回避", "leave": "请假", "other": "其他"}


class DrawRecord(Base):
    """One run of the draw algorithm: its input (snapshot), seed, version and result."""

    __tablename__ = "draw_record"
    __table_args__ = (Index("ix_draw_record_task", "task_id", "kind", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    kind: Mapped[str] = mapped_column(String(12))  # full | slot | replacement
    state: Mapped[str] = mapped_column(String(12), default="current")  # current | superseded
    algorithm_version: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(64))
    pool_size: Mapped[int] = mapped_column(Integer)  # eligible objects
    inspector_pool_size: Mapped[int] = mapped_column(Integer)
    pool_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical snapshot JSON
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)  # zlib(canonical JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JsonText)
    # Objects over the yearly on-site cap (BR-11): [{object, unit, count}]. Not an algorithm input.
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JsonText, default=list)
    slot: Mapped[int | None] = mapped_column(Integer)  # the slot a "slot" redraw replaced
    assignment_id: Mapped[int | None] = mapped_column(Integer)  # the slot a replacement staffed
    reason: Mapped[str | None] = mapped_column(String(300))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("draw_record.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("draw_record.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("draw_record.id"))  # replacement -> draw
    operator: Mapped[str] = mapped_column(String(80))
    operator_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    drawn_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Assignment(Base):
    """One drawn object of a task (a slot) and the day it is planned for."""

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_task", "task_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    slot: Mapped[int] = mapped_column(Integer)  # 1-based position in the draw
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"), index=True)
    planned_day: Mapped[date] = mapped_column(Date)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw_record.id"))
    state: Mapped[str] = mapped_column(String(12), default="drawn")  # drawn | dispatched | superseded
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AssignmentMember(Base):
    """One inspector of a slot's team, and where their dispatch card stands."""

    __tablename__ = "assignment_member"
    __table_args__ = (
        UniqueConstraint("assignment_id", "inspector_id"),
        Index("ix_assignment_member_load", "inspector_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    position: Mapped[int] = mapped_column(Integer)
    # drawn (not yet dispatched) | pending (card sent) | accepted | declined | withdrawn
    state: Mapped[str] = mapped_column(String(12), default="drawn")
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw_record.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("assignment_member.id"))
    card_id: Mapped[str | None] = mapped_column(String(200))
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decline_reason: Mapped[str | None] = mapped_column(String(12))  # recusal | leave | other
    decline_note: Mapped[str | None] = mapped_column(String(300))
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BehaviourCode(Base):
    """行政行为码: one unguessable code per (task, object), shown as a QR on the dispatch card."""

    __tablename__ = "behaviour_code"
    __table_args__ = (UniqueConstraint("task_id", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PreNotice(Base):
    """事先通报 for one object of a task: the notice document and its service, or the exemption."""

    __tablename__ = "pre_notice"
    __table_args__ = (Index("ix_pre_notice_task_object", "task_id", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"))
    mode: Mapped[str] = mapped_column(String(8))  # send | exempt
    # issued (number allocated, PDF pending) | served | exempt | voided
    state: Mapped[str] = mapped_column(String(10))
    exempt_reason: Mapped[str | None] = mapped_column(String(200))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    channel: Mapped[str | None] = mapped_column(String(30))
    served_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    served_by: Mapped[str | None] = mapped_column(String(80))
    issued_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
