"""Outbox semantics: idempotent enqueue, coalescing, rate limits, retries, leases, concurrency.

The worker's platform calls are replaced by a recording performer here; the same worker against
the real HTTP workspace is exercised in tests/platform/test_delivery.py.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from datetime import timedelta
from time import monotonic as clock_time

import pytest
from sqlalchemy import select

from bot.dingtalk.errors import FatalError, RetryableError
from bot.worker import OutboxWorker, drain, run_workers
from storage import outbox
from storage.models.platform import OutboxMessage


class Recorder:
    """Stands in for the platform call; records each send, can fail on demand."""

    def __init__(self, fail: dict[int, Exception] | None = None) -> None:
        self.sent: list[int] = []
        self.fail = fail or {}
        self.lock = threading.Lock()

    def __call__(self, payload, attempt):
        n = payload["n"]
        error = self.fail.pop(n, None)
        if error is not None:
            raise error
        with self.lock:
            self.sent.append(n)
        return f"ref-{n}"


def _worker(services, recorder: Recorder, worker_id: str = "w1") -> OutboxWorker:
    worker = OutboxWorker(services, client=None, worker_id=worker_id)  # type: ignore[arg-type]
    worker.performers["robot.group"] = recorder
    return worker


def _enqueue(services, clock, count: int, *, group: str = "cidA", start: int = 0) -> None:
    with services.db.write() as session:
        for n in range(start, start + count):
            outbox.enqueue(
                session,
                kind="robot.group",
                dedupe_key=f"test:{n}",
                payload={"n": n},
                now=clock.now(),
                rate_keys=["api:robot", f"group:{group}"],
            )


def _rows(services) -> list[OutboxMessage]:
    with services.db.read() as session:
        return list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_enqueue_with_the_same_dedupe_key_keeps_one_row(services, clock):
    with services.db.write() as session:
        first = outbox.enqueue(session, kind="robot.group", dedupe_key="k", payload={"n": 1}, now=clock.now())
        second = outbox.enqueue(
            session, kind="robot.group", dedupe_key="k", payload={"n": 2}, now=clock.now()
        )
    assert (first, second) == (True, False)
    assert [row.payload for row in _rows(services)] == [{"n": 1}]


def test_card_updates_are_coalesced_to_the_newest_state(services, clock):
    with services.db.write() as session:
        for version in (1, 2, 3):
            outbox.enqueue(
                session,
                kind="card.update",
                dedupe_key=f"card:x:v{version}",
                payload={"v": version},
                now=clock.now(),
                coalesce_key="card:x",
            )
    states = [(row.payload["v"], row.state) for row in _rows(services)]
    assert states == [(1, "superseded"), (2, "superseded"), (3, "pending")]


def test_each_row_is_sent_once_and_marked_sent(services, clock):
    recorder = Recorder()
    _enqueue(services, clock, 30)
    drain(_worker(services, recorder))
    assert sorted(recorder.sent) == list(range(30))
    assert {row.state for row in _rows(services)} == {"sent"}
    assert _rows(services)[0].platform_ref == "ref-0"


def test_group_rate_limit_holds_back_rows_beyond_the_window(services, clock):
    services.settings.rate_limits["group"] = "20/60"
    recorder = Recorder()
    _enqueue(services, clock, 25)
    worker = _worker(services, recorder)
    worker.run_once()
    stats = worker.run_once()
    assert len(recorder.sent) == 20
    assert stats.claimed == 0
    assert stats.next_wake is not None and stats.next_wake >= clock.now() + timedelta(seconds=59)
    clock.advance(seconds=61)
    worker.run_once()
    assert sorted(recorder.sent) == list(range(25))


def test_rate_limit_is_per_group(services, clock):
    services.settings.rate_limits["group"] = "2/60"
    recorder = Recorder()
    _enqueue(services, clock, 3, group="cidA")
    _enqueue(services, clock, 3, group="cidB", start=10)
    worker = _worker(services, recorder)
    worker.run_once()
    worker.run_once()
    assert sorted(recorder.sent) == [0, 1, 10, 11]


def test_retryable_error_backs_off_then_succeeds(services, clock):
    recorder = Recorder(fail={0: RetryableError("busy")})
    _enqueue(services, clock, 1)
    worker = _worker(services, recorder)
    worker.run_once()
    row = _rows(services)[0]
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "busy")
    clock.advance(seconds=1)
    worker.run_once()
    assert recorder.sent == [0]
    assert _rows(services)[0].state == "sent"


def test_retry_after_is_honoured(services, clock):
    recorder = Recorder(fail={0: RetryableError("throttled", retry_after=600)})
    _enqueue(services, clock, 1)
    _worker(services, recorder).run_once()
    row = _rows(services)[0]
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=600)


def test_fatal_error_dead_letters_at_once(services, clock, caplog):
    recorder = Recorder(fail={0: FatalError("invalidParameter.msgParam.invalid")})
    _enqueue(services, clock, 1)
    _worker(services, recorder).run_once()
    assert _rows(services)[0].state == "dead"
    assert "dead after 1 attempts" in caplog.text


def test_row_is_dead_lettered_after_max_attempts(services, clock):
    recorder = Recorder()
    _enqueue(services, clock, 1)
    worker = _worker(services, recorder)

    def always_busy(payload, attempt):
        raise RetryableError("busy")

    worker.performers["robot.group"] = always_busy
    for _ in range(services.settings.outbox_max_attempts):
        worker.run_once()
        clock.advance(seconds=1)
    row = _rows(services)[0]
    assert (row.state, row.attempts) == ("dead", services.settings.outbox_max_attempts)


def test_expired_lease_is_reclaimed_and_the_old_owner_is_fenced_out(services, clock):
    _enqueue(services, clock, 1)
    with services.db.write() as session:
        claimed, _ = outbox.claim(
            session,
            worker_id="dead-worker",
            now=clock.now(),
            lease_seconds=60,
            limit=10,
            rates=services.settings.rate_limit,
            postgres=services.db.is_postgres,
        )
    assert len(claimed) == 1
    recorder = Recorder()
    worker = _worker(services, recorder, "w2")
    assert worker.run_once().claimed == 0  # still leased
    clock.advance(seconds=61)
    worker.run_once()
    assert recorder.sent == [0]
    with services.db.write() as session:
        late = outbox.mark_sent(
            session,
            outbox_id=claimed[0].id,
            worker_id="dead-worker",
            now=clock.now(),
            started_at=None,
            platform_ref="late",
        )
    assert late is False
    assert _rows(services)[0].platform_ref == "ref-0"


def test_a_job_kind_registered_by_a_capability_is_performed(services, clock):
    seen: list[dict] = []

    @services.router.job("test.job")
    def perform(ctx, payload):
        seen.append(payload)
        return "done"

    with services.db.write() as session:
        outbox.enqueue(session, kind="test.job", dedupe_key="job:1", payload={"x": 1}, now=clock.now())
    drain(OutboxWorker(services, client=None))  # type: ignore[arg-type]
    assert seen == [{"x": 1}]
    assert _rows(services)[0].platform_ref == "done"


def test_the_worker_process_runs_its_configured_loops_which_share_the_queue_and_stop(services, clock):
    """``run_workers`` starts ``outbox_worker_threads`` loops with their own ids and clients; they
    send every row once between them and all end when told to stop."""
    services.settings = services.settings.model_copy(
        update={"outbox_worker_threads": 3, "outbox_idle_sleep_seconds": 0.02}
    )
    seen: list[int] = []
    lock = threading.Lock()
    clients: list[object] = []

    @services.router.job("test.count")
    def perform(ctx, payload):
        assert ctx.client in clients
        with lock:
            seen.append(payload["n"])
        return "done"

    with services.db.write() as session:
        for n in range(40):
            outbox.enqueue(
                session, kind="test.count", dedupe_key=f"count:{n}", payload={"n": n}, now=clock.now()
            )

    def client() -> object:
        clients.append(object())
        return clients[-1]

    stop = threading.Event()
    threads = run_workers(services, client, stop, name="test")  # type: ignore[arg-type]
    assert [t.name for t in threads] == ["outbox-0", "outbox-1", "outbox-2"] and len(clients) == 3
    deadline = clock_time() + 20
    while clock_time() < deadline and len(seen) < 40:
        threading.Event().wait(0.05)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert sorted(seen) == list(range(40))
    assert not any(thread.is_alive() for thread in threads)
    rows = _rows(services)
    assert {row.state for row in rows} == {"sent"}
    assert {row.locked_by for row in rows} <= {f"test:{os.getpid()}:{i}" for i in range(3)}


@pytest.mark.slow
def test_two_workers_on_postgresql_send_every_row_exactly_once(services, clock):
    if not services.db.is_postgres:
        pytest.skip("needs PostgreSQL (CHAYICI_TEST_DATABASE_URL) for SKIP LOCKED between connections")
    _enqueue(services, clock, 500)
    recorder = Recorder()
    workers = [_worker(services, recorder, f"w{i}") for i in range(2)]
    threads = [threading.Thread(target=drain, args=(w,), kwargs={"timeout": 60}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(recorder.sent)
    assert len(counts) == 500
    assert max(counts.values()) == 1
    rows = _rows(services)
    assert {row.state for row in rows} == {"sent"}
    assert {row.locked_by for row in rows} == {"w0", "w1"}
