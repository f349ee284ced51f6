"""The plan, walked in a real browser on the workspace's phone page (see ``walk.py``)."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

from tests.browser.walk import Walk

pytestmark = pytest.mark.browser


def test_a_task_goes_from_posting_to_a_filed_result_in_the_browser(page, office, shots):
    """Covers, through the page only: the lead-unit admin posts a task with the one-line command in
    the group (@机器人 chip on); each co-unit admin finds the card by its unread badge and agrees;
    the lead confirms; the approver approves in the 1:1 chat; the group's card shows the approval;
    the draw card arrives and the lead dispatches; an inspector accepts in the 1:1 chat, fills the
    result card with one 不合格 item and submits; the 责令限期改正通知书 arrives in that chat.
    Cards arrive by themselves (background outbox worker), toasts and card updates show.
    """
    walk = Walk(page, office, shots)
    world = office["world"]
    walk.lead_posts_a_task()
    walk.co_unit_agrees(world.co_a_admin, "市政公用监管处")
    walk.co_unit_agrees(world.co_b_admin, "城市规划监管处")
    walk.lead_confirms()
    walk.approver_approves()
    walk.lead_sees_the_approved_task()
    walk.lead_dispatches()
    walk.inspector_accepts("insp-1")
    walk.inspector_submits_one_failed_item()
    walk.order_to_correct_arrives()
