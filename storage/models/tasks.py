"""Joint inspection tasks: the proposal, the co-units' answers round by round, approval.

A task's proposal is versioned: every change makes a new ``task_version`` row, and every answer
of a co-unit is kept in ``task_answer`` (a later answer of the same unit in the same round
replaces the earlier one and says so), so the whole negotiation can be replayed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, JsonText, UtcDateTime
from storage.models.directory import Scenario, Theme
from storage.models.platform import Unit


class NumberCounter(Base):
    """Sequence per (issuer, document code, year). Numbers are never reused, voided or not."""

    __tablename__ = "number_counter"
    __table_args__ = (UniqueConstraint("issuer", "code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Task(Base):
    """检查任务. The state machine lives in ``handlers/tasks/states.py``."""

    __tablename__ = "task"
    __table_args__ = (Index("ix_task_lead_state", "lead_unit_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenario.id"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"))
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    source: Mapped[str] = mapped_column(String(12))  # plan | theme | complaint | referral
    method: Mapped[str] = mapped_column(String(10))  # written | on_site | network
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    object_count: Mapped[int | None] = mapped_column(Integer)
    object_ratio: Mapped[float | None] = mapped_column(Float)  # percent of the eligible pool
    inspectors_per_object: Mapped[int] = mapped_column(Integer, default=2)
    draw_mode: Mapped[str] = mapped_column(String(12), default="even")  # even | cross_office
    area_codes: Mapped[list[str]] = mapped_column(JsonText, default=list)  # region codes; empty = all
    prenotice: Mapped[str] = mapped_column(String(8), default="send")  # send | exempt
    prenotice_reason: Mapped[str | None] = mapped_column(String(200))
    remarks: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    round: Mapped[int] = mapped_column(Integer, default=0)
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    created_by_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    approver_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    approved_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    returned_reason: Mapped[str | None] = mapped_column(String(300))
    cancelled_reason: Mapped[str | None] = mapped_column(String(300))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    overcap_reason: Mapped[str | None] = mapped_column(String(300))

    scenario: Mapped[Scenario] = relationship(lazy="joined")
    theme: Mapped[Theme | None] = relationship(lazy="joined")
    lead_unit: Mapped[Unit] = relationship(lazy="joined")
    units: Mapped[list[TaskUnit]] = relationship(
        back_populates="task", lazy="selectin", order_by="TaskUnit.id", cascade="all, delete-orphan"
    )


class TaskUnit(Base):
    """A co-unit of a task and where it stands in the current round."""

    __tablename__ = "task_unit"
    __table_args__ = (UniqueConstraint("task_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    state: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending|agreed|change|declined|dropped
    comment: Mapped[str | None] = mapped_column(String(500))
    answered_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dropped_reason: Mapped[str | None] = mapped_column(String(300))

    task: Mapped[Task] = relationship(back_populates="units")
    unit: Mapped[Unit] = relationship(lazy="joined")


class TaskAnswer(Base):
    """Every answer given, in order. ``replaces_id`` links a unit's later answer to its earlier one."""

    __tablename__ = "task_answer"
    __table_args__ = (Index("ix_task_answer_round", "task_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    round: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    decision: Mapped[str] = mapped_column(String(12))  # agree | change | decline
    comment: Mapped[str | None] = mapped_column(String(500))
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JsonText)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("task_answer.id"))
    current: Mapped[bool] = mapped_column(Boolean, default=True)


class TaskVersion(Base):
    """The proposal as it stood in each version (what co-units were asked to agree to)."""

    __tablename__ = "task_version"
    __table_args__ = (UniqueConstraint("task_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JsonText)
    reason: Mapped[str | None] = mapped_column(String(300))
    created_by_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
