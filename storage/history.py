"""Directory history: append a version per change, read the directory as it stood on a date.

The plan asks for a directory that is adjusted over time, and a random draw must be reproducible
from the pool it was drawn from. So every change to a directory row is copied, whole, into
``directory_version`` (who, when, why, before and after), and ``as_of`` answers "what did this row
look like at time T" from those copies alone, never from the live row.

Snapshots are plain JSON objects. ``before`` of a creation is ``{}`` (the row did not exist).
Versions of one row are numbered 1, 2, 3 ... with a unique constraint, so two writers racing on
the same row cannot both append the same version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from storage.models.directory import DirectoryVersion

CHANGES = ("create", "update", "deactivate", "reactivate")
_IN_CHUNK = 900  # keep IN lists below SQLite's bound-parameter limits


@dataclass(frozen=True)
class VersionEntry:
    """One change to append with ``record_many``. ``version`` None = next after the newest."""

    entity_type: str
    entity_id: int
    change: str
    before: dict[str, Any]
    after: dict[str, Any]
    version: int | None = None


def record(
    session: Session,
    entity_type: str,
    entity_id: int,
    change: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    changed_by: str,
    reason: str,
    at: datetime,
) -> DirectoryVersion:
    """Append the next version of one row inside the caller's transaction."""
    if change not in CHANGES:
        raise ValueError(f"unknown change {change!r}")
    newest = session.execute(
        select(func.max(DirectoryVersion.version)).where(
            DirectoryVersion.entity_type == entity_type, DirectoryVersion.entity_id == entity_id
        )
    ).scalar_one_or_none()
    row = DirectoryVersion(
        entity_type=entity_type,
        entity_id=entity_id,
        version=(newest or 0) + 1,
        valid_from=at,
        change=change,
        before=before or {},
        after=after,
        changed_by=changed_by[:80],
        reason=reason[:300],
    )
    session.add(row)
    session.flush()
    return row


def record_many(
    session: Session, entries: Sequence[VersionEntry], *, changed_by: str, reason: str, at: datetime
) -> int:
    """Append many versions with one multi-row insert (bulk imports, demo data).

    Entries without a version number get the next one per row, looked up in a few grouped
    queries rather than one per row.
    """
    if not entries:
        return 0
    pending: dict[tuple[str, int], int] = {}
    needs = [entry for entry in entries if entry.version is None]
    by_type: dict[str, set[int]] = {}
    for entry in needs:
        by_type.setdefault(entry.entity_type, set()).add(entry.entity_id)
    for entity_type, ids in by_type.items():
        pending.update(
            {(entity_type, key): value for key, value in newest_versions(session, entity_type, ids).items()}
        )
    rows = []
    for entry in entries:
        if entry.change not in CHANGES:
            raise ValueError(f"unknown change {entry.change!r}")
        if entry.version is None:
            key = (entry.entity_type, entry.entity_id)
            version = pending.get(key, 0) + 1
            pending[key] = version
        else:
            version = entry.version
        rows.append(
            {
                "entity_type": entry.entity_type,
                "entity_id": entry.entity_id,
                "version": version,
                "valid_from": at,
                "change": entry.change,
                "before": entry.before,
                "after": entry.after,
                "changed_by": changed_by[:80],
                "reason": reason[:300],
            }
        )
    session.execute(insert(DirectoryVersion), rows)
    return len(rows)


def newest_versions(session: Session, entity_type: str, ids: Iterable[int]) -> dict[int, int]:
    """entity id -> its highest version number (absent ids have no version yet)."""
    found: dict[int, int] = {}
    id_list = sorted(set(ids))
    for start in range(0, len(id_list), _IN_CHUNK):
        chunk = id_list[start : start + _IN_CHUNK]
        rows = session.execute(
            select(DirectoryVersion.entity_id, func.max(DirectoryVersion.version))
            .where(DirectoryVersion.entity_type == entity_type, DirectoryVersion.entity_id.in_(chunk))
            .group_by(DirectoryVersion.entity_id)
        )
        found.update({entity_id: version for entity_id, version in rows})
    return found


def as_of(session: Session, entity_type: str, entity_id: int, when: datetime) -> dict[str, Any] | None:
    """The row as it stood at ``when`` (its newest version then), or None if it did not exist yet."""
    row = session.execute(
        select(DirectoryVersion.after)
        .where(
            DirectoryVersion.entity_type == entity_type,
            DirectoryVersion.entity_id == entity_id,
            DirectoryVersion.valid_from <= when,
        )
        .order_by(DirectoryVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    return row


def as_of_many(
    session: Session, entity_type: str, when: datetime, ids: Iterable[int] | None = None
) -> dict[int, dict[str, Any]]:
    """Every row of a type (or the given ids) as it stood at ``when``: id -> snapshot.

    Deactivated rows are included with ``active`` false; the caller decides what to do with them
    (a draw pool leaves them out, an audit view shows them).
    """
    id_list = None if ids is None else sorted(set(ids))
    chunks: list[list[int] | None] = [None]
    if id_list is not None:
        chunks = [id_list[i : i + _IN_CHUNK] for i in range(0, len(id_list), _IN_CHUNK)]
    result: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        newest = select(
            DirectoryVersion.entity_id.label("entity_id"), func.max(DirectoryVersion.version).label("version")
        ).where(DirectoryVersion.entity_type == entity_type, DirectoryVersion.valid_from <= when)
        if chunk is not None:
            newest = newest.where(DirectoryVersion.entity_id.in_(chunk))
        newest_sub = newest.group_by(DirectoryVersion.entity_id).subquery()
        rows = session.execute(
            select(DirectoryVersion.entity_id, DirectoryVersion.after).join(
                newest_sub,
                and_(
                    DirectoryVersion.entity_type == entity_type,
                    DirectoryVersion.entity_id == newest_sub.c.entity_id,
                    DirectoryVersion.version == newest_sub.c.version,
                ),
            )
        )
        result.update({entity_id: after for entity_id, after in rows})
    return result


def versions(session: Session, entity_type: str, entity_id: int) -> list[DirectoryVersion]:
    """All versions of one row, oldest first (for a history view and for tests)."""
    return list(
        session.execute(
            select(DirectoryVersion)
            .where(DirectoryVersion.entity_type == entity_type, DirectoryVersion.entity_id == entity_id)
            .order_by(DirectoryVersion.version)
        ).scalars()
    )
