"""The bulletin as people read it in the chat (DingTalk markdown: headings, bold, lists; no tables).

Pure functions of the stored figures (``Figures.to_json()``), so the text a bulletin stored can
always be produced again from what it stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

STATUS_TEXT = {
    "fulfilled": "已完成",
    "fulfilled_late": "逾期后完成",
    "open": "进行中",
    "overdue": "已逾期",
}


def pct(rate: float | None) -> str:
    if rate is None:
        return "—"
    value = rate * 100
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} 小时"


def _accept(value: float | None) -> str:
    return "暂无派单接受记录" if value is None else f"派单平均接受用时 {value:.1f} 小时"


def _finished(counts: dict[str, Any]) -> str:
    """Finished tasks taken part in; for a unit that also joined others' tasks, its own share."""
    if counts["tasks_finished_joined"]:
        return f"{counts['tasks_taken_part']} 项（其中牵头 {counts['tasks_finished']} 项）"
    return f"{counts['tasks_finished']} 项"


def md(date_text: str | None) -> str:
    """2026-12-01 -> 12月1日."""
    if not date_text:
        return "未定"
    day = date.fromisoformat(date_text)
    return f"{day.month}月{day.day}日"


def unit_line(unit: dict[str, Any]) -> str:
    """第N名 as text, not a numbered list: markdown would renumber tied ranks (1, 1, 3)."""
    ytd, standing = unit["ytd"], unit["standing"]
    led = f"（其中牵头 {ytd['tasks_finished']} 项）" if ytd["tasks_finished_joined"] else ""
    return (
        f"- 第{unit['rank']}名 **{unit['name']}**　完成 {ytd['tasks_taken_part']} 项{led}｜联合 {pct(ytd['joint_rate'])}"
        f"｜按期提交 {pct(ytd['on_time_rate'])}｜逾期 {standing['overdue_items']}"
    )


def summary_lines(scope: dict[str, Any], *, label: str) -> list[str]:
    p, y = scope["period"], scope["ytd"]
    return [
        f"- {label}：发起任务 {p['tasks_started']} 项，分发 {p['tasks_dispatched']} 项"
        f"（联合检查 {p['tasks_joint']} 项），完成 {_finished(p)}；"
        f"提交检查记录 {p['records_submitted']} 份，按期 {p['records_on_time']} 份（{pct(p['on_time_rate'])}）",
        f"- 本年累计：完成任务 {_finished(y)}，联合检查率 {pct(y['joint_rate'])}，"
        f"{_accept(y['accept_hours_avg'])}，事先通报率 {pct(y['prenotice_rate'])}",
        f"- 整改（{label}）：到期 {p['rect_due']} 件，复查逾期（我方）{p['rect_overdue']} 件，"
        f"当事人未整改 {p['rect_not_corrected']} 件，办结 {p['rect_closed']} 件；"
        f"目前复查逾期未处理 {scope['standing']['rect_overdue_open']} 件",
        f"- 结果公示（{label}）：公示 {p['pubs_published']} 条，20 个工作日内按期 {p['pubs_on_time']} 条"
        f"（{pct(p['publication_rate'])}）；目前超期未公示 {scope['standing']['pubs_overdue_open']} 条",
    ]


def overdue_section(figures: dict[str, Any], *, limit: int, unit_id: int | None = None) -> list[str]:
    def mine(item: dict[str, Any]) -> bool:
        return unit_id is None or item.get("unit_id") == unit_id

    lines = []
    themes = [t for t in figures["themes"] if t["status"] == "overdue" and mine(t)]
    for theme in themes[:limit]:
        lines.append(
            f"- 主题「{theme['name']}」（{theme['unit']}）：期限 {md(theme['deadline'])}，"
            f"已逾期 {theme['days_overdue']} 天，联合检查完成 {theme['done']}/{theme['required']} 次"
        )
    if len(themes) > limit:
        lines.append(f"- ……逾期主题共 {len(themes)} 个，详见看板")
    rects = [r for r in figures["overdue_rectifications"] if mine(r)]
    for rect in rects[:limit]:
        lines.append(
            f"- 整改 {rect['label']}（{rect['unit']}）：整改期限 {md(rect['deadline'])}，"
            f"复查已超期 {rect['days']} 天"
        )
    if len(rects) > limit:
        lines.append(f"- ……复查逾期的整改共 {len(rects)} 件，详见看板")
    for pub in [p for p in figures["overdue_publications"] if mine(p)][:limit]:
        lines.append(
            f"- 结果公示（{pub['unit']}）：{pub['count']} 条超过 20 个工作日未公示，"
            f"最早应于{md(pub['oldest_due'])}前公示"
        )
    return lines or ["- 无逾期事项。"]


def theme_lines(
    figures: dict[str, Any], *, unit_id: int | None = None, limit: int | None = None
) -> list[str]:
    """Claimed themes, overdue first, then open ones by days left, then fulfilled."""
    order = {"overdue": 0, "open": 1, "fulfilled_late": 2, "fulfilled": 3}
    themes = [t for t in figures["themes"] if unit_id is None or t["unit_id"] == unit_id]
    themes.sort(
        key=lambda t: (order.get(t["status"], 4), t["days_left"] if t["days_left"] is not None else 10**6)
    )
    lines = []
    for theme in themes[: limit or len(themes)]:
        state = STATUS_TEXT.get(theme["status"], theme["status"])
        if theme["status"] == "open":
            left = f"，还剩 {theme['days_left']} 天" if theme["days_left"] is not None else ""
            state += left
        elif theme["status"] == "overdue":
            state += f" {theme['days_overdue']} 天"
        lines.append(
            f"- 「{theme['name']}」（{theme['unit']}）：联合检查 {theme['done']}/{theme['required']} 次，"
            f"期限 {md(theme['deadline'])}，{state}"
        )
    if limit and len(themes) > limit:
        lines.append(f"- ……已认领主题共 {len(themes)} 个，详见看板")
    return lines or ["- 暂无已认领的主题。"]


def bulletin(
    title: str, subtitle: str, figures: dict[str, Any], changes: list[str], *, limit: int, late_note: str = ""
) -> str:
    """The bureau bulletin posted to the leadership group."""
    lines = [f"#### {title}", "", subtitle + "。本通报数据均由系统根据办理过程记录自动统计。"]
    if late_note:
        lines += ["", late_note]
    lines += ["", "**一、总体情况**", *summary_lines(figures["bureau"], label="本期"), ""]
    lines.append("**二、单位排名（本年累计）**")
    lines += [unit_line(unit) for unit in figures["units"]] or ["暂无单位数据。"]
    lines += ["", "排名依次比较：完成任务数（牵头或参加）多者在前；逾期事项少者在前；联合检查率高者在前。"]
    lines += ["", "**三、较上期变化**", *[f"- {line}" for line in changes]]
    lines += ["", "**四、监管一件事主题**", *theme_lines(figures, limit=2 * limit)]
    lines += ["", "**五、逾期事项**", *overdue_section(figures, limit=limit)]
    lines += ["", "各单位完成任务柱状图随后发送；完整数据请发送「看板」查看。"]
    return "\n".join(lines)


def progress(
    title: str,
    subtitle: str,
    figures: dict[str, Any],
    unit: dict[str, Any],
    changes: list[str],
    *,
    limit: int,
) -> str:
    """One unit's progress (进度), for whoever asked."""
    total = len(figures["units"])
    lines = [f"#### {title}", "", subtitle + "。"]
    lines += ["", f"**本年排名：第{unit['rank']}名（共 {total} 个单位）**", unit_line(unit)]
    lines += ["", "**本单位情况**", *summary_lines(unit, label="本期")]
    y = unit["ytd"]
    lines.append(
        f"- 参加其他单位牵头的联合检查：本年 {y['tasks_joined']} 项（已完成 {y['tasks_finished_joined']} 项）"
    )
    lines += ["", "**较上期通报**", *[f"- {line}" for line in changes]]
    lines += ["", "**认领的主题**", *theme_lines(figures, unit_id=unit["id"])]
    lines += ["", "**逾期事项**", *overdue_section(figures, limit=limit, unit_id=unit["id"])]
    return "\n".join(lines)
