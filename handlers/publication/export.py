"""``chayici publish export DIR``: the public result set as ``results.csv`` and ``results.json``.

Only what is public (企业信息公示暂行条例): the object's name and code, the task, the inspection
date, the result code and text, the inspecting body and the publication. No personal data: no
legal representative, contact, phone, address, or inspector names (a test checks it).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.directory.writers import neutralise
from handlers.documents.service import issuer_name
from handlers.publication.service import result_of
from handlers.publication.web import inspected_day
from storage.models import InspectionObject, Publication
from storage.models.tasks import Task

COLUMNS = (
    ("name", "检查对象名称"),
    ("code", "统一社会信用代码"),
    ("task", "检查任务编号"),
    ("date", "检查日期"),
    ("result_code", "检查结果代码"),
    ("result", "检查结果"),
    ("body", "检查实施机关"),
    ("state", "公示状态"),
    ("published_at", "公示日期"),
    ("channel", "公示渠道"),
    ("due_date", "应公示日期"),
)


def result_set(session: Session, *, include_pending: bool, tz: str) -> list[dict[str, str]]:
    query = (
        select(Publication, InspectionObject, Task)
        .join(InspectionObject, InspectionObject.id == Publication.object_id)
        .join(Task, Task.id == Publication.task_id)
        .order_by(Publication.id)
    )
    if not include_pending:
        query = query.where(Publication.state == "published")
    zone = ZoneInfo(tz)
    out = []
    for publication, obj, task in session.execute(query).all():
        if publication.state == "published":
            code, text = publication.result_code or "", publication.result_text or ""
        else:
            result = result_of(session, publication.record_id)
            code, text = ",".join(result.codes), result.text
        out.append(
            {
                "name": obj.name,
                "code": obj.uscc or obj.legacy_reg_no or "",
                "task": task.number,
                "date": inspected_day(session, publication) or "",
                "result_code": code,
                "result": text,
                "body": issuer_name(session, task.lead_unit),
                "state": "已公示" if publication.state == "published" else "待公示",
                "published_at": publication.published_at.astimezone(zone).strftime("%Y-%m-%d")
                if publication.published_at
                else "",
                "channel": publication.channel or "",
                "due_date": publication.due_date.isoformat(),
            }
        )
    return out


def write(rows: list[dict[str, str]], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = folder / "results.csv", folder / "results.json"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([label for _, label in COLUMNS])
        for row in rows:
            writer.writerow([neutralise(row[key]) for key, _ in COLUMNS])
    json_path.write_text(
        json.dumps({"count": len(rows), "results": rows}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    return csv_path, json_path
