"""Deriving facts from audit events (pure: events and a lookup in, facts out)."""

from __future__ import annotations

from datetime import date

from handlers.oversight.facts import NOTICE_DUE, TRACKED, Event, MemberInfo, TaskInfo, derive
from tests.oversight.world import bj

TZ = "Asia/Shanghai"


class Lookup:
    def task(self, task_id: int) -> TaskInfo | None:
        return {7: TaskInfo(lead_unit_id=2, window_end=date(2026, 12, 3))}.get(task_id)

    def record_task(self, record_id: int) -> int | None:
        return {11: 7}.get(record_id)

    def member(self, member_id: int) -> MemberInfo | None:
        return {5: MemberInfo(unit_id=3, dispatched_at=bj(12, 1, 10))}.get(member_id)

    def notice(self, notice_id: int) -> tuple[int, int] | None:
        return {9: (7, 41)}.get(notice_id)

    def rectification(self, rect_id: int) -> tuple[int, int | None] | None:
        return {4: (7, None), 6: (7, 4)}.get(rect_id)


def event(action: str, entity_type: str, entity_id: int, at: object = None, **parts: object) -> Event:
    return Event(1, at or bj(12, 1, 10), action, entity_type, str(entity_id), **parts)  # type: ignore[arg-type]


def test_a_dispatch_counts_for_the_lead_each_agreed_co_unit_and_each_object() -> None:
    after = {
        "units": {"3": "agreed", "4": "declined", "5": "agreed"},
        "window_end": "2026-12-03",
        "theme_id": 8,
    }
    detail = {"assignments": [[1, 41, [1, 2]], [2, 42, [3]]]}
    facts = derive(event("task.dispatch", "task", 7, after=after, detail=detail), Lookup(), TZ)
    main = [f for f in facts if f.kind == "task.dispatch"]
    assert [(f.unit_id, f.tag, f.flag, f.value) for f in main] == [(2, "lead", True, 3.0), (3, "co", True, 3.0),
                                                                   (5, "co", True, 3.0)]  # fmt: skip
    assert main[0].due == date(2026, 12, 3) and main[0].theme_id == 8
    notices = [f for f in facts if f.kind == NOTICE_DUE]
    assert [(f.subject, f.tag, f.unit_id) for f in notices] == [
        ("object:7:41", "send", 2),
        ("object:7:42", "send", 2),
    ]


def test_a_task_alone_is_not_joint_and_an_exemption_is_recorded_per_object() -> None:
    after = {"units": {"4": "dropped"}, "prenotice": "exempt", "window_end": "2026-12-03"}
    facts = derive(
        event("task.dispatch", "task", 7, after=after, detail={"assignments": [[1, 41, []]]}), Lookup(), TZ
    )
    assert [(f.kind, f.flag, f.tag) for f in facts] == [
        ("task.dispatch", False, "lead"),
        (NOTICE_DUE, None, "exempt"),
    ]


def test_a_record_is_on_time_until_the_end_of_the_windows_last_day_in_beijing() -> None:
    late_evening = derive(event("record.submit", "inspection_record", 11, at=bj(12, 3, 23, 59)), Lookup(), TZ)
    next_morning = derive(event("record.submit", "inspection_record", 11, at=bj(12, 4, 0, 1)), Lookup(), TZ)
    assert (late_evening[0].flag, next_morning[0].flag) == (True, False)
    assert (late_evening[0].unit_id, late_evening[0].task_id, late_evening[0].subject) == (2, 7, "record:11")


def test_acceptance_time_is_hours_from_the_members_dispatch() -> None:
    (fact,) = derive(event("dispatch.accept", "assignment_member", 5, at=bj(12, 1, 13, 30), detail={"task_id": 7}),
                     Lookup(), TZ)  # fmt: skip
    assert (fact.unit_id, fact.value, fact.task_id) == (3, 3.5, 7)


def test_follow_up_events_take_the_unit_from_their_detail_and_orders_from_the_rectification() -> None:
    (closed,) = derive(
        event(
            "rectification.closed", "rectification", 4, detail={"unit_id": 9, "task_id": 7, "how": "on_spot"}
        ),
        Lookup(),
        TZ,
    )
    assert (closed.unit_id, closed.task_id, closed.tag, closed.subject) == (9, 7, "on_spot", "rect:4")
    after = {"mode": "deadline", "deadline": "2026-12-18"}
    (lead,) = derive(event("rectification.order", "rectification", 4, after=after), Lookup(), TZ)
    (responsible,) = derive(event("rectification.order", "rectification", 6, after=after), Lookup(), TZ)
    assert (lead.unit_id, lead.due, lead.tag) == (2, date(2026, 12, 18), "deadline")
    assert responsible.unit_id == 4


def test_a_publication_is_on_time_on_its_due_date_and_late_the_day_after() -> None:
    detail = {"record_id": 11, "task_id": 7, "unit_id": 2, "due_date": "2026-12-03", "channel": "公示系统"}
    on_time = derive(
        event("publication.published", "publication", 3, at=bj(12, 3, 18), detail=detail), Lookup(), TZ
    )
    late = derive(
        event("publication.published", "publication", 3, at=bj(12, 4, 8), detail=detail), Lookup(), TZ
    )
    assert (on_time[0].flag, late[0].flag, on_time[0].subject, on_time[0].tag) == (
        True,
        False,
        "pub:3",
        "公示系统",
    )


def test_a_served_notice_is_matched_to_its_object_and_an_unknown_one_is_skipped() -> None:
    (served,) = derive(event("prenotice.served", "pre_notice", 9), Lookup(), TZ)
    assert (served.subject, served.unit_id) == ("object:7:41", 2)
    assert derive(event("prenotice.served", "pre_notice", 99), Lookup(), TZ) == []


def test_events_the_bulletin_does_not_count_give_no_facts() -> None:
    assert derive(event("record.draft", "inspection_record", 11), Lookup(), TZ) == []
    assert "record.draft" not in TRACKED and "bulletin.send" not in TRACKED
