"""The plan walked on the workspace's phone page, one method per step.

Each step acts as one person through the page only (the identity picker, the conversation list,
the composer, the card's own buttons) and waits for what that person would see next; the public
pages are opened as anyone would open them. The one thing no person does is time passing: the
test's manual clock moves on and the ticker runs (``time_passes``, ``days_pass_until_the_recheck``).
Steps the bot cannot do yet are not faked: add steps here as capabilities land and call them from
``test_walk.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import NAMES

TASK_LINE = "发起检查 人行道 2家 2026-12-01至2026-12-05 实地核查"
TASK_NUMBER = "丽综执联查〔2026〕1号"
INSPECTOR = "insp-1"  # the lead unit's inspector, on every team of the walk's draw
BEIJING = ZoneInfo("Asia/Shanghai")
STAFF_BY_NAME = {name: staff for staff, name in NAMES.items()}


class Walk:
    def __init__(self, page: Page, office: dict[str, Any], shots: Path | None, name: str = "walk") -> None:
        self.page = page
        self.name = name  # screenshot file prefix
        self.live = office["live"]
        self.world = office["world"]
        self.group: str = office["group"]
        self.leadership: str = office["leadership"]
        self.shots = shots
        self.taken: list[Path] = []
        self.me = ""
        # What the inspector read on the dispatch card they accepted (the team's slot).
        self.object_name = ""
        self.code = ""  # 行政行为码, as shown to the party on site
        self.team: list[str] = []  # staff ids of the slot's team, in the card's order
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
        self.me = staff

    def in_bot_chat_as(self, staff: str) -> None:
        """The person's 1:1 chat with the bot (switching only when someone else is on the phone)."""
        if self.me != staff:
            self.be(staff)
        self.open_bot_chat()

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

    @staticmethod
    def field(card: Locator, label: str) -> str:
        """The value of one of a card's fields (its ``dl.fields`` row labelled ``label``)."""
        return (
            card.locator("dl.fields dt", has_text=label)
            .locator("xpath=following-sibling::dd[1]")
            .inner_text()
        )

    def say(self, text: str) -> Locator:
        """Type into the open conversation and send; returns the sent bubble."""
        self.page.fill("#text", text)
        self.page.press("#text", "Enter")
        mine = self.page.locator("#msgs .msg.mine .bubble").last
        expect(mine).to_contain_text(text)
        return mine

    def bot_says(self, text: str | re.Pattern[str]) -> Locator:
        """The bot's newest message in the open conversation that contains ``text``."""
        said = self.page.locator('#msgs .msg[data-sender="bot"]', has_text=text).last
        expect(said).to_be_visible()
        return said

    def time_passes(self, **delta: float) -> None:
        """The test's manual clock moves on (standing for time passing) and the ticker runs once."""
        self.live.services.clock.advance(**delta)
        self.live.tick()

    @contextmanager
    def unrecorded(self) -> Iterator[None]:
        """Steps walked again only to reach a later part of the plan: no screenshots."""
        shots, self.shots = self.shots, None
        try:
            yield
        finally:
            self.shots = shots

    def shot(self, name: str, top: Locator | None = None, middle: Locator | None = None) -> None:
        """Screenshot of the phone (the viewport); ``top`` is scrolled to the top of the chat first,
        so a long card shows its header; ``middle`` (a part of a card, e.g. a form field) to the
        middle of the screen."""
        if self.shots is None:
            return
        if top is not None:  # after the page's own scroll-to-newest (next animation frame)
            top.evaluate(
                "el => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {"
                " (el.closest('.msg') || el).scrollIntoView({block: 'start'}); done(); })))"
            )
        if middle is not None:
            middle.evaluate(
                "el => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {"
                " el.scrollIntoView({block: 'center'}); done(); })))"
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

    def inspector_accepts(self, staff: str = INSPECTOR) -> None:
        """The inspector finds the dispatch card in the 1:1 chat, reads the object, the team and the
        行政行为码 on it, and accepts; the result card follows."""
        self.in_bot_chat_as(staff)
        card = self.page.locator('#msgs .card[data-template="dispatch_card"]').first
        expect(card.locator(".pill")).to_have_text("待确认")
        self.object_name = self.field(card, "检查对象")
        self.team = [
            STAFF_BY_NAME[name] for name in card.locator("tbody tr td:first-child").all_inner_texts()
        ]
        code = card.locator(".md", has_text="行政行为码：").inner_text()
        self.code = re.sub(r"\s", "", code.split("：", 1)[1])
        qr = card.locator('img[alt="行政行为码"]')  # fetched from the bot by its address
        self.page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=qr.element_handle())
        self.click_in_card(card, "accept")
        self.toast_says("已接受")
        expect(card.locator(".pill")).to_have_text("已接受")
        result = self.card("result_card")
        expect(result.locator(".pill")).to_have_text("填写中")
        self.shot(f"{staff}-accepts", top=result)

    def teammate_accepts(self) -> str:
        """A teammate of another unit (the first other name on the card's team) finds their dispatch
        card for the same object and accepts too: the record and, later, the re-check need two
        inspectors. Returns the teammate's staff id."""
        mate = next(staff for staff in self.team if staff != INSPECTOR)
        self.in_bot_chat_as(mate)
        card = self.page.locator(
            '#msgs .card[data-template="dispatch_card"]', has_text=self.object_name
        ).first
        expect(card.locator(".pill")).to_have_text("待确认")
        expect(card.locator("tbody tr", has_text=NAMES[INSPECTOR])).to_contain_text("已接受")
        self.click_in_card(card, "accept")
        self.toast_says("已接受")
        expect(card.locator(".pill")).to_have_text("已接受")
        expect(self.card("result_card").locator(".pill")).to_have_text("填写中")
        self.shot(f"{mate}-accepts", top=card)
        return mate

    def inspector_submits_one_failed_item(self, staff: str = INSPECTOR) -> None:
        """On the result card: times, the person present, item 1 不合格 with the facts, code A; 提交."""
        page = self.page
        self.in_bot_chat_as(staff)
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

    def inspector_serves_the_order(self, staff: str = INSPECTOR) -> None:
        """Once the order's PDF exists the 整改 card arrives in the inspector's chat; the order was
        handed over on site, so the inspector records 当场送达 (BR-21) at the default time."""
        self.in_bot_chat_as(staff)
        card = self.page.locator('#msgs .card[data-otid^="rect-"]').last
        expect(card.locator(".pill")).to_have_text("已责令改正（待送达）")
        expect(card.locator(".card-head")).to_contain_text(self.object_name)
        card.locator('[name="method"]').select_option("on_site")
        self.click_in_card(card, "serve")
        self.toast_says("已登记当场送达")
        expect(card.locator(".pill")).to_have_text("已送达，整改中")
        assert self.field(card, "送达").startswith("当场送达")
        self.shot("inspector-serves-order", top=card)

    def lead_reviews_the_record(self) -> None:
        """The review card waits in the lead-unit admin's 1:1 chat; the admin presses 审核通过."""
        self.in_bot_chat_as(self.world.lead_admin)
        card = self.card("result_review")
        expect(card.locator(".card-head")).to_contain_text(self.object_name)
        expect(card.locator(".pill")).to_have_text("待审核（第1版）")
        self.click_in_card(card, "approve")
        self.toast_says("已审核通过第1版")
        expect(card.locator(".pill")).to_have_text("已审核通过")
        expect(card.locator('button[data-action="approve"]')).to_have_count(0)
        self.shot("lead-reviews", top=card)

    def days_pass_until_the_recheck(self, staff: str = INSPECTOR) -> None:
        """The inspector's 整改 card shows the deadline. Days pass: each morning at 09:00 (Beijing)
        the test's clock moves on and the ticker runs once (reminders, bulletins, the re-check due
        item), until the 复查 card arrives in the inspector's chat on the first working day after
        the deadline day."""
        self.in_bot_chat_as(staff)
        order_card = self.page.locator('#msgs .card[data-otid^="rect-"]').last
        deadline = date.fromisoformat(self.field(order_card, "整改期限"))
        clock = self.live.services.clock
        day = clock.now().astimezone(BEIJING).date()
        recheck = self.page.locator('#msgs .card[data-otid^="reinspect-"]')
        while True:
            day += timedelta(days=1)
            assert day <= deadline + timedelta(days=10), "no 复查 card within ten days of the deadline"
            clock.set(datetime.combine(day, time(9, 0), BEIJING))
            self.live.tick()
            if day <= deadline or day.weekday() >= 5:
                continue
            try:
                expect(recheck).to_have_count(1, timeout=5_000)
                break
            except AssertionError:  # a holiday: the due item waits for the next working day
                continue
        card = recheck.last
        expect(card.locator(".pill")).to_have_text("期限已到，待复查")
        self.shot("recheck-card-arrives", top=card)

    def inspector_rechecks_corrected(self, staff: str = INSPECTOR, mate: str = "") -> None:
        """On the 复查 card the inspector keeps the two team members ticked (BR-23), chooses 已整改,
        writes what was found and submits; the rectification closes."""
        self.in_bot_chat_as(staff)
        card = self.page.locator('#msgs .card[data-otid^="reinspect-"]').last
        team = card.locator('fieldset[name="inspectors"]')
        for person in (staff, mate):
            expect(team.locator("label", has_text=NAMES[person]).locator("input")).to_be_checked()
        card.locator('[name="outcome"]').select_option("corrected")
        card.locator('[name="facts"]').fill("复查时店外人行道已清理，桌椅已收回店内，通行正常。")
        self.shot("inspector-fills-recheck", middle=team)
        self.time_passes(hours=1)  # back from the site
        self.click_in_card(card, "recheck")
        self.toast_says("已整改，本项整改办结")
        expect(card.locator(".pill")).to_have_text("已办结")
        expect(card.locator('button[data-action="recheck"]')).to_have_count(0)
        self.shot("inspector-rechecks", top=card)

    def lead_publishes(self) -> None:
        """In the afternoon the lead-unit admin types 公示 with the task number in the group; the bot
        confirms one published result."""
        self.time_passes(hours=4)
        self.be(self.world.lead_admin)
        self.open_group()
        self.say(f"公示 {TASK_NUMBER}")
        said = self.bot_says(f"已登记 {TASK_NUMBER} 的 1 条检查结果公示")
        self.shot("lead-publishes", top=said)

    def leader_sends_the_bulletin(self) -> None:
        """Later that day a bureau leader types 通报 in the leadership group; the bulletin (markdown,
        counting the closed rectification and the publication) and its chart (a picture the bot
        uploaded, shown at a readable size) appear there."""
        self.time_passes(hours=4)
        self.be(self.world.approver)
        self.open_conversation(f'.conv[data-cid="{self.leadership}"]')
        self.say("通报")
        bulletin = self.bot_says("工作进度通报（即时）")
        expect(bulletin.locator(".md h1, .md h2, .md h3, .md h4, .md h5, .md h6").first).to_be_visible()
        expect(bulletin).to_contain_text("单位排名")
        expect(bulletin).to_contain_text(re.compile(r"办结 1 件"))
        expect(bulletin).to_contain_text(re.compile(r"公示 1 条"))
        chart = self.page.locator('#msgs .msg[data-sender="bot"]').last.locator(".bubble.pic img")
        expect(chart).to_be_visible(timeout=15_000)
        self.page.wait_for_function(
            "img => img.complete && img.naturalWidth > 300", arg=chart.element_handle()
        )
        box = chart.bounding_box()
        assert box is not None and box["width"] >= 200, box
        self.shot("leader-sends-bulletin", top=bulletin)
        self.shot("bulletin-chart", middle=chart)

    def the_public_sees_the_result(self) -> None:
        """Anyone opens the 行政行为码 page (the code the inspector showed on site) and the public
        results list: both show the published result, E (corrected after the order)."""
        page = self.page
        bot = self.live.bot.url
        page.goto(f"{bot}/code/{self.code}")
        expect(page.locator("h1")).to_have_text("行政检查信息")
        expect(page.locator("section", has_text="检查结果")).to_contain_text("E 发现问题经责令已改正")
        self.shot("code-page-shows-result", middle=page.locator("section", has_text="检查结果"))
        page.goto(f"{bot}/public/results?q={self.object_name}")
        row = page.locator(".item", has_text=self.object_name)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(TASK_NUMBER)
        expect(row.locator(".code")).to_have_text("E")
        expect(row).to_contain_text("发现问题经责令已改正")
        self.shot("public-results")
