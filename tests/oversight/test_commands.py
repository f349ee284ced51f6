"""进度, 通报 and 看板 through the signed robot callback, with what was queued asserted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.services import Services
from handlers.oversight import links
from storage.models import AuditEvent, OutboxMessage
from storage.models.oversight import Bulletin
from tests.conftest import TEST_SECRET
from tests.helpers import GROUP, make_person, post_robot, robot_body
from tests.oversight.conftest import Loaded
from tests.oversight.test_event_log import leadership
from tests.oversight.world import bj


def say(client: Any, services: Services, text: str, staff: str, *, group: bool = True) -> None:
    response = post_robot(
        client, TEST_SECRET, robot_body(text, staff_id=staff, group=group), services.clock.now()
    )
    assert response.status_code == 200, response.data


def queued(services: Services) -> list[OutboxMessage]:
    with services.db.read() as session:
        found = list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())
        session.expunge_all()
        return found


def texts(services: Services) -> list[str]:
    return [
        m.payload["msgParam"].get("text") or m.payload["msgParam"].get("content", "")
        for m in queued(services)
        if "msgParam" in m.payload
    ]


def bulletins(services: Services) -> list[Bulletin]:
    with services.db.read() as session:
        found = list(session.execute(select(Bulletin).order_by(Bulletin.id)).scalars())
        session.expunge_all()
        return found


def test_progress_gives_my_unit_its_rank_figures_and_overdue_items(
    client: Any, services: Services, week49: Loaded
) -> None:
    services.clock.set(bj(12, 7, 10))
    say(client, services, "进度", "insp-A", group=False)
    (text,) = texts(services)
    assert text.startswith("#### 市容环境卫生监管处工作进度")
    assert "本年排名：第1名（共 3 个单位）" in text
    assert "整改 丽综执联查" in text and "复查已超期 1 天" in text  # X1, A's own
    assert "火车站站前" not in text  # B's overdue theme is B's business
    (row,) = bulletins(services)
    assert (row.kind, row.unit_id, row.destinations) == ("progress", week49.units["A"], ["users:insp-A"])
    image = next(m for m in queued(services) if m.kind == "oversight.image")
    assert image.payload["userIds"] == ["insp-A"] and image.payload["bulletin_id"] == row.id


def test_progress_for_someone_of_the_bureau_itself_shows_the_whole_bureau(
    client: Any, services: Services, week49: Loaded
) -> None:
    services.clock.set(bj(12, 7, 10))
    say(client, services, "进度", "leader", group=False)
    (text,) = texts(services)
    assert text.startswith("#### 「综合查一次」工作进度通报（即时）")
    assert "**二、单位排名（本年累计）**" in text


def test_a_leader_posts_the_bulletin_now_to_the_leadership_group(
    client: Any, services: Services, week49: Loaded
) -> None:
    cid = leadership(services)
    services.clock.set(bj(12, 7, 10))
    say(client, services, "通报", "leader")
    (row,) = bulletins(services)
    assert (row.kind, row.destinations) == ("manual", [f"group:{cid}"])
    assert row.period_start == bj(12, 7, 0)  # no bulletin yet: since Monday
    to_group = [m for m in queued(services) if m.payload.get("openConversationId") == cid]
    assert sorted(m.kind for m in to_group) == ["oversight.image", "robot.group"]
    assert texts(services)[-1] == "已将截至现在的工作进度通报发送到领导工作群（1 个）。"


def test_only_a_leader_may_post_a_bulletin(client: Any, services: Services, week49: Loaded) -> None:
    leadership(services)
    say(client, services, "通报", "insp-A")
    assert bulletins(services) == []
    assert "需要局领导权限" in texts(services)[-1]
    with services.db.read() as session:
        denied = session.execute(select(AuditEvent).where(AuditEvent.action == "access.denied")).scalar_one()
    assert denied.entity_id == "通报"


def test_the_dashboard_link_goes_to_the_private_chat_even_when_asked_in_a_group(
    client: Any, services: Services, week49: Loaded
) -> None:
    with services.db.write() as session:
        admin = make_person(
            session, "单位管理员甲", "admin-A", now=services.clock.now(), roles=("unit_admin",)
        )
        admin_id = admin.id
    say(client, services, "看板", "admin-A", group=True)
    link, note = queued(services)
    assert link.kind == "robot.oto" and link.payload["userIds"] == ["admin-A"]
    url = link.payload["msgParam"]["text"].split("](", 1)[1].split(")", 1)[0]
    assert url.startswith("http://127.0.0.1:8000/dashboard/login?t=")
    grant = links.verify(services.settings, url.split("t=", 1)[1], services.clock.now())
    assert grant.person_id == admin_id
    assert note.payload["openConversationId"] == GROUP and "单聊" in note.payload["msgParam"]["content"]


def test_an_inspector_gets_no_dashboard_link(client: Any, services: Services, week49: Loaded) -> None:
    say(client, services, "看板", "insp-A", group=False)
    (text,) = texts(services)
    assert "需要" in text and "/dashboard" not in text
