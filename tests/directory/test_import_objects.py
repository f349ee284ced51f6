"""Importing 检查对象 sheets: all or nothing, dry runs, natural keys, history, files and encodings."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from handlers.directory import uscc
from handlers.directory.objects_sheet import SPEC
from storage import history
from storage.models.directory import DirectoryVersion, InspectionObject
from storage.models.platform import AuditEvent
from tests.directory.sheet_files import run_import, write_csv

HEADERS = SPEC.headers
CODE_A = "91331102MA2A0B1C3N"
CODE_B = uscc.make_uscc("92331102MA2B0C1D4")
CODE_C = uscc.make_uscc("93331121MA2C0D1E5")


def row(**values: str) -> list[str]:
    base = {
        "统一社会信用代码": CODE_A,
        "名称": "丽水市莲都区测试餐饮店",
        "主体类型": "企业",
        "法定代表人": "张三",
        "住所": "丽水市莲都区人民街 1 号",
        "联系人": "李四",
        "联系电话": "13812345678",
        "行业": "餐饮服务",
        "所属区域": "莲都区",
        "管辖单位": "莲都执法大队",
        "登记状态": "存续",
        "风险等级": "B",
        "启用状态": "启用",
    }
    base.update(values)
    return [base.get(header, "") for header in HEADERS]


def count(services, model=InspectionObject, **where) -> int:
    with services.db.read() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.execute(query).scalar_one()


def good_rows() -> list[list[str]]:
    return [
        row(),
        row(**{"统一社会信用代码": CODE_B, "名称": "丽水市莲都区测试水果店", "主体类型": "个体工商户"}),
        row(
            **{
                "统一社会信用代码": CODE_C,
                "名称": "青田县测试果蔬专业合作社",
                "主体类型": "农民专业合作社",
                "所属区域": "青田县",
                "管辖单位": "青田县综合行政执法局",
                "重点监管起止": "2026-01-01至2026-12-31",
            }
        ),
    ]


def test_valid_sheet_is_imported_with_a_version_per_row_and_one_audit_event(services, clock, demo, tmp_path):
    before = count(services)
    report = run_import(services, clock, "objects", write_csv(tmp_path / "o.csv", HEADERS, good_rows()))
    assert report.committed and report.ok
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert count(services) == before + 3
    with services.db.read() as session:
        obj = session.execute(select(InspectionObject).where(InspectionObject.uscc == CODE_C)).scalar_one()
        assert obj.key_supervision_from.isoformat() == "2026-01-01"
        assert obj.jurisdiction_unit.name == "青田县综合行政执法局"
        assert history.versions(session, "object", obj.id)[0].change == "create"
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "directory.import")
        ).scalar_one()
    assert audit.entity_id == "objects" and '"created":3' in audit.body


def test_one_bad_row_stores_nothing_and_the_report_names_row_and_column(services, clock, demo, tmp_path):
    rows = good_rows()
    rows[1] = row(**{"统一社会信用代码": "91350100M000100Y4Z", "名称": "坏代码商行"})
    before_objects, before_versions = count(services), count(services, DirectoryVersion)
    report = run_import(services, clock, "objects", write_csv(tmp_path / "o.csv", HEADERS, rows))
    assert not report.committed and report.error_count == 1
    problem = report.errors[0]
    assert (problem.row, problem.column) == (3, "统一社会信用代码")
    assert "「3」" in problem.message
    assert "第 3 行「统一社会信用代码」" in report.text()
    assert count(services) == before_objects
    assert count(services, DirectoryVersion) == before_versions
    assert count(services, AuditEvent, action="directory.import_refused") == 1


@pytest.mark.parametrize(
    ("code", "words"),
    [("91331102MA2A0B1C3", "17 位"), ("91331102MA2A0B1C3N1", "19 位"), ("91331102MO2A0B1C3N", "O")],
)
def test_bad_codes_are_refused_with_the_reason(services, clock, demo, tmp_path, code, words):
    report = run_import(
        services,
        clock,
        "objects",
        write_csv(tmp_path / "o.csv", HEADERS, [row(**{"统一社会信用代码": code})]),
    )
    assert not report.committed
    assert words in report.errors[0].message


def test_duplicate_code_within_the_file_is_an_error_naming_the_first_row(services, clock, demo, tmp_path):
    rows = [row(), row(**{"名称": "另一个名称"})]
    report = run_import(services, clock, "objects", write_csv(tmp_path / "o.csv", HEADERS, rows))
    assert not report.committed
    assert report.errors[0].row == 3 and "与第 2 行重复" in report.errors[0].message


def test_dry_run_reports_per_row_actions_and_changes_nothing(services, clock, demo, tmp_path):
    before_objects, before_versions = count(services), count(services, DirectoryVersion)
    before_audit = count(services, AuditEvent)
    report = run_import(
        services, clock, "objects", write_csv(tmp_path / "o.csv", HEADERS, good_rows()), dry_run=True
    )
    assert report.ok and not report.committed
    assert [(o.row, o.action) for o in report.outcomes] == [(2, "create"), (3, "create"), (4, "create")]
    assert "试运行" in report.text()
    assert count(services) == before_objects
    assert count(services, DirectoryVersion) == before_versions
    assert count(services, AuditEvent) == before_audit


def test_reimport_updates_by_code_records_history_and_as_of_shows_the_earlier_version(
    services, clock, demo, tmp_path
):
    first = clock.now()
    run_import(services, clock, "objects", write_csv(tmp_path / "a.csv", HEADERS, good_rows()))
    clock.advance(days=3)
    rows = good_rows()
    rows[0] = row(**{"名称": "丽水市莲都区测试餐饮店（新址）", "风险等级": "D"})
    report = run_import(services, clock, "objects", write_csv(tmp_path / "b.csv", HEADERS, rows))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    updated = next(o for o in report.outcomes if o.action == "update")
    assert updated.row == 2 and set(updated.changed) == {"名称", "风险等级"}
    with services.db.read() as session:
        obj = session.execute(select(InspectionObject).where(InspectionObject.uscc == CODE_A)).scalar_one()
        assert obj.name.endswith("（新址）") and obj.risk_class == "D"
        versions = history.versions(session, "object", obj.id)
        assert [v.change for v in versions] == ["create", "update"]
        assert versions[1].before["risk_class"] == "B" and versions[1].after["risk_class"] == "D"
        past = history.as_of(session, "object", obj.id, first + timedelta(days=1))
        now = history.as_of(session, "object", obj.id, clock.now())
    assert past["name"] == "丽水市莲都区测试餐饮店" and past["risk_class"] == "B"
    assert now["risk_class"] == "D"


def test_existing_code_in_the_database_is_an_update_not_a_duplicate(services, clock, demo, tmp_path):
    with services.db.read() as session:
        existing = (
            session.execute(
                select(InspectionObject)
                .where(InspectionObject.uscc.is_not(None))
                .order_by(InspectionObject.id)
            )
            .scalars()
            .first()
        )
        code = existing.uscc
    before = count(services)
    report = run_import(
        services,
        clock,
        "objects",
        write_csv(tmp_path / "o.csv", HEADERS, [row(**{"统一社会信用代码": code})]),
    )
    assert report.committed and report.updated == 1
    assert count(services) == before


def test_deactivating_by_import_keeps_the_row(services, clock, demo, tmp_path):
    run_import(services, clock, "objects", write_csv(tmp_path / "a.csv", HEADERS, [row()]))
    report = run_import(
        services, clock, "objects", write_csv(tmp_path / "b.csv", HEADERS, [row(**{"启用状态": "停用"})])
    )
    assert report.updated == 1
    with services.db.read() as session:
        obj = session.execute(select(InspectionObject).where(InspectionObject.uscc == CODE_A)).scalar_one()
        assert obj.active is False
        assert history.versions(session, "object", obj.id)[-1].change == "deactivate"


def test_missing_required_header_is_refused(services, clock, demo, tmp_path):
    headers = [h for h in HEADERS if h != "所属区域"]
    rows = [[value for header, value in zip(HEADERS, row(), strict=True) if header != "所属区域"]]
    report = run_import(services, clock, "objects", write_csv(tmp_path / "o.csv", headers, rows))
    assert report.refused and not report.committed
    assert any(p.column == "所属区域" and "缺少必填列" in p.message for p in report.errors)


def test_renamed_header_is_refused_with_a_suggestion(services, clock, demo, tmp_path):
    headers = ["信用代码" if h == "统一社会信用代码" else h for h in HEADERS]
    report = run_import(services, clock, "objects", write_csv(tmp_path / "o.csv", headers, [row()]))
    assert report.refused
    text = report.text()
    assert "无法识别的列" in text and "「信用代码」" in text
    assert "缺少必填列" in text


def test_unknown_jurisdiction_unit_and_region_are_refused(services, clock, demo, tmp_path):
    report = run_import(
        services,
        clock,
        "objects",
        write_csv(tmp_path / "o.csv", HEADERS, [row(**{"管辖单位": "不存在的大队", "所属区域": "杭州"})]),
    )
    columns = {p.column for p in report.errors}
    assert columns == {"管辖单位", "所属区域"}


def test_gb18030_csv_is_read(services, clock, demo, tmp_path):
    path = write_csv(tmp_path / "gb.csv", HEADERS, good_rows(), encoding="gb18030")
    report = run_import(services, clock, "objects", path)
    assert report.committed and report.created == 3
    with services.db.read() as session:
        assert (
            session.execute(select(InspectionObject.name).where(InspectionObject.uscc == CODE_B)).scalar_one()
            == "丽水市莲都区测试水果店"
        )


def test_utf8_with_bom_is_read(services, clock, demo, tmp_path):
    report = run_import(
        services,
        clock,
        "objects",
        write_csv(tmp_path / "bom.csv", HEADERS, good_rows(), encoding="utf-8-sig"),
    )
    assert report.committed


def test_utf16_csv_is_refused_with_a_clear_reason(services, clock, demo, tmp_path):
    before = count(services)
    report = run_import(
        services, clock, "objects", write_csv(tmp_path / "u16.csv", HEADERS, good_rows(), encoding="utf-16")
    )
    assert report.refused and "UTF-16" in report.refused
    assert count(services) == before


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused(services, clock, demo, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(",".join(HEADERS).encode() + b"\n\x81\x30\xff\xfe,x\n")
    report = run_import(services, clock, "objects", path)
    assert report.refused and "编码" in report.refused and "GB18030" in report.refused


def _xlsx(path, headers, rows):
    book = Workbook(write_only=True)
    sheet = book.create_sheet("检查对象")
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path


def test_xlsx_with_date_cells_numbers_and_a_title_line_is_read(services, clock, demo, tmp_path):
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.title = "检查对象"
    sheet.append(["丽水市检查对象名录（2026 年）"])
    sheet.append(HEADERS)
    values = row(**{"重点监管起止": ""})
    values[HEADERS.index("联系电话")] = 13812345678  # typed as a number in Excel
    values[HEADERS.index("重点监管起止")] = datetime(2026, 3, 1)  # a date cell: open-ended from that day
    sheet.append(values)
    path = tmp_path / "o.xlsx"
    book.save(path)
    report = run_import(services, clock, "objects", path)
    assert report.committed, report.text()
    with services.db.read() as session:
        obj = session.execute(select(InspectionObject).where(InspectionObject.uscc == CODE_A)).scalar_one()
    assert obj.contact_phone == "13812345678"
    assert obj.key_supervision_from.isoformat() == "2026-03-01" and obj.key_supervision_to is None
    assert report.outcomes[0].row == 3  # rows are numbered as Excel shows them


def _shared_strings_xlsx(path, rows):
    """An .xlsx as Excel writes it: shared strings (one of them rich text), a <dimension>."""
    from xml.sax.saxutils import escape

    strings: list[str] = []
    cells_xml = []
    for number, values in enumerate(rows, start=1):
        cells = []
        for column, value in enumerate(values):
            if value in ("", None):
                continue
            ref = f"{chr(65 + column)}{number}"
            if value not in strings:
                strings.append(value)
            cells.append(f'<c r="{ref}" t="s"><v>{strings.index(value)}</v></c>')
        cells_xml.append(f'<row r="{number}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><dimension ref="A1:A1"/>'
        f"<sheetData>{''.join(cells_xml)}</sheetData></worksheet>"
    )
    items = []
    for text in strings:
        if text == "莲都区":  # rich text runs with a phonetic hint, as Excel writes them
            items.append(
                '<si><r><t>莲都</t></r><r><rPr><b/></rPr><t>区</t></r><rPh sb="0" eb="1"><t>lian</t></rPh></si>'
            )
        else:
            items.append(f"<si><t>{escape(text)}</t></si>")
    shared = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}">{"".join(items)}</sst>'
    template = _xlsx(path.with_suffix(".tmp.xlsx"), ["x"], [])
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdSST" Type="http://schemas.'
                    b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                    b'Target="sharedStrings.xml"/></Relationships>',
                )
            target.writestr(info, data)
        target.writestr("xl/sharedStrings.xml", shared)
    return path


def test_xlsx_with_shared_strings_and_a_wrong_dimension_is_read_whole(services, clock, demo, tmp_path):
    path = _shared_strings_xlsx(tmp_path / "excel.xlsx", [HEADERS, *good_rows()])
    report = run_import(services, clock, "objects", path)
    assert report.committed, report.text()
    assert report.created == 3  # the <dimension> says A1:A1; it is not trusted
    with services.db.read() as session:
        regions = (
            session.execute(
                select(InspectionObject.region_code).where(InspectionObject.uscc.in_([CODE_A, CODE_B]))
            )
            .scalars()
            .all()
        )
    assert regions == ["331102", "331102"]


def test_xlsx_zip_bomb_is_refused_before_parsing(services, clock, demo, tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        chunk = b"0" * (1 << 20)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(600):  # 600 MiB of zeros, about 0.6 MiB compressed
                member.write(chunk)
    assert path.stat().st_size < 5 * (1 << 20)
    report = run_import(services, clock, "objects", path)
    assert report.refused and "压缩炸弹" in report.refused


def test_xlsx_with_extreme_compression_ratio_is_refused(services, clock, demo, tmp_path):
    path = tmp_path / "ratio.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (50 << 20))
    report = run_import(services, clock, "objects", path)
    assert report.refused and "压缩比" in report.refused


def test_xlsx_with_too_many_entries_is_refused(services, clock, demo, tmp_path):
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(1_001):
            archive.writestr(f"x/{index}.xml", b"")
    report = run_import(services, clock, "objects", path)
    assert report.refused and "1001" in report.refused


def test_xlsx_with_an_entity_declaration_is_refused(services, clock, demo, tmp_path):
    path = _xlsx(tmp_path / "o.xlsx", HEADERS, [row()])
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                bomb = b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                data = data.replace(b"<worksheet", bomb + b"<worksheet", 1).replace(b"<t>", b"<t>&b;", 1)
            target.writestr(info, data)
    path.write_bytes(buffer.getvalue())
    report = run_import(services, clock, "objects", path)
    assert report.refused and "实体声明" in report.refused


def test_legacy_registration_number_is_stored_flagged(services, clock, demo, tmp_path):
    report = run_import(
        services,
        clock,
        "objects",
        write_csv(
            tmp_path / "o.csv",
            HEADERS,
            [row(**{"统一社会信用代码": "331102600099999", "主体类型": "个体工商户"})],
        ),
    )
    assert report.committed and report.warning_count == 1
    with services.db.read() as session:
        obj = session.execute(
            select(InspectionObject).where(InspectionObject.legacy_reg_no == "331102600099999")
        ).scalar_one()
    assert obj.uscc is None


def test_masked_phone_from_our_export_keeps_the_stored_number(services, clock, demo, tmp_path):
    run_import(services, clock, "objects", write_csv(tmp_path / "a.csv", HEADERS, [row()]))
    report = run_import(
        services,
        clock,
        "objects",
        write_csv(tmp_path / "b.csv", HEADERS, [row(**{"联系电话": "138****5678", "风险等级": "C"})]),
    )
    assert report.committed and report.updated == 1
    with services.db.read() as session:
        obj = session.execute(select(InspectionObject).where(InspectionObject.uscc == CODE_A)).scalar_one()
    assert obj.contact_phone == "13812345678" and obj.risk_class == "C"


def test_masked_phone_for_a_new_object_is_refused(services, clock, demo, tmp_path):
    report = run_import(
        services,
        clock,
        "objects",
        write_csv(tmp_path / "a.csv", HEADERS, [row(**{"联系电话": "138****5678"})]),
    )
    assert not report.committed and "脱敏" in report.errors[0].message
