"""Approve -> draw -> 一键分发 -> cards on the inspectors' phones, through the local workspace
(the bot and the workspace on loopback, real HTTP both ways)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from handlers.draw.codes import qr_png
from storage.models import (
    Assignment,
    AssignmentMember,
    AuditEvent,
    CardInstance,
    Document,
    DrawRecord,
    PreNotice,
)
from storage.models.tasks import Task
from tests.helpers import GROUP

STAFF = [
    ("lead-admin", "牵头管理员"), ("co-a-admin", "协同甲管理员"), ("co-b-admin", "协同乙管理员"),
    ("leader", "局长甲"), ("insp-l1", "陈立"), ("insp-l2", "王芳"), ("insp-l3", "赵强"), ("insp-a1", "周敏"),
    ("insp-a2", "吴军"), ("insp-a3", "郑洁"), ("insp-b1", "孙磊"), ("insp-b2", "李娜"),
]  # fmt: skip
LINE = "发起检查 餐饮门店 4家 2026-12-03至2026-12-04 实地核查"


def approve(live) -> None:
    live.users(*STAFF)
    live.group("联合检查工作群", [s for s, _ in STAFF], conversation_id=GROUP)
    live.say("lead-admin", LINE, group=GROUP)
    live.drain()
    live.click("co-a-admin", "task-1", "agree", version=1)
    live.click("co-b-admin", "task-1", "agree", version=1)
    live.click("lead-admin", "task-1", "confirm", version=1)
    live.drain()
    answer = live.click("leader", "task-1-approval-v1", "approve", version=1)
    assert answer["status"] == 200, answer
    live.drain()


def dispatch(live) -> list[AssignmentMember]:
    answer = live.click("lead-admin", "draw-1", "dispatch")
    assert (
        answer["status"] == 200 and "已分发" in answer["response"]["userPrivateData"]["cardParamMap"]["toast"]
    )
    live.drain()
    with live.services.db.read() as session:
        return list(session.execute(select(AssignmentMember).order_by(AssignmentMember.id)).scalars())


def toast(answer: dict) -> str:
    return answer["response"].get("userPrivateData", {}).get("cardParamMap", {}).get("toast", "")


def staff_of(member: AssignmentMember) -> str:
    return {
        1: "insp-l1",
        2: "insp-l2",
        3: "insp-l3",
        4: "insp-a1",
        5: "insp-a2",
        6: "insp-a3",
        7: "insp-b1",
        8: "insp-b2",
    }[member.inspector_id]


def progress(live) -> dict[str, str]:
    rows = json.loads(live.card("task-1")["params"]["progress"])
    return {row["label"]: row["value"] for row in rows}


def test_approval_draws_and_one_click_sends_every_team_member_a_private_card(live, services, draw_world):
    approve(live)
    draw_card = live.card("draw-1")
    assert draw_card["spaces"][0]["conversationId"] == GROUP
    fields = {f["label"]: f["value"] for f in json.loads(draw_card["params"]["fields"])}
    with services.db.read() as session:
        row = session.execute(select(DrawRecord)).scalar_one()
    assert fields["随机种子"] == row.seed and fields["快照哈希"] == row.pool_hash
    assert len(json.loads(draw_card["params"]["rows"])) == 4
    assert progress(live) == {"抽取结果": "已抽取 4 户，待牵头单位一键分发"}

    refused = live.click("co-a-admin", "draw-1", "dispatch")
    assert "牵头单位" in toast(refused)

    members = dispatch(live)
    assert len(members) == 12 and {m.state for m in members} == {"pending"}
    for member in members:
        card = live.card(f"dispatch-{member.assignment_id}-{member.inspector_id}")
        staff = staff_of(member)
        assert card["spaces"] == [
            {
                **card["spaces"][0],
                "spaceType": "IM_ROBOT",
                "spaceId": staff,
                "conversationId": live.private_cid(staff),
            }
        ]
        params = card["params"]
        assert params["status"] == "待确认" and params["can_answer"] == "true"
        assert (
            params["qr"]
            == f"{services.settings.public_base_url}/code/{params['code'].replace(' ', '')}/qr.png"
        )
        own_item = {1: "门前三包", 2: "燃气使用", 3: "没有单列"}[member.unit_id - 1]
        assert own_item in params["items"]
        assert len(json.loads(params["team"])) == 3
    with services.db.read() as session:
        task = session.execute(select(Task)).scalar_one()
        dispatch_audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "task.dispatch")
        ).scalar_one()
    assert task.state == "dispatched" and dispatch_audit.entity_id == str(task.id)
    assert progress(live) == {"已接受": "0/12", "无法参加": "0", "待确认": "12"}
    assert live.card("draw-1")["params"]["status"] == "已分发"


def test_accepting_twice_or_a_redelivered_click_accepts_once(live, services, draw_world):
    approve(live)
    member = dispatch(live)[0]
    card = f"dispatch-{member.assignment_id}-{member.inspector_id}"
    first = live.click(staff_of(member), card, "accept")
    redelivered = live.click(staff_of(member), card, "accept")  # same body within the dedupe window
    assert first["response"] == redelivered["response"]
    services.clock.advance(minutes=20)  # a second, later click on the same card
    later = live.click(staff_of(member), card, "accept")
    assert "无需重复" in toast(later)
    with services.db.read() as session:
        accepts = session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "dispatch.accept")
        ).scalar_one()
        state = session.get(AssignmentMember, member.id).state
    assert accepts == 1 and state == "accepted"
    assert live.card(card)["params"]["status"] == "已接受"
    live.drain()
    assert progress(live)["已接受"] == "1/12"


def test_an_acceptance_shows_in_the_team_table_of_every_card_of_the_team(live, services, draw_world):
    approve(live)
    members = dispatch(live)
    member = members[0]
    team = [m for m in members if m.assignment_id == member.assignment_id]
    others = [m for m in members if m.assignment_id != member.assignment_id]
    live.click(staff_of(member), f"dispatch-{member.assignment_id}-{member.inspector_id}", "accept")
    live.drain()

    def states(m: AssignmentMember) -> list[str]:
        return [
            row["state"]
            for row in json.loads(live.card(f"dispatch-{m.assignment_id}-{m.inspector_id}")["params"]["team"])
        ]

    for mate in team:  # the accepter's own card and the teammates' cards
        assert states(mate) == ["已接受", "待确认", "待确认"], mate
        assert live.card(f"dispatch-{mate.assignment_id}-{mate.inspector_id}")["params"]["status"] == (
            "已接受" if mate.id == member.id else "待确认"
        )
    assert all(states(m) == ["待确认"] * 3 for m in others)
    rows = json.loads(live.card("draw-1")["params"]["rows"])  # the group's 一公开 card too
    teams = {row["slot"]: row["team"] for row in rows}
    with services.db.read() as session:
        slot = session.get(Assignment, member.assignment_id).slot
    assert teams[str(slot)].count("（已接受）") == 1 and teams[str(slot)].count("（待确认）") == 2, teams
    assert all("已接受" not in team for key, team in teams.items() if key != str(slot))


def test_a_decline_draws_a_replacement_from_the_same_unit_who_gets_a_card_and_locks_the_decliners_card(
    live, services, draw_world
):
    approve(live)
    members = dispatch(live)
    decliner = next(m for m in members if m.unit_id == draw_world.lead)
    card = f"dispatch-{decliner.assignment_id}-{decliner.inspector_id}"
    missing = live.click(staff_of(decliner), card, "decline", reason="other")
    assert "写明原因" in toast(missing)
    answer = live.click(staff_of(decliner), card, "decline", reason="recusal", decline_note="与负责人系亲属")
    assert "回避" in toast(answer)
    live.drain()
    with services.db.read() as session:
        team = list(
            session.execute(
                select(AssignmentMember).where(AssignmentMember.assignment_id == decliner.assignment_id)
            ).scalars()
        )
        replacement = next(m for m in team if m.replaces_id == decliner.id)
        record = session.execute(select(DrawRecord).where(DrawRecord.kind == "replacement")).scalar_one()
        locked = session.get(CardInstance, card)
    assert replacement.unit_id == decliner.unit_id and replacement.inspector_id != decliner.inspector_id
    assert replacement.state == "pending" and record.assignment_id == decliner.assignment_id
    assert "无法参加" in record.reason
    new_card = live.card(f"dispatch-{replacement.assignment_id}-{replacement.inspector_id}")
    assert new_card["spaces"][0]["spaceId"] == staff_of(replacement)
    assert locked.state == "readonly" and live.card(card)["params"]["can_answer"] == "false"
    again = live.click(staff_of(decliner), card, "accept")
    assert "已失效" in toast(again) or "已处理完毕" in toast(again)
    assert progress(live) == {"已接受": "0/12", "无法参加": "1", "待确认": "12"}


def test_unanswered_cards_are_reminded_then_the_lead_is_told(live, services, draw_world):
    approve(live)
    members = dispatch(live)
    for member in members[1:]:
        live.click(staff_of(member), f"dispatch-{member.assignment_id}-{member.inspector_id}", "accept")
    services.clock.advance(hours=services.settings.dispatch_remind_hours, seconds=1)
    live.tick()
    live.drain()
    slow = staff_of(members[0])
    texts = [
        m["content"].get("content", "")
        for m in live.messages(live.private_cid(slow))
        if m["msgtype"] == "text"
    ]
    assert any("派单提醒" in t for t in texts)
    services.clock.advance(hours=services.settings.dispatch_escalate_hours)
    live.tick()
    live.drain()
    lead_texts = [m["content"].get("content", "") for m in live.messages(live.private_cid("lead-admin"))]
    name = dict(STAFF)[slow]
    assert [t for t in lead_texts if "派单未确认" in t and name in t]
    assert not [t for t in lead_texts if "派单未确认" in t and dict(STAFF)[staff_of(members[1])] in t]


def test_each_object_gets_a_numbered_notice_rendered_by_the_worker_sent_to_its_team_and_served(
    live, services, draw_world
):
    approve(live)
    dispatch(live)
    with services.db.read() as session:
        documents = list(session.execute(select(Document).order_by(Document.id)).scalars())
        notices = list(session.execute(select(PreNotice)).scalars())
    assert [d.number for d in documents] == [f"丽综执检通〔2026〕{n}号" for n in range(1, 5)]
    assert all(d.sha256 and d.size and d.state == "rendered" for d in documents)
    assert {n.state for n in notices} == {"served"} and all(n.channel and n.served_at for n in notices)
    uploads = [c for c in live.calls("/media/upload") if c["status"] == 200]
    files = [
        c
        for c in live.calls("/v1.0/robot/oToMessages/batchSend")
        if json.loads(c["json"]["msgParam"]).get("fileName")
    ]
    assert len(uploads) == 4 and len(files) == 4
    assert all(len(c["json"]["userIds"]) == 3 for c in files)


def _dispatched_code(live) -> str:
    """Approve, dispatch, and read the 行政行为码 off the first dispatch card."""
    approve(live)
    members = dispatch(live)
    card = live.card(f"dispatch-{members[0].assignment_id}-{members[0].inspector_id}")
    return card["params"]["code"].replace(" ", "")


def test_the_public_code_page_of_a_dispatched_object(live, services, draw_world):
    code = _dispatched_code(live)
    page = live.http.get(f"{live.bot.url}/code/{code}", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    for text in (
        "丽水市综合行政执法局",
        "门前三包责任落实检查",
        "《浙江省综合行政执法条例》第11条",
        "2026-12-03 至 2026-12-04",
    ):
        assert text in page.text
    assert "33110001" in page.text or "33110002" in page.text or "33110003" in page.text
    assert "13900000000" not in page.text and "0578" not in page.text and "对象0" not in page.text


def test_the_card_shows_the_qr_picture_of_the_code_page_address(live, services, draw_world):
    """The card carries the picture's address; the bot draws it on request, for known codes only."""
    code = _dispatched_code(live)
    picture = live.http.get(f"{live.bot.url}/code/{code}/qr.png", timeout=10)
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/png"
    assert "immutable" in picture.headers["Cache-Control"]
    assert picture.content == qr_png(f"{services.settings.public_base_url}/code/{code}")
    other = live.http.get(f"{live.bot.url}/code/{'A' * 24}/qr.png", timeout=10)
    assert other.status_code == 404 and not other.headers["Content-Type"].startswith("image/")
