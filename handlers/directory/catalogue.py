"""The sheets the CLI knows, in the order a fresh directory is loaded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from handlers.directory import (
    inspectors_sheet,
    items_sheet,
    objects_sheet,
    scenarios_sheet,
    themes_sheet,
    units_sheet,
)
from handlers.directory.importing import Importer
from handlers.directory.sheets import SheetSpec


@dataclass(frozen=True)
class SheetKind:
    spec: SheetSpec
    importer: Callable[[], Importer]
    export_rows: Callable[[Session], Iterator[list[Any]]]


SHEETS: dict[str, SheetKind] = {
    "units": SheetKind(units_sheet.SPEC, units_sheet.UnitImporter, units_sheet.export_rows),
    "inspectors": SheetKind(
        inspectors_sheet.SPEC, inspectors_sheet.InspectorImporter, inspectors_sheet.export_rows
    ),
    "items": SheetKind(items_sheet.SPEC, items_sheet.ItemImporter, items_sheet.export_rows),
    "scenarios": SheetKind(
        scenarios_sheet.SPEC, scenarios_sheet.ScenarioImporter, scenarios_sheet.export_rows
    ),
    "themes": SheetKind(themes_sheet.SPEC, themes_sheet.ThemeImporter, themes_sheet.export_rows),
    "objects": SheetKind(objects_sheet.SPEC, objects_sheet.ObjectImporter, objects_sheet.export_rows),
}
