"""The outbox worker: the only code that sends to the platform.

Loop: claim a batch (lease + rate limits) in one short transaction, send each row, record each
result in its own short transaction. A killed worker's rows come back when their lease expires;
a worker that lost its lease cannot overwrite the new owner's result (fenced update).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot import metrics
from bot.context import JobContext
from bot.dingtalk.client import DingTalkClient
from bot.dingtalk.errors import DingTalkError, FatalError, RetryableError
from bot.services import Services
from storage import outbox

log = logging.getLogger(__name__)

Performer = Callable[[dict[str, Any], "Attempt"], str | None]


@dataclass(frozen=True)
class Attempt:
    outbox_id: int
    attempt: int
    max_attempts: int


@dataclass
class RunStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0
    next_wake: datetime | None = None


@dataclass
class OutboxWorker:
    services: Services
    client: DingTalkClient
    worker_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 30):x}"
    )
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.performers: dict[str, Performer] = {
            "robot.group": self._robot_group,
            "robot.oto": self._robot_oto,
            "robot.file": self._robot_file,
            "card.create": self._card_create,
            "card.update": self._card_update,
            "worknotice": self._work_notice,
        }

    # -- one round ---------------------------------------------------------------------------
    def run_once(self) -> RunStats:
        settings = self.services.settings
        now = self.services.clock.now()
        with self.services.db.write() as session:
            rows, deferred = outbox.claim(
                session,
                worker_id=self.worker_id,
                now=now,
                lease_seconds=settings.outbox_lease_seconds,
                limit=settings.outbox_batch_size,
                rates=settings.rate_limit,
                postgres=self.services.db.is_postgres,
            )
        stats = RunStats(claimed=len(rows), next_wake=deferred)
        for row in rows:
            self._perform(row, stats)
        return stats

    def _perform(self, row: outbox.Claimed, stats: RunStats) -> None:
        attempt = Attempt(row.id, row.attempts, row.max_attempts)
        # A call's place in its rate window is when it returned, not when it began: the platform
        # admits a call when it arrives, up to a round trip after we start it, so counting from
        # the start let a 21st call into the platform's one-second window (bench/draw.py).
        returned = self.services.clock.now
        try:
            performer = self.performers.get(row.kind)
            if performer is None:
                job = self.services.router.jobs.get(row.kind)
                if job is None:
                    raise FatalError(f"no performer for outbox kind {row.kind!r}")
                ref = job(self._job_context(attempt), row.payload)
            else:
                ref = performer(row.payload, attempt)
        except FatalError as exc:
            self._fail(row, stats, returned(), None, str(exc))
            return
        except RetryableError as exc:
            self._fail(row, stats, returned(), self._retry_at(row.attempts, exc.retry_after), str(exc))
            return
        except DingTalkError as exc:  # auth errors that survived one token refresh
            self._fail(row, stats, returned(), self._retry_at(row.attempts, None), str(exc))
            return
        except Exception as exc:  # a bug in a job: keep the row, retry with backoff, log loudly
            log.exception("outbox row %s (%s) raised", row.id, row.kind)
            self._fail(
                row, stats, returned(), self._retry_at(row.attempts, None), f"{type(exc).__name__}: {exc}"
            )
            return
        finished = returned()
        with self.services.db.write() as session:
            ok = outbox.mark_sent(
                session,
                outbox_id=row.id,
                worker_id=self.worker_id,
                now=finished,
                started_at=finished,
                platform_ref=ref,
            )
        if ok:
            stats.sent += 1
            metrics.OUTBOX_SENT.labels(row.kind, "sent").inc()
        else:
            stats.lost += 1
            log.warning("outbox row %s finished after its lease was taken over", row.id)

    def _fail(
        self, row: outbox.Claimed, stats: RunStats, started: datetime, retry_at: datetime | None, error: str
    ) -> None:
        with self.services.db.write() as session:
            state = outbox.mark_failed(
                session,
                outbox_id=row.id,
                worker_id=self.worker_id,
                retry_at=retry_at,
                error=error,
                started_at=started,
            )
        if state == "dead":
            stats.dead += 1
            metrics.OUTBOX_SENT.labels(row.kind, "dead").inc()
            log.error(
                "outbox row %s (%s, key %s) dead after %d attempts: %s",
                row.id,
                row.kind,
                row.dedupe_key,
                row.attempts,
                error,
            )
        elif state == "pending":
            stats.retried += 1
            metrics.OUTBOX_SENT.labels(row.kind, "retry").inc()
            log.info("outbox row %s (%s) will retry: %s", row.id, row.kind, error)
        else:
            stats.lost += 1

    def _retry_at(self, attempts: int, retry_after: float | None) -> datetime:
        """Capped exponential backoff with full jitter, never earlier than Retry-After."""
        settings = self.services.settings
        ceiling = min(
            settings.outbox_backoff_cap_seconds,
            settings.outbox_backoff_base_seconds * (2 ** max(0, attempts - 1)),
        )
        delay = ceiling * self.rng.random()
        if retry_after is not None:
            delay = max(delay, retry_after)
        return self.services.clock.now() + timedelta(seconds=delay)

    def _job_context(self, attempt: Attempt) -> JobContext:
        return JobContext(
            db=self.services.db,
            settings=self.services.settings,
            client=self.client,
            audit_log=self.services.audit_log,
            now=self.services.clock.now(),
            attempt=attempt.attempt,
            outbox_id=attempt.outbox_id,
        )

    # -- loop --------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        idle = self.services.settings.outbox_idle_sleep_seconds
        log.info("outbox worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                stats = self.run_once()
            except Exception:
                log.exception("outbox round failed; retrying shortly")
                stop.wait(idle)
                continue
            if stats.claimed:
                continue
            wait = idle
            if stats.next_wake is not None:
                until = (stats.next_wake - self.services.clock.now()).total_seconds()
                wait = max(0.005, min(idle, until))
            stop.wait(wait)
        log.info("outbox worker %s stopped", self.worker_id)

    # -- performers --------------------------------------------------------------------------
    def _robot_group(self, payload: dict[str, Any], _attempt: Attempt) -> str | None:
        data = self.client.group_send(payload["openConversationId"], payload["msgKey"], payload["msgParam"])
        return data.get("processQueryKey")

    def _robot_oto(self, payload: dict[str, Any], _attempt: Attempt) -> str | None:
        data = self.client.oto_send(payload["userIds"], payload["msgKey"], payload["msgParam"])
        invalid = data.get("invalidStaffIdList") or []
        if invalid:
            log.warning("1:1 message not delivered to %d unknown user(s)", len(invalid))
        return data.get("processQueryKey")

    def _robot_file(self, payload: dict[str, Any], _attempt: Attempt) -> str | None:
        path = Path(self.services.settings.data_dir) / payload["path"]
        try:
            content = path.read_bytes()
        except FileNotFoundError as exc:
            raise FatalError(f"file to send is missing: {payload['path']}") from exc
        media_id = self.client.media_upload(content, payload["fileName"], "file")
        data = self.client.oto_send(
            payload["userIds"],
            "sampleFile",
            {
                "mediaId": media_id,
                "fileName": payload["fileName"],
                "fileType": payload.get("fileType", "pdf"),
            },
        )
        return data.get("processQueryKey")

    def _card_create(self, payload: dict[str, Any], _attempt: Attempt) -> str | None:
        body = {key: value for key, value in payload.items() if key != "templateKey"}
        self.client.card_create_and_deliver(body)
        return payload["outTrackId"]

    def _card_update(self, payload: dict[str, Any], _attempt: Attempt) -> str | None:
        self.client.card_update(payload)
        return payload["outTrackId"]

    def _work_notice(self, payload: dict[str, Any], _attempt: Attempt) -> str | None:
        data = self.client.work_notice(payload["userIds"], payload["msg"])
        task_id = data.get("task_id")
        return str(task_id) if task_id is not None else None


def run_workers(
    services: Services, client_factory: Callable[[], DingTalkClient], stop: threading.Event, *, name: str
) -> list[threading.Thread]:
    """Start ``settings.outbox_worker_threads`` outbox loops, each with its own client (its own
    HTTP session and token) and worker id; they run until ``stop`` is set. Returns the threads."""
    threads = []
    for index in range(services.settings.outbox_worker_threads):
        worker = OutboxWorker(services, client_factory(), worker_id=f"{name}:{os.getpid()}:{index}")
        thread = threading.Thread(target=worker.run, args=(stop,), name=f"outbox-{index}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def drain(worker: OutboxWorker, *, timeout: float = 10.0, wait: bool = True) -> int:
    """Run rounds until no row is pending or running (tests, benchmarks). Returns rows sent.

    With ``wait=False`` it stops as soon as nothing is due now (rows waiting for a retry time are
    left for later), which suits tests that move a manual clock."""
    deadline = time.monotonic() + timeout
    sent = 0
    while time.monotonic() < deadline:
        stats = worker.run_once()
        sent += stats.sent
        if stats.claimed:
            continue
        with worker.services.db.read() as session:
            upcoming = outbox.next_attempt(session)
        if upcoming is None or (not wait and upcoming > worker.services.clock.now()):
            return sent
        now = worker.services.clock.now()
        wake = upcoming if stats.next_wake is None else min(upcoming, stats.next_wake)
        time.sleep(max(0.002, min(0.2, (wake - now).total_seconds())))
    return sent
