"""Scheduled bulletins: due items, once per period however many tickers run, what they say."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.services import Services
from bot.ticker import Ticker
from chayici import build_services
from handlers.oversight import schedule
from handlers.oversight.periods import parse_schedule
from storage.models import AuditEvent, DueItem, OutboxMessage
from storage.models.oversight import Bulletin
from tests.conftest import PG_URL
from tests.oversight import dataset
from tests.oversight.conftest import Loaded
from tests.oversight.test_event_log import leadership
from tests.oversight.world import bj


def rows(services: Services, model: Any, *where: Any) -> list[Any]:
    with services.db.read() as session:
        found = list(session.execute(select(model).where(*where)).scalars())
        session.expunge_all()
        return found


def sent(services: Services) -> list[OutboxMessage]:
    return rows(services, OutboxMessage, OutboxMessage.dedupe_key.like("bulletin:%"))


def test_the_ticker_keeps_the_next_weekly_and_month_end_bulletin_due(services: Services) -> None:
    services.clock.set(bj(12, 1, 9))
    Ticker(services).tick()
    Ticker(services).tick()  # a second pass (or a second ticker) adds nothing
    due = rows(services, DueItem, DueItem.kind == schedule.DUE_KIND)
    assert sorted((d.due_at, d.payload["rule"]) for d in due) == [
        (bj(12, 7, 9), "weekly:mon:09:00"),
        (bj(12, 31, 17), "monthly:last:17:00"),
    ]


def test_the_weekly_bulletin_goes_to_the_leadership_group_once_with_its_chart(
    services: Services, week49: Loaded
) -> None:
    group = leadership(services)
    ticker = Ticker(services)
    services.clock.set(bj(12, 1, 9))
    ticker.tick()
    services.clock.set(bj(12, 7, 9, 1))
    ticker.tick()
    ticker.tick()
    (bulletin,) = rows(services, Bulletin)
    assert (bulletin.kind, bulletin.period_key, bulletin.destinations) == (
        "weekly",
        "weekly:2026-12-07T09:00",
        [f"group:{group}"],
    )
    assert (bulletin.period_start, bulletin.period_end) == (dataset.PERIOD.start, dataset.PERIOD.end)
    assert (
        bulletin.chart_png.startswith(b"\x89PNG")
        and hashlib.sha256(bulletin.chart_png).hexdigest() == bulletin.chart_sha256
    )
    messages = sent(services)
    assert sorted(m.kind for m in messages) == ["oversight.image", "robot.group"]
    text = next(m for m in messages if m.kind == "robot.group").payload["msgParam"]["text"]
    assert text == bulletin.text
    image = next(m for m in messages if m.kind == "oversight.image").payload
    assert image == {"bulletin_id": bulletin.id, "sha256": bulletin.chart_sha256, "openConversationId": group}
    with services.db.read() as session:
        audited = session.execute(select(AuditEvent).where(AuditEvent.action == "bulletin.send")).scalar_one()
    assert audited.entity_id == str(bulletin.id) and bulletin.chart_sha256 in audited.body


def test_the_bulletin_ranks_units_and_names_overdue_themes_and_rectifications(
    services: Services, week49: Loaded
) -> None:
    leadership(services)
    services.clock.set(bj(12, 7, 9, 1))
    with services.db.write() as session:
        ctx = ticker_context(services, session)
        row = schedule.send_scheduled(ctx, parse_schedule("weekly:mon:09:00")[0], bj(12, 7, 9))
        text = row.text
    assert "「综合查一次」工作进度通报（2026年第49周）" in text
    assert (
        text.index("- 第1名 **市容环境卫生监管处**")
        < text.index("- 第2名 **市政公用监管处**")
        < text.index("- 第3名 **城市规划监管处**")
    )
    assert "主题「火车站站前监管一件事」（市政公用监管处）：期限 11月30日，已逾期 7 天" in text
    assert "（市容环境卫生监管处）：整改期限 12月5日，复查已超期 1 天" in text
    assert "结果公示（市政公用监管处）：1 条超过 20 个工作日未公示" in text
    assert "本期：发起任务 3 项，分发 2 项（联合检查 1 项），完成 1 项" in text
    assert "这是第一期通报" in text


def test_the_next_bulletin_says_what_changed_since_the_last_one(services: Services, week49: Loaded) -> None:
    leadership(services)
    rule = parse_schedule("weekly:mon:09:00")[0]
    services.clock.set(bj(11, 30, 9, 1))
    with services.db.write() as session:
        first = schedule.send_scheduled(ticker_context(services, session), rule, bj(11, 30, 9))
        assert first is not None
    services.clock.set(bj(12, 7, 9, 1))
    with services.db.write() as session:
        second = schedule.send_scheduled(ticker_context(services, session), rule, bj(12, 7, 9))
        text, previous = second.text, second.previous_id
    assert previous == first.id
    assert "全局：较上期新增完成任务 1 项、提交检查记录 3 份、整改办结 3 件、结果公示 2 条。" in text
    assert "新增逾期主题：「火车站站前监管一件事」（市政公用监管处）。" in text
    assert "整改复查逾期：新增 1 件，已消除 1 件，现有 1 件。" in text  # X1 in, X5 out
    assert "排名变化：" in text


def test_a_worker_that_was_down_sends_the_missed_bulletin_late_with_figures_as_of_its_time(
    services: Services, week49: Loaded
) -> None:
    leadership(services)
    ticker = Ticker(services)
    services.clock.set(bj(12, 1, 9))
    ticker.tick()
    services.clock.set(bj(12, 8, 14))  # the worker comes back a day late
    ticker.tick()
    (bulletin,) = rows(services, Bulletin)
    assert bulletin.period_end == bj(12, 7, 9)
    assert "因系统暂停延后" in bulletin.text
    assert bulletin.figures["overdue_rectifications"]  # X1 was still open at 7 Dec 09:00


def test_without_a_leadership_group_the_bulletin_is_stored_but_nothing_is_sent(
    services: Services, week49: Loaded
) -> None:
    services.clock.set(bj(12, 7, 9, 1))
    with services.db.write() as session:
        row = schedule.send_scheduled(
            ticker_context(services, session), parse_schedule("weekly:mon:09:00")[0], bj(12, 7, 9)
        )
        assert row is not None and row.destinations == []
    assert sent(services) == []


def test_a_bad_schedule_setting_schedules_nothing(database_url: str, tmp_path: Any, clock: Any) -> None:
    from tests.conftest import make_settings

    services = build_services(
        make_settings(database_url, tmp_path / "d", bulletin_schedule="weekly:someday:9"), clock=clock
    )
    try:
        Ticker(services).tick()
        assert rows(services, DueItem, DueItem.kind == schedule.DUE_KIND) == []
    finally:
        services.db.dispose()


def test_two_tickers_send_one_bulletin_once(
    services: Services, week49: Loaded, settings: Any, clock: Any
) -> None:
    """Two worker processes (two Services, two engines) tick at the due time: one bulletin, one
    message and one chart per group. On SQLite writers take turns; on PostgreSQL they race."""
    leadership(services)
    other = build_services(settings, clock=clock)
    try:
        clock.set(bj(12, 1, 9))
        Ticker(services).tick()
        clock.set(bj(12, 7, 9, 1))
        run_together([Ticker(services).tick, Ticker(other).tick])
    finally:
        other.db.dispose()
    assert len(rows(services, Bulletin)) == 1
    assert sorted(m.kind for m in sent(services)) == ["oversight.image", "robot.group"]


def test_two_due_items_for_one_period_still_send_one_bulletin(
    services: Services, week49: Loaded, settings: Any, clock: Any
) -> None:
    """Even when the due-item lock is not what saves us (say a schedule was keyed twice), the
    bulletin row, unique per kind and period, lets only one of two racing handlers send."""
    leadership(services)
    other = build_services(settings, clock=clock)
    payload = {"rule": "weekly:mon:09:00", "at": bj(12, 7, 9).isoformat()}
    with services.db.write() as session:
        for key in ("one", "two"):
            session.add(
                DueItem(
                    kind=schedule.DUE_KIND,
                    ref="bulletin",
                    dedupe_key=key,
                    due_at=bj(12, 7, 9),
                    payload=payload,
                    state="pending",
                )
            )
    clock.set(bj(12, 7, 9, 1))
    try:
        run_together([lambda: Ticker(services).scan_due(limit=1), lambda: Ticker(other).scan_due(limit=1)])
        Ticker(services).scan_due()
    finally:
        other.db.dispose()
    assert len(rows(services, Bulletin)) == 1
    assert sorted(m.kind for m in sent(services)) == ["oversight.image", "robot.group"]
    assert {d.state for d in rows(services, DueItem, DueItem.dedupe_key.in_(["one", "two"]))} == {"done"}


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (CHAYICI_TEST_DATABASE_URL)")
def test_on_postgresql_two_threads_with_their_own_connections_race_and_one_sends(
    services: Services, week49: Loaded, settings: Any, clock: Any
) -> None:
    leadership(services)
    others = [build_services(settings, clock=clock) for _ in range(2)]
    clock.set(bj(12, 7, 9, 1))
    rule = parse_schedule("weekly:mon:09:00")[0]
    results: list[Any] = []

    def send(svc: Services) -> None:
        with svc.db.write() as session:
            row = schedule.send_scheduled(ticker_context(svc, session), rule, bj(12, 7, 9))
            results.append(row.id if row is not None else None)

    try:
        run_together([lambda s=s: send(s) for s in others])
    finally:
        for svc in others:
            svc.db.dispose()
    assert sorted(r is None for r in results) == [False, True]  # one stored it, the other found it stored
    with services.db.read() as session:
        assert session.execute(select(func.count()).select_from(Bulletin)).scalar_one() == 1
    assert sorted(m.kind for m in sent(services)) == ["oversight.image", "robot.group"]


# -- helpers ----------------------------------------------------------------------------------------
def ticker_context(services: Services, session: Any) -> Any:
    from bot.context import TickContext

    return TickContext(
        session=session,
        now=services.clock.now(),
        settings=services.settings,
        audit_log=services.audit_log,
        person=None,
        staff_id=None,
        event_key="test",
    )


def run_together(calls: list[Any]) -> None:
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Any) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
