"""Writing test sheets and importing them the way the CLI does."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from handlers.directory.catalogue import SHEETS
from handlers.directory.importing import ImportReport, import_file


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_import(services: Any, clock: Any, kind: str, path: Path, **options: Any) -> ImportReport:
    return import_file(
        services.db,
        services.audit_log,
        SHEETS[kind].importer(),
        path,
        now=clock.now(),
        corp_id=services.settings.corp_id,
        **options,
    )
