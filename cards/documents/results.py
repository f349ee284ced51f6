"""The documents of an on-site check: 现场检查记录 and 行政检查登记表 (domain.md §4.2) and the
责令（限期/立即）改正通知书 (§4.3). Fields in (the JSON stored on the document row), form out.

Keys of ``site_record``: issuer_name, task_number, task_source, basis, method, time, place,
location, object_name, uscc, legal_rep, address, phone, present, inspectors [{name, unit, cert}],
recorder, notices [text], items [{name, result, note}], narrative, evidence [{kind, name, sha,
time}], measures, signature, version, issued_date.
``registration``: issuer_name, task_number, task_source, basis, method, time, object_name, uscc,
address, inspectors, items [{name, result}], codes [text], findings, documents [text],
registrant, version, issued_date.
``rectify_order``: issuer_name, issuer_address, issuer_phone, object_name, uscc, address,
violation_time, place, facts, item_name, provision, order_basis, immediate, deadline,
requirements, inspectors, issued_date.
"""

from __future__ import annotations

from typing import Any

from cards.documents.form import DocumentForm, FormTable

SITE_RECORD = "现场检查记录"
REGISTRATION = "行政检查登记表"
ORDER = "责令限期改正通知书"
ORDER_NOW = "责令立即改正通知书"
ORDER_LEGAL_BASIS = "《中华人民共和国行政处罚法》第二十八条第一款"


def _inspectors(fields: dict[str, Any]) -> FormTable:
    return FormTable(
        title="检查人员",
        columns=("姓名", "单位", "执法证号"),
        rows=[(p["name"], p["unit"], p["cert"]) for p in fields.get("inspectors", [])],
        widths=(2, 5, 3),
    )


def _opening(fields: dict[str, Any]) -> str:
    people = fields.get("inspectors", [])
    certs = "、".join(p["cert"] for p in people)
    names = "、".join(p["name"] for p in people)
    return (
        f"检查人员{names}向被检查人出示了执法证件并表明身份："
        f"“我们是{fields.get('issuer_name', '')}的执法人员，这是我们的执法证件，执法证号分别是{certs}。”"
    )


def site_record(number: str, fields: dict[str, Any], *, voided: str = "") -> DocumentForm:
    evidence = fields.get("evidence", [])
    tables = [
        _inspectors(fields),
        FormTable(
            title="检查事项及结果",
            columns=("序号", "检查事项", "结果", "情况说明"),
            rows=[
                (str(i), item["name"], item["result"], item.get("note") or "—")
                for i, item in enumerate(fields.get("items", []), start=1)
            ],
            widths=(1, 5, 2, 6),
        ),
    ]
    if evidence:
        tables.append(
            FormTable(
                title="证据材料（存证哈希为 SHA-256）",
                columns=("类型", "名称", "时间", "存证哈希"),
                rows=[(e["kind"], e["name"], e["time"], e["sha"]) for e in evidence],
                widths=(1.2, 3, 2.4, 6),
            )
        )
    return DocumentForm(
        title=SITE_RECORD,
        issuer=fields.get("issuer_name", ""),
        number=number,
        fields=[
            ("检查机关", fields.get("issuer_name", "")),
            ("任务来源", f"{fields.get('task_source', '')}（任务编号 {fields.get('task_number', '')}）"),
            ("检查依据", fields.get("basis", "")),
            ("检查方式", fields.get("method", "")),
            ("检查时间", fields.get("time", "")),
            (
                "检查地点",
                fields.get("place", "") + (f"（{fields['location']}）" if fields.get("location") else ""),
            ),
            ("被检查人", fields.get("object_name", "")),
            ("统一社会信用代码", fields.get("uscc", "") or "—"),
            ("法定代表人（负责人）", fields.get("legal_rep", "") or "—"),
            ("地址", fields.get("address", "") or "—"),
            ("联系电话", fields.get("phone", "") or "—"),
            ("现场人员", fields.get("present", "")),
            ("记录人", fields.get("recorder", "")),
        ],
        body=[_opening(fields)],
        tables=tables,
        notices=[
            *fields.get("notices", []),
            f"检查情况：{fields.get('narrative') or '见上表。'}",
            f"采取的措施：{fields.get('measures') or '无'}",
            f"签名情况：{fields.get('signature', '')}",
        ],
        signatures=[
            "被检查人（签名或盖章）：            年    月    日",
            "见证人（签名）：            年    月    日",
            "检查人员（签名）：            年    月    日",
            f"本记录为第 {fields.get('version', 1)} 版　{fields.get('issued_date', '')}",
        ],
        footer="本记录一式两份，一份交被检查人，一份存档。不同检查地点分别制作记录。",
        voided=voided,
    )


def registration(number: str, fields: dict[str, Any], *, voided: str = "") -> DocumentForm:
    return DocumentForm(
        title=REGISTRATION,
        issuer=fields.get("issuer_name", ""),
        number=number,
        fields=[
            ("检查机关", fields.get("issuer_name", "")),
            ("任务编号", fields.get("task_number", "")),
            ("任务来源", fields.get("task_source", "")),
            ("检查依据", fields.get("basis", "")),
            ("检查方式", fields.get("method", "")),
            ("检查时间", fields.get("time", "")),
            ("被检查人", fields.get("object_name", "")),
            ("统一社会信用代码", fields.get("uscc", "") or "—"),
            ("地址", fields.get("address", "") or "—"),
            ("检查结果代码", "；".join(fields.get("codes", [])) or "—"),
            ("发现问题", f"{fields.get('findings', 0)} 项"),
            ("制发文书", "；".join(fields.get("documents", [])) or "—"),
            ("登记人", fields.get("registrant", "")),
        ],
        tables=[
            _inspectors(fields),
            FormTable(
                title="检查事项",
                columns=("序号", "检查事项", "结果"),
                rows=[
                    (str(i), it["name"], it["result"])
                    for i, it in enumerate(fields.get("items", []), start=1)
                ],
                widths=(1, 7, 2),
            ),
        ],
        signatures=[
            f"{fields.get('issuer_name', '')}（登记）",
            fields.get("issued_date", "") or "年    月    日",
        ],
        footer=f"本登记表依据现场检查记录第 {fields.get('version', 1)} 版生成，存档备查。",
        voided=voided,
    )


def rectify_order(number: str, fields: dict[str, Any], *, voided: str = "") -> DocumentForm:
    immediate = bool(fields.get("immediate"))
    name = fields.get("object_name", "")
    if immediate:
        order = "现责令你（单位）立即改正上述违法行为。"
    else:
        order = f"现责令你（单位）于{fields.get('deadline', '')}前改正上述违法行为。"
    return DocumentForm(
        title=ORDER_NOW if immediate else ORDER,
        issuer=fields.get("issuer_name", ""),
        number=number,
        addressee=f"{name}：",
        body=[
            f"经查，你（单位）于{fields.get('violation_time', '')}在{fields.get('place', '')}，"
            f"{fields.get('facts', '')}。",
            f"你（单位）的上述行为违反了{fields.get('provision', '')}的规定。"
            f"根据{ORDER_LEGAL_BASIS}和{fields.get('order_basis', '')}的规定，{order}",
            f"改正内容及要求：{fields.get('requirements', '')}",
            "逾期不改正的，本机关将依法处理，由此引起的法律责任由你（单位）承担。",
            "如不服本通知，可以在收到本通知之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。",
        ],
        fields=[
            ("当事人", name),
            ("统一社会信用代码", fields.get("uscc", "") or "—"),
            ("地址", fields.get("address", "") or "—"),
            ("检查事项", fields.get("item_name", "")),
            ("改正期限", "立即改正" if immediate else fields.get("deadline", "")),
        ],
        tables=[_inspectors(fields)],
        signatures=[
            f"{fields.get('issuer_name', '')}（印章）",
            fields.get("issued_date", "") or "年    月    日",
            f"地址：{fields.get('issuer_address') or '—'}　电话：{fields.get('issuer_phone') or '—'}",
            "送达回执：本通知书于____年__月__日__时__分收到。　当事人（签名）：________",
        ],
        footer="本通知书一式两份，一份送达当事人，一份存档。",
        voided=voided,
    )
