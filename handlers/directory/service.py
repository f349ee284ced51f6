"""The one way directory rows change: snapshot, apply, snapshot, version, audit.

Chat commands, CLI imports and the demo all change units, inspectors, objects, items, scenarios
and themes through a ``DirectoryEditor``. Each change appends a ``directory_version`` row (so the
directory can be read as of any date) and, unless the caller batches auditing itself (a bulk
import writes one audit event for the whole file), an audit event in the same transaction.
Nothing is deleted: ``deactivate`` sets ``active`` false and is itself a version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from handlers.directory.snapshots import entity_type_of, snapshot
from storage import history
from storage.audit import AuditEntry, AuditLog

if TYPE_CHECKING:
    from bot.context import Context

# (action, entity_type, entity_id, before, after, detail) -> None
AuditSink = Callable[[str, str, Any, Any, Any, Any], None]


@dataclass
class ChangeResult:
    """Filled in when a ``change`` block ends: whether anything changed, and how."""

    changed: bool = False
    change: str = "update"
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class DirectoryEditor:
    def __init__(
        self,
        session: Session,
        *,
        actor: str,
        now: datetime,
        audit: AuditSink | None,
        reason: str = "",
    ) -> None:
        self.session = session
        self.actor = actor
        self.now = now
        self.reason = reason
        self._audit = audit

    @classmethod
    def for_context(cls, ctx: Context, reason: str = "") -> DirectoryEditor:
        """An editor acting as the chat user (or the system, for ticks) of a handler context."""

        def sink(action: str, entity_type: str, entity_id: Any, before: Any, after: Any, detail: Any) -> None:
            ctx.audit(action, entity_type, entity_id, before=before, after=after, detail=detail)

        return cls(ctx.session, actor=ctx.actor, now=ctx.now, audit=sink, reason=reason)

    @classmethod
    def for_cli(
        cls,
        session: Session,
        audit_log: AuditLog | None,
        *,
        actor: str,
        actor_person_id: int | None,
        now: datetime,
        reason: str,
    ) -> DirectoryEditor:
        """An editor for command-line work; ``audit_log`` None = the caller audits in bulk."""
        if audit_log is None:
            return cls(session, actor=actor, now=now, audit=None, reason=reason)

        def sink(action: str, entity_type: str, entity_id: Any, before: Any, after: Any, detail: Any) -> None:
            audit_log.append(
                session,
                AuditEntry(
                    action=action,
                    entity_type=entity_type,
                    entity_id=str(entity_id),
                    actor=actor,
                    actor_person_id=actor_person_id,
                    before=before,
                    after=after,
                    detail=detail,
                ),
                at=now,
            )

        return cls(session, actor=actor, now=now, audit=sink, reason=reason)

    # -- changes ----------------------------------------------------------------------------------
    def create(self, entity: Any, *, reason: str | None = None, action: str | None = None) -> Any:
        """Add a new row and its first version."""
        if hasattr(entity, "updated_at"):
            entity.updated_at = self.now
        self.session.add(entity)
        self.session.flush()
        after = snapshot(entity)
        entity_type = entity_type_of(entity)
        why = reason or self.reason or "新建"
        history.record(self.session, entity_type, entity.id, "create", {}, after, self.actor, why, self.now)
        self._emit(action or f"{entity_type}.create", entity_type, entity.id, None, after, why)
        return entity

    @contextmanager
    def change(
        self, entity: Any, *, reason: str | None = None, action: str | None = None
    ) -> Iterator[ChangeResult]:
        """Apply the changes made inside the block; record a version only if something changed."""
        result = ChangeResult(before=snapshot(entity))
        yield result
        self.session.flush()
        after = snapshot(entity)
        if after == result.before:
            result.after = after
            return
        before = result.before or {}
        if before.get("active") is True and after.get("active") is False:
            result.change = "deactivate"
        elif before.get("active") is False and after.get("active") is True:
            result.change = "reactivate"
        result.changed = True
        result.after = after
        if hasattr(entity, "updated_at"):
            entity.updated_at = self.now
            self.session.flush()
        entity_type = entity_type_of(entity)
        why = reason or self.reason or "修改"
        history.record(
            self.session, entity_type, entity.id, result.change, before, after, self.actor, why, self.now
        )
        self._emit(action or f"{entity_type}.{result.change}", entity_type, entity.id, before, after, why)

    def update(
        self, entity: Any, values: dict[str, Any], *, reason: str | None = None, action: str | None = None
    ) -> bool:
        with self.change(entity, reason=reason, action=action) as result:
            for name, value in values.items():
                if not hasattr(entity, name):
                    raise AttributeError(f"{type(entity).__name__} has no field {name!r}")
                setattr(entity, name, value)
        return result.changed

    def deactivate(self, entity: Any, *, reason: str) -> bool:
        """停用: the row stays, marked inactive, with a version that says why."""
        return self.update(entity, {"active": False}, reason=reason)

    def reactivate(self, entity: Any, *, reason: str) -> bool:
        return self.update(entity, {"active": True}, reason=reason)

    def _emit(
        self, action: str, entity_type: str, entity_id: Any, before: Any, after: Any, reason: str
    ) -> None:
        if self._audit is not None:
            self._audit(action, entity_type, entity_id, before, after, {"reason": reason})
