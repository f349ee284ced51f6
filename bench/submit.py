"""Benchmark signed result submissions through the mobile form under gunicorn on loopback.

(a) a bare Flask endpoint in the same app; (b) ``POST /form/<token>/submit`` with a signed link
per record and a complete result with one 不合格 item: verify the link, read the record and run
every check without locks, then store the version with a guarded update of the record, audit it
and queue the version's one ``results.issue`` job (handlers/results/quick.py). Every request is
a new record (no duplicates). Prints req/s, p50/p99 and the ratio b/a, then p50/p99 of
(b) paced at 50 req/s. Then, in this process, the worker's side: ``results.issue`` jobs for a
sample of the stored versions (findings and rectification, three numbered documents with their
``document.render`` jobs queued, six audit events, the team's, lead's and group's cards) — PDFs
are drawn later by the render jobs, neither in the request nor here.

    python bench/submit.py                       # SQLite in a temp dir
    python bench/submit.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench

Goals (issue 6): b/a >= 0.2 and p99(b) <= 50 ms at 50 req/s. Load from wrk (Debian package) when
present, else from a Python client; both share the machine's two cores with the server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook import SECRET, _non2xx, _wrk_latency, free_port, python_run  # noqa: E402

LINK_SECRET = "bench-link-secret"
PER_TASK = 20  # objects per task, as a real joint task has


def seed(url: str, records: int) -> list[tuple[int, int]]:
    """Tasks of PER_TASK dispatched objects, teams of two that accepted, one open record per
    object. Returns (record id, person id of the submitting inspector)."""
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
        for t in range((records + PER_TASK - 1) // PER_TASK):
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
            session.add(task)
            session.flush()
            draw = DrawRecord(
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
            session.add(draw)
            session.flush()
            items = item_snapshot(task)
            for n in range(PER_TASK):
                obj = InspectionObject(
                    name=f"对象{t:04d}-{n:02d}", address=f"莲都区人民街{n}号", updated_at=now
                )
                session.add(obj)
                session.flush()
                assignment = Assignment(
                    task_id=task.id,
                    slot=n + 1,
                    object_id=obj.id,
                    planned_day=today,
                    draw_id=draw.id,
                    state="dispatched",
                    created_at=now,
                )
                session.add(assignment)
                session.flush()
                for position, inspector in enumerate(inspectors):
                    session.add(
                        AssignmentMember(
                            assignment_id=assignment.id,
                            inspector_id=inspector.id,
                            unit_id=lead.id,
                            position=position,
                            state="accepted",
                            draw_id=draw.id,
                        )
                    )
                record = InspectionRecord(
                    task_id=task.id,
                    assignment_id=assignment.id,
                    object_id=obj.id,
                    state="draft",
                    items=items,
                    draft=initial_draft(task, assignment, obj, items),
                    created_at=now,
                    updated_at=now,
                )
                session.add(record)
                session.flush()
                out.append((record.id, people[1].id))
    database.dispose()
    return out[:records]


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


def start_server(url: str, port: int, workers: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "CHAYICI_DATABASE_URL": url,
            "CHAYICI_APP_SECRET": SECRET,
            "CHAYICI_LINK_SECRET": LINK_SECRET,
            "CHAYICI_DATA_DIR": data_dir,
            "PYTHONPATH": str(ROOT),
        }
    )
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
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
    }


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
    parser.add_argument("--records", type=int, default=4000, help="records for the closed-loop run")
    parser.add_argument("--jobs", type=int, default=200, help="results.issue jobs run in process afterwards")
    args = parser.parse_args()

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
    database.dispose()
    started = time.perf_counter()
    pairs = seed(url, args.records + 50 * args.seconds + 100)
    closed, steady = submissions(pairs[: args.records]), submissions(pairs[args.records :])
    print(f"seeded {len(pairs)} records in {time.perf_counter() - started:.1f} s")

    port = free_port()
    server = start_server(url, port, args.workers, tmp)
    base = f"http://127.0.0.1:{port}"
    use_wrk = shutil.which("wrk") is not None
    try:
        if use_wrk:
            bare = wrk_get(f"{base}/bench/bare", args.seconds, args.connections)
            submit = wrk_paths(base, closed, args.seconds, args.connections)
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
    print(
        f"submit benchmark on {backend}, gunicorn sync x{args.workers}, load by {tool}, {args.connections} connections, {args.seconds}s"
    )
    print(
        f"(a) bare endpoint          {bare['rps']:8.0f} req/s  p50 {bare['p50']:6.2f} ms  p99 {bare['p99']:6.2f} ms"
    )
    print(
        f"(b) POST /form/<t>/submit  {submit['rps']:8.0f} req/s  p50 {submit['p50']:6.2f} ms  p99 {submit['p99']:6.2f} ms"
        f"  non-2xx {submit['non2xx']:.0f}"
    )
    print(f"ratio b/a = {submit['rps'] / bare['rps']:.3f}  (goal >= 0.2)")
    print(
        f"(b) paced at 50 req/s:     {steady_run['rps']:6.1f} req/s achieved  p50 {steady_run['p50']:6.2f} ms"
        f"  p99 {steady_run['p99']:6.2f} ms  non-2xx {steady_run['non2xx']:.0f}  (goal p99 <= 50 ms)"
    )
    print(
        f"stored by the requests: {versions} versions, {queued} results.issue jobs queued, {documents} documents"
    )
    print(
        f"worker side, in process: {jobs} results.issue jobs, {job_ms:.1f} ms each; {issued} documents issued,"
        f" {renders} document.render jobs queued (PDFs drawn by those jobs)"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
