"""Exports: formula cells neutralised, personal data masked unless a system admin asks otherwise."""

from __future__ import annotations

import csv
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from handlers.directory.catalogue import SHEETS
from handlers.directory.exporting import ExportRefused, export_file, export_template
from handlers.directory.service import DirectoryEditor
from handlers.directory.writers import FORMULA_TRIGGERS, cell
from storage.models.directory import InspectionObject
from storage.models.platform import AuditEvent
from tests.directory.sheet_files import run_import

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
TRICKY = ['=HYPERLINK("http://evil","点我")', "+86 578 1234567", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def export(services, clock, kind, path, **options):
    sheet = SHEETS[kind]
    return export_file(
        services.db,
        services.audit_log,
        sheet.spec,
        sheet.export_rows,
        path,
        now=clock.now(),
        corp_id=services.settings.corp_id,
        **options,
    )


def read_csv(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def read_xlsx(path):
    book = load_workbook(path, read_only=True)
    rows = [[c for c in values] for values in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


@pytest.fixture
def tricky_objects(services, clock, demo):
    with services.db.write() as session:
        editor = DirectoryEditor(session, actor="test", now=clock.now(), audit=None)
        objects = session.execute(
            select(InspectionObject).order_by(InspectionObject.id).limit(len(TRICKY))
        ).scalars()
        for obj, text in zip(objects, TRICKY, strict=True):
            editor.update(obj, {"name": text, "address": text})


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_cells_are_neutralised(services, clock, tricky_objects, tmp_path, suffix):
    path = tmp_path / f"objects{suffix}"
    export(services, clock, "objects", path)
    rows = read_csv(path) if suffix == ".csv" else read_xlsx(path)
    cells = [value for line in rows[1:] for value in line if isinstance(value, str) and value]
    assert not [value for value in cells if value.startswith(FORMULA_TRIGGERS)]
    names = [line[1] for line in rows[1 : len(TRICKY) + 1]]
    expected = ["'" + text for text in TRICKY]
    if suffix == ".xlsx":  # XML turns a carriage return into a line feed on reading
        expected = [text.replace("\r", "\n") for text in expected]
    assert names == expected


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_phones_are_masked_by_default(services, clock, demo, tmp_path, suffix):
    path = tmp_path / f"objects{suffix}"
    result = export(services, clock, "objects", path)
    assert result.masked and result.rows == 40
    rows = read_csv(path) if suffix == ".csv" else read_xlsx(path)
    phones = [line[6] for line in rows[1:]]
    assert all(re.fullmatch(r"1\d\d\*{4}\d{4}", phone) for phone in phones)
    assert not MOBILE.search(repr(rows))


def test_inspector_mobiles_are_masked_by_default(services, clock, demo, tmp_path):
    path = tmp_path / "inspectors.csv"
    export(services, clock, "inspectors", path)
    assert not MOBILE.search(path.read_text(encoding="utf-8-sig"))


def test_id_numbers_in_free_text_are_masked(services, clock, demo, tmp_path):
    with services.db.write() as session:
        obj = session.execute(select(InspectionObject).order_by(InspectionObject.id)).scalars().first()
        DirectoryEditor(session, actor="t", now=clock.now(), audit=None).update(
            obj, {"legal_rep": "王五（身份证 11010519491231002X）"}
        )
    path = tmp_path / "objects.csv"
    export(services, clock, "objects", path)
    text = path.read_text(encoding="utf-8-sig")
    assert "11010519491231002X" not in text and "110105********002X" in text


def test_unmasked_export_is_refused_for_a_non_sysadmin_and_audited(services, clock, demo, tmp_path):
    admin = demo.with_role("unit_admin")[0]
    path = tmp_path / "objects.csv"
    with pytest.raises(ExportRefused) as refused:
        export(services, clock, "objects", path, unmasked=True, by=admin.staff_id)
    assert "系统管理员" in refused.value.message
    assert not path.exists()
    with services.db.read() as session:
        denied = session.execute(select(AuditEvent).where(AuditEvent.action == "access.denied")).scalar_one()
    assert denied.actor == f"person:{admin.person_id}" and denied.entity_type == "export"


def test_unmasked_export_without_by_is_refused(services, clock, demo, tmp_path):
    with pytest.raises(ExportRefused) as refused:
        export(services, clock, "objects", tmp_path / "o.csv", unmasked=True)
    assert "--by" in refused.value.message


def test_unmasked_export_by_a_sysadmin_shows_phones_and_is_audited(services, clock, demo, tmp_path):
    sysadmin = demo.with_role("sysadmin")[0]
    path = tmp_path / "objects.csv"
    result = export(services, clock, "objects", path, unmasked=True, by=sysadmin.staff_id)
    assert not result.masked
    assert MOBILE.search(path.read_text(encoding="utf-8-sig"))
    with services.db.read() as session:
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "directory.export")
        ).scalar_one()
    assert '"masked":false' in audit.body


def test_export_then_import_changes_nothing(services, clock, demo, tmp_path):
    path = tmp_path / "objects.xlsx"
    export(services, clock, "objects", path)
    with services.db.read() as session:
        before = session.execute(select(func.count()).select_from(InspectionObject)).scalar_one()
    report = run_import(services, clock, "objects", path)
    assert report.committed, report.text()
    assert (report.created, report.updated, report.unchanged) == (0, 0, before)


@pytest.mark.parametrize("kind", list(SHEETS))
def test_templates_have_the_headers_and_a_notes_sheet(tmp_path, kind):
    spec = SHEETS[kind].spec
    path = tmp_path / f"{kind}.xlsx"
    export_template(spec, path)
    book = load_workbook(path, read_only=True)
    assert [sheet.title for sheet in book.worksheets] == [spec.title[:31], "填写说明"]
    assert list(next(book.worksheets[0].iter_rows(values_only=True))) == spec.headers
    book.close()
    csv_path = tmp_path / f"{kind}.csv"
    export_template(spec, csv_path)
    assert read_csv(csv_path) == [spec.headers]


@given(st.text())
def test_no_exported_cell_starts_with_a_formula_trigger(text):
    assert not cell(text).startswith(FORMULA_TRIGGERS)
    assert not cell(text, "text").startswith(FORMULA_TRIGGERS)
