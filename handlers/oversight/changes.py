"""What changed since the last bulletin: a pure comparison of two stored figure sets.

Both sides are ``Figures.to_json()`` dicts, the current one and the one the previous bulletin
stored, so "changed since" means "since what people were last shown", not since a recomputation.
"""

from __future__ import annotations

from typing import Any


def _delta(now: int, before: int) -> str:
    diff = now - before
    return f"+{diff}" if diff > 0 else str(diff)


def bureau_lines(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    if previous is None:
        return ["这是第一期通报，暂无上期数据可比较。"]
    lines = []
    now, before = current["bureau"]["ytd"], previous["bureau"]["ytd"]
    if previous.get("ytd_start") == current.get("ytd_start"):
        lines.append(
            f"全局：较上期新增完成任务 {now['tasks_finished'] - before['tasks_finished']} 项、"
            f"提交检查记录 {now['records_submitted'] - before['records_submitted']} 份、"
            f"整改办结 {now['rect_closed'] - before['rect_closed']} 件、"
            f"结果公示 {now['pubs_published'] - before['pubs_published']} 条。"
        )
    else:
        lines.append("已进入新的年度，本年累计数从 1 月 1 日重新计算。")
    prev_units = {u["id"]: u for u in previous.get("units", [])}
    moves = []
    for unit in current.get("units", []):
        old = prev_units.get(unit["id"])
        if old is None or old.get("rank") is None or unit.get("rank") is None:
            continue
        if old["rank"] != unit["rank"]:
            arrow = (
                f"↑{old['rank'] - unit['rank']}"
                if unit["rank"] < old["rank"]
                else f"↓{unit['rank'] - old['rank']}"
            )
            moves.append(f"{unit['name']} 第{old['rank']}名→第{unit['rank']}名（{arrow}）")
    lines.append("排名变化：" + "；".join(moves) + "。" if moves else "各单位排名与上期相同。")
    lines += overdue_lines(previous, current)
    return lines


def overdue_lines(previous: dict[str, Any], current: dict[str, Any], unit_id: int | None = None) -> list[str]:
    """New and cleared overdue items (themes, rectifications, publications), optionally for one unit."""

    def mine(item: dict[str, Any]) -> bool:
        return unit_id is None or item.get("unit_id") == unit_id

    lines = []
    old_themes = {t["id"] for t in previous.get("themes", []) if t["status"] == "overdue" and mine(t)}
    new_themes = {t["id"]: t for t in current.get("themes", []) if t["status"] == "overdue" and mine(t)}
    names = {t["id"]: t["name"] for t in previous.get("themes", []) + current.get("themes", [])}
    added = [
        f"「{new_themes[i]['name']}」（{new_themes[i]['unit']}）"
        for i in sorted(new_themes.keys() - old_themes)
    ]
    cleared = [f"「{names.get(i, i)}」" for i in sorted(old_themes - new_themes.keys())]
    if added:
        lines.append("新增逾期主题：" + "、".join(added) + "。")
    if cleared:
        lines.append("已消除逾期的主题：" + "、".join(cleared) + "。")
    old_rects = {r["id"]: r for r in previous.get("overdue_rectifications", []) if mine(r)}
    new_rects = {r["id"]: r for r in current.get("overdue_rectifications", []) if mine(r)}
    added_r = sorted(new_rects.keys() - old_rects.keys())
    cleared_r = sorted(old_rects.keys() - new_rects.keys())
    if added_r or cleared_r:
        lines.append(
            f"整改复查逾期：新增 {len(added_r)} 件，已消除 {len(cleared_r)} 件，现有 {len(new_rects)} 件。"
        )
    old_pubs = sum(p["count"] for p in previous.get("overdue_publications", []) if mine(p))
    new_pubs = sum(p["count"] for p in current.get("overdue_publications", []) if mine(p))
    if old_pubs != new_pubs:
        lines.append(f"超期未公示的检查结果：{old_pubs} 条→{new_pubs} 条（{_delta(new_pubs, old_pubs)}）。")
    if not lines:
        lines.append("逾期事项与上期相比没有变化。")
    return lines


def unit_lines(previous: dict[str, Any] | None, current: dict[str, Any], unit_id: int) -> list[str]:
    """For one unit (进度): its rank and finished tasks against the last bulletin."""
    if previous is None:
        return ["尚无已发布的通报可比较。"]
    old = next((u for u in previous.get("units", []) if u["id"] == unit_id), None)
    new = next((u for u in current.get("units", []) if u["id"] == unit_id), None)
    lines = []
    if old is not None and new is not None:
        if previous.get("ytd_start") == current.get("ytd_start"):
            gained = new["ytd"]["tasks_taken_part"] - old["ytd"]["tasks_taken_part"]
            lines.append(f"较上期通报新增完成任务 {gained} 项。")
        if old.get("rank") and new.get("rank"):
            if old["rank"] == new["rank"]:
                lines.append(f"排名与上期通报相同（第{new['rank']}名）。")
            else:
                lines.append(f"排名由上期第{old['rank']}名变为第{new['rank']}名。")
    return lines + overdue_lines(previous, current, unit_id)
