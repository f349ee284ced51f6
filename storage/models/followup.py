"""After the inspection (检查结果运用): the working-day calendar, re-inspections, the dispositions
of a finding (抄告, 移送, 上报, credit proposals), publication of results and task archives.

Each disposition is its own record with its own dates, so the ticker can chase every deadline
and the oversight bulletins can count them from the audit chain. Shapes follow domain.md §8
(transfer and notification fields), §7 (credit proposals) and §10 (Publication, ArchiveFile).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonText, UtcDateTime

CALENDAR_KINDS = {"holiday": "放假", "workday": "调休上班"}
NEXT_STEPS = {
    "case": "立案查处",
    "referral": "抄告主管部门",
    "transfer": "移送司法机关",
    "credit": "信用惩戒建议",
}
CREDIT_LISTS = {"key_supervision": "列为重点监管对象", "dishonest": "列入严重违法失信名单（联合惩戒）"}
TRANSFER_ATTACHMENTS = {
    "letter": "涉嫌犯罪案件移送书",
    "report": "涉嫌犯罪案件情况的调查报告",
    "items": "涉案物品清单",
    "tests": "检验报告或鉴定结论",
    "other": "其他有关材料",
}
REQUIRED_ATTACHMENTS = ("letter", "report", "items", "tests")  # 国务院令310号 art. 6 (domain.md §8.1)


class CalendarDay(Base):
    """One day that differs from the plain week: a public holiday on a weekday, or a weekend
    day worked in exchange (调休). A year with at least one row has a loaded table."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(8))  # holiday | workday
    note: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(80))  # the imported file's SHA-256, or "builtin"
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    imported_by: Mapped[str] = mapped_column(String(80))


class Reinspection(Base):
    """复查: the re-check of one rectification by (at least two of) the original team.

    Its evidence rows live in ``evidence`` with ``record_id`` = the original record and
    ``role`` = ``reinspection:<id>`` (results' fetch job stores them), so the object's one
    inspection file holds both visits.
    """

    __tablename__ = "reinspection"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectification.id"), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("inspection_record.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"))
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | done | withdrawn
    # The re-check team: [{"inspector_id", "unit_id", "staff_id", "name", "replaces", "draw_id"}]
    team: Mapped[list[dict[str, Any]]] = mapped_column(JsonText, default=list)
    dispatched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    inspected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when the re-check took place
    inspectors: Mapped[list[int]] = mapped_column(JsonText, default=list)  # on the re-check record
    outcome: Mapped[str | None] = mapped_column(String(14))  # corrected | not_corrected
    on_spot: Mapped[bool] = mapped_column(Boolean, default=False)
    facts: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[int]] = mapped_column(JsonText, default=list)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    submitted_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class _Disposition:
    """Columns every disposition of a finding has."""

    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id"), index=True)
    rectification_id: Mapped[int | None] = mapped_column(ForeignKey("rectification.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))  # the responsible unit
    reason: Mapped[str] = mapped_column(Text)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Referral(_Disposition, Base):
    """抄告: a matter outside our remit, sent to the competent department (BR-26, §8.2)."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    matter: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20), default="平台")  # 平台 | 函件
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    response_due: Mapped[date] = mapped_column(Date)
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(10), default="sent")  # sent | answered


class Report(_Disposition, Base):
    """上报: a serious industry or regional violation or a major hazard reported to the
    government at the same level and the relevant departments (BR-29)."""

    __tablename__ = "gov_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_unit_ids: Mapped[list[int]] = mapped_column(JsonText, default=list)
    severity: Mapped[str] = mapped_column(String(8), default="general")  # general | urgent
    matter: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    response_due: Mapped[date] = mapped_column(Date)
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(10), default="sent")  # sent | answered


class Transfer(_Disposition, Base):
    """移送: a suspected crime transferred to the police (国务院令310号, domain.md §8.1, §11.5)."""

    __tablename__ = "transfer"
    __table_args__ = (Index("ix_transfer_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suspected_offence: Mapped[str] = mapped_column(String(200))
    facts: Mapped[str] = mapped_column(Text)
    team: Mapped[list[int]] = mapped_column(JsonText, default=list)  # inspector ids, at least two
    # reported | approved | refused | transferred | police_filed | police_refused |
    # reconsideration | supervision | handed_over | closed
    state: Mapped[str] = mapped_column(String(16), default="reported")
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decision_due: Mapped[datetime] = mapped_column(UtcDateTime)
    approver_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refused_reason: Mapped[str | None] = mapped_column(Text)
    transfer_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    receiving_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    copy_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # the procuratorate
    transferred_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    police_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    police_decision: Mapped[str | None] = mapped_column(String(10))  # filed | refused
    police_decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reconsideration_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reconsideration_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handover_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CreditProposal(_Disposition, Base):
    """A proposal to list the object for joint credit punishment or key supervision, and the
    owning agency's decision (BR-27: a proposal, never a listing the bureau makes alone)."""

    __tablename__ = "credit_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposed_list: Mapped[str] = mapped_column(String(20))  # key_supervision | dishonest
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # the credit-owning agency
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decision_due: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="proposed")  # proposed | decided
    decision: Mapped[str | None] = mapped_column(String(10))  # listed | rejected
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    list_from: Mapped[date | None] = mapped_column(Date)
    list_to: Mapped[date | None] = mapped_column(Date)


class Publication(Base):
    """一公开: one finished record's public result, due 20 working days after it was produced."""

    __tablename__ = "publication"
    __table_args__ = (Index("ix_publication_state_due", "state", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("inspection_record.id"), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    produced_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the record was finished (reviewed)
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | published
    result_code: Mapped[str | None] = mapped_column(String(20))  # codes as published, e.g. "A" or "E"
    result_text: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    channel: Mapped[str | None] = mapped_column(String(40))
    published_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Archive(Base):
    """立卷归档: one dossier per task, written once and never changed (BR-32)."""

    __tablename__ = "archive"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), unique=True)
    path: Mapped[str] = mapped_column(String(200))  # relative to settings.data_dir
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    files: Mapped[int] = mapped_column(Integer)
    retention: Mapped[str] = mapped_column(String(12))  # permanent | <n>y
    retain_until: Mapped[date | None] = mapped_column(Date)
    built_at: Mapped[datetime] = mapped_column(UtcDateTime)
    built_by: Mapped[str] = mapped_column(String(80))


class MediaFocus(Base):
    """Where an inspector's next chat files go when they are not evidence of an open record:
    set by ``移送 附件 <编号> <类型>`` and kept for a short while."""

    __tablename__ = "media_focus"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    target: Mapped[str] = mapped_column(String(40))  # transfer:<id>:<kind>
    until: Mapped[datetime] = mapped_column(UtcDateTime)
