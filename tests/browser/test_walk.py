"""The plan, walked in a real browser on the workspace's phone page (see ``walk.py``).

Two tests: the first goes from posting a task to the order to correct; the second walks that part
again (through the page, without screenshots) and goes on to the review, the re-check after the
deadline, publication, the leaders' bulletin and the public pages. Every step is done on the page
by the person who would do it; only the test's clock is moved, standing for days passing.
"""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

from tests.browser.walk import Walk

pytestmark = pytest.mark.browser


def walk_to_the_order_to_correct(walk: Walk) -> str:
    """Posting, negotiation, approval, dispatch, two acceptances, a result with one 不合格 item and
    the order to correct. Returns the teammate's staff id."""
    world = walk.world
    walk.lead_posts_a_task()
    walk.co_unit_agrees(world.co_a_admin, "市政公用监管处")
    walk.co_unit_agrees(world.co_b_admin, "城市规划监管处")
    walk.lead_confirms()
    walk.approver_approves()
    walk.lead_sees_the_approved_task()
    walk.lead_dispatches()
    walk.inspector_accepts()
    mate = walk.teammate_accepts()
    walk.inspector_submits_one_failed_item()
    walk.order_to_correct_arrives()
    return mate


def test_a_task_goes_from_posting_to_a_filed_result_in_the_browser(page, office, shots):
    """Covers, through the page only: the lead-unit admin posts a task with the one-line command in
    the group (@机器人 chip on); each co-unit admin finds the card by its unread badge and agrees;
    the lead confirms; the approver approves in the 1:1 chat; the group's card shows the approval;
    the draw card arrives and the lead dispatches; the lead unit's inspector accepts in the 1:1
    chat (reading the object, the team and the 行政行为码 on the card); a teammate of a co-unit
    accepts their card for the same object; the inspector fills the result card with one 不合格
    item and submits; the 责令限期改正通知书 and the 现场检查记录 arrive in that chat.
    Cards arrive by themselves (background outbox worker), toasts and card updates show.
    """
    walk_to_the_order_to_correct(Walk(page, office, shots))


def test_a_filed_result_is_reviewed_rechecked_published_and_reported_in_the_browser(page, office, shots):
    """From the order to correct (walked as in the first test, without screenshots), through the
    page only: the 整改 card reaches the inspector, who records 当场送达; the lead-unit admin
    approves the record on the review card (审核通过) in the 1:1 chat; days pass (the test's manual clock moves to 09:00 of each next day and the ticker runs
    once) until the 复查 card reaches the inspector on the first working day after the deadline
    shown on the 整改 card; the inspector files 已整改 with the teammate (both ticked, BR-23) and
    the rectification closes (已办结); hours later the lead-unit admin types 公示 with the task
    number in the group and the bot confirms one published result; later still the bureau leader
    types 通报 in the leadership group and the bulletin's markdown (counting the closed
    rectification and the publication) and its chart picture appear there; the 行政行为码
    page (``/code/<code>``, the code read from the dispatch card) and ``/public/results`` show
    the published result E 发现问题经责令已改正.
    """
    walk = Walk(page, office, shots, name="followup")
    with walk.unrecorded():
        mate = walk_to_the_order_to_correct(walk)
    walk.inspector_serves_the_order()
    walk.lead_reviews_the_record()
    walk.days_pass_until_the_recheck()
    walk.inspector_rechecks_corrected(mate=mate)
    walk.lead_publishes()
    walk.leader_sends_the_bulletin()
    walk.the_public_sees_the_result()
