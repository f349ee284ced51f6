"""What the result cards show, and keeping every copy of them current.

Each team member has their own 1:1 copy of a record's card (on accept, and again when the window
opens). All copies show the same shared draft and state; each keeps its own submission id, minted
when its form was built (ODK instanceID), and its own signed link to the mobile form.
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any

from sqlalchemy import bindparam, func, select

from bot.context import Context
from cards.results import (
    MAX_CARD_ITEMS,
    RESULT_OPTIONS,
    ResultCardView,
    ReviewCardView,
    result_card,
    review_card,
)
from handlers.results import links
from handlers.results.records import Loaded, current_version, local
from handlers.results.rules import SIGNATURE_MODES
from storage import raw
from storage.models import (
    METHOD_LABELS,
    RESULT_CODES,
    CardInstance,
    Document,
    Evidence,
    Person,
    RecordVersion,
    Rectification,
)

ENTITY = "inspection_record"
REVIEW_ENTITY = "record_review"
STATUS = {"draft": "填写中", "returned": "已退回修改", "reviewed": "已审核", "withdrawn": "已撤回"}
KIND_LABELS = {
    "picture": "照片",
    "photo": "照片",
    "file": "文件",
    "audio": "录音",
    "video": "视频",
    "signature": "签名",
}


def mint() -> str:
    return uuid.uuid4().hex


def status(loaded: Loaded) -> str:
    record = loaded.record
    if record.state == "submitted":
        return f"已提交（第{record.version}版）"
    return STATUS.get(record.state, record.state)


def evidence_text(ctx: Context, record_id: int) -> str:
    rows = ctx.session.execute(
        select(Evidence.kind, func.count())
        .where(Evidence.record_id == record_id, Evidence.kind != "signature")
        .group_by(Evidence.kind)
    ).all()
    if not rows:
        return "尚未收到（可在单聊中直接发送照片、录音、视频或文件）"
    return "、".join(f"{KIND_LABELS.get(kind, kind)} {count}" for kind, count in sorted(rows))


def base_fields(ctx: Context, loaded: Loaded) -> list[tuple[str, str]]:
    task, obj = loaded.task, loaded.obj
    return [
        ("任务编号", task.number),
        ("检查对象", obj.name),
        ("地址", obj.address or "—"),
        ("计划检查日期", loaded.assignment.planned_day.isoformat()),
        ("检查时间", f"{task.window_start.isoformat()} 至 {task.window_end.isoformat()}"),
        ("证据材料", evidence_text(ctx, loaded.record.id)),
    ]


_PERSON_NAME = select(Person.__table__.c.name).where(Person.__table__.c.id == bindparam("person_id"))


def person_name(ctx: Context, person_id: int | None) -> str:
    """A person's name for messages ("系统" for none); through ``storage.raw``, so it works on
    any transaction (also ``Database.direct``)."""
    found = raw.first(ctx.session, _PERSON_NAME, {"person_id": person_id}) if person_id else None
    return str(found[0]) if found is not None else "系统"


def summary(ctx: Context, loaded: Loaded, version: RecordVersion | None, *, documents: bool = True) -> str:
    """The submitted version in a few lines (card, review card)."""
    if version is None:
        return ""
    record, content = loaded.record, version.content
    when = local(ctx, version.submitted_at).strftime("%m-%d %H:%M")
    lines = [f"**第{version.version}版**　{person_name(ctx, version.submitted_by_person_id)} {when} 提交", ""]
    by_id = {item["id"]: item for item in record.items}
    for answer in content.get("items", []):
        item = by_id.get(answer["item"], {"name": str(answer["item"])})
        line = f"- {item['name']}：**{RESULT_OPTIONS.get(answer['result'], answer['result'])}**"
        if answer.get("note"):
            line += f"　{answer['note']}"
        if answer.get("deadline"):
            line += f"（整改期限 {answer['deadline']}）"
        lines.append(line)
    codes = "；".join(f"{c} {RESULT_CODES[c]}" for c in content.get("codes", []) if c in RESULT_CODES)
    lines += ["", f"结果代码：{codes or '—'}"]
    present = content.get("present", {})
    who = (
        "无人在场"
        if present.get("nobody")
        else f"{present.get('name', '')}（{present.get('position') or '职务未填'}）"
    )
    lines.append(
        f"检查方式：{METHOD_LABELS.get(content.get('method', ''), '—')}；{content.get('started_at', '')} 至 "
        f"{content.get('ended_at', '')}；在场人员：{who}；{SIGNATURE_MODES.get(content.get('signature', {}).get('party', ''), '')}"
    )
    issued = documents_text(ctx, loaded.record.id, version) if documents else ""
    if issued:
        lines += ["", issued]
    return "\n".join(lines)


def documents_text(ctx: Context, record_id: int, version: RecordVersion) -> str:
    if version.site_record_doc_id is None:  # the version's job has not issued them yet
        return "文书：正在生成，完成后发到检查组成员的单聊"
    ids = [i for i in (version.site_record_doc_id, version.registration_doc_id) if i]
    ids += list(
        ctx.session.execute(
            select(Rectification.order_doc_id).where(
                Rectification.record_id == record_id, Rectification.state != "cancelled"
            )
        ).scalars()
    )
    if not ids:
        return ""
    docs = ctx.session.execute(select(Document).where(Document.id.in_(ids)).order_by(Document.id)).scalars()
    titles = {
        "site_record": "现场检查记录",
        "registration": "行政检查登记表",
        "rectify_order": "责令改正通知书",
    }
    return "文书：" + "；".join(f"{titles.get(d.kind, d.kind)} {d.number}" for d in docs)


def changes_text(ctx: Context, loaded: Loaded) -> str:
    log = loaded.record.draft_log[-5:]
    if not log:
        return ""
    lines = ["**修改记录**（最新在前）"]
    for entry in reversed(log):
        fields = "、".join(entry.get("fields", [])[:6]) or "—"
        lines.append(f"- {entry['at']} {entry['name']} {entry['action']}：{fields}")
    return "\n".join(lines)


def note_text(loaded: Loaded, extra: str = "") -> str:
    record = loaded.record
    parts = [extra] if extra else []
    if record.state == "draft":
        parts.append(
            "同组人员共用这一份记录：任何人都可以填写并「保存草稿」，由一人提交。"
            "照片、录音、视频和文件请直接发到与我的单聊，会自动归入本记录。"
        )
    elif record.state == "submitted":
        parts.append(
            "结果已提交，待牵头单位审核。审核前检查组成员可以「修改结果」，每次修改都会留存为新的版本。"
        )
    elif record.state == "returned":
        parts.append(f"牵头单位退回了结果：{record.return_reason or ''}。请修改后重新提交。")
    elif record.state == "reviewed":
        parts.append("结果已审核通过，记录已锁定。")
    elif record.state == "withdrawn":
        parts.append("本户已重新抽取，这条记录不再填写。")
    if len(record.items) > MAX_CARD_ITEMS:
        parts.append(
            f"本场景有 {len(record.items)} 个检查事项，卡片只能列出前 {MAX_CARD_ITEMS} 项，请在移动表单中填写。"
        )
    return "\n\n".join(parts)


def _draft_for_card(loaded: Loaded) -> dict[str, Any]:
    draft = dict(loaded.record.draft)
    if "inspectors" not in draft:
        draft["inspectors"] = [str(m.inspector.id) for m in loaded.team]
    draft["inspectors"] = [str(v) for v in draft.get("inspectors", [])]
    return draft


def card_params(
    ctx: Context,
    loaded: Loaded,
    person_id: int,
    previous: dict[str, str] | None,
    *,
    remint: bool = False,
    editing: bool | None = None,
    extra_note: str = "",
) -> dict[str, str]:
    """The params of one member's copy. ``previous`` is that copy's current params (None for a
    new copy): its submission id and editing state are kept unless ``remint``/``editing`` say so."""
    record = loaded.record
    previous = previous or {}
    shared = _shared(ctx, loaded)
    version = shared["version"]
    if record.state in ("draft", "returned"):
        shown = True
    elif record.state == "submitted":
        shown = editing if editing is not None else previous.get("editing") == "true" and not remint
    else:
        shown = False
    submission_id = previous.get("submission_id") or ""
    if remint or not submission_id:
        submission_id = mint()
    token = links.sign(ctx.settings, record.id, person_id, ctx.now)
    link = (
        f"[在移动表单中填写（拍照、定位、签名）]({links.url(ctx.settings, token)})"
        if record.state in ("draft", "submitted", "returned")
        else ""
    )
    view = ResultCardView(
        title=f"现场检查结果 · {loaded.obj.name}",
        status=status(loaded),
        fields=shared["fields"],
        team=[(m.name, m.inspector.unit.name, m.inspector.cert_no or "") for m in loaded.team],
        summary=shared["summary"],
        note=note_text(loaded, extra_note),
        form_link=link,
        changes=shared["changes"],
        editing=shown,
        can_modify=record.state == "submitted" and not shown,
        submission_id=submission_id,
        deprecated_id=version.instance_id if version is not None else "",
        draft_version=record.draft_version,
        item_labels=[f"{n}. {item['name']}" for n, item in enumerate(record.items[:MAX_CARD_ITEMS], start=1)],
        draft=_draft_for_card(loaded),
        inspector_options=[
            (str(m.inspector.id), f"{m.name}（{m.inspector.cert_no or '无执法证'}）") for m in loaded.team
        ],
        code_options=[(code, f"{code} {label}") for code, label in RESULT_CODES.items()],
    )
    return result_card(view)


def _shared(ctx: Context, loaded: Loaded) -> dict[str, Any]:
    """What every copy of the card shows, built once per record state in an event (a refresh
    builds one copy per member)."""
    record = loaded.record
    key = (record.id, record.draft_version, record.version, record.state, len(record.draft_log))
    cached = _SHARED.get(ctx)
    if cached is not None and cached[0] == key:
        return cached[1]
    version = current_version(ctx.session, record)
    shared = {
        "version": version,
        "fields": base_fields(ctx, loaded),
        "summary": summary(ctx, loaded, version),
        "changes": changes_text(ctx, loaded),
    }
    _SHARED[ctx] = (key, shared)
    return shared


_SHARED: weakref.WeakKeyDictionary[Context, tuple[tuple[int, ...], dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def cards_of(ctx: Context, record_id: int) -> list[CardInstance]:
    return list(
        ctx.session.execute(
            select(CardInstance)
            .where(CardInstance.entity_type == ENTITY, CardInstance.entity_id == str(record_id))
            .order_by(CardInstance.created_at, CardInstance.out_track_id)
        ).scalars()
    )


def review_params(ctx: Context, loaded: Loaded, *, note: str = "") -> dict[str, str]:
    record = loaded.record
    version = current_version(ctx.session, record)
    state = {
        "submitted": f"待审核（第{record.version}版）",
        "reviewed": "已审核通过",
        "returned": "已退回修改",
    }
    fields = [
        ("任务编号", loaded.task.number),
        ("检查对象", loaded.obj.name),
        ("版本", f"第{record.version}版"),
    ]
    if version is not None:
        fields.append(
            (
                "提交",
                f"{person_name(ctx, version.submitted_by_person_id)} {local(ctx, version.submitted_at).strftime('%Y-%m-%d %H:%M')}",
            )
        )
    fields.append(("证据材料", evidence_text(ctx, record.id)))
    view = ReviewCardView(
        title=f"检查结果待审核 · {loaded.obj.name}",
        status=state.get(record.state, STATUS.get(record.state, record.state)),
        fields=fields,
        summary=summary(ctx, loaded, version, documents=False),
        documents=documents_text(ctx, record.id, version) if version is not None else "",
        note=note,
        can_review=record.state == "submitted",
        version=record.version,
    )
    return review_card(view)
