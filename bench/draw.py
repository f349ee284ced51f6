"""Benchmark the draw, the dispatch and card delivery at the platform's rate limit.

(1) A directory of 1,000,000 objects and 20,000 inspectors (20 units). A task of three units
    draws 200 objects with teams of five. Timed: ``service.draw_task`` (pool read, hash, zlib
    snapshot, both phases, record, 200 assignments + 1,000 members, commit) and the same plus the
    一公开 group card (what approval does). Baseline in the same run, on the same table and the same
    predicate: ``SELECT id ... ORDER BY random() LIMIT 200``. Median of three of each.
(2) 一键分发 of one drawn task: 1,000 dispatch cards (plus 200 notices) enqueued, timed with commit.
(3) Delivery: ``chayici worker`` processes (the real command, default settings apart from the
    addresses) send those cards, the notices' PDF jobs and files to a local workspace whose card
    API allows 20 calls per second (its default); the bot's limit is the default ``api:card``
    20/1. From the workspace's recorded call times: achieved rate, the most calls in any
    1-second window, and the 403 throttling answers (none expected: the bot must never exceed it).

    python bench/draw.py                                   # SQLite in a temp dir
    python bench/draw.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test_h3
    python bench/draw.py --deliver 200 --workers 2         # deliver 200 cards with two workers

Goals (issue 5): draw <= 1 s and <= 3x the naive query; 1,000 cards enqueued <= 1 s; delivery
>= 90 % of the limit and never above it. On PostgreSQL the tables live in the schema
``bench_draw`` (dropped and recreated), so the database's ``public`` schema is left alone.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
OBJECTS = 1_000_000
INSPECTORS = 20_000
UNITS = 20
SCHEMA = "bench_draw"
CHUNK = 50_000


# -- set-up ------------------------------------------------------------------------------------
def database_url(args: argparse.Namespace, workdir: Path) -> str:
    if args.pg:
        separator = "&" if "?" in args.pg else "?"
        return f"{args.pg}{separator}options=-csearch_path%3D{SCHEMA}"
    return f"sqlite:///{workdir / 'draw.db'}"


def fresh_schema(url: str, postgres: bool) -> None:
    from sqlalchemy import text

    from storage.db import Database
    from storage.migrate import upgrade

    database = Database(url)
    if postgres:
        with database.engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    upgrade(database.engine)
    database.dispose()


def populate(services: Any, objects: int, inspectors: int) -> dict[str, Any]:
    """Units, people, inspectors, a scenario, then the objects in bulk through the driver."""
    from storage.models import (
        ROLE_LEADER,
        ROLE_UNIT_ADMIN,
        ChatIdentity,
        Inspector,
        Person,
        PersonRole,
        PowerItem,
        Scenario,
        ScenarioItem,
        ScenarioUnit,
        Unit,
    )

    rng = random.Random(5)
    with services.db.write() as session:
        bureau = Unit(name="丽水市综合行政执法局", short_name="丽综执", kind="bureau", active=True)
        session.add(bureau)
        session.flush()
        units = [
            Unit(
                name=f"第{n:02d}执法中队", short_name="丽综执", kind="squad", parent_id=bureau.id, active=True
            )
            for n in range(1, UNITS + 1)
        ]
        session.add_all(units)
        session.flush()
        leader = Person(name="局长", unit_id=bureau.id, active=True, created_at=NOW)
        admin = Person(name="牵头管理员", unit_id=units[0].id, active=True, created_at=NOW)
        session.add_all([leader, admin])
        session.flush()
        session.add_all(
            [
                PersonRole(person_id=leader.id, role=ROLE_LEADER),
                PersonRole(person_id=admin.id, role=ROLE_UNIT_ADMIN, unit_id=units[0].id),
                ChatIdentity(corp_id="dingchayicidemo", staff_id="lead-admin", person_id=admin.id),
            ]
        )
        units[0].approver_person_id = leader.id
        tags = {units[0].id: "市容", units[1].id: "市政", units[2].id: "燃气"}
        people = [
            {"name": f"检查员{n}", "unit_id": units[n % UNITS].id, "active": True, "created_at": NOW}
            for n in range(inspectors)
        ]
        from sqlalchemy import insert, select

        session.execute(insert(Person), people)
        person_ids = list(
            session.execute(
                select(Person.id).where(Person.name.like("检查员%")).order_by(Person.id)
            ).scalars()
        )
        session.execute(
            insert(ChatIdentity),
            [
                {
                    "corp_id": services.settings.corp_id,
                    "staff_id": f"s{n}",
                    "person_id": pid,
                    "nick": f"检查员{n}",
                }
                for n, pid in enumerate(person_ids)
            ],
        )
        rows = []
        for n, pid in enumerate(person_ids):
            unit = units[n % UNITS].id
            expired = rng.random() < 0.03
            rows.append(
                {
                    "person_id": pid,
                    "unit_id": unit,
                    "cert_no": f"3311{n:06d}",
                    "cert_valid_from": date(2024, 1, 1),
                    "cert_valid_to": date(2026, 11, 30) if expired else date(2028, 12, 31),
                    "cert_status": "valid",
                    "fields": [tags[unit]] if unit in tags and rng.random() < 0.9 else [],
                    "auxiliary": rng.random() < 0.01,
                    "assignable": True,
                    "active": True,
                    "updated_at": NOW,
                }
            )
        session.execute(insert(Inspector), rows)
        scenario = Scenario(name="压测场景", lead_unit_id=units[0].id, updated_at=NOW)
        session.add(scenario)
        session.flush()
        session.add_all([ScenarioUnit(scenario_id=scenario.id, unit_id=u.id) for u in units[1:3]])
        for position, unit in enumerate(units[:3], start=1):
            item = PowerItem(
                code=f"BENCH{position}",
                name=f"压测事项{position}",
                legal_basis="《浙江省综合行政执法条例》",
                owner_unit_id=unit.id,
                field_tags=[tags[unit.id]],
                updated_at=NOW,
            )
            session.add(item)
            session.flush()
            session.add(ScenarioItem(scenario_id=scenario.id, power_item_id=item.id, position=position))
        world = {
            "units": [u.id for u in units],
            "scenario": scenario.id,
            "admin": admin.id,
            "leader": leader.id,
        }
    bulk_objects(services, objects, world["units"])
    return world


def bulk_objects(services: Any, count: int, units: list[int]) -> None:
    """1,000,000 objects through the driver: executemany on SQLite, COPY on PostgreSQL."""
    rng = random.Random(11)
    postgres = services.db.is_postgres
    columns = (
        "name, entity_type, address, industry, region_code, jurisdiction_unit_id, registration_status, "
        "risk_class, key_supervision_from, no_disturb_from, active, updated_at"
    )
    raw = services.db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for start in range(0, count, CHUNK):
            rows = []
            for n in range(start, min(count, start + CHUNK)):
                roll = rng.random()
                rows.append(
                    (
                        f"丽水市测试{n}号餐饮店",
                        "个体工商户",
                        f"莲都区人民街{n % 997}号",
                        "餐饮",
                        "331102",
                        units[n % len(units)],
                        "存续",
                        "ABCD"[rng.randrange(4)] if roll > 0.05 else None,
                        "2026-01-01" if roll < 0.02 else None,
                        "2026-01-01" if roll > 0.98 else None,
                        roll < 0.995,
                        NOW.replace(tzinfo=None) if not postgres else NOW,
                    )
                )
            if postgres:
                with cursor.copy(f"COPY inspection_object ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO inspection_object ({columns}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(*r[:10], 1 if r[10] else 0, r[11].strftime("%Y-%m-%d %H:%M:%S.%f")) for r in rows],
                )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def make_task(services: Any, world: dict[str, Any], n: int) -> int:
    from storage.models.tasks import Task, TaskUnit

    with services.db.write() as session:
        task = Task(
            number=f"丽综执联查〔2026〕{n}号", year=2026, seq=n, scenario_id=world["scenario"],
            lead_unit_id=world["units"][0], source="plan", method="on_site",
            window_start=date(2026, 12, 7), window_end=date(2026, 12, 11), object_count=200,
            inspectors_per_object=5, draw_mode="even", area_codes=[], prenotice="send", state="approved",
            version=1, round=1, conversation_id="cidBENCHgroup==", created_by_person_id=world["admin"],
            created_at=NOW, updated_at=NOW, approved_at=NOW, approver_person_id=world["leader"],
        )  # fmt: skip
        task.units = [TaskUnit(unit_id=u, state="agreed") for u in world["units"][1:3]]
        session.add(task)
        session.flush()
        return int(task.id)


def context(services: Any, session: Any, person_id: int) -> Any:
    from bot.context import TickContext
    from storage.models import Person

    return TickContext(
        session=session,
        now=services.clock.now(),
        settings=services.settings,
        audit_log=services.audit_log,
        person=session.get(Person, person_id),
        staff_id="lead-admin",
        event_key=f"bench:{time.perf_counter_ns()}",
    )


# -- measurements ------------------------------------------------------------------------------
def naive(services: Any, task_id: int, *, scan: bool = False) -> float:
    """``ORDER BY random() LIMIT 200`` with the pool's predicate. ``scan``: on SQLite force a
    table scan (``NOT INDEXED``), since its planner otherwise walks the pool index for
    ``active = 1`` and reads every row through it."""
    from handlers.draw.pool import _statement, _where, pool_filter
    from storage.models.tasks import Task

    with services.db.read() as session:
        task = session.get(Task, task_id)
        where, values, expanding = _where(pool_filter(task, NOW.date()))
        hint = " NOT INDEXED" if scan and not services.db.is_postgres else ""
        sql = f"SELECT o.id FROM inspection_object AS o{hint} WHERE {where} ORDER BY random() LIMIT 200"
        started = time.perf_counter()
        rows = session.execute(_statement(sql, expanding), values).all()
        elapsed = time.perf_counter() - started
    assert len(rows) == 200
    return elapsed


def timed_draw(services: Any, task_id: int, world: dict[str, Any], *, with_card: bool) -> tuple[float, int]:
    from sqlalchemy import text

    from handlers.draw import commands, service
    from storage.models.tasks import Task

    started = time.perf_counter()
    with services.db.write() as session:
        task = session.get(Task, task_id)
        ctx = context(services, session, world["leader"])
        if with_card:
            commands.on_approved(ctx, task)
        else:
            service.draw_task(ctx, task)
        pool = session.execute(
            text("SELECT pool_size FROM draw_record WHERE task_id = :t"), {"t": task_id}
        ).scalar_one()
    return time.perf_counter() - started, int(pool)


def timed_dispatch(services: Any, task_id: int, world: dict[str, Any]) -> tuple[float, int]:
    from sqlalchemy import func, select

    from handlers.draw import dispatch
    from storage.models import OutboxMessage
    from storage.models.tasks import Task

    started = time.perf_counter()
    with services.db.write() as session:
        task = session.get(Task, task_id, with_for_update={"of": Task})
        dispatch.dispatch_task(context(services, session, world["admin"]), task, overcap_reason="压测")
    elapsed = time.perf_counter() - started
    with services.db.read() as session:
        cards = session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "card.create", OutboxMessage.dedupe_key.like("card:dispatch-%"))
        ).scalar_one()
    return elapsed, int(cards)


def deliver(services: Any, limit: int, timeout: float, workers: int) -> dict[str, Any]:
    """Run the worker against a local workspace at its default card QPS; read its call log."""
    import requests
    from sqlalchemy import func, select, update

    from storage.models import AssignmentMember, ChatIdentity, OutboxMessage
    from workspace import WorkspaceConfig, WorkspaceServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per call would bury the figures
    settings = services.settings
    with services.db.write() as session:
        cards = list(
            session.execute(
                select(OutboxMessage.id)
                .where(OutboxMessage.kind == "card.create", OutboxMessage.dedupe_key.like("card:dispatch-%"))
                .order_by(OutboxMessage.id)
            ).scalars()
        )
        held = cards[limit:]
        if held:  # deliver only ``limit`` cards: park the rest
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(held)).values(state="parked"))
        staff = sorted(set(session.execute(select(ChatIdentity.staff_id)).scalars()))
        members = session.execute(select(func.count()).select_from(AssignmentMember)).scalar_one()
    config = WorkspaceConfig(
        app_key=settings.app_key,
        app_secret=settings.app_secret.get_secret_value(),
        robot_code=settings.robot_code,
        corp_id=settings.corp_id,
        agent_id=settings.agent_id,
        rng_seed=3,
    )
    server = WorkspaceServer(config).start()
    http = requests.Session()
    try:
        for start in range(0, len(staff), 2000):
            http.post(
                f"{server.base_url}/_ws/users",
                json=[{"staffId": s, "name": s} for s in staff[start : start + 2000]],
                timeout=60,
            )
        http.post(
            f"{server.base_url}/_ws/groups",
            json=[{"title": "压测群", "members": ["lead-admin"], "conversationId": "cidBENCHgroup=="}],
            timeout=10,
        )
        env = {
            **os.environ,
            "CHAYICI_DATABASE_URL": settings.database_url,
            "CHAYICI_DATA_DIR": str(settings.data_dir),
            "CHAYICI_DINGTALK_API_BASE": server.base_url,
            "CHAYICI_DINGTALK_OAPI_BASE": server.base_url,
            "CHAYICI_OUTBOX_IDLE_SLEEP_SECONDS": "0.02",
            "CHAYICI_OUTBOX_BATCH_SIZE": str(settings.outbox_batch_size),
            "NO_PROXY": "127.0.0.1,localhost",
        }
        started = time.monotonic()
        workers_running = [
            subprocess.Popen(
                [sys.executable, "-m", "chayici.cli", "worker"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        target = set(cards[:limit])
        try:
            while time.monotonic() - started < timeout:
                with services.db.read() as session:
                    done = session.execute(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.id.in_(target), OutboxMessage.state.in_(("sent", "dead")))
                    ).scalar_one()
                if done >= len(target):
                    break
                time.sleep(0.25)
        finally:
            for process in workers_running:
                process.send_signal(signal.SIGTERM)
            for process in workers_running:
                process.wait(timeout=60)
        calls = http.get(f"{server.base_url}/_ws/calls", params={"path": "/v1.0/card/"}, timeout=60).json()[
            "calls"
        ]
    finally:
        server.stop()
    creates = [
        c for c in calls if c["path"] == "/v1.0/card/instances/createAndDeliver" and c["status"] == 200
    ]
    dispatched = [c for c in creates if str(c.get("json", {}).get("outTrackId", "")).startswith("dispatch-")]
    attempts = sorted(c["time"] for c in calls)
    accepted = sorted(c["time"] for c in calls if c["status"] == 200)
    throttled = sum(1 for c in calls if c["status"] in (403, 429))
    times = sorted(c["time"] for c in dispatched)
    attempts = sorted(c["time"] for c in calls)
    accepted = sorted(c["time"] for c in calls if c["status"] == 200)
    throttled = sum(1 for c in calls if c["status"] in (403, 429))
    times = sorted(c["time"] for c in dispatched)
    if times and os.environ.get("BENCH_DEBUG"):
        buckets: dict[int, int] = {}
        for t in times:
            buckets[(t - times[0]) // 1000] = buckets.get((t - times[0]) // 1000, 0) + 1
        print("  per second:", [buckets.get(k, 0) for k in range(max(buckets) + 1)])
        print("  offsets:", [t - times[0] for t in times[:60]])
    span = (times[-1] - times[0]) / 1000 if len(times) > 1 else 0.0
    window = [t for t in accepted if times and times[0] <= t <= times[-1]]
    return {
        "all_rate": (len(window) - 1) / span if span else 0.0,
        "members": members,
        "delivered": len(dispatched),
        "seconds": span,
        "rate": (len(times) - 1) / span if span else 0.0,
        "max_attempts_1s": max_window(attempts),
        "max_accepted_1s": max_window(accepted),
        "throttled": throttled,
        "card_calls": len(calls),
    }


def runs(times: list[float]) -> str:
    return ", ".join(f"{t * 1000:.0f}" for t in times)


def max_window(times_ms: list[int], span_ms: int = 1000) -> int:
    """The most entries in any half-open window [t, t + span)."""
    best = 0
    for index, start in enumerate(times_ms):
        best = max(best, bisect.bisect_left(times_ms, start + span_ms) - index)
    return best


# -- main --------------------------------------------------------------------------------------
def run(args: argparse.Namespace, url: str, label: str) -> None:
    from bot.clock import SystemClock
    from bot.settings import Settings
    from chayici import build_services

    workdir = Path(tempfile.mkdtemp(prefix="chayici-bench-draw-"))
    settings = Settings(
        database_url=url,
        data_dir=workdir / "data",
        public_base_url="http://127.0.0.1:8000",
        outbox_idle_sleep_seconds=0.02,
        outbox_batch_size=args.batch,
    )
    print(f"\n== {label} ==")
    started = time.perf_counter()
    fresh_schema(url, url.startswith("postgresql"))
    services = build_services(settings, clock=SystemClock())
    world = populate(services, args.objects, args.inspectors)
    gc.collect()  # the set-up's garbage is not the draw's cost
    gc.freeze()
    print(
        f"set-up: {args.objects:,} objects, {args.inspectors:,} inspectors in {time.perf_counter() - started:.1f} s"
    )

    tasks = [make_task(services, world, n) for n in range(1, 7)]
    naive_times, scan_times, draw_times, card_times = [], [], [], []
    pool = 0
    for n in range(3):
        naive_times.append(naive(services, tasks[n]))
        scan_times.append(naive(services, tasks[n], scan=True))
        elapsed, pool = timed_draw(services, tasks[n], world, with_card=False)
        draw_times.append(elapsed)
        elapsed, _ = timed_draw(services, tasks[3 + n], world, with_card=True)
        card_times.append(elapsed)
    n_med, s_med, d_med, c_med = (
        statistics.median(x) for x in (naive_times, scan_times, draw_times, card_times)
    )
    base = min(n_med, s_med)
    print(f"pool: {pool:,} eligible objects; draw 200 objects, teams of 5 (1,000 members)")
    print(f"naive ORDER BY random() LIMIT 200:   {n_med * 1000:7.1f} ms  (runs: {runs(naive_times)})")
    if not services.db.is_postgres:
        print(f"  the same, forced table scan:       {s_med * 1000:7.1f} ms  (runs: {runs(scan_times)})")
    print(
        f"draw (record, assignments, commit):  {d_med * 1000:7.1f} ms  {d_med / base:.2f}x the faster naive  (runs: {runs(draw_times)})"
    )
    print(f"draw + 一公开 group card:            {c_med * 1000:7.1f} ms  {c_med / base:.2f}x")

    elapsed, cards = timed_dispatch(services, tasks[0], world)
    print(
        f"一键分发: {cards} dispatch cards (+200 notices, due items) enqueued and committed in {elapsed * 1000:.0f} ms"
    )

    if args.deliver:
        result = deliver(services, args.deliver, args.timeout, args.workers)
        limit = settings.rate_limit("api:card")
        assert limit is not None
        per_second = limit[0] / limit[1]
        print(
            f"delivery ({args.workers} worker{'s' if args.workers > 1 else ''}): {result['delivered']} dispatch cards in {result['seconds']:.1f} s = {result['rate']:.1f}/s "
            f"({result['rate'] / per_second:.0%} of the {per_second:g}/s limit; all card API calls in that time "
            f"{result['all_rate']:.1f}/s = {result['all_rate'] / per_second:.0%}); most card calls in any 1 s: "
            f"{result['max_attempts_1s']} attempted, {result['max_accepted_1s']} accepted; throttled (403): {result['throttled']}"
        )
    services.db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", help="PostgreSQL URL (tables go to the schema bench_draw)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--objects", type=int, default=OBJECTS)
    parser.add_argument("--inspectors", type=int, default=INSPECTORS)
    parser.add_argument("--deliver", type=int, default=1000, help="dispatch cards to deliver (0 = skip)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for delivery")
    parser.add_argument(
        "--workers", type=int, default=2, help="outbox workers sharing the rate limit (chayici worker runs 2)"
    )
    parser.add_argument("--batch", type=int, default=20, help="outbox rows one worker claims at a time")
    args = parser.parse_args()
    if not args.no_sqlite:
        workdir = Path(tempfile.mkdtemp(prefix="chayici-bench-sqlite-"))
        run(args, database_url(argparse.Namespace(pg=None), workdir), "SQLite")
    if args.pg:
        run(args, database_url(args, Path()), "PostgreSQL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
