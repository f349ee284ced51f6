"""``chayici publish export DIR [--pending]``: the public result set for the 公示 system."""

from __future__ import annotations

import argparse
from pathlib import Path


def register_cli(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    publish = sub.add_parser("publish", help="一公开: public inspection results")
    publish_sub = publish.add_subparsers(dest="publish_command", required=True)
    export = publish_sub.add_parser("export", help="write results.csv and results.json (no personal data)")
    export.add_argument("folder", type=Path)
    export.add_argument("--pending", action="store_true", help="also finished records not yet published")
    export.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from bot.settings import Settings
    from handlers.publication.export import result_set, write
    from storage.db import Database

    settings = Settings()
    db = Database(settings.database_url)
    try:
        with db.read() as session:
            rows = result_set(session, include_pending=args.pending, tz=settings.timezone)
    finally:
        db.dispose()
    csv_path, json_path = write(rows, args.folder)
    print(f"已导出 {len(rows)} 条检查结果：{csv_path}、{json_path}")
    return 0
