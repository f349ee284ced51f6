"""The two libraries and the list (一单两库): inspectors, inspection objects, power items,
scenarios and 监管一件事 themes. Nothing here is deleted; rows are deactivated, and every change
is copied into ``directory_version`` so the directory can be read as it stood on any date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, JsonText, UtcDateTime
from storage.models.platform import Person, Unit

RISK_CLASSES = ("A", "B", "C", "D")
# Flag names on an object; each has a from/to date pair.
OBJECT_FLAGS = ("key_supervision", "abnormal", "dishonest", "no_disturb")
METHODS = ("written", "on_site", "network")  # 书面检查 / 实地核查 / 网络监测
METHOD_LABELS = {"written": "书面检查", "on_site": "实地核查", "network": "网络监测"}


class Inspector(Base):
    """执法检查人员: a person with (or, for auxiliaries, without) an enforcement certificate."""

    __tablename__ = "inspector"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    cert_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    cert_valid_from: Mapped[date | None] = mapped_column(Date)
    cert_valid_to: Mapped[date | None] = mapped_column(Date)
    cert_status: Mapped[str] = mapped_column(
        String(12), default="valid"
    )  # valid | suspended | revoked | none
    fields: Mapped[list[str]] = mapped_column(JsonText, default=list)  # 执法领域 tags
    auxiliary: Mapped[bool] = mapped_column(Boolean, default=False)  # 辅助人员: never assignable
    # The unit puts this person in the draw pool (可参与抽检). A draw still needs certified_on(day).
    assignable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    person: Mapped[Person] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")

    def certified_on(self, day: date) -> bool:
        return certified(self, day)


def certified(inspector: Any, day: date) -> bool:
    """A valid certificate covering ``day`` (BR-05). Auxiliaries never qualify. ``inspector`` is
    an ``Inspector`` or a row with its certificate columns (handlers/results/rows.py)."""
    return bool(
        inspector.active
        and not inspector.auxiliary
        and inspector.cert_no is not None
        and inspector.cert_status == "valid"
        and inspector.cert_valid_from is not None
        and inspector.cert_valid_to is not None
        and inspector.cert_valid_from <= day <= inspector.cert_valid_to
    )


class InspectionObject(Base):
    """检查对象 (a market entity). Identified by USCC, or a flagged legacy registration number."""

    __tablename__ = "inspection_object"
    __table_args__ = (
        Index("ix_inspection_object_pool", "active", "jurisdiction_unit_id", "industry"),
        Index("ix_inspection_object_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    legacy_reg_no: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str] = mapped_column(
        String(20), default="企业"
    )  # 企业 | 个体工商户 | 农民专业合作社 | 其他
    legal_rep: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(300))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    industry: Mapped[str | None] = mapped_column(String(60))
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    jurisdiction_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    registration_status: Mapped[str] = mapped_column(String(10), default="存续")
    risk_class: Mapped[str | None] = mapped_column(String(1))
    # Flags with dates: a flag holds on day d when from <= d and (to is None or d <= to).
    key_supervision_from: Mapped[date | None] = mapped_column(Date)
    key_supervision_to: Mapped[date | None] = mapped_column(Date)
    abnormal_from: Mapped[date | None] = mapped_column(Date)
    abnormal_to: Mapped[date | None] = mapped_column(Date)
    dishonest_from: Mapped[date | None] = mapped_column(Date)
    dishonest_to: Mapped[date | None] = mapped_column(Date)
    no_disturb_from: Mapped[date | None] = mapped_column(Date)
    no_disturb_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    jurisdiction_unit: Mapped[Unit | None] = relationship(lazy="joined")

    def flag_on(self, flag: str, day: date) -> bool:
        start: date | None = getattr(self, f"{flag}_from")
        end: date | None = getattr(self, f"{flag}_to")
        return start is not None and start <= day and (end is None or day <= end)


class InspectorConflict(Base):
    """A declared conflict of interest: the inspector must never be drawn for the object (BR-08)."""

    __tablename__ = "inspector_conflict"
    __table_args__ = (UniqueConstraint("inspector_id", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), index=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("inspection_object.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    declared_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PowerItem(Base):
    """检查事项 from the power list (权力事项清单). Scenario items must come from here (BR-01)."""

    __tablename__ = "power_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    default_method: Mapped[str] = mapped_column(String(10), default="on_site")
    # Methods this item may be checked by; a non-site method here lets the bot suggest it (BR-37).
    methods: Mapped[list[str]] = mapped_column(JsonText, default=lambda: ["on_site"])
    check_points: Mapped[list[str]] = mapped_column(JsonText, default=list)  # 检查内容
    field_tags: Mapped[list[str]] = mapped_column(JsonText, default=list)  # 执法领域 an inspector needs
    provision: Mapped[str | None] = mapped_column(Text)  # the provision a violation breaks
    order_basis: Mapped[str | None] = mapped_column(Text)  # legal basis for 责令改正
    rectify_days_default: Mapped[int] = mapped_column(Integer, default=15)
    rectify_days_min: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    owner_unit: Mapped[Unit] = relationship(lazy="joined")


class Scenario(Base):
    """检查场景: a lead unit, co-units and the items checked together in one visit."""

    __tablename__ = "scenario"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    object_types: Mapped[list[str]] = mapped_column(JsonText, default=list)  # empty = any entity type
    industries: Mapped[list[str]] = mapped_column(JsonText, default=list)  # empty = any industry
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    lead_unit: Mapped[Unit] = relationship(lazy="joined")
    co_units: Mapped[list[ScenarioUnit]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    items: Mapped[list[ScenarioItem]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ScenarioItem.position"
    )


class ScenarioUnit(Base):
    __tablename__ = "scenario_unit"
    __table_args__ = (UniqueConstraint("scenario_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenario.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))

    unit: Mapped[Unit] = relationship(lazy="joined")


class ScenarioItem(Base):
    """One item of a scenario; the unit that owns the power item checks it."""

    __tablename__ = "scenario_item"
    __table_args__ = (UniqueConstraint("scenario_id", "power_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenario.id"), index=True)
    power_item_id: Mapped[int] = mapped_column(ForeignKey("power_item.id"))
    content: Mapped[str | None] = mapped_column(Text)  # scenario-specific 检查内容
    position: Mapped[int] = mapped_column(Integer, default=0)

    power_item: Mapped[PowerItem] = relationship(lazy="joined")


class Theme(Base):
    """监管一件事: claimed by one unit at a time, with a deadline and a minimum of joint inspections."""

    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    level: Mapped[str] = mapped_column(String(10), default="provincial")  # provincial | local
    claimed_by_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    deadline: Mapped[date | None] = mapped_column(Date)
    min_joint_inspections: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(
        String(12), default="open"
    )  # open|claimed|in_progress|fulfilled|overdue|released
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    claimed_by_unit: Mapped[Unit | None] = relationship(lazy="joined")
    scenarios: Mapped[list[ThemeScenario]] = relationship(lazy="selectin", cascade="all, delete-orphan")


class ThemeScenario(Base):
    __tablename__ = "theme_scenario"
    __table_args__ = (UniqueConstraint("theme_id", "scenario_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id"), index=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenario.id"))

    scenario: Mapped[Scenario] = relationship(lazy="joined")


class DirectoryVersion(Base):
    """One version of one directory row: who changed it, when, why, and the row before/after.

    ``valid_from`` is when the version took effect; the row as of day D is the version with the
    greatest ``valid_from`` <= D. Versions are append-only.
    """

    __tablename__ = "directory_version"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "version"),
        Index("ix_directory_version_asof", "entity_type", "entity_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30))  # unit|inspector|object|item|scenario|theme|person
    entity_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    change: Mapped[str] = mapped_column(String(12))  # create | update | deactivate | reactivate
    before: Mapped[Any] = mapped_column(JsonText)
    after: Mapped[Any] = mapped_column(JsonText)
    changed_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(300))
