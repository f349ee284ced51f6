"""The JSON picture of a directory row that goes into its history (``directory_version``).

One function per shape so that the bulk importer (which works on plain dicts) and the ORM
editor (which works on objects) write identical snapshots: ``as_of`` must not care which path
made a version. ``updated_at`` is left out: it changes on every write and says nothing the
version's own time does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table

from storage.models.directory import InspectionObject, Inspector, PowerItem, Scenario, Theme
from storage.models.platform import Person, Unit

ENTITY_TYPES: dict[type, str] = {
    Unit: "unit",
    Inspector: "inspector",
    InspectionObject: "object",
    PowerItem: "item",
    Scenario: "scenario",
    Theme: "theme",
    Person: "person",
}
_SKIPPED = frozenset({"updated_at"})


def entity_type_of(entity: Any) -> str:
    try:
        return ENTITY_TYPES[type(entity)]
    except KeyError as exc:
        raise TypeError(f"{type(entity).__name__} is not a versioned directory entity") from exc


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value


@cache
def snapshot_columns(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns if column.name not in _SKIPPED)


def row_snapshot(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot from a mapping of column values (bulk paths: called once per imported row)."""
    data = {}
    for name in snapshot_columns(table):
        value = values.get(name)
        if isinstance(value, date):  # datetime is a date too
            value = value.isoformat()
        data[name] = value
    return data


def snapshot(entity: Any) -> dict[str, Any]:
    """A snapshot of an ORM object, with the child rows that belong to its record."""
    table = type(entity).__table__
    data = {name: json_value(getattr(entity, name)) for name in snapshot_columns(table)}
    if isinstance(entity, Scenario):
        data["co_unit_ids"] = sorted(link.unit_id for link in entity.co_units)
        data["items"] = [
            {"power_item_id": item.power_item_id, "content": item.content, "position": item.position}
            for item in sorted(entity.items, key=lambda item: (item.position, item.power_item_id))
        ]
    elif isinstance(entity, Theme):
        data["scenario_ids"] = sorted(link.scenario_id for link in entity.scenarios)
    elif isinstance(entity, Inspector):
        data.update(person_snapshot(entity.person))
    return data


def person_snapshot(person: Person | None) -> dict[str, Any]:
    """The person fields an inspector record shows (name, mobile, chat ids, roles)."""
    if person is None:
        return {"name": None, "mobile": None, "staff_ids": [], "roles": []}
    return {
        "name": person.name,
        "mobile": person.mobile,
        "person_active": person.active,
        "staff_ids": sorted(f"{identity.corp_id}:{identity.staff_id}" for identity in person.identities),
        "roles": sorted(
            f"{role.role}@{role.unit_id}" if role.unit_id is not None else role.role for role in person.roles
        ),
    }
