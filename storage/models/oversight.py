"""Oversight (通报晾晒): facts derived from the audit chain, and the bulletins that were sent.

``oversight_fact`` is a projection of ``audit_event``: one or a few narrow rows per audit event
that a bulletin counts, written in the same transaction as the event (see
``handlers/oversight/capture.py``). It holds nothing the chain does not say (plus which unit and
task an entity belongs to) and can be rebuilt from the chain at any time; it exists because
counting a year of events by unit and period must not parse a million JSON bodies.

``bulletin`` keeps each bulletin as it was sent: the figures, the text and the chart, so a later
question ("what did the bulletin of week 49 say?") is answered from what people saw.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonText, UtcDateTime

BULLETIN_KINDS = ("weekly", "monthly", "manual", "progress")


class OversightFact(Base):
    """One countable fact of one audit event (see docs/oversight.md for every kind).

    ``subject`` names what the fact is about across events (``record:12``, ``rect:7``,
    ``object:3:41`` for object 41 of task 3), so later facts can be matched with earlier ones;
    ``due`` is a date the fact is measured against (window end, deadline, publication due date),
    ``tag`` a small category (lead/co, mode, outcome), ``flag`` a yes/no outcome (joint, on time),
    ``value`` a number (hours to accept, units taking part).
    """

    __tablename__ = "oversight_fact"
    # Both indexes cover the queries that use them (no table reads): counts by kind and period
    # read only the first, "was it served / published / closed by then" probes only the second.
    __table_args__ = (
        Index("ix_oversight_fact_kind_at", "kind", "at", "unit_id", "tag", "flag", "value", "subject", "due"),
        Index("ix_oversight_fact_kind_subject", "kind", "subject", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    day: Mapped[date] = mapped_column(Date)  # the bureau's local date of ``at``
    kind: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[int | None] = mapped_column(Integer)
    theme_id: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(String(80))
    due: Mapped[date | None] = mapped_column(Date)
    tag: Mapped[str | None] = mapped_column(String(24))
    flag: Mapped[bool | None] = mapped_column(Boolean)
    value: Mapped[float | None] = mapped_column(Float)


class OversightCursor(Base):
    """How far the fact projection has read the audit chain (``last_audit_id``).

    Audit rows get their ids under a lock held to the commit (``storage.audit``: SQLite's write
    lock, PostgreSQL's order lock), so their ids grow in commit order and a
    reader that has seen id N has seen every committed id below it: the cursor never skips a row
    that commits late. The row is locked while the projection runs, so two runs never both
    derive the same events.
    """

    __tablename__ = "oversight_cursor"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_audit_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Bulletin(Base):
    """A bulletin as sent. ``(kind, period_key)`` is unique: however many tickers run, one
    scheduled bulletin is stored (and therefore sent) once."""

    __tablename__ = "bulletin"
    __table_args__ = (UniqueConstraint("kind", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # weekly | monthly | manual | progress
    period_key: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int | None] = mapped_column(Integer)  # a unit's own progress (进度); None = bureau
    title: Mapped[str] = mapped_column(String(120))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)  # also the moment the figures are as of
    figures: Mapped[Any] = mapped_column(JsonText)
    figures_sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    chart_sha256: Mapped[str] = mapped_column(String(64))
    chart_png: Mapped[bytes] = mapped_column(LargeBinary)
    destinations: Mapped[list[str]] = mapped_column(JsonText, default=list)
    previous_id: Mapped[int | None] = mapped_column(Integer)  # the bulletin "changes" compare with
    requested_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
