"""Builders for the task cards (create form, group task card, approval card). Pure functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from cards.spec import render


@dataclass(frozen=True)
class UnitRow:
    unit: str
    state: str
    comment: str = ""


@dataclass(frozen=True)
class TaskView:
    """What a task card shows, already in words."""

    number: str
    scenario: str
    state_label: str
    fields: list[tuple[str, str]]
    rows: list[UnitRow]
    note: str
    version: int
    can_answer: bool = False
    can_confirm: bool = False
    can_edit: bool = False
    can_drop: bool = False
    can_cancel: bool = False
    drop_options: list[tuple[int, str]] = field(default_factory=list)
    progress: list[tuple[str, str]] = field(default_factory=list)


def _pairs(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": label, "value": value} for label, value in items]


def _rows(rows: list[UnitRow]) -> list[dict[str, str]]:
    return [{"unit": r.unit, "state": r.state, "comment": r.comment} for r in rows]


def create_form(
    *,
    scenarios: list[tuple[int, str]],
    themes: list[tuple[int, str]],
    start_default: str,
    end_default: str,
    requester: str,
) -> dict[str, str]:
    return render(
        "task_create",
        title="发起联合检查任务",
        status="填写中",
        editable=True,
        intro=f"由 **{requester}** 填写。提交后将在本群发起线上磋商，请各协同单位管理员在任务卡片上答复。",
        summary="",
        scenario_options=[{"value": str(i), "label": name} for i, name in scenarios],
        theme_options=[{"value": "", "label": "（不属于监管一件事）"}]
        + [{"value": str(i), "label": n} for i, n in themes],
        window_start_default=start_default,
        window_end_default=end_default,
    )


def create_form_done(summary: str) -> dict[str, str]:
    return render("task_create", status="已创建", editable=False, summary=summary)


def task_card(view: TaskView) -> dict[str, str]:
    return render(
        "task_card",
        title=f"{view.number}｜{view.scenario}",
        status=view.state_label,
        fields=_pairs(view.fields),
        rows=_rows(view.rows),
        note=view.note,
        version=str(view.version),
        can_answer=view.can_answer,
        can_confirm=view.can_confirm,
        can_edit=view.can_edit,
        can_drop=view.can_drop,
        can_cancel=view.can_cancel,
        drop_options=[{"value": str(i), "label": name} for i, name in view.drop_options],
        progress=_pairs(view.progress),
    )


def approval_card(view: TaskView, *, pending: bool, status: str, note: str) -> dict[str, str]:
    return render(
        "task_approval",
        title=f"{view.number}｜{view.scenario}",
        status=status,
        fields=_pairs(view.fields),
        rows=_rows(view.rows),
        note=note,
        version=str(view.version),
        pending=pending,
    )
