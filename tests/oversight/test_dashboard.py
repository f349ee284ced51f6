"""/dashboard: signed expiring login, roles, the page's content and safety, the .xlsx export."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.services import Services
from handlers.oversight import links
from storage.models import AuditEvent, Unit
from tests.helpers import make_person
from tests.oversight.conftest import Loaded
from tests.oversight.world import bj


def login(client: Any, services: Services, person_id: int) -> Any:
    token = links.sign(services.settings, person_id, services.clock.now())
    return client.get(f"/dashboard/login?t={token}")


def leader_in(client: Any, services: Services, loaded: Loaded) -> None:
    response = login(client, services, loaded.person)
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Path=/dashboard" in cookie and "SameSite=Lax" in cookie


def test_a_leader_logs_in_with_the_link_and_sees_units_themes_timeline_and_overdue_lists(
    client: Any, services: Services, week49: Loaded
) -> None:
    services.clock.set(bj(12, 7, 10))
    leader_in(client, services, week49)
    page = client.get("/dashboard?p=week")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("市容环境卫生监管处", "市政公用监管处", "城市规划监管处", "人行道监管一件事", "联合检查 1/2 次",
                 "已逾期 7 天", "2026年12月时间线", "复查已超期 1 天", "1 条超过 20 个工作日未公示", "<svg"):  # fmt: skip
        assert text in html, text
    assert html.index("<td>1</td><td>市容环境卫生监管处") < html.index("<td>2</td><td>市政公用监管处")
    with services.db.read() as session:
        assert session.execute(select(AuditEvent).where(AuditEvent.action == "dashboard.login")).scalar_one()


def test_the_page_loads_nothing_from_elsewhere_and_forbids_it(
    client: Any, services: Services, week49: Loaded
) -> None:
    leader_in(client, services, week49)
    page = client.get("/dashboard")
    html = page.get_data(as_text=True)
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no external assets or links"
    assert 'name="viewport"' in html


def test_names_from_the_database_are_escaped(client: Any, services: Services, week49: Loaded) -> None:
    with services.db.write() as session:
        session.get(Unit, week49.units["C"]).name = "<img src=x onerror=alert(1)>"
    leader_in(client, services, week49)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x" in html


@pytest.mark.parametrize("query", ["p=week", "p=month", "p=year", "from=2026-11-30&to=2026-12-06"])
def test_every_period_choice_renders(client: Any, services: Services, week49: Loaded, query: str) -> None:
    services.clock.set(bj(12, 7, 10))
    leader_in(client, services, week49)
    assert client.get(f"/dashboard?{query}").status_code == 200


def test_a_custom_range_shows_that_ranges_figures(client: Any, services: Services, week49: Loaded) -> None:
    services.clock.set(bj(12, 7, 10))
    leader_in(client, services, week49)
    html = client.get("/dashboard?from=2026-10-01&to=2026-10-31").get_data(as_text=True)
    assert "10月1日至10月31日" in html
    assert '<div class="tile"><b>0</b><span>发起任务</span></div>' in html


@pytest.mark.parametrize(
    "query", ["from=2026-13-01", "from=2026-12-07&to=2026-12-01", "from=2025-01-01&to=2026-12-01"]
)
def test_bad_dates_are_refused_in_plain_words(
    client: Any, services: Services, week49: Loaded, query: str
) -> None:
    leader_in(client, services, week49)
    response = client.get(f"/dashboard?{query}")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert any(word in body for word in ("日期格式应为", "结束日期不能早于开始日期", "一次最多查看"))


def test_without_a_login_the_page_says_how_to_get_one(
    client: Any, services: Services, week49: Loaded
) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 401 and "「看板」" in response.get_data(as_text=True)
    assert client.get("/dashboard/export.xlsx").status_code == 401


def test_an_expired_or_forged_link_is_refused(client: Any, services: Services, week49: Loaded) -> None:
    token = links.sign(services.settings, week49.person, services.clock.now())
    services.clock.advance(hours=services.settings.dashboard_link_hours, seconds=1)
    expired = client.get(f"/dashboard/login?t={token}")
    assert expired.status_code == 403 and "过期" in expired.get_data(as_text=True)
    payload, _, mac = token.partition(".")
    forged = client.get(f"/dashboard/login?t={payload}.{mac[:-2]}AA")
    assert forged.status_code == 403 and "Set-Cookie" not in forged.headers


def test_the_cookie_stops_working_when_it_expires(client: Any, services: Services, week49: Loaded) -> None:
    leader_in(client, services, week49)
    services.clock.advance(hours=services.settings.dashboard_link_hours + 1)
    assert client.get("/dashboard").status_code == 401


def test_an_inspector_link_opens_nothing(client: Any, services: Services, week49: Loaded) -> None:
    with services.db.read() as session:
        from storage.models import Person

        inspector = session.execute(select(Person).where(Person.name == "检查员A")).scalar_one()
    response = login(client, services, inspector.id)
    assert response.status_code == 403 and "局领导和单位管理员" in response.get_data(as_text=True)


def test_a_unit_admin_sees_their_unit_highlighted(client: Any, services: Services, week49: Loaded) -> None:
    with services.db.write() as session:
        admin = make_person(session, "管理员乙", "admin-B", now=services.clock.now(), roles=("unit_admin",))
        admin.unit_id = week49.units["B"]
        admin_id = admin.id
    assert login(client, services, admin_id).status_code == 303
    html = client.get("/dashboard").get_data(as_text=True)
    assert '<tr class="me"><td>2</td><td>市政公用监管处' in html


def test_the_export_is_a_workbook_of_the_same_figures_with_formulas_neutralised(
    client: Any, services: Services, week49: Loaded
) -> None:
    with services.db.write() as session:
        session.get(Unit, week49.units["C"]).name = '=HYPERLINK("http://evil.example","点我")'
    services.clock.set(bj(12, 7, 9))
    leader_in(client, services, week49)
    response = client.get("/dashboard/export.xlsx?from=2026-11-30&to=2026-12-06")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["说明", "单位", "主题", "逾期整改", "逾期公示", "时间线"]
    units = list(book["单位"].iter_rows(values_only=True))
    header, rows = units[0], {row[1]: row for row in units[1:]}
    first = rows["市容环境卫生监管处"]
    assert first[0] == 1 and first[header.index("发起任务")] == 1 and first[header.index("按期提交率")] == 0.5
    assert rows["全局合计"][header.index("提交检查记录")] == 3
    evil = next(cell for row in book["单位"].iter_rows() for cell in row if "HYPERLINK" in str(cell.value))
    assert evil.data_type == "s" and str(evil.value).startswith("'=")
    assert next(r[0] for r in book["逾期整改"].iter_rows(min_row=2, values_only=True)).startswith(
        "丽综执联查"
    )
    with services.db.read() as session:
        assert session.execute(select(AuditEvent).where(AuditEvent.action == "dashboard.export")).scalar_one()
