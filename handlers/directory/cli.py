"""``chayici import|export|export-template <kind> FILE``: the directory's command-line side.

Import and export are bulk work for a system administrator at the server, not chat commands:
a sheet of 100,000 objects does not belong in a chat message. ``--by`` names the person doing
it (their DingTalk user id), for the history and the audit chain, and decides whether an
unmasked export is allowed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from handlers.directory.catalogue import SHEETS
from handlers.directory.exporting import ExportRefused, export_file, export_template
from handlers.directory.importing import DEFAULT_SHOWN, import_file

KINDS = tuple(SHEETS)


def register_cli(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    importer = sub.add_parser("import", help="import a directory sheet (.xlsx or .csv), all or nothing")
    importer.add_argument("kind", choices=KINDS)
    importer.add_argument("file", type=Path)
    importer.add_argument("--dry-run", action="store_true", help="validate and show what would change")
    importer.add_argument("--by", metavar="STAFF_ID", help="DingTalk user id of the person importing")
    importer.add_argument(
        "--show", type=int, default=DEFAULT_SHOWN, help="rows and notes to list (default 200)"
    )
    importer.set_defaults(func=_import)

    exporter = sub.add_parser("export", help="export a directory sheet (.xlsx or .csv), masked by default")
    exporter.add_argument("kind", choices=KINDS)
    exporter.add_argument("file", type=Path)
    exporter.add_argument(
        "--unmasked", action="store_true", help="do not mask phones and ID numbers (sysadmin)"
    )
    exporter.add_argument("--by", metavar="STAFF_ID", help="DingTalk user id of the person exporting")
    exporter.set_defaults(func=_export)

    template = sub.add_parser("export-template", help="write an empty sheet with the expected headers")
    template.add_argument("kind", choices=KINDS)
    template.add_argument("file", type=Path)
    template.set_defaults(func=_template)


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


def _import(args: argparse.Namespace) -> int:
    settings, db, audit_log, clock = _services()
    try:
        report = import_file(
            db,
            audit_log,
            SHEETS[args.kind].importer(),
            args.file,
            now=clock.now(),
            corp_id=settings.corp_id,
            dry_run=args.dry_run,
            by=args.by,
            tz=settings.timezone,
            keep=max(args.show, 0),
        )
    finally:
        db.dispose()
    print(report.text(args.show))
    return 0 if report.ok else 1


def _export(args: argparse.Namespace) -> int:
    settings, db, audit_log, clock = _services()
    kind = SHEETS[args.kind]
    try:
        result = export_file(
            db,
            audit_log,
            kind.spec,
            kind.export_rows,
            args.file,
            now=clock.now(),
            corp_id=settings.corp_id,
            unmasked=args.unmasked,
            by=args.by,
        )
    except ExportRefused as refusal:
        print(f"未导出：{refusal.message}")
        return 2
    finally:
        db.dispose()
    masked = "联系电话等个人信息已脱敏" if result.masked else "未脱敏，请妥善保管"
    print(f"已导出「{kind.spec.title}」{result.rows} 行到 {result.path}（{masked}）。")
    return 0


def _template(args: argparse.Namespace) -> int:
    kind = SHEETS[args.kind]
    try:
        export_template(kind.spec, args.file)
    except ExportRefused as refusal:
        print(f"未导出：{refusal.message}")
        return 2
    print(f"已生成「{kind.spec.title}」导入模板：{args.file}")
    return 0
