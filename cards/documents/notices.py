"""行政检查通知书 (pre-notice of an inspection, domain.md §3.4, §4.1): fields in, form out.

``fields`` is the JSON stored on the ``document`` row, so a document can be rendered again, years
later, exactly as issued. Keys: issuer_name, object_name, uscc, address, window, planned_day,
method, basis, items [names], inspectors [{name, unit, cert}], task_number, code, issued_date.
"""

from __future__ import annotations

from typing import Any

from cards.documents.form import DocumentForm, FormTable

TITLE = "行政检查通知书"


def inspection_notice(number: str, fields: dict[str, Any], *, voided: str = "") -> DocumentForm:
    inspectors = fields.get("inspectors", [])
    items = fields.get("items", [])
    return DocumentForm(
        title=TITLE,
        issuer=fields.get("issuer_name", ""),
        number=number,
        addressee=f"{fields.get('object_name', '')}：",
        body=[
            f"根据{fields.get('basis', '有关法律、法规、规章')}的规定，本机关决定对你（单位）开展行政检查"
            f"（综合查一次联合检查，任务编号 {fields.get('task_number', '')}）。现将有关事项通知如下：",
        ],
        fields=[
            ("被检查人", fields.get("object_name", "")),
            ("统一社会信用代码", fields.get("uscc", "") or "—"),
            ("检查地点", fields.get("address", "") or "—"),
            ("检查时间", fields.get("window", "")),
            ("计划检查日期", fields.get("planned_day", "")),
            ("检查方式", fields.get("method", "")),
            ("检查依据", fields.get("basis", "")),
            ("行政行为码", fields.get("code", "") or "—"),
        ],
        tables=[
            FormTable(
                title="检查事项",
                columns=("序号", "检查事项"),
                rows=[(str(i), name) for i, name in enumerate(items, start=1)],
                widths=(1, 9),
            ),
            FormTable(
                title="检查人员",
                columns=("姓名", "单位", "执法证号"),
                rows=[(p["name"], p["unit"], p["cert"]) for p in inspectors],
                widths=(2, 5, 3),
            ),
        ],
        notices=[
            "检查人员将出示行政执法证件，并可出示行政行为码供你（单位）扫码核验。",
            "检查人员与你（单位）有直接利害关系或者有其他关系可能影响公正检查的，你（单位）有权申请其回避。"
            "申请回避的，请在检查开始前向本机关提出。",
            "请你（单位）在检查时间内安排有关人员在场，如实提供有关材料和情况，配合检查。",
            "对检查中的行政行为不服的，可以依法申请行政复议或者提起行政诉讼。",
        ],
        signatures=[
            f"{fields.get('issuer_name', '')}（印章）",
            fields.get("issued_date", "") or "年    月    日",
        ],
        footer="本通知书一式两份，一份送达被检查人，一份存档。",
        voided=voided,
    )
