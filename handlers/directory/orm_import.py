"""Helpers for the importers of the small sheets (units, items, scenarios, themes, inspectors).

Those sheets have hundreds of rows, not hundreds of thousands, and their records have child rows
(co-units, items, roles), so they go through the ORM and the ``DirectoryEditor``: one version per
changed record, no per-row audit event (the import is audited once, as a whole).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.directory.importing import ImportJob, Outcome
from handlers.directory.service import ChangeResult, DirectoryEditor


def editor_for(job: ImportJob) -> DirectoryEditor:
    return DirectoryEditor(job.session, actor=job.actor, now=job.now, audit=None, reason=job.reason)


def changed_headers(result: ChangeResult, headers: Mapping[str, str]) -> tuple[str, ...]:
    """Sheet headers of the snapshot keys that changed (keys without a header are skipped)."""
    before: dict[str, Any] = result.before or {}
    after: dict[str, Any] = result.after or {}
    names = [headers[key] for key in after if key in headers and before.get(key) != after.get(key)]
    return tuple(dict.fromkeys(names))


def report_change(
    job: ImportJob, row: int, label: str, result: ChangeResult, headers: Mapping[str, str]
) -> None:
    if result.changed:
        job.report.add_outcome(Outcome(row, "update", label, changed_headers(result, headers)))
    else:
        job.report.add_outcome(Outcome(row, "unchanged", label))
