"""The fields of the documents a submitted version produces, read from the record, the task and
the directory. Stored on each ``document`` row, so a document renders years later as issued."""

from __future__ import annotations

import weakref
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from bot.context import Context
from handlers.results.records import Loaded, local
from handlers.results.rules import SIGNATURE_MODES, parse_datetime
from handlers.results.views import KIND_LABELS
from handlers.tasks.proposal import SOURCES
from storage.models import ITEM_RESULTS, METHOD_LABELS, NOTICES, RESULT_CODES, Evidence, Inspector, Unit

SITE_RECORD, REGISTRATION, ORDER = "site_record", "registration", "rectify_order"


def day_text(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def time_text(content: dict[str, Any]) -> str:
    start, end = parse_datetime(content.get("started_at", "")), parse_datetime(content.get("ended_at", ""))
    if start is None or end is None:
        return ""
    tail = f"{end.hour:02d}时{end.minute:02d}分" if end.date() == start.date() else _full(end)
    return f"{_full(start)}至{tail}"


def _full(value: datetime) -> str:
    return f"{day_text(value.date())}{value.hour:02d}时{value.minute:02d}分"


def top_unit(ctx: Context, unit: Unit) -> Unit:
    seen = {unit.id}
    while unit.parent_id is not None and unit.parent_id not in seen:
        parent = ctx.session.get(Unit, unit.parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        unit = parent
    return unit


def common(ctx: Context, loaded: Loaded, content: dict[str, Any]) -> dict[str, Any]:
    """The fields every document of a version shares; read once per version (a submission
    issues three or more documents)."""
    key = (loaded.record.id, id(content))
    cached = _COMMON.get(ctx)
    if cached is not None and cached[0] == key:
        return dict(cached[1])
    fields = _common(ctx, loaded, content)
    _COMMON[ctx] = (key, fields)
    return dict(fields)


_COMMON: weakref.WeakKeyDictionary[Context, tuple[tuple[int, int], dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _common(ctx: Context, loaded: Loaded, content: dict[str, Any]) -> dict[str, Any]:
    task, obj = loaded.task, loaded.obj
    issuer = top_unit(ctx, task.lead_unit)
    inspectors = {
        i.id: i
        for i in ctx.session.execute(
            select(Inspector).where(Inspector.id.in_(content["inspectors"]))
        ).scalars()
    }
    bases = list(dict.fromkeys(item["basis"] for item in loaded.record.items if item.get("basis")))
    return {
        "issuer_name": issuer.name,
        "issuer_address": issuer.address or "",
        "issuer_phone": issuer.phone or "",
        "task_number": task.number,
        "task_source": SOURCES.get(task.source, task.source),
        "basis": "、".join(bases) or "有关法律、法规、规章",
        "method": METHOD_LABELS.get(content["method"], content["method"]),
        "time": time_text(content),
        "object_name": obj.name,
        "uscc": obj.uscc or obj.legacy_reg_no or "",
        "legal_rep": obj.legal_rep or "",
        "address": obj.address or "",
        "phone": obj.contact_phone or "",
        "inspectors": [
            {
                "name": inspectors[i].person.name,
                "unit": inspectors[i].unit.name,
                "cert": inspectors[i].cert_no or "",
            }
            for i in content["inspectors"]
            if i in inspectors
        ],
        "issued_date": day_text(local(ctx, ctx.now).date()),
    }


def site_record_fields(
    ctx: Context, loaded: Loaded, content: dict[str, Any], version: int, orders: list[str], recorder: str
) -> dict[str, Any]:
    fields = common(ctx, loaded, content)
    by_id = {item["id"]: item for item in loaded.record.items}
    present = content["present"]
    signature = content["signature"]
    sign = SIGNATURE_MODES.get(signature["party"], "")
    if signature["party"] == "refused":
        sign += f"，见证人：{signature['witness']}"
    if signature.get("party_sha"):
        sign += f"（电子签名存证 SHA-256 {signature['party_sha']}）"
    location = content.get("location")
    evidence = ctx.session.execute(
        select(Evidence)
        .where(Evidence.record_id == loaded.record.id, Evidence.state == "stored")
        .order_by(Evidence.id)
    ).scalars()
    fields.update(
        {
            "place": content["place"],
            "location": (
                f"北纬 {location['lat']}，东经 {location['lon']}，精度约 {location['accuracy']:g} 米"
                if location
                else ""
            ),
            "present": "无人在场"
            if present["nobody"]
            else "，".join(p for p in (present["name"], present["position"], present["phone"]) if p),
            "recorder": recorder,
            "notices": [NOTICES[key] for key in content["notices"]],
            "items": [
                {
                    "name": by_id[a["item"]]["name"],
                    "result": ITEM_RESULTS[a["result"]],
                    "note": a["note"] + (f"（整改期限 {a['deadline']}）" if a.get("deadline") else ""),
                }
                for a in content["items"]
            ],
            "narrative": content.get("narrative", ""),
            "evidence": [
                {
                    "kind": KIND_LABELS.get(e.kind, e.kind) + (f"（{_role(e.role)}）" if e.role else ""),
                    "name": e.file_name or "—",
                    "time": local(ctx, e.taken_at or e.received_at).strftime("%Y-%m-%d %H:%M"),
                    "sha": e.sha256 or "",
                }
                for e in evidence
            ],
            "measures": ("已制发责令改正通知书：" + "、".join(orders))
            if orders
            else content.get("measures", ""),
            "signature": sign,
            "signature_images": _signature_images(ctx, loaded, signature),
            "version": version,
        }
    )
    return fields


def _signature_images(ctx: Context, loaded: Loaded, signature: dict[str, Any]) -> list[dict[str, str]]:
    """The drawn signatures the record names: label, SHA-256 and where the bytes are kept. The
    render job reads them, checks each hash and prints the pictures on the record."""
    names = {str(m.inspector.id): m.name for m in loaded.team}
    wanted: list[tuple[str, str]] = []
    if signature.get("party_sha"):
        wanted.append(("被检查人签名", signature["party_sha"]))
    for inspector_id, sha in signature.get("inspectors", {}).items():
        wanted.append((f"检查人员签名（{names.get(inspector_id, '')}）", sha))
    if not wanted:
        return []
    keys = dict(
        ctx.session.execute(
            select(Evidence.sha256, Evidence.storage_key).where(
                Evidence.record_id == loaded.record.id,
                Evidence.kind == "signature",
                Evidence.state == "stored",
                Evidence.sha256.in_([sha for _, sha in wanted]),
            )
        ).all()
    )
    return [{"label": label, "sha256": sha, "key": keys[sha]} for label, sha in wanted if keys.get(sha)]


def _role(role: str) -> str:
    if role == "party":
        return "当事人"
    if role.startswith("inspector"):
        return "检查人员"
    return role


def registration_fields(
    ctx: Context, loaded: Loaded, content: dict[str, Any], version: int, documents: list[str], registrant: str
) -> dict[str, Any]:
    fields = common(ctx, loaded, content)
    by_id = {item["id"]: item for item in loaded.record.items}
    fields.update(
        {
            "items": [
                {"name": by_id[a["item"]]["name"], "result": ITEM_RESULTS[a["result"]]}
                for a in content["items"]
            ],
            "codes": [f"{code} {RESULT_CODES[code]}" for code in content["codes"]],
            "findings": sum(1 for a in content["items"] if a["result"] in ("fail", "fail_now")),
            "documents": documents,
            "registrant": registrant,
            "version": version,
        }
    )
    return fields


def order_fields(
    ctx: Context,
    loaded: Loaded,
    content: dict[str, Any],
    item: dict[str, Any],
    answer: dict[str, Any],
    requirements: str,
) -> dict[str, Any]:
    fields = common(ctx, loaded, content)
    start = parse_datetime(content.get("started_at", ""))
    deadline = answer.get("deadline")
    fields.update(
        {
            "violation_time": day_text(start.date()) if start else "",
            "place": content["place"] or loaded.obj.address or "",
            "facts": answer["note"].rstrip("。；;. "),
            "item_name": item["name"],
            "provision": item["provision"],
            "order_basis": item["order_basis"],
            "immediate": answer["result"] == "fail_now",
            "deadline": day_text(date.fromisoformat(deadline)) if deadline else "",
            "requirements": requirements,
        }
    )
    return fields


def default_requirements(item: dict[str, Any], immediate: bool) -> str:
    when = "立即" if immediate else "在期限内"
    return (
        f"{when}停止并纠正上述行为，按照{item['provision']}的规定整改到位，"
        "并将改正情况（附照片等材料）书面报告本机关，本机关将进行复查。"
    )
