"""A real Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright) on the workspace page,
with the bot, the workspace and a background outbox worker running, so cards arrive by themselves.

Skipped with a reason where Chromium or the ``playwright`` package is missing. Playwright's own
browser downloads are never used: the executable is the system one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tasks.conftest import World, world  # noqa: F401  (the task directory: units, people)

CHROMIUM = os.environ.get("CHAYICI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--lang=zh-CN",  # date inputs and the like in Chinese, as a user here would see them
]
PHONE = {"width": 390, "height": 844}

# staffId -> the picker's second line (unit · role), as a newcomer would read it.
TITLES = {
    "lead-admin": "市容环境卫生监管处 · 单位管理员（牵头）",
    "co-a-admin": "市政公用监管处 · 单位管理员（协同）",
    "co-b-admin": "城市规划监管处 · 单位管理员（协同）",
    "leader": "丽水市综合行政执法局 · 局领导（审批人）",
    "insp-1": "市容环境卫生监管处 · 执法人员",
    "outsider": "市政公用监管处 · 执法人员",
    "insp-a1": "市政公用监管处 · 执法人员",
    "insp-a2": "市政公用监管处 · 执法人员",
    "insp-b1": "城市规划监管处 · 执法人员",
    "insp-b2": "城市规划监管处 · 执法人员",
}
NAMES = {
    "lead-admin": "牵头管理员",
    "co-a-admin": "协同甲管理员",
    "co-b-admin": "协同乙管理员",
    "leader": "局长甲",
    "insp-1": "检查员一",
    "outsider": "旁观者",
    "insp-a1": "周敏",
    "insp-a2": "吴军",
    "insp-b1": "孙磊",
    "insp-b2": "李娜",
}
# Inspectors of the co-units (staff, name, unit field of World, certificate, field tags) and the
# objects of the walk's draw: the task world has the lead unit's 检查员一 and no objects.
FIELD_INSPECTORS = [
    ("insp-a1", "co_a", "33110011", ["市容"]),
    ("insp-a2", "co_a", "33110012", ["市容"]),
    ("insp-b1", "co_b", "33110021", []),
    ("insp-b2", "co_b", "33110022", []),
]
FIELD_OBJECTS = ["丽水市鸿运餐饮店", "丽水市好邻居便利店", "莲都区老街小吃店"]
GROUP_TITLE = "人行道联合检查工作群"
# The bureau's leadership group (bulletins go to every conversation with purpose "leadership"):
# the bureau leader and the units' admins, as in the demo.
LEADERSHIP_TITLE = "局领导工作群"
LEADERSHIP_MEMBERS = ["leader", "lead-admin", "co-a-admin", "co-b-admin"]


def _playwright_or_skip() -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (install Debian's chromium package to run browser tests)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[test]')")
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _playwright_or_skip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def live(services: Any) -> Iterator[Any]:
    """The live pair with a generous workspace QPS (as in ``tests/draw/conftest.py``): the manual
    clock stands still between the walk's moves, so the workspace's one-second window never slides
    and 20 card calls in one "second" would block every later card of the walk."""
    from tests.live import Live

    running = Live(services, qps={"robot": 1000, "card": 1000, "oapi": 1000})
    yield running
    running.close()


@pytest.fixture
def page(browser: Any, live: Any) -> Iterator[Any]:
    """A phone-sized page. It depends on ``live`` so that it closes before the servers stop (a
    poll cut off by a stopping server would look like a page error)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    context.set_default_timeout(10_000)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    yield opened
    context.close()
    assert problems == [], problems


@pytest.fixture
def shots() -> Path | None:
    """Where to write a screenshot per step: ``CHAYICI_SCREENSHOT_DIR``, or nowhere when unset."""
    folder = os.environ.get("CHAYICI_SCREENSHOT_DIR")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def office(live: Any, world: World) -> Iterator[dict[str, Any]]:  # noqa: F811
    """The world's people in the workspace (with titles), their group, the leadership group, and a
    background worker."""
    live.ws(
        "POST",
        "/users",
        [{"staffId": staff, "name": NAMES[staff], "title": TITLES[staff]} for staff in TITLES],
    )
    _add_field_staff(live, world)
    group = live.group(GROUP_TITLE, [world.lead_admin, world.co_a_admin, world.co_b_admin], world.group)
    leadership = _add_leadership_group(live)
    stop = threading.Event()
    worker = threading.Thread(target=live.worker.run, args=(stop,), name="browser-outbox", daemon=True)
    worker.start()
    yield {"live": live, "world": world, "group": group, "leadership": leadership}
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the outbox worker did not stop"


def _add_leadership_group(live: Any) -> str:
    """The group in the workspace, and the bot's record of it with purpose "leadership"."""
    from storage.models import Conversation

    cid = live.group(LEADERSHIP_TITLE, LEADERSHIP_MEMBERS)
    with live.services.db.write() as session:
        session.add(Conversation(id=cid, kind="group", title=LEADERSHIP_TITLE, purpose="leadership"))
    return cid


def _add_field_staff(live: Any, world: World) -> None:  # noqa: F811
    """Certified inspectors in the co-units and a few objects, so that approval draws a task."""
    from datetime import date

    from storage.models import ROLE_INSPECTOR, InspectionObject, Inspector
    from storage.models.platform import Unit
    from tests.helpers import make_person

    services = live.services
    now = services.clock.now()
    with services.db.write() as session:
        for staff, unit_field, cert, tags in FIELD_INSPECTORS:
            unit = session.get(Unit, getattr(world, unit_field))
            person = make_person(session, NAMES[staff], staff, now=now, roles=(ROLE_INSPECTOR,), unit=unit)
            session.add(
                Inspector(
                    person_id=person.id,
                    unit_id=unit.id,
                    cert_no=cert,
                    cert_valid_from=date(2024, 1, 1),
                    cert_valid_to=date(2028, 12, 31),
                    fields=tags,
                    updated_at=now,
                )
            )
        for n, name in enumerate(FIELD_OBJECTS, start=1):
            session.add(
                InspectionObject(
                    name=name,
                    uscc=f"9133110200000001{n:02d}",
                    address=f"莲都区人民街{n}号",
                    legal_rep="负责人",
                    contact_phone="13900000000",
                    region_code="331102",
                    updated_at=now,
                )
            )
