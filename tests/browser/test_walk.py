"""The plan, walked in a real browser on the workspace's phone page (see ``walk.py``)."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

from tests.browser.walk import Walk

pytestmark = pytest.mark.browser


def test_a_task_goes_from_posting_to_approval_in_the_browser(page, office, shots):
    """Covers, through the page only: the lead-unit admin posts a task with the one-line command in
    the group (@机器人 chip on); each co-unit admin finds the card by its unread badge and agrees;
    the lead confirms; the approver approves in the 1:1 chat; the group's card shows the approval.
    Cards arrive by themselves (background outbox worker), toasts and card updates show.

    Not walked yet (the bot cannot do them yet; add the steps when it can): draw and dispatch
    (issue 5), an inspector accepting and submitting a result with one 不合格 item, the order to
    correct appearing.
    """
    walk = Walk(page, office, shots)
    world = office["world"]
    walk.lead_posts_a_task()
    walk.co_unit_agrees(world.co_a_admin, "市政公用监管处")
    walk.co_unit_agrees(world.co_b_admin, "城市规划监管处")
    walk.lead_confirms()
    walk.approver_approves()
    walk.lead_sees_the_approved_task()
