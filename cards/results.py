"""Card builders for on-site results: the team's result form, the lead's review card and the
"which record?" card for chat media. Pure: view values in, cardParamMap out (``cards.spec``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cards.spec import render

MAX_CARD_ITEMS = 8  # item rows declared in cards/templates/result_card.json
RESULT_OPTIONS = {
    "pass": "合格",
    "fail": "不合格（限期改正）",
    "fail_now": "不合格（立即改正）",
    "na": "不涉及",
}


@dataclass
class ResultCardView:
    title: str
    status: str
    fields: list[tuple[str, str]]
    team: list[tuple[str, str, str]]  # name, unit, certificate
    summary: str
    note: str
    form_link: str
    changes: str
    editing: bool
    can_modify: bool
    submission_id: str
    deprecated_id: str
    draft_version: int
    item_labels: list[str]
    draft: dict[str, Any] = field(default_factory=dict)  # field name -> value (strings or lists)
    inspector_options: list[tuple[str, str]] = field(default_factory=list)
    code_options: list[tuple[str, str]] = field(default_factory=list)


def _value(draft: dict[str, Any], name: str) -> Any:
    value = draft.get(name, "")
    return value if isinstance(value, list) else ("" if value is None else str(value))


def result_card(view: ResultCardView) -> dict[str, str]:
    draft = view.draft
    values: dict[str, Any] = {
        "title": view.title,
        "status": view.status,
        "fields": [{"label": label, "value": value} for label, value in view.fields],
        "team": [{"name": name, "unit": unit, "cert": cert} for name, unit, cert in view.team],
        "summary": view.summary,
        "note": view.note,
        "form_link": view.form_link,
        "changes": view.changes,
        "editing": view.editing,
        "can_modify": view.can_modify,
        "submission_id": view.submission_id,
        "deprecated_id": view.deprecated_id,
        "draft_version": str(view.draft_version),
        "inspector_options": [{"value": v, "label": label} for v, label in view.inspector_options],
        "code_options": [{"value": v, "label": label} for v, label in view.code_options],
    }
    for name in (
        "method",
        "started",
        "ended",
        "place",
        "present_name",
        "present_position",
        "signature",
        "witness",
        "narrative",
    ):
        source = {"started": "started_at", "ended": "ended_at"}.get(name, name)
        values[f"{name}_default"] = _value(draft, source)
    values["nobody_default"] = "true" if str(draft.get("nobody_present", "")) == "true" else "false"
    for name in ("inspectors", "codes", "notices"):
        chosen = draft.get(name, [])
        values[f"{name}_default"] = (
            chosen if isinstance(chosen, list) else [p for p in str(chosen).split(",") if p]
        )
    for n in range(1, MAX_CARD_ITEMS + 1):
        used = n <= len(view.item_labels)
        values[f"item_{n}_on"] = used
        values[f"item_{n}_label"] = view.item_labels[n - 1] if used else ""
        values[f"item_{n}_default"] = _value(draft, f"item_{n}") if used else ""
        values[f"item_{n}_note_default"] = _value(draft, f"item_{n}_note") if used else ""
        values[f"item_{n}_deadline_default"] = _value(draft, f"item_{n}_deadline") if used else ""
    return render("result_card", **values)


@dataclass
class ReviewCardView:
    title: str
    status: str
    fields: list[tuple[str, str]]
    summary: str
    documents: str
    note: str
    can_review: bool
    version: int


def review_card(view: ReviewCardView) -> dict[str, str]:
    return render(
        "result_review",
        title=view.title,
        status=view.status,
        fields=[{"label": label, "value": value} for label, value in view.fields],
        summary=view.summary,
        documents=view.documents,
        note=view.note,
        can_review=view.can_review,
        version=str(view.version),
    )


def pick_card(*, waiting: int, options: list[tuple[str, str]], chosen: str = "") -> dict[str, str]:
    if chosen:
        return render(
            "evidence_pick",
            title="证据材料归属",
            status="已归入",
            note=f"已将 {waiting} 份材料归入「{chosen}」的检查记录。之后发送的材料也将归入该记录；如需改为其他记录，请再次选择。",
            options=[],
            can_pick=False,
        )
    return render(
        "evidence_pick",
        title="证据材料归属",
        status="待选择",
        note=f"您有 {len(options)} 户检查记录正在进行，已收到 {waiting} 份材料。请选择归入哪一户的检查记录。",
        options=[{"value": v, "label": label} for v, label in options],
        can_pick=True,
    )
