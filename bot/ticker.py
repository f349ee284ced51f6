"""The ticker: periodic scans and due items, run in the worker process only.

APScheduler 3.x is used as a local timer only (memory job store, one interval job per scan,
``coalesce`` and ``max_instances=1``). The truth lives in the database: due items are rows,
claimed with SKIP LOCKED (PostgreSQL) or under BEGIN IMMEDIATE (SQLite), and whatever they send
goes to the outbox with a deterministic key, so two tickers cannot send twice and a restart
loses nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete

from bot import metrics
from bot.context import TickContext
from bot.gcpause import paused_gc
from bot.services import Services
from storage import due as due_items
from storage import outbox
from storage.models.platform import InboxEvent

log = logging.getLogger(__name__)


class Ticker:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._scheduler: BackgroundScheduler | None = None

    def _context(self, session: Any, event_key: str) -> TickContext:
        return TickContext(
            session=session,
            now=self.services.clock.now(),
            settings=self.services.settings,
            audit_log=self.services.audit_log,
            person=None,
            staff_id=None,
            event_key=event_key,
        )

    def scan_due(self, *, limit: int | None = None) -> int:
        """Handle due items, each in a savepoint; a failing one is postponed, not lost.

        The claim marks the items done (``claim_due``); an item whose handler fails, or whose kind
        has no handler, is put back as pending for a later tick. Kinds registered with
        ``router.on_due_batch`` are handled a whole group at a time (one savepoint per group); if
        the group fails, its items are retried one by one.
        """
        limit = limit or self.services.settings.ticker_claim_limit
        handled = 0
        router = self.services.router
        with paused_gc(), self.services.db.write() as session:
            now = self.services.clock.now()
            claimed = due_items.claim_due(session, now=now, limit=limit)
            batches: dict[str, list[Any]] = {}
            for row in claimed:
                if row.kind in router.due_batch_handlers:
                    batches.setdefault(row.kind, []).append(row)
                    continue
                handler = router.due_handlers.get(row.kind)
                if handler is None:
                    due_items.postpone(
                        session,
                        row.id,
                        now=now,
                        error=f"no handler for due kind {row.kind!r}",
                        delay=timedelta(hours=1),
                    )
                    log.error("due item %s has unknown kind %s", row.id, row.kind)
                    continue
                if self._run_one(session, now, row, lambda ctx, one, h=handler: h(ctx, one)):
                    handled += 1
            for kind, items in batches.items():
                batch_handler = router.due_batch_handlers[kind]
                savepoint = session.begin_nested()
                try:
                    batch_handler(self._context(session, f"due:{kind}:{items[0].id}"), items)
                except Exception:
                    savepoint.rollback()
                    log.exception("due batch %s (%d items) failed; retrying one by one", kind, len(items))
                    for row in items:
                        if self._run_one(session, now, row, lambda ctx, one, h=batch_handler: h(ctx, [one])):
                            handled += 1
                    continue
                savepoint.commit()
                handled += len(items)
        metrics.TICKS.labels("due", "ok").inc()
        return handled

    def _run_one(self, session: Any, now: Any, item: Any, call: Any) -> bool:
        savepoint = session.begin_nested()
        try:
            call(self._context(session, f"due:{item.id}"), item)
        except Exception as exc:
            savepoint.rollback()
            due_items.postpone(session, item.id, now=now, error=f"{type(exc).__name__}: {exc}")
            log.exception("due item %s (%s) failed; postponed", item.id, item.kind)
            metrics.TICKS.labels("due", "error").inc()
            return False
        savepoint.commit()
        return True

    def run_periodic(self, name: str) -> None:
        periodic = self.services.router.periodics[name]
        try:
            with self.services.db.write() as session:
                now = self.services.clock.now()
                periodic.func(self._context(session, f"tick:{name}:{now.isoformat()}"))
        except Exception:
            log.exception("periodic scan %s failed", name)
            metrics.TICKS.labels(name, "error").inc()
            return
        metrics.TICKS.labels(name, "ok").inc()

    def housekeeping(self) -> tuple[int, int, int]:
        """Prune answered inbox events and sent outbox rows past their retention."""
        settings = self.services.settings
        now = self.services.clock.now()
        with self.services.db.write() as session:
            inbox = session.execute(
                delete(InboxEvent).where(
                    InboxEvent.received_at < now - timedelta(hours=settings.inbox_retention_hours)
                )
            ).rowcount
            sent, rates = outbox.prune(
                session,
                sent_before=now - timedelta(hours=settings.outbox_retention_hours),
                rate_before=now - timedelta(hours=1),
            )
        return inbox, sent, rates

    def tick(self) -> None:
        """One full pass (used by the scheduler and by tests that move the clock)."""
        limit = self.services.settings.ticker_claim_limit
        while self.scan_due(limit=limit) >= limit:
            pass
        for name in self.services.router.periodics:
            self.run_periodic(name)

    # -- scheduling --------------------------------------------------------------------------
    def start(self) -> None:
        scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        interval = self.services.settings.ticker_interval_seconds
        scheduler.add_job(self._safe_scan, "interval", seconds=interval, id="due", name="due items")
        for name, periodic in self.services.router.periodics.items():
            scheduler.add_job(
                self.run_periodic, "interval", seconds=periodic.seconds, args=[name], id=f"periodic:{name}"
            )
        scheduler.add_job(self.housekeeping, "interval", minutes=10, id="housekeeping")
        scheduler.start()
        self._scheduler = scheduler
        log.info("ticker started with %d periodic scan(s)", len(self.services.router.periodics))

    def _safe_scan(self) -> None:
        limit = self.services.settings.ticker_claim_limit
        try:
            while self.scan_due(limit=limit) >= limit:
                pass
        except Exception:
            log.exception("due scan failed")

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
