"""``chayici import|export|export-template`` from the command line: output and exit codes."""

from __future__ import annotations

import pytest

from chayici.cli import main
from handlers.directory.objects_sheet import SPEC
from tests.directory.sheet_files import write_csv


@pytest.fixture
def cli_env(monkeypatch, settings):
    monkeypatch.setenv("CHAYICI_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CHAYICI_AUDIT_KEY", "test-audit-key")
    monkeypatch.setenv("CHAYICI_CORP_ID", settings.corp_id)


def _row(code):
    values = {"统一社会信用代码": code, "名称": "丽水市命令行测试店", "所属区域": "莲都区"}
    return [values.get(header, "") for header in SPEC.headers]


def test_import_dry_run_prints_the_report_and_exits_zero(cli_env, demo, tmp_path, capsys):
    path = write_csv(tmp_path / "o.csv", SPEC.headers, [_row("91331102MA2A0B1C3N")])
    assert main(["import", "objects", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "试运行" in out and "第 2 行 新增 丽水市命令行测试店" in out


def test_import_with_errors_exits_one(cli_env, demo, tmp_path, capsys):
    path = write_csv(tmp_path / "o.csv", SPEC.headers, [_row("91331102MA2A0B1C3X")])
    assert main(["import", "objects", str(path)]) == 1
    assert "全部数据均未导入" in capsys.readouterr().out


def test_import_by_an_unknown_person_is_refused(cli_env, demo, tmp_path, capsys):
    path = write_csv(tmp_path / "o.csv", SPEC.headers, [_row("91331102MA2A0B1C3N")])
    assert main(["import", "objects", str(path), "--by", "nobody"]) == 1
    assert "nobody" in capsys.readouterr().out


def test_unmasked_export_by_a_non_sysadmin_exits_two(cli_env, demo, tmp_path, capsys):
    leader = demo.with_role("leader")[0]
    path = tmp_path / "o.csv"
    assert main(["export", "objects", str(path), "--unmasked", "--by", leader.staff_id]) == 2
    assert "只有系统管理员" in capsys.readouterr().out and not path.exists()


def test_export_and_template(cli_env, demo, tmp_path, capsys):
    assert main(["export", "objects", str(tmp_path / "o.xlsx")]) == 0
    assert "已导出「检查对象」40 行" in capsys.readouterr().out
    assert main(["export-template", "inspectors", str(tmp_path / "t.xlsx")]) == 0
    assert (tmp_path / "t.xlsx").stat().st_size > 0
