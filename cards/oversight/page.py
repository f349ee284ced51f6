"""The progress page for leaders (``/dashboard``): plain server-rendered HTML with inline SVG.

Pure: a view (the figures as a bulletin stores them, plus the month's timeline and links) in,
one HTML document out. No scripts, no external assets, inline CSS; tables scroll sideways on a
phone rather than squeezing. Every text from the database is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from cards.oversight import svg

STYLE = """
body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;
background:#f4f5f7;color:#1f2329;line-height:1.5;font-size:15px}
main{max-width:980px;margin:0 auto;padding:12px}
h1{font-size:20px;margin:8px 0 2px}
.sub{color:#646a73;font-size:13px;margin:0 0 8px}
nav a{display:inline-block;margin:2px 6px 2px 0;padding:3px 10px;border-radius:12px;background:#fff;
color:#1456f0;text-decoration:none;font-size:14px;border:1px solid #dfe1e5}
nav a.on{background:#1456f0;color:#fff;border-color:#1456f0}
section{background:#fff;border-radius:8px;padding:12px 14px;margin:12px 0}
h2{font-size:16px;margin:0 0 8px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px}
.tile{background:#f7f8fa;border-radius:6px;padding:8px 10px}
.tile b{display:block;font-size:20px}
.tile span{color:#646a73;font-size:12px}
.tile.bad b{color:#d93025}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px;white-space:nowrap}
th,td{padding:6px 8px;border-bottom:1px solid #eee;text-align:right}
th:nth-child(2),td:nth-child(2){text-align:left}
th{color:#646a73;font-weight:normal;background:#fafafa}
tr.me td{background:#fff4d6}
svg.chart{width:100%;height:auto;display:block}
svg.meter{width:60px;height:8px;vertical-align:middle;margin-right:4px}
svg.progress{width:100%;max-width:260px;height:14px;display:block;margin:4px 0}
.theme{border-bottom:1px solid #eee;padding:8px 0}
.theme:last-child{border:0}
.bad{color:#d93025}
.ok{color:#1e8e3e}
ul{margin:0;padding-left:20px}
li{margin:3px 0}
.note{color:#646a73;font-size:12px}
footer{font-size:12px;color:#8f959e;text-align:center;margin:16px 0}
"""

STATUS = {"fulfilled": "已完成", "fulfilled_late": "逾期后完成", "open": "进行中", "overdue": "已逾期"}


def _pct(rate: float | None) -> str:
    if rate is None:
        return "—"
    value = rate * 100
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} 小时"


def _md(text: str | None) -> str:
    if not text:
        return "未定"
    _, month, day = text.split("-")
    return f"{int(month)}月{int(day)}日"


def page(title: str, content: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>{content}</main></body></html>"
    )


def message_page(title: str, text: str) -> str:
    return page(title, f"<h1>{escape(title)}</h1><section><p>{escape(text)}</p></section>")


def _tile(value: str, label: str, bad: bool = False) -> str:
    return (
        f'<div class="tile{" bad" if bad else ""}"><b>{escape(value)}</b><span>{escape(label)}</span></div>'
    )


def _tiles(bureau: dict[str, Any]) -> str:
    p, y, s = bureau["period"], bureau["ytd"], bureau["standing"]
    tiles = [
        _tile(str(p["tasks_started"]), "发起任务"),
        _tile(str(p["tasks_dispatched"]), "分发任务"),
        _tile(str(p["tasks_finished"]), "完成任务"),
        _tile(_pct(p["joint_rate"]), "联合检查率"),
        _tile(f"{p['records_on_time']}/{p['records_submitted']}", "检查记录按期提交"),
        _tile(_pct(p["prenotice_rate"]), "事先通报率"),
        _tile(_hours(p["accept_hours_avg"]), "派单平均接受用时"),
        _tile(str(p["rect_due"]), "整改到期"),
        _tile(str(p["rect_closed"]), "整改办结"),
        _tile(str(p["rect_not_corrected"]), "当事人未整改", p["rect_not_corrected"] > 0),
        _tile(_pct(p["publication_rate"]), "结果按期公示率"),
        _tile(str(s["overdue_items"]), "逾期未办事项（当前）", s["overdue_items"] > 0),
        _tile(str(y["tasks_finished"]), "本年完成任务"),
        _tile(_pct(y["joint_rate"]), "本年联合检查率"),
    ]
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _unit_table(units: list[dict[str, Any]], highlight: int | None) -> str:
    head = (
        "<tr><th>排名</th><th>单位</th><th>本年完成</th><th>本期完成</th><th>联合检查率</th>"
        "<th>记录按期提交率</th><th>事先通报率</th><th>派单接受用时</th><th>整改到期/办结</th>"
        "<th>公示按期率</th><th>认领主题</th><th>逾期事项</th></tr>"
    )
    rows = []
    for unit in units:
        p, y, s = unit["period"], unit["ytd"], unit["standing"]
        cls = ' class="me"' if unit["id"] == highlight else ""
        overdue = f'<span class="bad">{s["overdue_items"]}</span>' if s["overdue_items"] else "0"
        rows.append(
            f"<tr{cls}><td>{unit['rank']}</td><td>{escape(unit['name'])}</td>"
            f"<td>{y['tasks_taken_part']}</td><td>{p['tasks_taken_part']}</td>"
            f"<td>{svg.meter(p['joint_rate'], good=0.6)}{_pct(p['joint_rate'])}</td>"
            f"<td>{svg.meter(p['on_time_rate'])}{_pct(p['on_time_rate'])}</td>"
            f"<td>{svg.meter(p['prenotice_rate'])}{_pct(p['prenotice_rate'])}</td>"
            f"<td>{_hours(p['accept_hours_avg'])}</td>"
            f"<td>{p['rect_due']}/{p['rect_closed']}</td>"
            f"<td>{svg.meter(p['publication_rate'])}{_pct(p['publication_rate'])}</td>"
            f"<td>{s['themes_fulfilled']}/{s['themes_claimed']}</td><td>{overdue}</td></tr>"
        )
    return f'<div class="scroll"><table>{head}{"".join(rows)}</table></div>'


def _themes(themes: list[dict[str, Any]]) -> str:
    if not themes:
        return "<p>暂无已认领的主题。</p>"
    parts = []
    for theme in themes:
        state = STATUS.get(theme["status"], theme["status"])
        if theme["status"] == "overdue":
            state = f'<span class="bad">已逾期 {theme["days_overdue"]} 天</span>'
        elif theme["status"] == "open" and theme["days_left"] is not None:
            state = f"进行中，还剩 {theme['days_left']} 天"
        elif theme["status"] == "fulfilled":
            state = f'<span class="ok">已完成（{_md(theme["fulfilled_on"])}）</span>'
        parts.append(
            f'<div class="theme"><b>{escape(theme["name"])}</b>　{escape(theme["unit"])}<br>'
            f"{svg.progress(theme['done'], theme['required'], status=theme['status'])}"
            f"联合检查 {theme['done']}/{theme['required']} 次 · 期限 {_md(theme['deadline'])} · {state}</div>"
        )
    return "".join(parts)


def _overdue(view: dict[str, Any]) -> str:
    items = []
    for theme in view["themes"]:
        if theme["status"] == "overdue":
            items.append(
                f"<li>主题「{escape(theme['name'])}」（{escape(theme['unit'])}）：期限 {_md(theme['deadline'])}，"
                f"已逾期 {theme['days_overdue']} 天，联合检查 {theme['done']}/{theme['required']} 次</li>"
            )
    for rect in view["overdue_rectifications"]:
        items.append(
            f"<li>整改 {escape(rect['label'])}（{escape(rect['unit'])}）：整改期限 {_md(rect['deadline'])}，"
            f"复查已超期 {rect['days']} 天</li>"
        )
    for pub in view["overdue_publications"]:
        items.append(
            f"<li>结果公示（{escape(pub['unit'])}）：{pub['count']} 条超过 20 个工作日未公示，"
            f"最早应于{_md(pub['oldest_due'])}前公示</li>"
        )
    return f"<ul>{''.join(items)}</ul>" if items else "<p>无逾期事项。</p>"


def _timeline(timeline: dict[str, Any]) -> str:
    days = [
        svg.Day(
            d["label"], d["records"], d["tasks"], today=d.get("today", False), future=d.get("future", False)
        )
        for d in timeline["days"]
    ]
    chart = svg.columns(days, title=timeline["title"])
    events = "".join(
        f"<li>{escape(e['when'])}　{escape(e['what'])}　{escape(e['task'])}（{escape(e['unit'])}）</li>"
        for e in timeline["events"]
    )
    return (
        f'{chart}<p class="note">柱：每天提交的检查记录；圆点：当天有任务分发或完成。</p>'
        f"<ul>{events or '<li>本月暂无任务动态。</li>'}</ul>"
    )


def dashboard(view: dict[str, Any]) -> str:
    """The whole page. ``view`` = figures JSON + title, labels, links, timeline, highlight."""
    on = ' class="on"'
    nav = "".join(
        f'<a href="{escape(link["href"])}"{on if link.get("on") else ""}>{escape(link["text"])}</a>'
        for link in view["nav"]
    )
    bars = [
        svg.HBar(
            u["name"],
            u["ytd"]["tasks_taken_part"],
            u["period"]["tasks_taken_part"],
            u["standing"]["overdue_items"],
            u["id"] == view.get("highlight"),
        )
        for u in view["units"]
    ]
    content = (
        f"<h1>{escape(view['title'])}</h1>"
        f'<p class="sub">统计期间：{escape(view["period_label"])}　{escape(view["as_of_label"])}</p>'
        f"<nav>{nav}</nav>"
        f"<section><h2>全局情况</h2>{_tiles(view['bureau'])}</section>"
        f"<section><h2>各单位完成任务（本年累计，橙色为所选期间）</h2>"
        f"{svg.hbars(bars, title='各单位完成任务')}</section>"
        f"<section><h2>单位排名</h2>{_unit_table(view['units'], view.get('highlight'))}"
        '<p class="note">排名依次比较：本年完成任务数（牵头或参加）多者在前；逾期事项少者在前；'
        "联合检查率高者在前。表中比率为所选期间的数。</p></section>"
        f"<section><h2>监管一件事主题</h2>{_themes(view['themes'])}</section>"
        f"<section><h2>{escape(view['timeline']['title'])}</h2>{_timeline(view['timeline'])}</section>"
        f"<section><h2>逾期清单</h2>{_overdue(view)}</section>"
        "<footer>数据由系统根据办理过程自动记录统计，统计口径见导出表格的「说明」页。</footer>"
    )
    return page(view["title"], content)
