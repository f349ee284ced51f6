"""Builders for the draw card (一公开, in the group) and the dispatch card (1:1 to an inspector).

Pure: views already in words come in, a cardParamMap comes out.
"""

from __future__ import annotations

from dataclasses import dataclass

from cards.spec import render

DECLINE_OPTIONS = (("recusal", "回避"), ("leave", "请假"), ("other", "其他"))
DRAW_ROWS_SHOWN = 100


@dataclass(frozen=True)
class DrawRow:
    slot: int
    object: str
    risk: str
    day: str
    team: str


@dataclass(frozen=True)
class DrawView:
    number: str
    status: str
    fields: list[tuple[str, str]]
    rows: list[DrawRow]
    note: str
    can_dispatch: bool = False
    needs_reason: bool = False
    can_redraw: bool = False


@dataclass(frozen=True)
class TeamRow:
    name: str
    unit: str
    cert: str
    state: str


@dataclass(frozen=True)
class DispatchView:
    number: str
    status: str
    fields: list[tuple[str, str]]
    items: list[tuple[str, list[str]]]  # (item name, check points)
    team: list[TeamRow]
    code: str
    qr: str
    note: str
    can_answer: bool = False


def _pairs(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": label, "value": value} for label, value in items]


def draw_card(view: DrawView) -> dict[str, str]:
    rows = [
        {"slot": str(r.slot), "object": r.object, "risk": r.risk, "day": r.day, "team": r.team}
        for r in view.rows[:DRAW_ROWS_SHOWN]
    ]
    note = view.note
    if len(view.rows) > DRAW_ROWS_SHOWN:
        note = f"卡片列出前 {DRAW_ROWS_SHOWN} 户，共 {len(view.rows)} 户。\n\n{note}"
    return render(
        "draw_card",
        title=f"{view.number}｜抽取结果",
        status=view.status,
        fields=_pairs(view.fields),
        rows=rows,
        note=note,
        can_dispatch=view.can_dispatch and not view.needs_reason,
        needs_reason=view.can_dispatch and view.needs_reason,
        can_redraw=view.can_redraw,
    )


def items_markdown(items: list[tuple[str, list[str]]]) -> str:
    if not items:
        return "**本人检查事项**：本单位在本场景中没有单列的检查事项，请配合其他单位检查。"
    lines = ["**本人检查事项**"]
    for index, (name, points) in enumerate(items, start=1):
        detail = f"（{'；'.join(points)}）" if points else ""
        lines.append(f"{index}. {name}{detail}")
    return "\n".join(lines)


def dispatch_card(view: DispatchView) -> dict[str, str]:
    return render(
        "dispatch_card",
        title=f"检查派单｜{view.number}",
        status=view.status,
        fields=_pairs(view.fields),
        items=items_markdown(view.items),
        team=_team(view.team),
        code=view.code,
        qr=view.qr,
        note=view.note,
        can_answer=view.can_answer,
        reason_options=[{"value": value, "label": label} for value, label in DECLINE_OPTIONS],
    )


def _team(team: list[TeamRow]) -> list[dict[str, str]]:
    return [{"name": t.name, "unit": t.unit, "cert": t.cert, "state": t.state} for t in team]


def team_update(team: list[TeamRow]) -> dict[str, str]:
    """Only the team table: a teammate's card after someone in the team was replaced."""
    return render("dispatch_card", team=_team(team))


def dispatch_answered(*, status: str, note: str, team: list[TeamRow] | None = None) -> dict[str, str]:
    """The part of a dispatch card that changes when it is answered or withdrawn."""
    values: dict[str, object] = {"status": status, "note": note, "can_answer": False}
    if team is not None:
        values["team"] = _team(team)
    return render("dispatch_card", **values)
