"""What the phone page does besides the plan's walk: markdown, form cards with the bot's field
errors, pictures, group messages that do not @ the bot, the integrator panel, a 375 px screen."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest

from cards import spec as card_spec

pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")

from playwright.sync_api import expect

from tests.browser.walk import Walk

pytestmark = pytest.mark.browser

# A 2x2 PNG (red, green / blue, white).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=="
)


def photo(width: int = 320, height: int = 200) -> bytes:
    """A plain PNG of a photo's proportions."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (214, 96, 48)).save(out, "PNG")
    return out.getvalue()


def test_help_reply_renders_as_markdown_and_a_picture_reaches_the_bot(page, office, shots):
    walk = Walk(page, office, shots, name="help")
    live = office["live"]
    walk.be(office["world"].lead_admin)
    walk.open_bot_chat()
    expect(page.locator("#at")).to_be_hidden()  # no @ in a 1:1 chat
    page.fill("#text", "帮助")
    page.click("#send")
    reply = page.locator('#msgs .msg[data-sender="bot"] .md').last
    expect(reply.locator("h6, h5, h4, h3").first).to_have_text("可用命令")
    expect(reply.locator("li code").first).to_be_visible()
    expect(reply).not_to_contain_text("**")
    walk.shot("help-markdown")

    page.set_input_files("#file", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    picture = page.locator("#msgs .msg.mine .bubble.pic img").last
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 2
    bodies = [c["body"] for c in live.ws("GET", "/callbacks")["callbacks"] if c["kind"] == "robot"]
    assert bodies[-1]["msgtype"] == "picture" and bodies[-1]["conversationType"] == "1"

    # A photo-sized picture is shown as a picture, not in the composer's 34 px round "＋" style.
    page.set_input_files("#file", files=[{"name": "现场2.png", "mimeType": "image/png", "buffer": photo()}])
    pictures = page.locator("#msgs .msg.mine .bubble.pic img")
    expect(pictures).to_have_count(2)
    shown = pictures.last
    page.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=shown.element_handle())
    box = shown.bounding_box()
    assert box is not None and box["width"] >= 200 and box["height"] >= 120, box


def test_markdown_is_rendered_safely(page, office):
    live = office["live"]
    text = (
        "### 标题\n**粗体** <img src=x onerror=alert(1)> [坏链接](javascript:alert(1)) "
        "[好链接](https://example.org/a?b=1&c=2) `<b>代码</b>`\n1. 一\n2. 二"
    )
    live.client.group_send(office["group"], "sampleMarkdown", {"title": "通报", "text": text})
    walk = Walk(page, office, None)
    walk.be(office["world"].co_a_admin)
    walk.open_group()
    md = page.locator('#msgs .msg[data-sender="bot"] .md').last
    expect(md.locator("h5")).to_have_text("标题")
    expect(md.locator("b")).to_have_text("粗体")
    expect(md).to_contain_text("<img src=x onerror=alert(1)>")
    expect(md.locator("img")).to_have_count(0)
    expect(md.locator("a")).to_have_count(1)
    link = md.locator("a")
    expect(link).to_have_attribute("href", "https://example.org/a?b=1&c=2")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(md.locator("code")).to_have_text("<b>代码</b>")
    expect(md.locator("ol li")).to_have_count(2)


def test_form_card_shows_the_bots_field_errors_then_creates_the_task(page, office, shots):
    walk = Walk(page, office, shots, name="form")
    walk.be(office["world"].lead_admin)
    walk.open_group()
    page.fill("#text", "发起检查")
    page.press("#text", "Enter")
    card = walk.card("task_create")
    form = card.locator("form")
    expect(form.locator('select[name="scenario"] option', has_text="人行道违规占用检查")).to_have_count(1)
    expect(form.locator('input[name="window_start"]')).not_to_have_value("")  # default_source

    form.locator('select[name="scenario"]').select_option(label="人行道违规占用检查")
    form.locator('select[name="source"]').select_option("plan")
    form.locator('select[name="method"]').select_option("on_site")
    form.locator('input[name="per_object"]').fill("1")
    walk.click_in_card(card, "create")
    expect(card.locator('[data-field="per_object"] .err')).to_be_visible()
    expect(card.locator('[data-field="count"] .err')).to_be_visible()
    walk.shot("form-card-errors", top=card)

    form.locator('input[name="count"]').fill("5")
    form.locator('input[name="per_object"]').fill("2")  # what was typed survives the re-render
    expect(form.locator('select[name="method"]')).to_have_value("on_site")
    walk.click_in_card(card, "create")
    expect(card.locator("form")).to_have_count(0)
    expect(card).to_contain_text("丽综执联查〔2026〕1号")
    expect(walk.card("task_card").locator(".pill")).to_have_text("磋商中")


def test_a_group_message_without_at_stays_in_the_group(page, office):
    walk = Walk(page, office, None)
    live = office["live"]
    walk.be(office["world"].co_a_admin)
    walk.open_group()
    before = len(live.ws("GET", "/callbacks")["callbacks"])
    page.click("#at")
    expect(page.locator("#at")).to_have_attribute("aria-pressed", "false")
    page.fill("#text", "下午三点碰头")
    page.press("#text", "Enter")
    mine = page.locator("#msgs .msg.mine .bubble.text").last
    expect(mine).to_have_text("下午三点碰头")
    assert len(live.ws("GET", "/callbacks")["callbacks"]) == before
    # a file cannot go to the bot in a group, as on DingTalk
    page.set_input_files("#file", files=[{"name": "a.txt", "mimeType": "text/plain", "buffer": b"x"}])
    expect(page.locator("#toast")).to_contain_text("单聊")


def test_integrator_panel_shows_callbacks_and_api_calls(page, office):
    walk = Walk(page, office, None)
    walk.be(office["world"].lead_admin)
    expect(page.locator("#dev-body")).to_be_hidden()  # collapsed by default
    walk.open_group()
    page.fill("#text", "帮助")
    page.press("#text", "Enter")
    expect(page.locator('#msgs .msg[data-sender="bot"]')).to_have_count(1)
    page.click("#back")
    page.click("#dev-open")
    expect(page.locator("#dev-list")).to_contain_text("/dingtalk/robot")
    page.click('.dev-tabs button[data-tab="calls"]')
    expect(page.locator("#dev-list")).to_contain_text("/v1.0/robot/groupMessages/send")
    entry = page.locator("#dev-list details", has_text="groupMessages/send").first
    entry.locator("summary").click()
    expect(entry.locator("pre")).to_contain_text('"msgKey": "sampleMarkdown"')
    expect(entry.locator("pre")).not_to_contain_text("test-app-secret")


def test_page_fits_a_375_px_phone(page, office):
    page.set_viewport_size({"width": 375, "height": 667})
    walk = Walk(page, office, None)
    walk.be(office["world"].lead_admin)
    walk.open_group()
    page.fill("#text", "发起检查 人行道 10家 2026-12-01至2026-12-05 实地核查")
    page.press("#text", "Enter")
    expect(walk.card("task_card").locator(".pill")).to_have_text("磋商中")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, width
    box = walk.card("task_card").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert re.fullmatch(r"\d\d:\d\d", page.locator("#msgs .stamp").first.inner_text())


def _sample_params(spec: dict[str, Any]) -> dict[str, str]:
    """Made-up values of the right shape for every variable a spec declares, read from how the
    layout uses it (fields source, table columns, options), and every bool true."""
    used: dict[str, Any] = {}
    for block in spec["layout"]:
        if block["type"] == "fields":
            used[block["source"]] = [{"label": "标签", "value": "取值"}]
        elif block["type"] == "table":
            used[block["source"]] = [{column["key"]: "单元格" for column in block["columns"]}]
        for field in block.get("fields", []):
            if field.get("options_source"):
                used[field["options_source"]] = [{"value": "a", "label": "选项甲"}]
    values: dict[str, Any] = {}
    for name, info in spec["variables"].items():
        kind = info["kind"]
        if name in used:
            values[name] = used[name]
        elif kind == "bool":
            values[name] = True
        elif kind == "image":
            values[name] = "data:image/png;base64," + base64.b64encode(PNG).decode()
        elif kind in ("list", "object"):
            values[name] = [] if kind == "list" else {}
        elif kind == "markdown":
            values[name] = f"**{name}** 示例"
        else:
            values[name] = f"{name}示例"
    return card_spec.render(spec["key"], **values)


def _expected_buttons(spec: dict[str, Any], params: dict[str, str]) -> list[str]:
    def shown(condition: str | None) -> bool:
        if not condition:
            return True
        value = card_spec.truthy(params.get(condition.lstrip("!")))
        return not value if condition.startswith("!") else value

    found = []
    for block in spec["layout"]:
        if not shown(block.get("visible_if")):
            continue
        if block["type"] == "form":
            found.append(block["submit"]["actionId"])
        for button in block.get("buttons", []):
            if shown(button.get("visible_if")):
                found.append(button["actionId"])
    return found


def test_every_card_template_renders_from_its_spec(page, office, shots):
    """Generic rendering: each spec in cards/templates (today's and tomorrow's) gets a card with
    sample values in a 1:1 chat; its header, images and every button it should show appear."""
    live = office["live"]
    staff = office["world"].lead_admin
    samples = {}
    for key in card_spec.keys():  # noqa: SIM118 (a module function, not a dict)
        spec = card_spec.load(key)
        params = _sample_params(spec)
        samples[key] = (spec, params)
        live.client.card_create_and_deliver(
            {
                "cardTemplateId": f"chayici.{key}.schema",
                "outTrackId": f"sample-{key}",
                "callbackType": "HTTP",
                "cardData": {"cardParamMap": params},
                "openSpaceId": f"dtv1.card//IM_ROBOT.{staff}",
                "imRobotOpenDeliverModel": {
                    "spaceType": "IM_ROBOT",
                    "robotCode": live.services.settings.robot_code,
                },
            }
        )
    walk = Walk(page, office, shots, name="template")
    walk.be(staff)
    walk.open_bot_chat()
    for key, (spec, params) in samples.items():
        card = page.locator(f'.card[data-otid="sample-{key}"]')
        expect(card.locator(".card-head")).to_be_visible()
        actions = card.locator("button[data-action]")
        expect(actions).to_have_count(len(_expected_buttons(spec, params)))
        assert actions.evaluate_all("els => els.map(e => e.dataset.action)") == _expected_buttons(
            spec, params
        )
        for image in card.locator("img").all():
            assert image.evaluate("img => img.complete && img.naturalWidth") == 2, key
        walk.shot(key, top=card)
