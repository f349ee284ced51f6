"""Benchmark signed result submissions through the mobile form under gunicorn on loopback.

(a) a bare Flask endpoint in the same app; (b) ``POST /form/<token>/submit`` with a signed link
per record and a complete result with one 不合格 item: verify the link, read the record and run
every check without locks, then store the version with a guarded update of the record, audit it
and queue the version's one ``results.issue`` job (handlers/results/quick.py). Every request is
a new record: 30,000 open records are seeded (in bulk) so that the closed loop never repeats one,
and a run that did says so (a repeat is answered as a duplicate, which is cheaper: before this was
checked, fast runs had repeated most of their requests). 2,000 records submitted earlier are seeded
too, then statistics, VACUUM and a checkpoint, as a database in use has had (a plan made while
``record_version`` was empty scanned the whole table). Prints req/s, p50/p99, the ratio b/a,
how many cores were busy in each run and where the CPU of (b) went per request (by process name,
and the kernel's soft interrupts, where loopback TCP is processed), then p50/p99 of
(b) paced at 50 req/s. Then, in this process, the worker's side: ``results.issue`` jobs for a
sample of the stored versions (findings and rectification, three numbered documents with their
``document.render`` jobs queued, six audit events, the team's, lead's and group's cards) — PDFs
are drawn later by the render jobs, neither in the request nor here.

    python bench/submit.py                       # SQLite in a temp dir
    python bench/submit.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/submit.py --stored-only         # (b) without its checks and answer
    python bench/submit.py --workers 2 --threads 2   # gthread workers
    python bench/submit.py --floor               # also (c): the least a submission must store

``--floor`` adds (c) ``POST /bench/floor/<token>`` (bench/floor.py): the link checked and the same
body stored as one row in one committed transaction, nothing read, checked, audited or queued.
Its ratio c/a is a ceiling no design of (b) can pass on that database and machine.

Goals (issue 6): b/a >= 0.2 and p99(b) <= 50 ms at 50 req/s. Load from wrk (Debian package) when
present, else from a Python client; both share the machine's two cores with the server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inprocess import cpu_by_name, cpu_split  # noqa: E402
from bench.webhook import SECRET, _non2xx, _wrk_latency, free_port, python_run  # noqa: E402

LINK_SECRET = "bench-link-secret"
PER_TASK = 20  # objects per task, as a real joint task has


def seed(url: str, records: int, history: int = 0) -> list[tuple[int, int]]:
    """Tasks of PER_TASK dispatched objects, teams of two that accepted, one open record per
    object, and ``history`` more records already submitted (one version each), as a database in
    use has. Returns (record id, person id of the submitting inspector) of the open records."""
    from sqlalchemy import insert, update

    from handlers.results.records import initial_draft, item_snapshot
    from storage.db import Database
    from storage.models import (
        ROLE_INSPECTOR,
        ROLE_UNIT_ADMIN,
        Assignment,
        AssignmentMember,
        ChatIdentity,
        DrawRecord,
        InspectionObject,
        InspectionRecord,
        Inspector,
        Person,
        PersonRole,
        PowerItem,
        RecordVersion,
        Scenario,
        ScenarioItem,
        Unit,
    )
    from storage.models.tasks import Task

    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    database = Database(url)
    out: list[tuple[int, int]] = []
    with database.write() as session:
        bureau = Unit(name="丽水市综合行政执法局", short_name="丽综执", kind="bureau", active=True)
        session.add(bureau)
        session.flush()
        lead = Unit(
            name="市容环境卫生监管处", short_name="丽综执", kind="dept", parent_id=bureau.id, active=True
        )
        session.add(lead)
        session.flush()
        people = []
        for n, (name, role) in enumerate(
            [("管理员", ROLE_UNIT_ADMIN), ("检查员甲", ROLE_INSPECTOR), ("检查员乙", ROLE_INSPECTOR)]
        ):
            person = Person(name=name, unit_id=lead.id, active=True, created_at=now)
            session.add(person)
            session.flush()
            session.add(PersonRole(person_id=person.id, role=role, unit_id=lead.id))
            session.add(ChatIdentity(corp_id="dingchayicicorp", staff_id=f"bench-{n}", person_id=person.id))
            people.append(person)
        inspectors = []
        for n, person in enumerate(people[1:], start=1):
            inspector = Inspector(
                person_id=person.id,
                unit_id=lead.id,
                cert_no=f"3311000{n}",
                cert_valid_from=date(2024, 1, 1),
                cert_valid_to=date(2030, 12, 31),
                updated_at=now,
            )
            session.add(inspector)
            inspectors.append(inspector)
        scenario = Scenario(name="餐饮门店综合查一次", lead_unit_id=lead.id, updated_at=now)
        session.add(scenario)
        session.flush()
        for position, name in enumerate(["门前三包责任落实检查", "店外经营检查"], start=1):
            item = PowerItem(
                code=f"ZF-{position}",
                name=name,
                legal_basis="《浙江省城市市容和环境卫生管理条例》",
                owner_unit_id=lead.id,
                provision="《浙江省城市市容和环境卫生管理条例》第十八条",
                order_basis="《浙江省城市市容和环境卫生管理条例》第四十六条",
                updated_at=now,
            )
            session.add(item)
            session.flush()
            session.add(ScenarioItem(scenario_id=scenario.id, power_item_id=item.id, position=position))
        session.flush()
        session.refresh(scenario)
        tasks, draws = [], []
        for t in range((records + history + PER_TASK - 1) // PER_TASK):
            task = Task(
                number=f"丽综执联查〔{today.year}〕{t + 1}号",
                year=today.year,
                seq=t + 1,
                scenario_id=scenario.id,
                lead_unit_id=lead.id,
                source="plan",
                method="on_site",
                window_start=today,
                window_end=today + timedelta(days=4),
                object_count=PER_TASK,
                state="in_progress",
                conversation_id="cidBENCHgroup==",
                created_by_person_id=people[0].id,
                created_at=now,
                updated_at=now,
            )
            tasks.append(task)
        session.add_all(tasks)
        session.flush()
        for task in tasks:
            draws.append(
                DrawRecord(
                    task_id=task.id,
                    kind="full",
                    algorithm_version=1,
                    seed="bench",
                    pool_size=PER_TASK,
                    inspector_pool_size=2,
                    pool_hash="0" * 64,
                    snapshot=b"",
                    result={},
                    operator="bench",
                    drawn_at=now,
                )
            )
        session.add_all(draws)
        session.flush()
        # The objects, slots, teams and records in bulk (tens of thousands: one closed-loop run
        # must never run out of fresh records, see ``main``).
        items = item_snapshot(tasks[0])  # one scenario for all
        slots = [(task, draw, n) for task, draw in zip(tasks, draws, strict=True) for n in range(PER_TASK)]
        object_rows = [
            {"name": f"对象{task.seq:05d}-{n:02d}", "address": f"莲都区人民街{n}号", "updated_at": now}
            for task, _, n in slots
        ]
        object_ids = _ids(session, InspectionObject, object_rows)
        assignment_ids = _ids(
            session,
            Assignment,
            [
                {"task_id": task.id, "slot": n + 1, "object_id": object_id, "planned_day": today,
                 "draw_id": draw.id, "state": "dispatched", "created_at": now}
                for (task, draw, n), object_id in zip(slots, object_ids, strict=True)
            ],
        )  # fmt: skip
        session.execute(
            insert(AssignmentMember),
            [
                {"assignment_id": assignment_id, "inspector_id": inspector.id, "unit_id": lead.id,
                 "position": position, "state": "accepted", "draw_id": draw.id}
                for (_, draw, _), assignment_id in zip(slots, assignment_ids, strict=True)
                for position, inspector in enumerate(inspectors)
            ],
        )  # fmt: skip
        record_rows = []
        for (task, _, _), assignment_id, object_id, obj in zip(
            slots, assignment_ids, object_ids, object_rows, strict=True
        ):
            assignment = SimpleNamespace(planned_day=today)
            place = SimpleNamespace(address=obj["address"])
            record_rows.append(
                {"task_id": task.id, "assignment_id": assignment_id, "object_id": object_id, "state": "draft",
                 "items": items, "draft": initial_draft(task, assignment, place, items),  # type: ignore[arg-type]
                 "created_at": now, "updated_at": now}
            )  # fmt: skip
        record_ids = _ids(session, InspectionRecord, record_rows)
        out = [(record_id, people[1].id) for record_id in record_ids]
        submitted = [record_id for record_id, _ in out[records : records + history]]
        if submitted:
            session.execute(
                insert(RecordVersion),
                [
                    {"record_id": record_id, "version": 1, "instance_id": f"history-{record_id}", "content": {},
                     "content_hash": "0" * 64, "evidence": [], "via": "form", "current": True,
                     "submitted_by_person_id": people[1].id, "submitted_at": now}
                    for record_id in submitted
                ],
            )  # fmt: skip
            session.execute(
                update(InspectionRecord)
                .where(InspectionRecord.id.in_(submitted))
                .values(state="submitted", version=1, submitted_at=now)
            )
    settle(database)
    return out[:records]


def _ids(session: Any, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows in one statement (batched by SQLAlchemy); their ids, in the rows' order."""
    from sqlalchemy import insert

    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.execute(statement, rows).scalars())


def settle(database: Any) -> None:
    """Leave the seeded database as a running one is: statistics fresh, the seeded rows written
    back and, on PostgreSQL, vacuumed. Without this, autovacuum, autoanalyze or a checkpoint set
    off by the seeding could land inside a measured run (seen: the same run 686–1,014 req/s)."""
    from sqlalchemy import text

    if database.is_postgres:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
            connection.execute(text("CHECKPOINT"))
    else:
        database.dispose()
        with closing(sqlite3.connect(str(database.engine.url.database))) as connection:
            connection.execute("ANALYZE")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()


def submissions(pairs: list[tuple[int, int]]) -> list[tuple[str, bytes]]:
    from bot.settings import Settings
    from handlers.results import links

    settings = Settings(link_secret=LINK_SECRET, result_link_hours=2)
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    start = (local - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    end = (local - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    deadline = (local.date() + timedelta(days=20)).isoformat()
    now = datetime.now(UTC)
    out = []
    for record_id, person_id in pairs:
        token = links.sign(settings, record_id, person_id, now)
        body = {
            "submission_id": uuid.uuid4().hex,
            "deprecated_id": "",
            "draft_version": "0",
            "values": {
                "method": "on_site",
                "started_at": start,
                "ended_at": end,
                "present_name": "李店长",
                "present_position": "店长",
                "item_1": "fail",
                "item_1_note": "门前责任区堆放纸箱杂物，占用人行道约3平方米",
                "item_1_deadline": deadline,
                "item_2": "pass",
                "codes": ["A"],
                "notices": ["recusal", "cooperation", "remedies"],
                "signature": "paper",
            },
        }
        out.append((f"/form/{token}/submit", json.dumps(body, ensure_ascii=False).encode()))
    return out


def start_server(
    url: str, port: int, workers: int, data_dir: str, threads: int = 1, stored_only: bool = False
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if stored_only:
        env["CHAYICI_BENCH_STORED_ONLY"] = "1"
    env.update(
        {
            "CHAYICI_DATABASE_URL": url,
            "CHAYICI_APP_SECRET": SECRET,
            "CHAYICI_LINK_SECRET": LINK_SECRET,
            "CHAYICI_DATA_DIR": data_dir,
            "PYTHONPATH": str(ROOT),
        }
    )
    kind = ["-k", "gthread", "--threads", str(threads)] if threads > 1 else ["-k", "sync"]
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), *kind, "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", "bench.webhook_app:app"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    import http.client

    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/bench/bare")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def wrk_paths(
    url: str, requests: list[tuple[str, bytes]], seconds: int, connections: int
) -> dict[str, float]:
    """wrk with a different path and body per request (each line: path, a tab, the body)."""
    folder = tempfile.mkdtemp(prefix="wrk-submit-")
    data = Path(folder) / "requests.txt"
    data.write_bytes(b"\n".join(path.encode() + b"\t" + body for path, body in requests))
    script = Path(folder) / "submit.lua"
    script.write_text(
        f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local paths, bodies = {{}}, {{}}
for line in io.lines("{data}") do
  local tab = line:find("\\t", 1, true)
  paths[#paths + 1] = line:sub(1, tab - 1)
  bodies[#bodies + 1] = line:sub(tab + 1)
end
local counter = 0
request = function()
  counter = counter + 1
  local i = ((counter - 1) % #paths) + 1
  return wrk.format(nil, paths[i], nil, bodies[i])
end
"""
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _wrk_latency(out, "50%"),
        "p99": _wrk_latency(out, "99%"),
        "non2xx": _non2xx(out),
        "count": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
    }


def cores_busy(since: tuple[float, float] | None = None) -> Any:
    """The machine's CPU counters (/proc/stat), or, given an earlier reading, how many cores were
    busy on average since then: a closed loop that leaves cores idle is waiting, not computing."""
    with open("/proc/stat") as stat:
        fields = [float(value) for value in stat.readline().split()[1:]]
    total, idle = sum(fields), fields[3] + fields[4]  # idle and iowait
    if since is None:
        return total, idle
    spent, rested = total - since[0], idle - since[1]
    return (os.cpu_count() or 1) * (1 - rested / spent) if spent else 0.0


def kernel_cpu() -> float:
    """Seconds the machine spent in interrupts and soft interrupts (/proc/stat): loopback TCP's
    work is done there, outside any process's counters."""
    with open("/proc/stat") as stat:
        fields = [float(value) for value in stat.readline().split()[1:]]
    return (fields[5] + fields[6]) / os.sysconf("SC_CLK_TCK")


def wrk_get(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _wrk_latency(out, "50%"),
        "p99": _wrk_latency(out, "99%"),
        "non2xx": _non2xx(out),
    }


def paced(port: int, requests: list[tuple[str, bytes]], seconds: int, rate: float) -> dict[str, float]:
    """python_run wants one path; give each request its own by rotating through a list."""
    import http.client
    import statistics
    import threading

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    index = iter(range(len(requests)))
    start = time.perf_counter()
    end = start + seconds
    threads = 4

    def run(k: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        sent = 0
        while time.perf_counter() < end:
            due = start + (sent * threads + k) / rate
            if due > time.perf_counter():
                time.sleep(due - time.perf_counter())
            try:
                path, body = requests[next(index)]
            except StopIteration:
                break
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += response.status != 200
            sent += 1

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies.sort()
    return {
        "count": float(len(latencies)),
        "rps": len(latencies) / (time.perf_counter() - start),
        "p50": statistics.median(latencies),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "non2xx": float(errors),
    }


def issue_jobs(url: str, data_dir: str, limit: int) -> tuple[int, float, int, int]:
    """Run up to ``limit`` queued ``results.issue`` jobs as the worker would (each in its own
    transaction). Returns (jobs, ms per job, documents issued, render jobs queued)."""
    from sqlalchemy import func, select

    from bot.context import JobContext
    from bot.settings import Settings
    from chayici import build_services
    from handlers.results import issue
    from storage.models import Document, OutboxMessage

    settings = Settings(database_url=url, data_dir=data_dir, link_secret=LINK_SECRET, app_secret=SECRET)
    services = build_services(settings)
    with services.db.read() as session:
        payloads = list(
            session.execute(
                select(OutboxMessage.payload)
                .where(OutboxMessage.kind == issue.ISSUE_JOB, OutboxMessage.state == "pending")
                .order_by(OutboxMessage.id)
                .limit(limit)
            ).scalars()
        )
    started = time.perf_counter()
    for payload in payloads:
        job = JobContext(services.db, settings, None, services.audit_log, services.clock.now(), 1, 0)  # type: ignore[arg-type]
        issue.run(job, payload)
    elapsed = time.perf_counter() - started
    with services.db.read() as session:
        documents = session.execute(select(func.count()).select_from(Document)).scalar_one()
        renders = session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "document.render")
        ).scalar_one()
    services.db.dispose()
    return len(payloads), elapsed * 1000 / max(1, len(payloads)), documents, renders


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", help="PostgreSQL URL (its public schema is reset)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread when > 1)")
    parser.add_argument(
        "--stored-only",
        action="store_true",
        help="(b) without its checks and answer (bench/stored_only.py): what reading and storing cost",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run (c): the body stored as one row, nothing read, checked or audited (bench/floor.py)",
    )
    parser.add_argument(
        "--records",
        type=int,
        default=30000,
        help="fresh records for the closed-loop run (more than it can use)",
    )
    parser.add_argument("--history", type=int, default=2000, help="records submitted before the runs")
    parser.add_argument("--jobs", type=int, default=200, help="results.issue jobs run in process afterwards")
    args = parser.parse_args()

    from bot.settings import Settings
    from storage.db import Database
    from storage.migrate import upgrade

    tmp = tempfile.mkdtemp(prefix="bench-submit-")
    if args.pg:
        from sqlalchemy import text

        url = args.pg
        database = Database(url)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    else:
        url = f"sqlite:///{tmp}/bench.db"
        database = Database(url)
    upgrade(database.engine)
    if args.floor:
        from bench import floor

        floor.create(database.engine)
    database.dispose()
    started = time.perf_counter()
    pairs = seed(url, args.records + 50 * args.seconds + 100, args.history)
    closed, steady = submissions(pairs[: args.records]), submissions(pairs[args.records :])
    print(f"seeded {len(pairs)} records in {time.perf_counter() - started:.1f} s")

    port = free_port()
    server = start_server(url, port, args.workers, tmp, args.threads, args.stored_only)
    base = f"http://127.0.0.1:{port}"
    use_wrk = shutil.which("wrk") is not None
    # SQLite: the log is copied into the database file by the worker's thread, as `chayici worker`
    # runs it (storage/checkpoint.py); here by this process, whose CPU counts as python's.
    try:
        with Database(url).checkpointing(Settings().sqlite_checkpoint_seconds):
            if use_wrk:
                before = cores_busy()
                bare = wrk_get(f"{base}/bench/bare", args.seconds, args.connections)
                bare["busy"], before = cores_busy(before), cores_busy()
                processes, kernel = cpu_by_name(), kernel_cpu()
                submit = wrk_paths(base, closed, args.seconds, args.connections)
                submit["busy"] = cores_busy(before)
                split = cpu_split(processes)
                split["softirq"] = kernel_cpu() - kernel
                if args.floor:
                    before = cores_busy()
                    floored = [(path.replace("/form/", "/bench/floor/", 1).removesuffix("/submit"), body)
                               for path, body in closed]  # fmt: skip
                    floor_run = wrk_paths(base, floored, args.seconds, args.connections)
                    floor_run["busy"] = cores_busy(before)
            else:
                bare = python_run(port, "/bench/bare", None, {}, args.seconds, args.connections, None)
                submit = paced(port, closed, args.seconds, 10_000.0)
            steady_run = paced(port, steady, args.seconds, 50.0)
    finally:
        server.terminate()
        server.wait(timeout=10)

    from sqlalchemy import func, select

    from storage.models import Document, OutboxMessage, RecordVersion

    database = Database(url)
    with database.read() as session:
        versions = session.execute(select(func.count()).select_from(RecordVersion)).scalar_one()
        documents = session.execute(select(func.count()).select_from(Document)).scalar_one()
        queued = session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "results.issue")
        ).scalar_one()
    database.dispose()
    jobs, job_ms, issued, renders = issue_jobs(url, tmp, args.jobs)
    backend = "PostgreSQL" if args.pg else "SQLite"
    tool = "wrk" if use_wrk else "python client"
    kind = f"gthread ({args.threads} threads)" if args.threads > 1 else "sync"
    print(
        f"submit benchmark on {backend}, gunicorn {kind} x{args.workers}, load by {tool}, {args.connections} connections, {args.seconds}s"
    )
    print(
        f"(a) bare endpoint          {bare['rps']:8.0f} req/s  p50 {bare['p50']:6.2f} ms  p99 {bare['p99']:6.2f} ms"
    )
    print(
        f"(b) POST /form/<t>/submit  {submit['rps']:8.0f} req/s  p50 {submit['p50']:6.2f} ms  p99 {submit['p99']:6.2f} ms"
        f"  non-2xx {submit['non2xx']:.0f}"
    )
    print(f"ratio b/a = {submit['rps'] / bare['rps']:.3f}  (goal >= 0.2)")
    if args.floor and not use_wrk:
        print("(c) not run: --floor needs wrk (Debian package wrk)")
    if args.floor and use_wrk:
        print(
            f"(c) POST /bench/floor/<t>  {floor_run['rps']:8.0f} req/s  p50 {floor_run['p50']:6.2f} ms"
            f"  p99 {floor_run['p99']:6.2f} ms  non-2xx {floor_run['non2xx']:.0f}  cores busy {floor_run['busy']:.2f}"
        )
        print(
            f"ratio c/a = {floor_run['rps'] / bare['rps']:.3f}: one committed row, nothing read, checked or"
            f" audited (the ceiling); b/c = {submit['rps'] / floor_run['rps']:.3f}"
        )
        if floor_run["non2xx"]:
            print(
                "WARNING: (c) ran out of fresh submission ids and repeated some (refused by its unique key): raise --records"
            )
    if args.stored_only:
        print("(b) ran without its checks and answer (--stored-only): not the goal's figure")
    if "busy" in bare:
        print(f"cores busy (of {os.cpu_count()}): (a) {bare['busy']:.2f}, (b) {submit['busy']:.2f}")
        shares = ", ".join(
            f"{name} {seconds / submit['count'] * 1000:.2f}"
            for name, seconds in sorted(split.items(), key=lambda item: -item[1])
            if seconds / submit["count"] >= 0.00001
        )
        print(f"CPU per request of (b), ms: {shares}")
    print(
        f"(b) paced at 50 req/s:     {steady_run['rps']:6.1f} req/s achieved  p50 {steady_run['p50']:6.2f} ms"
        f"  p99 {steady_run['p99']:6.2f} ms  non-2xx {steady_run['non2xx']:.0f}  (goal p99 <= 50 ms)"
    )
    print(
        f"stored by the requests: {versions - args.history} versions, {queued} results.issue jobs queued,"
        f" {documents} documents"
    )
    sent = submit["count"] + steady_run["count"]
    if versions - args.history < sent:
        print(
            f"WARNING: {sent:.0f} submissions sent but {versions - args.history} stored: the closed loop ran out of"
            " fresh records and repeated some (answered as duplicates, which are cheaper); raise --records"
        )
    print(
        f"worker side, in process: {jobs} results.issue jobs, {job_ms:.1f} ms each; {issued} documents issued,"
        f" {renders} document.render jobs queued (PDFs drawn by those jobs)"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
