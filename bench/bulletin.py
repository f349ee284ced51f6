"""Benchmark computing a bulletin (通报晾晒) over one year of data.

One year (2026) for 12 units: 5,000 joint tasks of 20 objects = 100,000 dispatched objects with
their inspection records, 200,000 acceptances, 100,000 publications and 20,000 rectifications with
their follow-up, as rows (tasks, assignments, records, findings, orders, rectifications) and as
the derived facts the bulletin reads (``oversight_fact``, about 900,000 rows, generated in bulk in
the shapes ``handlers/oversight/facts.py`` derives; the audit chain itself is not generated: the
bulletin never reads it). The cursor is set past the chain, as after the ticker's projection.

Timed on each database, medians of five, with ``gc`` frozen after the set-up:
- baseline: ``SELECT COUNT(*) FROM inspection_record`` (100,000 rows);
- figures: ``metrics.compute`` for the weekly period, with this year to date and as-of lists;
- bulletin: what the due item runs before storing: projection (nothing new), figures, text,
  changes, and the chart PNG.
Then the projection's own speed: 20,000 new audit events (a busy week: acceptances, records,
notices, publications, rectification steps) appended to the chain and derived by ``catch_up``.

    python bench/bulletin.py                                  # SQLite in a temp dir
    python bench/bulletin.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test_h6

Goal (issue 8): a bulletin in <= 2 s. On PostgreSQL the tables live in the schema
``bench_bulletin`` (dropped and recreated); ``public`` is left alone.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BJ = ZoneInfo("Asia/Shanghai")
YEAR_START = datetime(2026, 1, 1, tzinfo=BJ)
AS_OF = datetime(2026, 12, 28, 9, 0, tzinfo=BJ)  # a Monday: the weekly bulletin's moment
SCHEMA = "bench_bulletin"
UNITS = 12
PER_TASK = 20
OBJECTS = 20_000
CHUNK = 20_000
FACT_COLUMNS = (
    "audit_id",
    "at",
    "day",
    "kind",
    "unit_id",
    "task_id",
    "theme_id",
    "subject",
    "due",
    "tag",
    "flag",
    "value",
)


def database_url(pg: str | None, workdir: Path) -> str:
    if pg:
        separator = "&" if "?" in pg else "?"
        return f"{pg}{separator}options=-csearch_path%3D{SCHEMA}"
    return f"sqlite:///{workdir / 'bulletin.db'}"


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


class Loader:
    """Rows through the driver: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, services: Any) -> None:
        self.postgres = services.db.is_postgres
        self.raw = services.db.engine.raw_connection()
        self.cursor = self.raw.cursor()

    def _value(self, value: Any) -> Any:
        if self.postgres:
            return value
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        names = ", ".join(columns)
        count = 0
        batch: list[Sequence[Any]] = []

        def flush() -> None:
            if not batch:
                return
            if self.postgres:
                with self.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ",".join("?" * len(columns))
                self.cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",
                    [tuple(self._value(v) for v in row) for row in batch],
                )
            batch.clear()

        for row in rows:
            batch.append(row)
            count += 1
            if len(batch) >= CHUNK:
                flush()
        flush()
        self.raw.commit()
        return count

    def close(self) -> None:
        """Statistics, and on PostgreSQL the visibility map too (VACUUM, as autovacuum does for an
        insert-only table soon after a load), so index-only scans are what they are in service."""
        self.raw.commit()
        if self.postgres:
            driver = self.raw.driver_connection
            driver.autocommit = True
            driver.execute("VACUUM ANALYZE")
            driver.autocommit = False
        else:
            self.cursor.execute("ANALYZE")
            self.raw.commit()
        self.raw.close()


def local_day(moment: datetime) -> date:
    return moment.astimezone(BJ).date()


def populate(services: Any, records: int, rects: int) -> dict[str, int]:
    """Directory rows through the ORM (few), everything per object in bulk."""
    from sqlalchemy import select, update

    from handlers.directory.service import DirectoryEditor
    from storage.models import InspectionObject, Inspector, Person, PowerItem, Scenario, Theme, Unit
    from storage.models.oversight import OversightCursor

    rng = random.Random(8)
    now = YEAR_START.astimezone(UTC)
    with services.db.write() as session:
        bureau = Unit(name="丽水市综合行政执法局", short_name="丽综执", kind="bureau", active=True)
        session.add(bureau)
        session.flush()
        units = []
        for n in range(UNITS):
            unit = Unit(
                name=f"第{n + 1:02d}执法队",
                short_name="丽综执",
                kind="squad",
                parent_id=bureau.id,
                active=True,
            )
            session.add(unit)
            session.flush()
            units.append(unit.id)
        person = Person(name="局领导", unit_id=bureau.id, active=True, created_at=now)
        session.add(person)
        session.flush()
        inspectors = []
        for n, unit_id in enumerate(units):
            for k in range(4):
                p = Person(name=f"检查员{n}-{k}", unit_id=unit_id, active=True, created_at=now)
                session.add(p)
                session.flush()
                inspector = Inspector(
                    person_id=p.id, unit_id=unit_id, cert_no=f"3311{n:03d}{k:02d}", updated_at=now
                )
                session.add(inspector)
                session.flush()
                inspectors.append((inspector.id, unit_id))
        scenario = Scenario(name="餐饮门店综合查一次", lead_unit_id=units[0], updated_at=now)
        item = PowerItem(
            code="ZF-1",
            name="门前三包责任落实检查",
            legal_basis="条例",
            owner_unit_id=units[0],
            updated_at=now,
        )
        session.add_all([scenario, item])
        session.flush()
        editor = DirectoryEditor(session, actor="bench", now=now, audit=None, reason="基准数据")
        for n in range(20):
            theme = editor.create(Theme(name=f"主题{n:02d}监管一件事", level="local", deadline=date(2026, 3 + n % 10, 28),
                                        min_joint_inspections=1 + n % 3, status="open", active=True))  # fmt: skip
            editor.update(
                theme, {"claimed_by_unit_id": units[n % UNITS], "claimed_at": now, "status": "claimed"}
            )
        session.add_all(InspectionObject(name=f"对象{n:05d}", updated_at=now) for n in range(OBJECTS))
        session.flush()
        first_object = (
            session.execute(select(InspectionObject.id).order_by(InspectionObject.id)).scalars().first()
        )
        ids = {
            "scenario": scenario.id,
            "item": item.id,
            "person": person.id,
            "bureau": bureau.id,
            "object": first_object,
        }
        session.execute(update(OversightCursor).values(last_audit_id=0))

    loader = Loader(services)
    facts: list[tuple[Any, ...]] = []
    audit = iter(range(1, 10**9))

    def fact(at: datetime, kind: str, unit: int | None, task: int | None, subject: str | None = None, *,
             theme: int | None = None, due: date | None = None, tag: str | None = None,
             flag: bool | None = None, value: float | None = None) -> None:  # fmt: skip
        facts.append(
            (next(audit), at, local_day(at), kind, unit, task, theme, subject, due, tag, flag, value)
        )

    by_unit: dict[int, list[int]] = {}
    for inspector_id, unit_id in inspectors:
        by_unit.setdefault(unit_id, []).append(inspector_id)
    as_of = AS_OF.astimezone(UTC)
    tasks_n = records // PER_TASK
    task_rows, draw_rows, assignment_rows, member_rows, record_rows = [], [], [], [], []
    version_rows, finding_rows, document_rows, rect_rows = [], [], [], []
    record_id = assignment_id = member_id = rect_id = 0
    rect_every = max(1, records // rects)
    for t in range(1, tasks_n + 1):
        lead = units[rng.randrange(UNITS)]
        co = rng.sample([u for u in units if u != lead], rng.choice((0, 1, 1, 2)))
        dispatched = (YEAR_START + timedelta(seconds=rng.uniform(3 * 86400, 358 * 86400))).astimezone(UTC)
        created = dispatched - timedelta(days=2)
        window_end = local_day(dispatched) + timedelta(days=4)
        theme = 1 + rng.randrange(20) if rng.random() < 0.1 else None
        task_rows.append((t, f"丽综执联查〔2026〕{t}号", 2026, t, ids["scenario"], theme, lead, "plan", "on_site",
                          window_end, window_end, 2, "even", "[]", "send", "dispatched", 1, 0, ids["person"],
                          created, created))  # fmt: skip
        draw_rows.append(
            (t, t, "full", "current", 1, "bench", PER_TASK, 8, "0" * 64, b"", "{}", "[]", "bench", dispatched)
        )
        n_units = 1 + len(co)
        fact(created, "task.create", lead, t, f"task:{t}", theme=theme, tag="lead")
        fact(
            dispatched,
            "task.dispatch",
            lead,
            t,
            f"task:{t}",
            theme=theme,
            due=window_end,
            tag="lead",
            flag=n_units >= 2,
            value=n_units,
        )
        for unit in co:
            fact(
                dispatched,
                "task.dispatch",
                unit,
                t,
                f"task:{t}",
                theme=theme,
                tag="co",
                flag=True,
                value=n_units,
            )
        reviewed = dispatched + timedelta(days=rng.uniform(7, 20))
        if reviewed < as_of:
            fact(
                reviewed,
                "task.review",
                lead,
                t,
                f"task:{t}",
                theme=theme,
                tag="lead",
                flag=n_units >= 2,
                value=n_units,
            )
            for unit in co:
                fact(
                    reviewed,
                    "task.review",
                    unit,
                    t,
                    f"task:{t}",
                    theme=theme,
                    tag="co",
                    flag=True,
                    value=n_units,
                )
        team_units = [lead, *co] if co else [lead, lead]
        for slot in range(1, PER_TASK + 1):
            record_id += 1
            assignment_id += 1
            object_id = ids["object"] + rng.randrange(OBJECTS)
            assignment_rows.append(
                (assignment_id, t, slot, object_id, window_end, t, "dispatched", created, dispatched)
            )
            fact(dispatched, "notice.due", lead, t, f"object:{t}:{object_id}", tag="send")
            if rng.random() < 0.98:
                fact(
                    dispatched + timedelta(minutes=5), "prenotice.served", lead, t, f"object:{t}:{object_id}"
                )
            for position, unit in enumerate(team_units[:2]):
                member_id += 1
                inspector = by_unit[unit][position]
                member_rows.append(
                    (member_id, assignment_id, inspector, unit, position, "accepted", t, dispatched)
                )
                accepted = dispatched + timedelta(hours=rng.uniform(0.1, 30))
                if accepted < as_of:
                    fact(
                        accepted,
                        "dispatch.accept",
                        unit,
                        t,
                        f"member:{member_id}",
                        value=(accepted - dispatched).total_seconds() / 3600,
                    )
            submitted = dispatched + timedelta(days=rng.uniform(0.5, 5.5))
            record_rows.append(
                (
                    record_id,
                    t,
                    assignment_id,
                    object_id,
                    "submitted",
                    "[]",
                    "{}",
                    1,
                    "[]",
                    1,
                    created,
                    created,
                )
            )
            if submitted >= as_of:
                continue
            fact(
                submitted,
                "record.submit",
                lead,
                t,
                f"record:{record_id}",
                due=window_end,
                flag=local_day(submitted) <= window_end,
            )
            scheduled = submitted + timedelta(days=7)
            due = local_day(scheduled) + timedelta(days=28)
            if scheduled < as_of:
                fact(scheduled, "publication.scheduled", lead, t, f"pub:{record_id}", due=due)
                published = scheduled + timedelta(days=rng.uniform(1, 33))
                if published < as_of:
                    fact(published, "publication.published", lead, t, f"pub:{record_id}", due=due, tag="公示系统",
                         flag=local_day(published) <= due)  # fmt: skip
            if record_id % rect_every or rect_id >= rects:
                continue
            rect_id += 1
            version_rows.append(
                (
                    rect_id,
                    record_id,
                    1,
                    f"sub-{rect_id}",
                    "{}",
                    "0" * 64,
                    "[]",
                    "card",
                    True,
                    ids["person"],
                    submitted,
                )
            )
            finding_rows.append((rect_id, record_id, rect_id, t, object_id, ids["item"], "门前三包责任落实检查", "堆放杂物",
                                 "第十八条", "第四十六条", "general", True, "order_correction", True, submitted))  # fmt: skip
            document_rows.append((rect_id, "rectify_order", "责改", "丽综执", lead, 2026, rect_id, f"丽综执责改〔2026〕{rect_id}号",
                                  t, object_id, "{}", "rendered", False, submitted, "bench"))  # fmt: skip
            deadline = local_day(submitted) + timedelta(days=15)
            immediate = rng.random() < 0.05
            rect_rows.append((rect_id, rect_id, record_id, t, object_id, rect_id, "immediate" if immediate else "deadline",
                              datetime.combine(deadline, datetime.max.time(), tzinfo=BJ), deadline, "清理", 3, False, "[]",
                              "ordered", lead, submitted, submitted))  # fmt: skip
            subject = f"rect:{rect_id}"
            fact(
                submitted,
                "rectification.order",
                lead,
                t,
                subject,
                due=deadline,
                tag="immediate" if immediate else "deadline",
            )
            if immediate:
                fact(
                    submitted + timedelta(minutes=30), "rectification.closed", lead, t, subject, tag="on_spot"
                )
                continue
            end = datetime.combine(deadline + timedelta(days=1), datetime.min.time(), tzinfo=BJ)
            steps = [(submitted + timedelta(days=1), "rectification.served", None),
                     (end - timedelta(days=3), "rectification.due_soon", None),
                     (end, "rectification.awaiting_reinspection", None)]  # fmt: skip
            roll = rng.random()
            if roll < 0.85:
                steps += [(end + timedelta(days=1), "rectification.reinspected", "corrected"),
                          (end + timedelta(days=1), "rectification.closed", "corrected")]  # fmt: skip
            elif roll < 0.95:
                steps += [(end + timedelta(days=4), "rectification.overdue", None)]
                if roll < 0.90:
                    steps += [(end + timedelta(days=9), "rectification.reinspected", "corrected"),
                              (end + timedelta(days=9), "rectification.closed", "corrected")]  # fmt: skip
            else:
                steps += [(end + timedelta(days=2), "rectification.reinspected", "not_corrected"),
                          (end + timedelta(days=2), "rectification.not_corrected", None),
                          (end + timedelta(days=2), "rectification.escalated", "case"),
                          (end + timedelta(days=3), "rectification.closed", "escalated")]  # fmt: skip
            for at, kind, tag in steps:
                if at.astimezone(UTC) < as_of:
                    fact(at.astimezone(UTC), kind, lead, t, subject, tag=tag)

    loader.load("task", ("id", "number", "year", "seq", "scenario_id", "theme_id", "lead_unit_id", "source", "method",
                         "window_start", "window_end", "inspectors_per_object", "draw_mode", "area_codes", "prenotice",
                         "state", "version", "round", "created_by_person_id", "created_at", "updated_at"),
                task_rows)  # fmt: skip
    loader.load("draw_record", ("id", "task_id", "kind", "state", "algorithm_version", "seed", "pool_size",
                                "inspector_pool_size", "pool_hash", "snapshot", "result", "warnings", "operator",
                                "drawn_at"), draw_rows)  # fmt: skip
    loader.load("assignment", ("id", "task_id", "slot", "object_id", "planned_day", "draw_id", "state", "created_at",
                               "dispatched_at"), assignment_rows)  # fmt: skip
    loader.load("assignment_member", ("id", "assignment_id", "inspector_id", "unit_id", "position", "state", "draw_id",
                                      "dispatched_at"), member_rows)  # fmt: skip
    loader.load("inspection_record", ("id", "task_id", "assignment_id", "object_id", "state", "items", "draft",
                                      "draft_version", "draft_log", "version", "created_at", "updated_at"), record_rows)  # fmt: skip
    loader.load("record_version", ("id", "record_id", "version", "instance_id", "content", "content_hash", "evidence",
                                   "via", "current", "submitted_by_person_id", "submitted_at"), version_rows)  # fmt: skip
    loader.load("finding", ("id", "record_id", "version_id", "task_id", "object_id", "power_item_id", "item_name",
                            "facts", "provision", "order_basis", "severity", "in_jurisdiction", "disposition",
                            "current", "created_at"), finding_rows)  # fmt: skip
    loader.load("document", ("id", "kind", "code", "issuer", "issuer_unit_id", "year", "seq", "number", "task_id",
                             "object_id", "fields", "state", "voided", "issued_at", "issued_by"), document_rows)  # fmt: skip
    rect_columns = ["id", "finding_id", "record_id", "task_id", "object_id", "order_doc_id", "mode", "deadline",
                    "deadline_day", "requirements", "min_days", "short_notice", "reminders_sent", "state", "unit_id",
                    "created_at", "updated_at"]  # fmt: skip
    loader.load("rectification", rect_columns, rect_rows)
    facts_n = loader.load("oversight_fact", FACT_COLUMNS, facts)
    if loader.postgres:  # ids were given explicitly: move the sequences past them
        for table in ("task", "draw_record", "assignment", "assignment_member", "inspection_record", "record_version",
                      "finding", "document", "rectification"):  # fmt: skip
            loader.cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        loader.raw.commit()
    loader.close()
    return {"tasks": tasks_n, "records": record_id, "members": member_id, "rects": rect_id, "facts": facts_n,
            "units": UNITS, **{k: v for k, v in ids.items() if k == "person"}}  # fmt: skip


def timed(call: Any, repeat: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def runs(times: list[float]) -> str:
    return ", ".join(f"{t * 1000:.0f}" for t in times)


def projection_speed(services: Any, world: dict[str, int], events: int) -> tuple[float, int]:
    """Append a week of audit events to the chain and time their derivation."""
    from handlers.oversight import capture
    from storage.audit import AuditEntry

    rng = random.Random(9)
    entries = []
    for n in range(events):
        roll = n % 5
        if roll == 0:
            entries.append(AuditEntry("dispatch.accept", "assignment_member", str(1 + rng.randrange(world["members"])),
                                      "bench", detail={"task_id": 1}))  # fmt: skip
        elif roll == 1:
            entries.append(
                AuditEntry(
                    "record.submit", "inspection_record", str(1 + rng.randrange(world["records"])), "bench"
                )
            )
        elif roll == 2:
            entries.append(AuditEntry("rectification.closed", "rectification", str(1 + rng.randrange(world["rects"])),
                                      "bench", detail={"how": "corrected"}))  # fmt: skip
        elif roll == 3:
            entries.append(AuditEntry("publication.published", "publication", str(n), "bench",
                                      detail={"record_id": n, "task_id": 1, "unit_id": 2, "due_date": "2026-12-31"}))  # fmt: skip
        else:
            entries.append(AuditEntry("record.draft", "inspection_record", "1", "bench"))  # not counted
    with services.db.write() as session:
        services.audit_log.append_many(session, entries, at=services.clock.now())
    started = time.perf_counter()
    with services.db.write() as session:
        read = capture.catch_up(session, tz=services.settings.timezone, now=services.clock.now())
    return time.perf_counter() - started, read


def run(args: argparse.Namespace, url: str, label: str) -> None:
    from sqlalchemy import text

    from bot.clock import ManualClock
    from bot.context import TickContext
    from bot.settings import Settings
    from chayici import build_services
    from handlers.oversight import bulletin, schedule
    from handlers.oversight.metrics import compute
    from handlers.oversight.periods import parse_schedule, period_of, range_label

    workdir = Path(tempfile.mkdtemp(prefix="chayici-bench-bulletin-"))
    settings = Settings(database_url=url, data_dir=workdir / "data")
    print(f"\n== {label} ==")
    started = time.perf_counter()
    fresh_schema(url, url.startswith("postgresql"))
    services = build_services(settings, clock=ManualClock(AS_OF.astimezone(UTC) + timedelta(seconds=30)))
    world = populate(services, args.records, args.rects)
    gc.collect()
    gc.freeze()
    print(f"set-up: {world['tasks']:,} tasks, {world['records']:,} records, {world['members']:,} acceptances, "
          f"{world['rects']:,} rectifications, {world['facts']:,} facts, {world['units']} units in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    rule = parse_schedule("weekly:mon:09:00")[0]
    moment = AS_OF.astimezone(UTC)
    period = period_of(rule, moment, settings.timezone)
    tz = settings.timezone

    def count() -> int:
        with services.db.read() as session:
            return int(session.execute(text("SELECT COUNT(*) FROM inspection_record")).scalar_one())

    def figures() -> Any:
        with services.db.read() as session:
            return compute(session, period, tz=tz)

    def whole() -> Any:
        with services.db.write() as session:
            ctx = TickContext(session=session, now=services.clock.now(), settings=settings, audit_log=services.audit_log,
                              person=None, staff_id=None, event_key="bench")  # fmt: skip
            built = bulletin.build_bureau(ctx, period, title=schedule.title_for(rule, moment, tz),
                                          subtitle=f"统计期间：{range_label(period, tz)}")  # fmt: skip
            session.rollback()  # measure the making, not the storing
            return built

    count()  # warm the caches the same way for both
    c_med, c_runs, rows = timed(count, args.repeat)
    f_med, f_runs, shown = timed(figures, args.repeat)
    b_med, b_runs, built = timed(whole, args.repeat)
    bureau = shown.bureau
    print(f"baseline COUNT(*) over {rows:,} records: {c_med * 1000:7.1f} ms  (runs: {runs(c_runs)})")
    print(
        f"figures (week + year to date + open lists): {f_med * 1000:7.1f} ms  {f_med / c_med:.1f}x the COUNT  (runs: {runs(f_runs)})"
    )
    print(f"bulletin (projection, figures, text, changes, chart PNG {len(built.chart) / 1024:.0f} KiB): "
          f"{b_med * 1000:7.1f} ms  {b_med / c_med:.1f}x the COUNT  (runs: {runs(b_runs)})")  # fmt: skip
    print(f"  this week: {bureau.period.records_submitted:,} records, {bureau.period.tasks_finished} tasks finished; "
          f"this year: {bureau.ytd.records_submitted:,} records, {bureau.ytd.tasks_finished:,} finished, "
          f"{bureau.standing.rect_overdue_open} rectifications overdue, {bureau.standing.pubs_overdue_open:,} "
          f"publications overdue, {len(shown.themes)} themes")  # fmt: skip
    elapsed, read = projection_speed(services, world, args.events)
    print(
        f"projection: {read:,} new audit events derived in {elapsed * 1000:.0f} ms ({read / elapsed:,.0f} events/s)"
    )
    services.db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", help="PostgreSQL URL (tables go to the schema bench_bulletin)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rects", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=20_000, help="audit events for the projection timing")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.no_sqlite:
        run(args, database_url(None, Path(tempfile.mkdtemp(prefix="chayici-bench-sqlite-"))), "SQLite")
    if args.pg:
        run(args, database_url(args.pg, Path()), "PostgreSQL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
