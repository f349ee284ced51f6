"""``chayici calendar import FILE.csv`` and ``chayici calendar show YEAR``.

Importing a year's holiday table is a system administrator's job at the server (``--by`` names
them; the import is refused otherwise and the refusal audited), once a year after the State
Council publishes the arrangement. A file replaces the whole table of every year it contains.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from handlers.calendar import store
from storage.models import ROLE_SYSADMIN


def register_cli(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    calendar = sub.add_parser("calendar", help="working-day calendar: holidays and make-up days per year")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True)
    importer = calendar_sub.add_parser("import", help="import a year's table: 日期,类型(放假/调休上班),说明")
    importer.add_argument("file", type=Path)
    importer.add_argument("--by", metavar="STAFF_ID", required=True, help="the system administrator")
    importer.add_argument("--dry-run", action="store_true")
    importer.set_defaults(func=_import)
    show = calendar_sub.add_parser("show", help="list a year's holidays and make-up days")
    show.add_argument("year", type=int)
    show.set_defaults(func=_show)


def _services():  # type: ignore[no-untyped-def]
    from bot.clock import SystemClock
    from bot.settings import Settings
    from storage.audit import AuditLog
    from storage.db import Database

    settings = Settings()
    return (
        settings,
        Database(settings.database_url),
        AuditLog(settings.audit_key.get_secret_value().encode()),
        SystemClock(),
    )


def run_import(
    settings, db, audit_log, now, path: Path, by: str, *, dry_run: bool = False
) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Validate and store a table; returns (exit code, report). Used by the CLI and tests."""
    from bot.context import Context
    from storage.identity import person_for

    data = path.read_bytes()
    try:
        parsed = store.parse(store.decode(data))
    except ValueError as exc:
        return 1, str(exc)
    with db.write() as session:
        person = person_for(session, corp_id=settings.corp_id, staff_id=by)
        ctx = Context(
            session=session,
            now=now,
            settings=settings,
            audit_log=audit_log,
            person=person,
            staff_id=by,
            event_key=f"cli:calendar:{now.isoformat()}",
        )
        if person is None or not person.has_role(ROLE_SYSADMIN):
            ctx.audit(
                "access.denied", "calendar", path.name, detail={"what": "calendar import", "staff_id": by}
            )
            return 2, f"只有系统管理员可以导入节假日表：「{by}」不是在职的系统管理员。"
        if parsed.errors:
            return 1, "未导入，请修改以下问题：\n" + "\n".join(parsed.errors)
        if dry_run:
            return 0, "检查通过（未导入）：" + "；".join(
                f"{y}年 {sum(r.day.year == y for r in parsed.rows)} 天" for y in parsed.years
            )
        counts = store.store(session, parsed, data=data, now=now, by=ctx.actor)
        ctx.audit(
            "calendar.import",
            "calendar",
            ",".join(str(y) for y in parsed.years),
            after={str(y): {"holidays": h, "workdays": w} for y, (h, w) in counts.items()},
            detail={"file": path.name, "sha256": store.hashlib.sha256(data).hexdigest()},
        )
    lines = [f"{y}年：放假 {h} 天，调休上班 {w} 天" for y, (h, w) in counts.items()]
    return 0, "已导入节假日表（整年替换）：\n" + "\n".join(lines)


def _import(args: argparse.Namespace) -> int:
    settings, db, audit_log, clock = _services()
    try:
        code, text = run_import(
            settings, db, audit_log, clock.now(), args.file, args.by, dry_run=args.dry_run
        )
    finally:
        db.dispose()
    print(text)
    return code


def _show(args: argparse.Namespace) -> int:
    _settings, db, _, _ = _services()
    try:
        with db.read() as session:
            calendar = store.calendar_for(session, date(args.year, 1, 1), date(args.year, 12, 31))
            stored = session.execute(
                store.select(store.CalendarDay.day).where(store.CalendarDay.year == args.year).limit(1)
            ).first()
    finally:
        db.dispose()
    if not calendar.knows(date(args.year, 1, 1)):
        print(f"{args.year}年没有节假日表：工作日只按周末计算。请用 chayici calendar import 导入。")
        return 1
    source = "已导入" if stored else "内置表（须与国务院办公厅当年通知核对）"
    print(f"{args.year}年节假日表（{source}）：")
    print("\n".join(store.describe(calendar, args.year)))
    return 0
