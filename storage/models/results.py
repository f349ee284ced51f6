"""On-site results (现场检查结果): one record per drawn object, its submitted versions, the
evidence attached to it, and what a failed item starts (finding, order to correct).

Shapes follow domain.md §10 (InspectionRecord, Finding, Rectification) and ODK's submission rules
(anchors-bots.md §5): a version is immutable once stored and is identified by the submission id
the card or form carried (``instance_id``); an edit is a new version naming the one it replaces
(``deprecated_id``). Evidence is content-addressed (SHA-256) and never changed once stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonText, UtcDateTime

RECORD_STATES = ("draft", "submitted", "returned", "reviewed", "withdrawn")
ITEM_RESULTS = {
    "pass": "合格",
    "fail": "不合格（限期改正）",
    "fail_now": "不合格（立即改正）",
    "na": "不涉及",
}
# The publication result codes (domain.md §2.6, the Zhejiang icinfo set). A and E need findings.
RESULT_CODES = {
    "1": "未发现问题",
    "A": "发现问题待后续处理",
    "E": "发现问题经责令已改正",
    "F": "未发现开展本次抽查涉及的经营活动",
    "6": "通过登记的住所（经营场所）无法联系",
    "7": "已关闭停业或正在组织清算",
    "8": "不配合检查情节严重",
    "B": "未按规定公示应当公示的信息",
    "C": "公示信息隐瞒真实情况弄虚作假",
    "D": "违反其他工商行政管理规定行为",
    "3": "违反食品药品管理相关规定",
    "4": "违反质量技术监督相关规定",
    "5": "违反其他部门相关规定",
    "G": "违反公安部门相关规定",
    "9": "注销",
    "10": "被吊销",
    "11": "被撤销",
    "12": "迁出",
}
NOTICES = {
    "recusal": "已告知当事人有申请回避的权利",
    "cooperation": "已告知当事人有如实回答询问、协助检查的义务",
    "remedies": "已告知当事人依法享有陈述、申辩以及申请行政复议、提起行政诉讼的权利",
}
# Rectification states (domain.md §11.3). This capability creates "ordered" and "cancelled"
# (the order was withdrawn by an edit); the follow-up capability moves it on from "ordered"
# (handlers/followup/states.py is the state machine).
RECTIFICATION_STATES = (
    "ordered",
    "served",
    "due_soon",
    "awaiting_reinspection",
    "reinspected",
    "overdue",
    "not_corrected",
    "escalated",
    "closed",
    "cancelled",
)


class InspectionRecord(Base):
    """The team's one record of one object (a dispatched assignment): the shared draft, which
    version is current, and the lead's review.

    Updated several times in its life (drafts, submission, review) and never by an indexed
    column, so that PostgreSQL can update it in place (a HOT update: no new index entries);
    on PostgreSQL the table also leaves a fifth of each page free for that (fillfactor 80,
    migration 0011). ``state`` is therefore not indexed: a task's records are few."""

    __tablename__ = "inspection_record"
    __table_args__ = (Index("ix_inspection_record_task", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), unique=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    # The scenario's items as they stood when the record was opened: [{id, code, name, points,
    # provision, order_basis, basis, default_days, min_days}]. Forms number items by this list.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JsonText, default=list)
    # The shared draft: form values as typed (strings), whoever typed them.
    draft: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    draft_version: Mapped[int] = mapped_column(Integer, default=0)  # optimistic concurrency
    # Who changed what, newest last: [{at, person_id, name, fields: [...], action}] (trimmed).
    draft_log: Mapped[list[dict[str, Any]]] = mapped_column(JsonText, default=list)
    version: Mapped[int] = mapped_column(Integer, default=0)  # current submitted version, 0 = none
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # first activity on the record
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reviewed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    return_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RecordVersion(Base):
    """One submitted version of a record. Never changed after it is stored, except that it stops
    being current when a newer version replaces it."""

    __tablename__ = "record_version"
    __table_args__ = (UniqueConstraint("record_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (record_id, version) index serves lookups by record.
    record_id: Mapped[int] = mapped_column(ForeignKey("inspection_record.id"))
    version: Mapped[int] = mapped_column(Integer)
    instance_id: Mapped[str] = mapped_column(String(64), unique=True)  # the submission id
    deprecated_id: Mapped[str | None] = mapped_column(String(64))  # the version it replaces
    content: Mapped[dict[str, Any]] = mapped_column(JsonText)  # validated, normalised values
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical content
    evidence: Mapped[list[int]] = mapped_column(JsonText, default=list)  # evidence ids at submission
    via: Mapped[str] = mapped_column(String(8))  # card | form
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    submitted_by_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    site_record_doc_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    registration_doc_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))


class Evidence(Base):
    """A photo, file, recording, video or signature, stored by its SHA-256 and never altered.

    Chat media arrive as download codes: the row exists (``pending``) before the worker fetched
    the bytes; ``sha256``, ``size`` and ``storage_key`` are written once, when stored.
    """

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("msg_id", "download_code"),
        Index("ix_evidence_sender", "sender_person_id", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_record.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # picture | file | audio | video | photo | signature
    source: Mapped[str] = mapped_column(String(6))  # chat | form
    role: Mapped[str | None] = mapped_column(String(30))  # signatures: party | inspector:<id> | witness
    file_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    storage_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(8), default="pending")  # pending | stored | failed
    error: Mapped[str | None] = mapped_column(String(300))
    msg_id: Mapped[str | None] = mapped_column(String(200))
    download_code: Mapped[str | None] = mapped_column(String(200))
    taken_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the message's createAt, or the photo's
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float)
    sender_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    sender_staff_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stored_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EvidenceFocus(Base):
    """Which record an inspector's chat media go to when several are open (their last choice)."""

    __tablename__ = "evidence_focus"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("inspection_record.id"))
    chosen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Finding(Base):
    """A problem found on one item (不合格), with the facts and the provision it breaks.

    A finding stays with the record across versions while its facts, mode and deadline are
    unchanged; an edit that changes them supersedes it and creates a new one.
    """

    __tablename__ = "finding"
    __table_args__ = (Index("ix_finding_record", "record_id", "current"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("inspection_record.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("record_version.id"))  # the version that found it
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"), index=True)
    power_item_id: Mapped[int] = mapped_column(ForeignKey("power_item.id"))
    item_name: Mapped[str] = mapped_column(String(200))
    facts: Mapped[str] = mapped_column(Text)
    provision: Mapped[str] = mapped_column(Text)
    order_basis: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(10), default="general")  # general | serious
    in_jurisdiction: Mapped[bool] = mapped_column(Boolean, default=True)
    # on_site_corrected | order_correction | file_case | notify_dept | transfer | report_gov | credit_proposal
    disposition: Mapped[str] = mapped_column(String(20), default="order_correction")
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Rectification(Base):
    """责令改正: the order issued for a finding and where its correction stands (domain.md §11.3).

    Created here in state ``ordered`` with its deadline; reminders, service and re-inspection are
    the follow-up capability's (``handlers/results/hooks.py: on_order_issued`` tells it).
    """

    __tablename__ = "rectification"
    __table_args__ = (
        Index("ix_rectification_state_deadline", "state", "deadline"),
        Index("ix_rectification_unit_state", "unit_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id"), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("inspection_record.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"))
    order_doc_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    mode: Mapped[str] = mapped_column(String(10))  # deadline (限期) | immediate (立即)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)  # the end of the deadline day (Beijing)
    deadline_day: Mapped[date] = mapped_column(Date)
    requirements: Mapped[str] = mapped_column(Text)
    min_days: Mapped[int] = mapped_column(Integer)  # the item's minimum (BR-22 warning)
    short_notice: Mapped[bool] = mapped_column(Boolean, default=False)  # less time than min_days
    state: Mapped[str] = mapped_column(String(24), default="ordered")
    served_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    service_method: Mapped[str | None] = mapped_column(String(20))
    reminders_sent: Mapped[list[str]] = mapped_column(JsonText, default=list)
    reinspection_record_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_record.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))  # corrected | not_corrected
    # Added by the follow-up capability (migration 0007, handlers/followup/states.py):
    unit_id: Mapped[int | None] = mapped_column(Integer)  # responsible unit (owner of the item)
    served_by: Mapped[str | None] = mapped_column(String(80))  # who recorded the service
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_how: Mapped[str | None] = mapped_column(String(12))  # corrected | on_spot | escalated
    next_step: Mapped[str | None] = mapped_column(String(12))  # case | referral | transfer | credit
    next_step_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
