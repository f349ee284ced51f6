"""Ticker scan cost: 1,000,000 open rectifications, 1 % of them due (their "due soon" reminder).

    python bench/ticker.py                                   # SQLite, 1,000,000 rows
    python bench/ticker.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench --no-sqlite
    python bench/ticker.py --rows 100000 --claim 2000

For each database: a fresh migrated schema, one task/record/order, then ``--rows`` findings and
rectifications (state ``served``) each with a pending ``followup.due_soon`` due item; the first
``--due`` fraction is due now. Then one tick (claim, lock, state change, audit, outbox rows, mark
done; ``ticker_claim_limit`` = ``--claim`` items per transaction) is timed, and the same scan
again with nothing due. The cost must follow due rows, not all rows: both are printed, with the
ratio and the time per due row. The PostgreSQL database given is wiped.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import ManualClock
from bot.settings import Settings
from bot.ticker import Ticker
from chayici import build_services
from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    Assignment,
    AssignmentMember,
    ChatIdentity,
    Document,
    DrawRecord,
    DueItem,
    Finding,
    InspectionObject,
    InspectionRecord,
    Inspector,
    OutboxMessage,
    Person,
    PowerItem,
    RecordVersion,
    Rectification,
    Scenario,
    Unit,
)
from storage.models.tasks import Task

NOW = datetime(2026, 12, 15, 1, 0, tzinfo=UTC)
BATCH = 20_000


def seed(db: Database, rows: int, due_fraction: float) -> int:
    """Everything a rectification refers to once, then ``rows`` findings, rectifications and due
    items with multi-row inserts. Returns how many are due."""
    due_count = int(rows * due_fraction)
    with db.write() as s:
        unit = Unit(name="丽水市综合行政执法局", short_name="丽综执", kind="bureau", active=True)
        s.add(unit)
        s.flush()
        people = []
        for n in (1, 2):
            person = Person(name=f"检查员{n}", unit_id=unit.id, active=True, created_at=NOW)
            s.add(person)
            s.flush()
            s.add(ChatIdentity(corp_id="dingchayicicorp", staff_id=f"insp-{n}", person_id=person.id))
            people.append(person)
        item = PowerItem(
            code="330217101000",
            name="门前三包责任落实检查",
            legal_basis="条例",
            owner_unit_id=unit.id,
            updated_at=NOW,
        )
        scenario = Scenario(name="餐饮门店", lead_unit_id=unit.id, updated_at=NOW)
        obj = InspectionObject(
            name="对象",
            entity_type="企业",
            region_code="331102",
            registration_status="存续",
            active=True,
            updated_at=NOW,
        )
        s.add_all([item, scenario, obj])
        s.flush()
        task = Task(
            number="丽综执联查〔2026〕1号", year=2026, seq=1, scenario_id=scenario.id, lead_unit_id=unit.id, source="plan",
            method="on_site", window_start=date(2026, 12, 3), window_end=date(2026, 12, 4), object_count=1,
            inspectors_per_object=2, state="reviewed", created_by_person_id=people[0].id, created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        s.add(task)
        s.flush()
        draw = DrawRecord(
            task_id=task.id, kind="full", algorithm_version=1, seed="0", pool_size=1, inspector_pool_size=2,
            pool_hash="0", snapshot=b"", result={}, operator="bench", drawn_at=NOW,
        )  # fmt: skip
        s.add(draw)
        s.flush()
        assignment = Assignment(task_id=task.id, slot=1, object_id=obj.id, planned_day=date(2026, 12, 3), draw_id=draw.id, state="dispatched", created_at=NOW)  # fmt: skip
        s.add(assignment)
        s.flush()
        for n, person in enumerate(people, start=1):
            inspector = Inspector(
                person_id=person.id, unit_id=unit.id, cert_no=f"3311000{n}", active=True, updated_at=NOW
            )
            s.add(inspector)
            s.flush()
            s.add(AssignmentMember(assignment_id=assignment.id, inspector_id=inspector.id, unit_id=unit.id, position=n, state="accepted", draw_id=draw.id))  # fmt: skip
        record = InspectionRecord(task_id=task.id, assignment_id=assignment.id, object_id=obj.id, state="reviewed", items=[], created_at=NOW, updated_at=NOW)  # fmt: skip
        s.add(record)
        s.flush()
        version = RecordVersion(record_id=record.id, version=1, instance_id="x" * 32, content={}, content_hash="0", via="form", submitted_by_person_id=people[0].id, submitted_at=NOW)  # fmt: skip
        order = Document(
            kind="rectify_order", code="责改", issuer="丽综执", issuer_unit_id=unit.id, year=2026, seq=1,
            number="丽综执责改〔2026〕1号", task_id=task.id, object_id=obj.id, fields={}, issued_at=NOW, issued_by="bench",
        )  # fmt: skip
        s.add_all([version, order])
        s.flush()
        ids = (record.id, version.id, task.id, obj.id, item.id, order.id, unit.id)
    record_id, version_id, task_id, object_id, item_id, order_id, unit_id = ids
    soon = NOW - timedelta(minutes=5)
    later = NOW + timedelta(days=30)
    for start in range(0, rows, BATCH):
        count = min(BATCH, rows - start)
        with db.write() as s:
            first = start + 1
            s.execute(
                insert(Finding.__table__),
                [
                    {
                        "id": first + i, "record_id": record_id, "version_id": version_id, "task_id": task_id,
                        "object_id": object_id, "power_item_id": item_id, "item_name": "门前三包责任落实检查",
                        "facts": "堆放杂物", "provision": "条例", "order_basis": "条例", "severity": "general",
                        "in_jurisdiction": True, "disposition": "order_correction", "current": True, "created_at": NOW,
                    }
                    for i in range(count)
                ],
            )  # fmt: skip
            s.execute(
                insert(Rectification.__table__),
                [
                    {
                        "id": first + i, "finding_id": first + i, "record_id": record_id, "task_id": task_id,
                        "object_id": object_id, "order_doc_id": order_id, "mode": "deadline",
                        "deadline": NOW + timedelta(days=3), "deadline_day": date(2026, 12, 18), "requirements": "清理",
                        "min_days": 1, "short_notice": False, "state": "served", "reminders_sent": [],
                        "unit_id": unit_id, "created_at": NOW, "updated_at": NOW,
                    }
                    for i in range(count)
                ],
            )  # fmt: skip
            s.execute(
                insert(DueItem.__table__),
                [
                    {
                        "kind": "followup.due_soon", "ref": f"rectification:{first + i}",
                        "dedupe_key": f"rect:{first + i}:due_soon", "due_at": soon if first + i <= due_count else later,
                        "payload": {}, "state": "pending",
                    }
                    for i in range(count)
                ],
            )  # fmt: skip
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # fresh statistics, as a running database has
    # A running database has checkpointed long ago; without this the first tick would pay for
    # writing back the million rows just seeded (SQLite's WAL, PostgreSQL's dirty buffers).
    if db.is_postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CHECKPOINT"))
    else:
        db.dispose()
        with closing(sqlite3.connect(str(db.engine.url.database))) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return due_count


def run(url: str, rows: int, due: float, claim: int, data_dir: Path) -> None:
    db = Database(url)
    if db.is_postgres:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    started = time.perf_counter()
    due_count = seed(db, rows, due)
    print(f"  seeded {rows:,} rectifications ({due_count:,} due) in {time.perf_counter() - started:.1f} s")
    db.dispose()
    settings = Settings(database_url=url, data_dir=data_dir, ticker_claim_limit=claim)
    services = build_services(settings, clock=ManualClock(NOW))
    ticker = Ticker(services)

    def scan() -> tuple[float, int]:
        begin = time.perf_counter()
        handled = total = 0
        while True:
            handled = ticker.scan_due(limit=claim)
            total += handled
            if handled < claim:
                break
        return time.perf_counter() - begin, total

    # SQLite: the worker runs its checkpoint thread beside the ticker (storage/checkpoint.py).
    with services.db.checkpointing(settings.sqlite_checkpoint_seconds):
        busy, handled = scan()
        idle, nothing = scan()
    with services.db.read() as s:
        queued = s.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        moved = s.execute(
            select(func.count()).select_from(Rectification).where(Rectification.state == "due_soon")
        ).scalar_one()
    services.db.dispose()
    assert handled == due_count == moved == queued, (handled, due_count, moved, queued)
    assert nothing == 0
    print(f"  tick with {handled:,} due: {busy:.3f} s ({busy / max(handled, 1) * 1e6:.0f} µs per due row); "
          f"{queued:,} outbox rows, {moved:,} rectifications moved")  # fmt: skip
    print(f"  same scan, nothing due: {idle * 1000:.2f} ms; ratio {busy / idle:,.0f}x")
    print(
        f"  goal <= 1 s per tick with 10,000 due: {'met' if busy <= 1.0 or handled < 10_000 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=float, default=0.01)
    parser.add_argument("--claim", type=int, default=10_000, help="due items claimed per transaction")
    parser.add_argument("--pg", metavar="URL", help="also run on this PostgreSQL database (wiped)")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            print(f"SQLite, {args.rows:,} open rectifications, claim {args.claim}:")
            run(f"sqlite:///{tmp}/bench.db", args.rows, args.due, args.claim, Path(tmp) / "data")
        if args.pg:
            print(f"PostgreSQL, {args.rows:,} open rectifications, claim {args.claim}:")
            run(args.pg, args.rows, args.due, args.claim, Path(tmp) / "pgdata")


if __name__ == "__main__":
    main()
