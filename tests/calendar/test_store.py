"""The stored calendar: a system admin imports a year's table; the shipped tables; a year
without a table warns."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import func, select

from handlers.calendar import store
from handlers.calendar.cli import run_import
from handlers.calendar.workdays import add_workdays
from storage.models import ROLE_SYSADMIN, AuditEvent, CalendarDay
from tests.helpers import make_person


def _import(services, tmp_path, text: str, by: str = "sysadmin"):
    path = tmp_path / "table.csv"
    path.write_bytes(text.encode("gb18030"))
    return run_import(services.settings, services.db, services.audit_log, services.clock.now(), path, by)


def test_only_a_system_admin_imports_a_table_and_a_bad_table_is_refused_whole(services, tmp_path):
    with services.db.write() as session:
        make_person(session, "系统管理员", "sysadmin", now=services.clock.now(), roles=(ROLE_SYSADMIN,))
        make_person(session, "普通人员", "someone", now=services.clock.now())
    good = "日期,类型,说明\n2028-01-01,放假,元旦\n2028-01-08,调休上班,测试\n"
    code, text = _import(services, tmp_path, good, by="someone")
    assert code == 2 and "系统管理员" in text
    code, text = _import(
        services,
        tmp_path,
        "日期,类型,说明\n2028-01-01,放假,元旦\n2028-01-03,调休上班,周一\n2028-13-01,放假,\n",
    )
    assert code == 1 and "第 3 行" in text and "不是周末" in text and "第 4 行" in text
    code, text = _import(services, tmp_path, good)
    assert code == 0, text
    with services.db.read() as session:
        assert session.execute(select(func.count()).select_from(CalendarDay)).scalar_one() == 2
        actions = [a for (a,) in session.execute(select(AuditEvent.action).order_by(AuditEvent.id))]
        calendar = store.calendar_for(session, date(2028, 1, 1), date(2028, 1, 31))
    assert actions.count("calendar.import") == 1 and "access.denied" in actions
    assert not calendar.is_workday(date(2028, 1, 1)) and calendar.is_workday(date(2028, 1, 8))


def test_the_shipped_2026_table_is_used_until_one_is_imported(services):
    with services.db.read() as session:
        calendar = store.calendar_for(session, date(2026, 9, 1), date(2026, 10, 31))
    assert calendar.knows(date(2026, 10, 1))
    assert add_workdays(calendar, date(2026, 9, 30), 1) == date(2026, 10, 8)  # 1-7 Oct off
    assert calendar.is_workday(date(2026, 10, 10)) and calendar.is_workday(date(2026, 9, 20))
    assert set(store.builtin_years()) >= {2026, 2027}


def test_a_year_without_a_table_counts_weekends_only_and_warns(services, caplog):
    store._warned.discard(2031)
    with services.db.read() as session, caplog.at_level(logging.WARNING):
        calendar = store.calendar_for(session, date(2031, 5, 1), date(2031, 5, 31))
    assert not calendar.knows(date(2031, 5, 1)) and calendar.is_workday(date(2031, 5, 1))
    assert store.missing_years(calendar, date(2031, 5, 1)) == [2031]
    assert any("2031" in r.getMessage() for r in caplog.records)
