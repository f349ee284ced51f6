"""The plan walked on the workspace's phone page, one method per step.

Each step acts as one person through the page only (the identity picker, the conversation list,
the composer, the card's own buttons) and waits for what that person would see next. Steps the
bot cannot do yet are not faked: add steps here as capabilities land and call them from
``test_walk.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import NAMES

TASK_LINE = "发起检查 人行道 2家 2026-12-01至2026-12-05 实地核查"
TASK_NUMBER = "丽综执联查〔2026〕1号"


class Walk:
    def __init__(self, page: Page, office: dict[str, Any], shots: Path | None, name: str = "walk") -> None:
        self.page = page
        self.name = name  # screenshot file prefix
        self.live = office["live"]
        self.world = office["world"]
        self.group: str = office["group"]
        self.shots = shots
        self.taken: list[Path] = []
        page.goto(f"{self.live.url}/")
        page.wait_for_selector("body[data-ready]", state="attached")

    # -- moving around -----------------------------------------------------------------------
    def be(self, staff: str) -> None:
        """Choose who you are, as a newcomer does: the picker, then the person's line."""
        page = self.page
        if page.locator("#chat").is_visible():
            page.click("#back")
        if page.locator("#picker").is_hidden():
            page.click("#switch")
        page.click(f'#people [data-staff="{staff}"]')
        expect(page.locator("#picker")).to_be_hidden()
        expect(page.locator("#me-name")).to_have_text(NAMES[staff])
        expect(page.locator("#convs .conv").first).to_be_visible()

    def open_conversation(self, selector: str) -> None:
        page = self.page
        if page.locator("#chat").is_visible():
            page.click("#back")
        page.click(f"#convs {selector}")
        expect(page.locator("#chat")).to_be_visible()

    def open_group(self) -> None:
        self.open_conversation(f'.conv[data-cid="{self.group}"]')

    def open_bot_chat(self) -> None:
        self.open_conversation('.conv[data-kind="private"]')

    def card(self, template: str) -> Locator:
        """The newest card of a template in the open conversation."""
        return self.page.locator(f'#msgs .card[data-template="{template}"]').last

    def click_in_card(self, card: Locator, action: str) -> None:
        card.locator(f'button[data-action="{action}"]').click()

    def toast_says(self, text: str | re.Pattern[str]) -> None:
        expect(self.page.locator("#toast")).to_contain_text(text)

    def shot(self, name: str, top: Locator | None = None) -> None:
        """Screenshot of the phone (the viewport); ``top`` is scrolled to the top of the chat first,
        so a long card shows its header."""
        if self.shots is None:
            return
        if top is not None:  # after the page's own scroll-to-newest (next animation frame)
            top.evaluate(
                "el => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {"
                " (el.closest('.msg') || el).scrollIntoView({block: 'start'}); done(); })))"
            )
        path = self.shots / f"{self.name}-{len(self.taken) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        self.taken.append(path)

    # -- steps of the plan -------------------------------------------------------------------
    def lead_posts_a_task(self) -> None:
        """The lead unit's admin @-mentions the bot in the group with the one-line command; the
        task card appears in the group by itself (outbox worker -> createAndDeliver)."""
        self.be(self.world.lead_admin)
        self.open_group()
        expect(self.page.locator("#at")).to_have_attribute("aria-pressed", "true")
        self.page.fill("#text", TASK_LINE)
        self.page.press("#text", "Enter")
        expect(self.page.locator("#msgs .msg.mine .bubble").last).to_contain_text("发起检查 人行道")
        card = self.card("task_card")
        expect(card.locator(".card-head")).to_contain_text(TASK_NUMBER)
        expect(card.locator(".pill")).to_have_text("磋商中")
        self.shot("lead-posts-task", top=card)

    def co_unit_agrees(self, staff: str, unit: str) -> None:
        """A co-unit's admin opens the group (the unread badge shows the card) and agrees."""
        self.be(staff)
        expect(self.page.locator(f'.conv[data-cid="{self.group}"] .badge')).to_be_visible()
        self.shot(f"{staff}-sees-unread")
        self.open_group()
        card = self.card("task_card")
        self.click_in_card(card, "agree")
        self.toast_says(f"已记录{unit}的意见")
        expect(card.locator("tr", has_text=unit)).to_contain_text("同意")
        self.shot(f"{staff}-agrees", top=card)

    def lead_confirms(self) -> None:
        """Every co-unit agreed: the lead confirms and the task goes to the approver."""
        self.be(self.world.lead_admin)
        self.open_group()
        card = self.card("task_card")
        self.click_in_card(card, "confirm")
        self.toast_says("已报送局长甲审批")
        expect(card.locator(".pill")).to_have_text("待审批")
        self.shot("lead-confirms", top=card)

    def approver_approves(self) -> None:
        """The approver finds the approval card in the 1:1 chat with the bot and approves it."""
        self.be(self.world.approver)
        self.open_bot_chat()
        card = self.card("task_approval")
        expect(card.locator(".card-head")).to_contain_text(TASK_NUMBER)
        self.click_in_card(card, "approve")
        self.toast_says("已批准")
        expect(card.locator(".pill")).to_have_text("已批准")
        expect(card.locator('button[data-action="approve"]')).to_have_count(0)
        self.shot("approver-approves")

    def lead_sees_the_approved_task(self) -> None:
        """Back in the group, the task card shows the approval to everyone."""
        self.be(self.world.lead_admin)
        self.open_group()
        card = self.card("task_card")
        expect(card.locator(".pill")).to_have_text("已批准")
        self.shot("group-after-approval", top=card)

    def lead_dispatches(self) -> None:
        """The draw card (一公开) arrived in the group after approval; the lead presses 一键分发."""
        self.be(self.world.lead_admin)
        self.open_group()
        card = self.card("draw_card")
        expect(card.locator(".pill")).to_have_text("待分发")
        self.click_in_card(card, "dispatch")
        self.toast_says("已分发")
        expect(card.locator(".pill")).to_have_text("已分发")
        self.shot("lead-dispatches", top=card)

    def inspector_accepts(self, staff: str) -> None:
        """The inspector finds the dispatch card in the 1:1 chat and accepts; the result card follows."""
        self.be(staff)
        self.open_bot_chat()
        card = self.page.locator('#msgs .card[data-template="dispatch_card"]').first
        expect(card.locator(".pill")).to_have_text("待确认")
        self.click_in_card(card, "accept")
        self.toast_says("已接受")
        expect(card.locator(".pill")).to_have_text("已接受")
        result = self.card("result_card")
        expect(result.locator(".pill")).to_have_text("填写中")
        self.shot(f"{staff}-accepts", top=result)

    def inspector_submits_one_failed_item(self) -> None:
        """On the result card: times, the person present, item 1 不合格 with the facts, code A; 提交."""
        page = self.page
        card = self.card("result_card")
        card.locator('[name="started_at"]').fill("2026-12-01T08:10")
        card.locator('[name="ended_at"]').fill("2026-12-01T08:50")
        card.locator('[name="present_name"]').fill("王老板")
        card.locator('[name="present_position"]').fill("店主")
        card.locator('[name="item_1"]').select_option("fail")
        card.locator('[name="item_1_note"]').fill("店外占用人行道摆放桌椅约6平方米")
        card.locator('fieldset[name="codes"] input[value="A"]').check()
        self.shot("inspector-fills-result", top=card.locator('[name="item_1"]'))
        self.click_in_card(card, "submit")
        self.toast_says("已提交第1版")
        expect(card.locator(".pill")).to_have_text("已提交（第1版）")
        expect(card.locator('button[data-action="edit"]')).to_be_visible()
        page.wait_for_timeout(50)
        self.shot("inspector-submits", top=card)

    def order_to_correct_arrives(self) -> None:
        """The worker renders the documents; the 责令限期改正通知书 arrives in the inspector's chat."""
        order = self.page.locator("#msgs .msg", has_text="责令限期改正通知书").last
        expect(order).to_be_visible(timeout=20_000)
        expect(self.page.locator("#msgs .msg", has_text="现场检查记录").last).to_be_visible()
        self.shot("order-to-correct-arrives", top=order)
