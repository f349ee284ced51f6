"""``chayici oversight``: rebuild the facts from the audit chain; show a stored bulletin.

chayici oversight rebuild          # forget oversight_fact, derive it again from audit_event
chayici oversight show [ID]        # what a bulletin showed (the newest when no id is given)
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.settings import Settings
from handlers.oversight import capture
from storage.db import Database
from storage.models.oversight import Bulletin


def rebuild(*, settings: Settings | None = None, out: Any = print) -> int:
    settings = settings or Settings()
    database = Database(settings.database_url)
    try:
        with database.write() as session:
            read = capture.rebuild(session, tz=settings.timezone, now=datetime.now(UTC))
    finally:
        database.dispose()
    out(f"已根据审计日志重建统计数据：读取事件 {read} 条。")
    return 0


def show(bulletin_id: int | None, *, settings: Settings | None = None, out: Any = print) -> int:
    settings = settings or Settings()
    database = Database(settings.database_url)
    try:
        with database.read() as session:
            query = select(Bulletin).order_by(Bulletin.id.desc()).limit(1)
            if bulletin_id is not None:
                query = select(Bulletin).where(Bulletin.id == bulletin_id)
            row = session.execute(query).scalars().first()
            if row is None:
                out("没有找到这期通报。")
                return 2
            chart_ok = hashlib.sha256(bytes(row.chart_png)).hexdigest() == row.chart_sha256
            out(
                f"通报 #{row.id}（{row.kind}，{row.period_key}）于 {row.created_at.isoformat()} 生成，发送至："
            )
            out("  " + ("、".join(row.destinations) or "（未发送：没有领导工作群）"))
            out(f"统计数据 SHA-256：{row.figures_sha256}")
            out(f"图表 SHA-256：{row.chart_sha256}（{'与存档一致' if chart_ok else '与存档不符'}）")
            out("")
            out(row.text)
    finally:
        database.dispose()
    return 0


def register_cli(sub: Any) -> None:
    command = sub.add_parser("oversight", help="通报晾晒: rebuild the facts, show a stored bulletin")
    actions = command.add_subparsers(dest="oversight_command", required=True)
    again = actions.add_parser("rebuild", help="derive oversight_fact again from the whole audit chain")
    again.set_defaults(func=lambda args: rebuild())
    shown = actions.add_parser("show", help="print what a stored bulletin showed (newest by default)")
    shown.add_argument("id", nargs="?", type=int, default=None)
    shown.set_defaults(func=lambda args: show(args.id))
