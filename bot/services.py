"""The long-lived pieces one process shares: settings, database, clock, audit log, router."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import Clock, SystemClock
from bot.router import Router
from bot.settings import Settings
from storage.audit import AuditLog
from storage.db import Database
from storage.identity import SeenConversations


@dataclass
class Services:
    settings: Settings
    db: Database
    router: Router
    clock: Clock = field(default_factory=SystemClock)
    audit_log: AuditLog = field(init=False)
    conversations: SeenConversations = field(default_factory=SeenConversations)

    def __post_init__(self) -> None:
        self.audit_log = AuditLog(self.settings.audit_key.get_secret_value().encode())

    @classmethod
    def build(
        cls, settings: Settings, router: Router, *, clock: Clock | None = None, db: Database | None = None
    ) -> Services:
        return cls(
            settings=settings,
            db=db or Database(settings.database_url),
            router=router,
            clock=clock or SystemClock(),
        )
