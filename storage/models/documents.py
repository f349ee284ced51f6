"""Legal documents (执法文书): numbered, rendered to PDF, stored by content hash, never deleted.

A document's number is allocated when it is issued (``storage.numbers.allocate``) and stays with
it: a voided document keeps its number and the reason, and the next document gets a new one.
The PDF is rendered later by the worker; until then ``sha256`` is empty.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonText, UtcDateTime


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("issuer", "code", "year", "seq"),
        Index("ix_document_task_object", "task_id", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # inspection_notice | site_record | ...
    code: Mapped[str] = mapped_column(String(20))  # 文书代字, e.g. 检通
    issuer: Mapped[str] = mapped_column(String(40))  # issuer short name, e.g. 丽综执
    issuer_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    object_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_object.id"))
    fields: Mapped[dict[str, Any]] = mapped_column(JsonText)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | rendered
    file_path: Mapped[str | None] = mapped_column(String(200))  # relative to settings.data_dir
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    issued_by: Mapped[str] = mapped_column(String(80))
    rendered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    void_reason: Mapped[str | None] = mapped_column(String(300))
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
