"""The figures as an .xlsx workbook (the page's 导出表格).

Formula-safe: every text cell goes through ``writers.neutralise`` (a unit or object named
``=HYPERLINK(...)`` stays text in Excel and WPS), numbers stay numbers, rates are numbers with a
percent format. Sheets: 说明 (what each figure means), 单位, 主题, 逾期整改, 逾期公示, 时间线.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from handlers.directory.writers import neutralise

DEFINITIONS = [
    (
        "完成任务（牵头或参加）",
        "所选期间内全部检查记录经牵头单位审核通过的任务数；本单位牵头或作为协同单位参加的都计入。",
    ),
    ("发起任务", "本单位牵头发起（创建）的任务数。"),
    ("分发任务", "本单位牵头、完成抽取并一键分发的任务数。"),
    ("联合检查率", "分发任务中，参加单位（牵头单位加同意参加的协同单位）达到两个及以上的比例。"),
    ("派单平均接受用时", "本单位检查人员从收到派单到点击「接受」的平均小时数。"),
    ("检查记录按期提交率", "首次提交的检查记录中，在任务检查时间最后一天（含）之前提交的比例。"),
    ("事先通报率", "分发的检查对象中（不含依法免于通报的），事先通报书已送达的比例。"),
    ("整改到期", "整改期限在所选期间内届满的限期整改（已撤销的不计）。"),
    ("复查逾期（我方）", "整改期限届满后未在规定工作日内复查的件数；逾期事项为截至统计时点仍未复查的。"),
    ("当事人未整改", "复查发现当事人未按期整改的件数。"),
    ("整改办结", "已办结的整改件数（含已整改、当场改正、转入后续处置）。"),
    ("结果按期公示率", "所选期间公示的检查结果中，在产生之日起 20 个工作日内公示的比例。"),
    ("逾期事项", "截至统计时点：逾期未完成的认领主题、复查逾期的整改、超期未公示的检查结果之和。"),
    ("数据来源", "全部数据由系统根据办理过程自动记录（审计日志）统计，不接受手工填报。"),
]

UNIT_COLUMNS: list[tuple[str, str, str]] = [
    # (header, counts key, number format); scope "period" unless the header says 本年
    ("完成任务", "tasks_taken_part", "0"),
    ("发起任务", "tasks_started", "0"),
    ("分发任务", "tasks_dispatched", "0"),
    ("其中联合检查", "tasks_joint", "0"),
    ("联合检查率", "joint_rate", "0.0%"),
    ("参加其他单位任务", "tasks_joined", "0"),
    ("派单接受数", "accepts", "0"),
    ("平均接受用时（小时）", "accept_hours_avg", "0.0"),
    ("提交检查记录", "records_submitted", "0"),
    ("按期提交", "records_on_time", "0"),
    ("按期提交率", "on_time_rate", "0.0%"),
    ("应事先通报对象", "notices_due", "0"),
    ("已送达", "notices_served", "0"),
    ("免于通报", "notices_exempt", "0"),
    ("事先通报率", "prenotice_rate", "0.0%"),
    ("整改到期", "rect_due", "0"),
    ("复查逾期（我方）", "rect_overdue", "0"),
    ("当事人未整改", "rect_not_corrected", "0"),
    ("整改办结", "rect_closed", "0"),
    ("结果公示", "pubs_published", "0"),
    ("按期公示", "pubs_on_time", "0"),
    ("按期公示率", "publication_rate", "0.0%"),
]


def _text(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


def _sheet(
    book: Workbook,
    title: str,
    header: list[str],
    rows: list[list[Any]],
    formats: dict[int, str] | None = None,
) -> None:
    sheet = book.create_sheet(title)
    sheet.append([_text(h) for h in header])
    for row in rows:
        sheet.append([_text(v) for v in row])
    for column, number_format in (formats or {}).items():
        for cells in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            for cell in cells:
                cell.number_format = number_format
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(name) * 2 + 2))
    sheet.freeze_panes = "C2" if len(header) > 3 else "A2"


def workbook(view: dict[str, Any]) -> bytes:
    book = Workbook()
    about = book.active
    about.title = "说明"
    about.append([_text(view.get("title", "工作进度")), ""])
    about.append(["统计期间", _text(view.get("period_label", ""))])
    about.append(["统计时点", _text(view.get("as_of_label", ""))])
    about.append([])
    about.append(["指标", "口径"])
    for name, meaning in DEFINITIONS:
        about.append([_text(name), _text(meaning)])
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 90

    header = [
        "排名",
        "单位",
        "本年完成任务",
        *(name for name, _, _ in UNIT_COLUMNS),
        "当前逾期事项",
        "认领主题",
        "已完成主题",
    ]
    formats = {4 + index: fmt for index, (_, _, fmt) in enumerate(UNIT_COLUMNS)}
    rows = []
    for unit in [*view["units"], {**view["bureau"], "name": "全局合计", "rank": None}]:
        period, standing = unit["period"], unit["standing"]
        rows.append(
            [
                unit.get("rank"),
                unit["name"],
                unit["ytd"]["tasks_taken_part"],
                *(period[key] for _, key, _ in UNIT_COLUMNS),
                standing["overdue_items"],
                standing["themes_claimed"],
                standing["themes_fulfilled"],
            ]
        )
    _sheet(book, "单位", header, rows, formats)
    _sheet(
        book,
        "主题",
        ["主题", "认领单位", "完成期限", "需联合检查", "已完成", "状态", "完成日期", "剩余天数", "逾期天数"],
        [
            [
                t["name"],
                t["unit"],
                t["deadline"],
                t["required"],
                t["done"],
                t["status"],
                t["fulfilled_on"],
                t["days_left"],
                t["days_overdue"],
            ]
            for t in view["themes"]
        ],
    )
    _sheet(
        book,
        "逾期整改",
        ["整改", "单位", "整改期限", "复查逾期起", "超期天数"],
        [
            [r["label"], r["unit"], r["deadline"], r["since"], r["days"]]
            for r in view["overdue_rectifications"]
        ],
    )
    _sheet(
        book,
        "逾期公示",
        ["单位", "超期未公示条数", "最早应公示日期"],
        [[p["unit"], p["count"], p["oldest_due"]] for p in view["overdue_publications"]],
    )
    timeline = view.get("timeline") or {"days": []}
    _sheet(
        book,
        "时间线",
        ["日期", "发起任务", "分发任务", "完成任务", "提交检查记录", "整改办结", "复查逾期", "结果公示"],
        [
            [
                d["day"],
                d["created"],
                d["dispatched"],
                d["finished"],
                d["records"],
                d["rect_closed"],
                d["rect_overdue"],
                d["published"],
            ]
            for d in timeline["days"]
        ],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
