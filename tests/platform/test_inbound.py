"""The inbound edge: signatures, body limits, parsing, dedupe, routing and refusals."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from storage.models.platform import AuditEvent, InboxEvent, OutboxMessage
from tests.conftest import TEST_SECRET
from tests.helpers import GROUP, make_person, post_robot, robot_body, signed_headers


def _count(services, model) -> int:
    with services.db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_signature_exactly_at_window_edge_is_accepted(client, services, clock):
    ts = clock.now() - timedelta(milliseconds=services.settings.sign_window_ms)
    response = client.post(
        "/dingtalk/robot",
        data=json.dumps(robot_body("帮助")).encode(),
        headers=signed_headers(TEST_SECRET, int(ts.timestamp() * 1000)),
    )
    assert response.status_code == 200


def test_signature_one_millisecond_beyond_window_is_rejected_and_nothing_stored(client, services, clock):
    ts = clock.now() - timedelta(milliseconds=services.settings.sign_window_ms + 1)
    response = client.post(
        "/dingtalk/robot",
        data=json.dumps(robot_body("帮助")).encode(),
        headers=signed_headers(TEST_SECRET, int(ts.timestamp() * 1000)),
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_signature"
    assert _count(services, InboxEvent) == 0
    assert _count(services, OutboxMessage) == 0


def test_future_timestamp_beyond_window_is_rejected(client, services, clock):
    ts = clock.now() + timedelta(milliseconds=services.settings.sign_window_ms + 1)
    response = client.post(
        "/dingtalk/robot",
        data=json.dumps(robot_body("帮助")).encode(),
        headers=signed_headers(TEST_SECRET, int(ts.timestamp() * 1000)),
    )
    assert response.status_code == 401


def test_wrong_secret_is_rejected(client, clock):
    response = client.post(
        "/dingtalk/robot",
        data=json.dumps(robot_body("帮助")).encode(),
        headers=signed_headers("another-secret", int(clock.now().timestamp() * 1000)),
    )
    assert response.status_code == 401


def test_missing_sign_header_is_rejected(client, services, clock):
    headers = signed_headers(TEST_SECRET, int(clock.now().timestamp() * 1000))
    del headers["sign"]
    response = client.post("/dingtalk/robot", data=json.dumps(robot_body("帮助")).encode(), headers=headers)
    assert response.status_code == 401
    assert "缺少" in response.json["error"]["message"]
    assert _count(services, InboxEvent) == 0


def test_tampered_timestamp_with_old_sign_is_rejected(client, clock):
    headers = signed_headers(TEST_SECRET, int(clock.now().timestamp() * 1000))
    headers["timestamp"] = str(int(headers["timestamp"]) + 1)
    response = client.post("/dingtalk/robot", data=json.dumps(robot_body("帮助")).encode(), headers=headers)
    assert response.status_code == 401


def test_documented_test_vector_signs_as_dingtalk_does():
    from bot.signature import robot_sign

    assert (
        robot_sign("1700000000000", "demoAppSecret_ABC123") == "ZM3V9p1rkeBRdH7LYJY3eXkAEwh3p0dpPUdWb/cfVYY="
    )


def test_body_one_byte_over_64_kib_gets_413(client, services, clock):
    raw = b"{" + b" " * (64 * 1024 - 1) + b"}"
    assert len(raw) == 64 * 1024 + 1
    response = post_robot(client, TEST_SECRET, raw, clock.now())
    assert response.status_code == 413
    assert _count(services, InboxEvent) == 0


def test_chunked_body_over_limit_gets_413(app, services, clock):
    import requests

    from tests.conftest import LiveServer

    def chunks():
        for _ in range(70):
            yield b" " * 1024

    server = LiveServer(app).start()
    try:
        headers = signed_headers(TEST_SECRET, int(clock.now().timestamp() * 1000))
        response = requests.post(f"{server.url}/dingtalk/robot", data=chunks(), headers=headers, timeout=10)
    finally:
        server.stop()
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 413
    assert _count(services, InboxEvent) == 0


def test_ten_thousand_deep_json_gets_400_not_500(client, services, clock):
    raw = b"[" * 10_000 + b"]" * 10_000
    response = post_robot(client, TEST_SECRET, raw, clock.now())
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_body"
    assert _count(services, InboxEvent) == 0


def test_malformed_json_gets_400_with_clear_message(client, clock):
    response = post_robot(client, TEST_SECRET, b'{"msgtype": "text", ', clock.now())
    assert response.status_code == 400
    assert "JSON" in response.json["error"]["message"]


def test_picture_without_download_code_gets_400(client, clock):
    body = robot_body("x")
    body.update({"msgtype": "picture", "content": {"pictureDownloadCode": "p"}})
    response = post_robot(client, TEST_SECRET, body, clock.now())
    assert response.status_code == 400


def test_redelivered_msg_id_runs_the_handler_once_and_replays_the_answer(client, services, clock):
    body = robot_body("帮助", msg_id="msgSAMEONE==")
    first = post_robot(client, TEST_SECRET, body, clock.now())
    clock.advance(seconds=60)
    second = post_robot(client, TEST_SECRET, body, clock.now())
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert _count(services, InboxEvent) == 1
    assert _count(services, OutboxMessage) == 1


def test_help_in_group_queues_one_group_message(client, services, clock):
    response = post_robot(client, TEST_SECRET, robot_body("帮助"), clock.now())
    assert response.status_code == 200
    with services.db.read() as session:
        rows = session.execute(select(OutboxMessage)).scalars().all()
    assert [row.kind for row in rows] == ["robot.group"]
    assert rows[0].payload["msgKey"] == "sampleMarkdown"
    assert "帮助" in rows[0].payload["msgParam"]["text"]


def test_help_in_private_chat_queues_a_one_to_one_message(client, services, clock):
    post_robot(client, TEST_SECRET, robot_body("帮助", group=False, staff_id="u-77"), clock.now())
    with services.db.read() as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
    assert row.kind == "robot.oto"
    assert row.payload["userIds"] == ["u-77"]


def test_unknown_command_gets_a_hint_pointing_to_help(client, services, clock):
    post_robot(client, TEST_SECRET, robot_body("随便说点什么"), clock.now())
    with services.db.read() as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
    assert "帮助" in row.payload["msgParam"]["content"]


def test_command_needing_a_role_is_refused_for_a_stranger_and_audited(app, services, clock):
    from bot.context import CommandContext

    calls: list[str] = []

    @services.router.command("测试管理", summary="only for admins", roles=("unit_admin",))
    def _admin_only(ctx: CommandContext) -> None:
        calls.append("ran")

    client = app.test_client()
    post_robot(client, TEST_SECRET, robot_body("测试管理", staff_id="stranger"), clock.now())
    assert calls == []
    with services.db.read() as session:
        audit = session.execute(select(AuditEvent)).scalar_one()
        reply = session.execute(select(OutboxMessage)).scalar_one()
    assert audit.action == "access.denied"
    assert audit.actor == "staff:stranger"
    assert "登记" in reply.payload["msgParam"]["content"]


def test_bound_person_without_the_role_is_refused_politely(app, services, clock):
    from bot.context import CommandContext

    @services.router.command("测试领导", summary="leaders only", roles=("leader",))
    def _leader_only(ctx: CommandContext) -> None:
        raise AssertionError("must not run")

    with services.db.write() as session:
        make_person(session, "王五", "staff-5", now=clock.now(), roles=("inspector",))
    post_robot(app.test_client(), TEST_SECRET, robot_body("测试领导", staff_id="staff-5"), clock.now())
    with services.db.read() as session:
        reply = session.execute(select(OutboxMessage)).scalar_one()
        audit = session.execute(select(AuditEvent)).scalar_one()
    assert "局领导" in reply.payload["msgParam"]["content"]
    assert audit.action == "access.denied"


def test_user_error_rolls_back_handler_writes_and_replies_with_the_reason(app, services, clock):
    from bot.context import CommandContext, UserError

    @services.router.command("测试出错", summary="fails", public=True)
    def _fails(ctx: CommandContext) -> None:
        ctx.audit("test.write", "thing", 1)
        ctx.reply("不应发出")
        raise UserError("日期格式不对，请写成 2026-12-01。")

    post_robot(app.test_client(), TEST_SECRET, robot_body("测试出错"), clock.now())
    with services.db.read() as session:
        replies = session.execute(select(OutboxMessage)).scalars().all()
        audits = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert [r.payload["msgParam"]["content"] for r in replies] == ["日期格式不对，请写成 2026-12-01。"]
    assert audits == 0


def test_handler_crash_stores_nothing_so_a_redelivery_can_succeed(app, services, clock):
    from bot.context import CommandContext

    attempts: list[int] = []

    @services.router.command("测试崩溃", summary="crashes once", public=True)
    def _crash(ctx: CommandContext) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("boom")
        ctx.reply("好了")

    app.testing = False
    client = app.test_client()
    body = robot_body("测试崩溃", msg_id="msgCRASH==")
    assert post_robot(client, TEST_SECRET, body, clock.now()).status_code == 500
    assert _count(services, InboxEvent) == 0
    assert post_robot(client, TEST_SECRET, body, clock.now()).status_code == 200
    assert _count(services, OutboxMessage) == 1


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


def test_metrics_endpoint_exposes_inbound_counters(client, clock):
    post_robot(client, TEST_SECRET, robot_body("帮助"), clock.now())
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"chayici_inbound_requests_total" in response.data


def test_redelivery_does_not_run_a_side_effecting_handler_again(app, services, clock):
    from bot.context import CommandContext

    runs: list[str] = []

    @services.router.command("测试计数", summary="counts", public=True)
    def _count_runs(ctx: CommandContext) -> None:
        runs.append(ctx.event_key)
        ctx.audit("test.counted", "thing", len(runs))

    client = app.test_client()
    body = robot_body("测试计数", msg_id="msgCOUNT==")
    for _ in range(3):
        assert post_robot(client, TEST_SECRET, body, clock.now()).status_code == 200
    assert runs == ["robot:msgCOUNT=="]
    assert _count(services, AuditEvent) == 1


def _conversation(services, conversation_id: str):
    from storage.models.platform import Conversation

    with services.db.read() as session:
        return session.get(Conversation, conversation_id)


def test_a_group_renamed_between_messages_gets_its_new_title_while_unchanged_ones_are_not_rewritten(
    client, services, clock
):
    assert post_robot(client, TEST_SECRET, robot_body("帮助"), clock.now()).status_code == 200
    first = _conversation(services, GROUP)
    assert first is not None and first.title == "联合检查工作群"
    seen_at = first.last_seen_at

    clock.advance(minutes=1)  # same title within the memo's ten minutes: the row is not rewritten
    post_robot(client, TEST_SECRET, robot_body("帮助"), clock.now())
    assert _conversation(services, first.id).last_seen_at == seen_at

    clock.advance(minutes=1)  # renamed: written at once
    post_robot(client, TEST_SECRET, robot_body("帮助", conversationTitle="人行道专项检查群"), clock.now())
    renamed = _conversation(services, first.id)
    assert renamed.title == "人行道专项检查群" and renamed.last_seen_at > seen_at

    clock.advance(minutes=11)  # past the memo: last_seen_at moves on
    post_robot(client, TEST_SECRET, robot_body("帮助", conversationTitle="人行道专项检查群"), clock.now())
    assert _conversation(services, first.id).last_seen_at > renamed.last_seen_at


def test_a_conversation_whose_first_message_failed_is_recorded_by_the_next(app, services, clock):
    from bot.context import CommandContext

    @services.router.command("测试崩溃二", summary="crashes", public=True)
    def _crash(ctx: CommandContext) -> None:
        raise RuntimeError("boom")

    app.testing = False
    client = app.test_client()
    body = robot_body("测试崩溃二", conversation_id="cidNEWGROUP==")
    assert post_robot(client, TEST_SECRET, body, clock.now()).status_code == 500
    assert _conversation(services, "cidNEWGROUP==") is None
    again = robot_body("帮助", conversation_id="cidNEWGROUP==")
    assert post_robot(client, TEST_SECRET, again, clock.now()).status_code == 200
    assert _conversation(services, "cidNEWGROUP==") is not None


def test_a_user_error_after_a_redelivery_was_answered_replays_that_answer(app, services, clock):
    """The failed command's transaction is rolled back and the answer goes in a new one; the event
    key still guards it: the same message delivered again gets the stored answer, one reply."""
    from bot.context import CommandContext, UserError

    @services.router.command("测试出错二", summary="fails", public=True)
    def _fails(ctx: CommandContext) -> None:
        raise UserError("请写明检查对象。")

    client = app.test_client()
    body = robot_body("测试出错二", msg_id="msgFAILTWICE==")
    assert post_robot(client, TEST_SECRET, body, clock.now()).status_code == 200
    assert post_robot(client, TEST_SECRET, body, clock.now()).status_code == 200
    with services.db.read() as session:
        replies = session.execute(select(OutboxMessage)).scalars().all()
    assert [r.payload["msgParam"]["content"] for r in replies] == ["请写明检查对象。"]
    assert _count(services, InboxEvent) == 1


def test_a_copy_that_raced_past_the_check_has_its_writes_undone_and_gets_the_first_answer(
    app, services, clock, monkeypatch
):
    """``inbox.seen`` is a first look; the event row's unique key has the last word. A copy that
    got past the look (as a racing copy on PostgreSQL can) runs, finds the row, and is undone."""
    from bot.context import CommandContext
    from storage import inbox

    @services.router.command("测试写入", summary="writes", public=True)
    def _writes(ctx: CommandContext) -> None:
        ctx.audit("test.written", "thing", 1)
        ctx.reply("已写入")

    client = app.test_client()
    body = robot_body("测试写入", msg_id="msgRACE==")
    assert post_robot(client, TEST_SECRET, body, clock.now()).status_code == 200
    monkeypatch.setattr(inbox, "seen", lambda *args, **kwargs: False)
    again = post_robot(client, TEST_SECRET, body, clock.now())
    assert again.status_code == 200 and again.json == {}
    assert _count(services, AuditEvent) == 1
    assert _count(services, InboxEvent) == 1
    assert _count(services, OutboxMessage) == 1


def test_a_reply_only_handler_records_its_event_and_reply_together_and_a_copy_adds_nothing(
    client, services, clock
):
    """帮助 touches no data: on PostgreSQL its event and reply go as one statement."""
    body = robot_body("帮助", msg_id="msgONE==")
    for _ in range(2):
        assert post_robot(client, TEST_SECRET, body, clock.now()).status_code == 200
    with services.db.read() as session:
        events = session.execute(select(InboxEvent)).scalars().all()
        rows = session.execute(select(OutboxMessage)).scalars().all()
    assert [(e.event_key, e.received_at) for e in events] == [("robot:msgONE==", clock.now())]
    assert len(rows) == 1 and rows[0].dedupe_key.startswith("robot:msgONE==:reply:")
    assert rows[0].state == "pending" and rows[0].payload["msgKey"] == "sampleMarkdown"
