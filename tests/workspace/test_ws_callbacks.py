"""Callbacks to the bot: signatures, §1.1 bodies, redelivery, media, card clicks (§1, §5.4)."""

from __future__ import annotations

import base64
import json
import re
import time

from tests.workspace.support import APP_KEY, APP_SECRET, messages
from workspace.signing import hmac_sign

PNG = b"\x89PNG\r\n\x1a\n fake photo bytes"


def test_callback_signature_matches_the_protocol_test_vector():
    assert (
        hmac_sign("1700000000000", "demoAppSecret_ABC123") == "ZM3V9p1rkeBRdH7LYJY3eXkAEwh3p0dpPUdWb/cfVYY="
    )


def test_group_message_is_signed_and_shaped_like_dingtalk(ws_client, ws_clock, fake_bot, people):
    response = ws_client.post(
        "/_ws/say", json={"staffId": "u-zhang", "conversationId": people["group"], "text": "上报 3号楼"}
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == 200
    [request] = fake_bot.requests
    headers = request["headers"]
    assert request["path"] == "/dingtalk/robot"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Timestamp"] == str(ws_clock.now_ms)
    assert headers["Sign"] == hmac_sign(headers["Timestamp"], APP_SECRET)
    body = request["json"]
    assert body["text"] == {"content": " 上报 3号楼"}
    assert body["conversationType"] == "2" and body["conversationTitle"] == "巡检一组"
    assert body["isInAtList"] is True
    assert body["atUsers"] == [{"dingtalkId": body["chatbotUserId"]}]
    assert body["chatbotUserId"].startswith("$:LWCP_v1:$") and body["senderId"].startswith("$:LWCP_v1:$")
    assert re.fullmatch(r"msg[A-Za-z0-9+/]{22}==", body["msgId"])
    assert isinstance(body["createAt"], int) and body["createAt"] == ws_clock.now_ms
    assert body["sessionWebhookExpiredTime"] == body["createAt"] + 5_400_000
    assert re.fullmatch(r"http://localhost/robot/sendBySession\?session=[0-9a-f]{32}", body["sessionWebhook"])
    assert (body["senderStaffId"], body["senderNick"], body["robotCode"]) == ("u-zhang", "张三", APP_KEY)
    assert body["senderCorpId"] == body["chatbotCorpId"] == "dingTESTcorp"
    assert body["msgtype"] == "text"
    [shown] = messages(ws_client, people["group"])
    assert shown["sender"] == "u-zhang" and shown["content"] == {"content": "上报 3号楼"}


def test_private_message_has_no_group_fields_and_no_leading_space(ws_client, fake_bot, people):
    ws_client.post("/_ws/say", json={"staffId": "u-wang", "private": True, "text": "帮助"})
    body = fake_bot.requests[0]["json"]
    assert body["text"] == {"content": "帮助"}
    assert body["conversationType"] == "1"
    assert body["conversationId"] == people["private"]["u-wang"] and body["conversationId"].startswith("cidp")
    for absent in ("conversationTitle", "atUsers", "isInAtList"):
        assert absent not in body


def test_a_non_member_cannot_speak_in_a_group(ws_client, fake_bot, people):
    response = ws_client.post(
        "/_ws/say", json={"staffId": "u-wang", "conversationId": people["group"], "text": "x"}
    )
    assert response.status_code == 403
    assert fake_bot.requests == []


def test_redelivery_sends_the_identical_body_with_a_fresh_signature(ws_client, ws_clock, fake_bot, people):
    first = ws_client.post("/_ws/say", json={"staffId": "u-li", "private": True, "text": "查询"}).get_json()
    ws_clock.advance(60_000)
    again = ws_client.post("/_ws/redeliver", json={"msgId": first["msgId"]})
    assert again.status_code == 200
    original, repeat = fake_bot.requests
    assert repeat["raw"] == original["raw"]
    assert (
        repeat["json"]["msgId"] == first["msgId"]
        and repeat["json"]["createAt"] == original["json"]["createAt"]
    )
    assert int(repeat["headers"]["Timestamp"]) == int(original["headers"]["Timestamp"]) + 60_000
    assert repeat["headers"]["Sign"] == hmac_sign(repeat["headers"]["Timestamp"], APP_SECRET)
    assert len(messages(ws_client, people["private"]["u-li"])) == 1


def test_scheduled_redelivery_arrives_in_the_background(ws_client, fake_bot, people):
    ws_client.post(
        "/_ws/say", json={"staffId": "u-li", "private": True, "text": "慢", "redeliver_after_ms": 50}
    )
    deadline = time.monotonic() + 3
    while len(fake_bot.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(fake_bot.requests) == 2
    assert fake_bot.requests[0]["raw"] == fake_bot.requests[1]["raw"]


def test_unreachable_bot_is_reported_not_raised(ws_config, fake_bot, people):
    from dataclasses import replace

    from workspace import create_app

    client = create_app(replace(ws_config, bot_base_url="http://127.0.0.1:9")).test_client()
    client.post("/_ws/users", json=[{"staffId": "u1", "name": "甲"}])
    response = client.post("/_ws/say", json={"staffId": "u1", "private": True, "text": "x"})
    assert response.status_code == 502
    assert response.get_json()["status"] is None and response.get_json()["error"]


def test_photo_is_delivered_with_a_download_code_the_bot_can_fetch(ws_client, fake_bot, token, people):
    ws_client.post(
        "/_ws/send_media",
        json={
            "staffId": "u-zhang",
            "conversationId": people["group"],
            "msgtype": "picture",
            "data_base64": base64.b64encode(PNG).decode(),
            "fileName": "site.png",
            "contentType": "image/png",
        },
    )
    body = fake_bot.requests[0]["json"]
    assert body["msgtype"] == "picture" and "text" not in body
    assert set(body["content"]) == {"downloadCode", "pictureDownloadCode"}
    link = ws_client.post(
        "/v1.0/robot/messageFiles/download",
        json={"robotCode": APP_KEY, "downloadCode": body["content"]["downloadCode"]},
        headers={"x-acs-dingtalk-access-token": token},
    ).get_json()["downloadUrl"]
    assert link.startswith("http://localhost/_files/")
    fetched = ws_client.get(link.removeprefix("http://localhost"))
    assert fetched.status_code == 200 and fetched.data == PNG and fetched.mimetype == "image/png"


def test_unknown_download_code_is_rejected(ws_client, token):
    response = ws_client.post(
        "/v1.0/robot/messageFiles/download",
        json={"robotCode": APP_KEY, "downloadCode": "nope"},
        headers={"x-acs-dingtalk-access-token": token},
    )
    assert response.status_code == 400 and response.get_json()["code"]


def test_file_and_rich_text_bodies(ws_client, fake_bot, people):
    data = base64.b64encode(b"%PDF-1.4").decode()
    ws_client.post(
        "/_ws/send_media",
        json={
            "staffId": "u-li",
            "private": True,
            "msgtype": "file",
            "data_base64": data,
            "fileName": "报告.pdf",
        },
    )
    ws_client.post(
        "/_ws/send_media",
        json={
            "staffId": "u-li",
            "conversationId": people["group"],
            "msgtype": "richText",
            "data_base64": data,
            "text": "通道堵塞",
        },
    )
    file_body, rich_body = (request["json"] for request in fake_bot.requests)
    assert set(file_body["content"]) == {"downloadCode", "fileName", "spaceId", "fileId"}
    assert file_body["content"]["fileName"] == "报告.pdf"
    items = rich_body["content"]["richText"]
    assert items[0] == {"text": "通道堵塞"}
    assert items[1]["type"] == "picture" and items[1]["downloadCode"]


def test_voice_in_a_group_is_refused_as_dingtalk_does(ws_client, fake_bot, people):
    response = ws_client.post(
        "/_ws/send_media",
        json={
            "staffId": "u-li",
            "conversationId": people["group"],
            "msgtype": "audio",
            "data_base64": "AAAA",
        },
    )
    assert response.status_code == 400
    assert fake_bot.requests == []


def _deliver_notice(ws_client, token, people):
    response = ws_client.post(
        "/v1.0/card/instances/createAndDeliver",
        json={
            "cardTemplateId": "chayici.notice.schema",
            "outTrackId": "n-1",
            "cardData": {"cardParamMap": {"title": "通知", "status": "待确认"}},
            "openSpaceId": f"dtv1.card//IM_GROUP.{people['group']}",
            "imGroupOpenDeliverModel": {"robotCode": APP_KEY},
        },
        headers={"x-acs-dingtalk-access-token": token},
    )
    assert response.status_code == 200


def _raw_card(ws_client, token, people):
    response = ws_client.post(
        "/v1.0/card/instances/createAndDeliver",
        json={
            "cardTemplateId": "tpl-raw.schema",
            "outTrackId": "r-1",
            "cardData": {"cardParamMap": {"title": "任务", "status": "待处理", "n": "1"}},
            "openSpaceId": f"dtv1.card//IM_GROUP.{people['group']}",
            "imGroupOpenDeliverModel": {"robotCode": APP_KEY},
        },
        headers={"x-acs-dingtalk-access-token": token},
    )
    assert response.status_code == 200


def test_card_click_posts_the_http_callback_with_content_equal_to_value(
    ws_client, ws_clock, fake_bot, token, people
):
    _raw_card(ws_client, token, people)
    response = ws_client.post(
        "/_ws/card_action",
        json={"staffId": "u-li", "outTrackId": "r-1", "actionId": "accept", "params": {"remark": "已清理"}},
    )
    assert response.status_code == 200
    [request] = fake_bot.requests
    assert request["path"] == "/dingtalk/card"
    assert request["headers"]["Sign"] == hmac_sign(str(ws_clock.now_ms), APP_SECRET)
    body = request["json"]
    assert {
        k: body[k]
        for k in ("outTrackId", "corpId", "userId", "userIdType", "type", "spaceType", "spaceId", "extension")
    } == {
        "outTrackId": "r-1",
        "corpId": "dingTESTcorp",
        "userId": "u-li",
        "userIdType": 1,
        "type": "actionCallback",
        "spaceType": "IM_GROUP",
        "spaceId": people["group"],
        "extension": "{}",
    }
    assert isinstance(body["content"], str) and body["content"] == body["value"]
    assert json.loads(body["content"]) == {
        "cardPrivateData": {"actionIds": ["accept"], "params": {"remark": "已清理", "action": "accept"}}
    }


def test_bot_answer_by_key_merges_public_params_and_stores_private_data(ws_client, fake_bot, token, people):
    _raw_card(ws_client, token, people)
    fake_bot.respond = lambda path, body: (
        200,
        {
            "cardUpdateOptions": {"updateCardDataByKey": True, "updatePrivateDataByKey": True},
            "cardData": {"cardParamMap": {"status": "已同意"}},
            "userPrivateData": {"cardParamMap": {"toast": "已提交"}},
        },
    )
    result = ws_client.post(
        "/_ws/card_action", json={"staffId": "u-li", "outTrackId": "r-1", "actionId": "accept"}
    ).get_json()
    assert result["applied"] is True
    assert result["card"]["params"] == {"title": "任务", "status": "已同意", "n": "1"}
    assert result["card"]["private"] == {"u-li": {"toast": "已提交"}}
    assert result["card"]["version"] == 2


def test_bot_answer_without_by_key_replaces_public_params(ws_client, fake_bot, token, people):
    _raw_card(ws_client, token, people)
    fake_bot.respond = lambda path, body: (200, {"cardData": {"cardParamMap": {"status": "已同意"}}})
    card = ws_client.post(
        "/_ws/card_action", json={"staffId": "u-li", "outTrackId": "r-1", "actionId": "a"}
    ).get_json()["card"]
    assert card["params"] == {"status": "已同意"}


def test_failed_or_empty_bot_answer_leaves_the_card_unchanged(ws_client, fake_bot, token, people):
    _raw_card(ws_client, token, people)
    fake_bot.respond = lambda path, body: (500, {"cardData": {"cardParamMap": {"status": "坏"}}})
    failed = ws_client.post(
        "/_ws/card_action", json={"staffId": "u-li", "outTrackId": "r-1", "actionId": "a"}
    ).get_json()
    assert failed["applied"] is False and failed["card"]["params"]["status"] == "待处理"
    fake_bot.respond = lambda path, body: (200, {})
    empty = ws_client.post(
        "/_ws/card_action", json={"staffId": "u-li", "outTrackId": "r-1", "actionId": "a"}
    ).get_json()
    assert empty["applied"] is False and empty["card"]["version"] == 1


def test_only_people_who_see_the_card_can_click_it(ws_client, fake_bot, token, people):
    _raw_card(ws_client, token, people)
    response = ws_client.post(
        "/_ws/card_action", json={"staffId": "u-wang", "outTrackId": "r-1", "actionId": "a"}
    )
    assert response.status_code == 403
    assert fake_bot.requests == []


def test_buttons_are_checked_against_the_template_spec(ws_client, fake_bot, token, people):
    _deliver_notice(ws_client, token, people)  # the notice template has no buttons
    response = ws_client.post(
        "/_ws/card_action", json={"staffId": "u-li", "outTrackId": "n-1", "actionId": "accept"}
    )
    assert response.status_code == 400
    assert fake_bot.requests == []


def test_a_message_returned_in_the_callback_body_is_shown_as_the_reply(ws_client, fake_bot, people):
    fake_bot.respond = lambda path, body: (200, {"msgtype": "text", "text": {"content": "收到"}})
    ws_client.post("/_ws/say", json={"staffId": "u-li", "private": True, "text": "hi"})
    shown = messages(ws_client, people["private"]["u-li"])
    assert [(m["sender"], m["content"].get("content")) for m in shown] == [("u-li", "hi"), ("bot", "收到")]


def test_session_webhook_reply_reaches_the_conversation_until_it_expires(
    ws_client, ws_clock, fake_bot, people
):
    ws_client.post("/_ws/say", json={"staffId": "u-zhang", "conversationId": people["group"], "text": "hi"})
    hook = fake_bot.requests[0]["json"]["sessionWebhook"].removeprefix("http://localhost")
    reply = {
        "msgtype": "markdown",
        "markdown": {"title": "回复", "text": "好的"},
        "at": {"atUserIds": ["u-zhang"]},
    }
    assert ws_client.post(hook, json=reply).get_json() == {"errcode": 0, "errmsg": "ok"}
    assert messages(ws_client, people["group"])[-1]["content"]["at"] == {"atUserIds": ["u-zhang"]}
    ws_clock.advance(5_400_000)
    assert ws_client.post(hook, json=reply).get_json() == {"errcode": 300001, "errmsg": "session 不存在"}
