"""The hand-made data set: week 49 of 2026 (Mon 30 Nov 09:00 to Mon 7 Dec 09:00, Beijing time),
with some history before it. Every figure it should produce is worked out by hand in
``EXPECTED`` below and in the comments next to each event.

Tasks
- T1 (lead A, co B agreed; theme θ1): created 10 Nov, dispatched 20 Nov (object O0, notice
  served), finished 25 Nov. Joint. Before the period.
- T2 (lead A, co B agreed, co C declined; theme θ3): created 1 Dec, dispatched 1 Dec 10:00 (O1,
  O2; window ends 3 Dec), members a (A) accepted after 2 h and b (B) after 6 h; R1 submitted
  3 Dec 15:00 (on time), R2 4 Dec 09:00 (late); O1's notice served, O2's not; finished 5 Dec.
- T3 (lead B, alone, pre-notice exempt; theme θ2): created and dispatched 2 Dec (O3, window ends
  4 Dec); R3 submitted 2 Dec (on time). Not finished.
- T4 (lead C): created 6 Dec.

Rectifications (unit = responsible unit)
- X1 (A, R1, deadline 5 Dec): ordered 3 Dec; re-check overdue 6 Dec 10:00, still open at the end.
- X2 (A, R2, deadline 4 Dec): ordered 4 Dec; re-inspected not corrected 5 Dec; escalated; closed
  (escalated) 6 Dec.
- X3 (B, R3, immediate): ordered 2 Dec; closed on the spot 2 Dec.
- X4 (A, R1, deadline 6 Dec): ordered 3 Dec, cancelled 4 Dec: never due.
- X5 (A, R0 of T1, deadline 28 Nov): ordered 21 Nov; overdue 30 Nov 08:00 (before the period);
  re-inspected corrected and closed 2 Dec.

Publications
- P1 (R0, A, due 2 Dec): scheduled 25 Nov, published 1 Dec (on time).
- P2 (R1, A, due 4 Dec): scheduled 3 Dec, published 5 Dec (late).
- P3 (R3, B, due 5 Dec): scheduled 2 Dec, never published: overdue at the end.
- P4 (R2, A, due 31 Dec): scheduled 4 Dec.

Themes
- θ1 claimed by A, deadline 1 Dec, 1 joint inspection: T1 finished 25 Nov -> fulfilled.
- θ2 claimed by B, deadline 30 Nov: only T3, not joint, not finished -> overdue 7 days on 7 Dec.
- θ3 claimed by C, deadline 31 Dec, 2 joint inspections: T2 -> 1/2, open, 24 days left.
- θ4 unclaimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handlers.oversight.periods import Period
from tests.oversight.world import World, bj

__all__ = ["PERIOD", "Handles", "Period", "bj", "week49"]

PERIOD = Period(bj(11, 30, 9), bj(12, 7, 9))
AGREED_B = {"B": "agreed"}


@dataclass
class Handles:
    tasks: dict[str, int]
    rects: dict[str, int]
    themes: dict[str, int]


def week49(w: World) -> Handles:
    themes = {
        "θ1": w.theme("时令蔬果自产自销监管一件事", unit="A", deadline=date(2026, 12, 1), at=bj(11, 1)),
        "θ2": w.theme("火车站站前监管一件事", unit="B", deadline=date(2026, 11, 30), at=bj(11, 1)),
        "θ3": w.theme("人行道监管一件事", unit="C", deadline=date(2026, 12, 31), minimum=2, at=bj(11, 1)),
        "θ4": w.theme("农贸市场监管一件事", unit=None, deadline=date(2026, 12, 31), at=bj(11, 1)),
    }
    o0, o1, o2, o3 = (w.obj(f"对象{n}") for n in range(4))

    # T1: before the period.
    t1 = w.task("A", window_end=date(2026, 11, 22), theme=themes["θ1"], created=bj(11, 10))
    a0 = w.assignment(t1, o0, 1)
    r0 = w.record(t1, a0)
    n0 = w.notice(t1, a0)
    w.create(t1, bj(11, 10), {"B": "pending"})
    w.dispatch(t1, bj(11, 20), AGREED_B, [a0])
    w.served(n0, bj(11, 20, 9, 5))
    w.review(t1, bj(11, 25), AGREED_B)

    # T2: the period's joint task.
    t2 = w.task("A", window_end=date(2026, 12, 3), theme=themes["θ3"], created=bj(12, 1, 8))
    a1, a2 = w.assignment(t2, o1, 1), w.assignment(t2, o2, 2)
    m_a = w.member(a1, "A", bj(12, 1, 10))
    m_b = w.member(a1, "B", bj(12, 1, 10))
    r1, r2 = w.record(t2, a1), w.record(t2, a2)
    n1, _n2 = w.notice(t2, a1), w.notice(t2, a2)
    w.create(t2, bj(12, 1, 8), {"B": "pending", "C": "pending"})
    units_t2 = {"B": "agreed", "C": "declined"}
    w.dispatch(t2, bj(12, 1, 10), units_t2, [a1, a2])
    w.served(n1, bj(12, 1, 10, 5))
    w.accept(m_a, t2, bj(12, 1, 12))  # 2 hours
    w.accept(m_b, t2, bj(12, 1, 16))  # 6 hours
    w.submit(r1, bj(12, 3, 15))  # window ends 3 Dec: on time
    w.submit(r2, bj(12, 4, 9))  # late
    w.review(t2, bj(12, 5), units_t2)

    # T3: B alone, exempt from pre-notice.
    t3 = w.task("B", window_end=date(2026, 12, 4), theme=themes["θ2"], created=bj(12, 2, 8))
    a3 = w.assignment(t3, o3, 1)
    r3 = w.record(t3, a3)
    w.create(t3, bj(12, 2, 8))
    w.dispatch(t3, bj(12, 2, 9), {}, [a3], prenotice="exempt")
    w.submit(r3, bj(12, 2, 16))

    # T4: C posts a task.
    t4 = w.task("C", window_end=date(2026, 12, 20), created=bj(12, 6))
    w.create(t4, bj(12, 6), {"A": "pending"})

    # Rectifications.
    x1 = w.rectification(r1, deadline=date(2026, 12, 5), unit="A")
    w.order(x1, bj(12, 3, 15))
    w.followup("rectification.overdue", x1, "A", bj(12, 6, 10))
    x2 = w.rectification(r2, deadline=date(2026, 12, 4), unit="A")
    w.order(x2, bj(12, 4, 9))
    w.followup("rectification.reinspected", x2, "A", bj(12, 5, 10), outcome="not_corrected")
    w.followup("rectification.not_corrected", x2, "A", bj(12, 5, 10))
    w.followup("rectification.escalated", x2, "A", bj(12, 5, 11), next_step="case")
    w.followup("rectification.closed", x2, "A", bj(12, 6, 9), how="escalated")
    x3 = w.rectification(r3, deadline=date(2026, 12, 2), unit="B", mode="immediate")
    w.order(x3, bj(12, 2, 16))
    w.followup("rectification.closed", x3, "B", bj(12, 2, 16, 30), how="on_spot")
    x4 = w.rectification(r1, deadline=date(2026, 12, 6), unit="A")
    w.order(x4, bj(12, 3, 15, 1))
    w.event("rectification.cancel", "rectification", x4.id, bj(12, 4), after={"state": "cancelled"})
    x5 = w.rectification(r0, deadline=date(2026, 11, 28), unit="A")
    w.order(x5, bj(11, 21))
    w.followup("rectification.overdue", x5, "A", bj(11, 30, 8))
    w.followup("rectification.reinspected", x5, "A", bj(12, 2, 10), outcome="corrected")
    w.followup("rectification.closed", x5, "A", bj(12, 2, 10), how="corrected")

    # Publications.
    w.publication("publication.scheduled", 1, r0, "A", date(2026, 12, 2), bj(11, 25))
    w.publication("publication.published", 1, r0, "A", date(2026, 12, 2), bj(12, 1, 15), channel="公示系统")
    w.publication("publication.scheduled", 2, r1, "A", date(2026, 12, 4), bj(12, 3, 16))
    w.publication("publication.published", 2, r1, "A", date(2026, 12, 4), bj(12, 5, 10), channel="公示系统")
    w.publication("publication.scheduled", 3, r3, "B", date(2026, 12, 5), bj(12, 2, 17))
    w.publication("publication.scheduled", 4, r2, "A", date(2026, 12, 31), bj(12, 4, 10))

    # After the period: must not count.
    w.create(w.task("A", window_end=date(2026, 12, 20), created=bj(12, 7, 10)), bj(12, 7, 10))
    w.followup("rectification.closed", x1, "A", bj(12, 7, 11), how="corrected")
    return Handles(
        tasks={"T1": t1.id, "T2": t2.id, "T3": t3.id, "T4": t4.id},
        rects={"X1": x1.id, "X2": x2.id, "X3": x3.id, "X4": x4.id, "X5": x5.id},
        themes=themes,
    )


# Figures for PERIOD, worked out from the list above.
EXPECTED_PERIOD = {
    "A": {
        "tasks_started": 1,  # T2
        "tasks_dispatched": 1,
        "tasks_joint": 1,
        "tasks_finished": 1,
        "tasks_joined": 0,
        "accepts": 1,
        "accept_hours_avg": 2.0,
        "records_submitted": 2,  # R1, R2
        "records_on_time": 1,
        "notices_due": 2,  # O1, O2
        "notices_served": 1,
        "notices_exempt": 0,
        "rect_due": 2,  # X1 (5 Dec), X2 (4 Dec); X4 cancelled
        "rect_overdue": 1,  # X1 (X5 went overdue before the period)
        "rect_not_corrected": 1,  # X2
        "rect_closed": 2,  # X2 escalated, X5 corrected
        "rect_closed_corrected": 1,
        "rect_closed_escalated": 1,
        "pubs_published": 2,  # P1 on time, P2 late
        "pubs_on_time": 1,
    },
    "B": {
        "tasks_started": 1,  # T3
        "tasks_dispatched": 1,
        "tasks_joint": 0,
        "tasks_finished": 0,
        "tasks_joined": 1,  # T2
        "tasks_finished_joined": 1,
        "accepts": 1,
        "accept_hours_avg": 6.0,
        "records_submitted": 1,
        "records_on_time": 1,
        "notices_due": 0,
        "notices_exempt": 1,
        "rect_due": 0,  # X3 was immediate
        "rect_closed": 1,
        "rect_closed_on_spot": 1,
        "pubs_published": 0,
    },
    "C": {"tasks_started": 1, "tasks_dispatched": 0, "tasks_joined": 0, "accepts": 0, "records_submitted": 0},
    "bureau": {
        "tasks_started": 3,
        "tasks_dispatched": 2,
        "tasks_joint": 1,
        "joint_rate": 0.5,
        "tasks_finished": 1,
        "accepts": 2,
        "accept_hours_avg": 4.0,
        "records_submitted": 3,
        "records_on_time": 2,
        "on_time_rate": 0.6667,
        "notices_due": 2,
        "notices_served": 1,
        "prenotice_rate": 0.5,
        "notices_exempt": 1,
        "rect_due": 2,
        "rect_overdue": 1,
        "rect_not_corrected": 1,
        "rect_closed": 3,
        "pubs_published": 2,
        "pubs_on_time": 1,
        "publication_rate": 0.5,
    },
}
EXPECTED_YTD = {
    "A": {
        "tasks_started": 2,
        "tasks_dispatched": 2,
        "tasks_joint": 2,
        "tasks_finished": 2,
        "tasks_taken_part": 2,
        "notices_due": 3,
        "notices_served": 2,
        "rect_overdue": 2,
    },
    "B": {
        "tasks_started": 1,
        "tasks_joined": 2,
        "tasks_finished_joined": 2,
        "tasks_taken_part": 2,
        "joint_rate": 0.0,
    },
    "C": {"tasks_started": 1, "tasks_taken_part": 0},
    "bureau": {"tasks_finished": 2, "tasks_dispatched": 3, "joint_rate": 0.6667},
}
EXPECTED_STANDING = {
    "A": {
        "rect_overdue_open": 1,
        "pubs_overdue_open": 0,
        "themes_claimed": 1,
        "themes_fulfilled": 1,
        "themes_overdue": 0,
        "overdue_items": 1,
    },
    "B": {
        "rect_overdue_open": 0,
        "pubs_overdue_open": 1,
        "themes_claimed": 1,
        "themes_fulfilled": 0,
        "themes_overdue": 1,
        "overdue_items": 2,
    },
    "C": {"themes_claimed": 1, "themes_overdue": 0, "overdue_items": 0},
}
EXPECTED_RANKS = {"A": 1, "B": 2, "C": 3}
