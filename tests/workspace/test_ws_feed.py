"""The workspace's read side for the phone page: one person's feed, template specs, stored bytes,
titles for the identity picker, and group messages that do not @ the bot."""

from __future__ import annotations

import base64
import io

from cards import spec as card_spec
from tests.workspace.support import APP_KEY
from tests.workspace.test_ws_cards import create_and_deliver, update


def test_users_list_carries_the_title_for_the_picker(ws_client):
    ws_client.post(
        "/_ws/users",
        json=[{"staffId": "a1", "name": "牵头管理员", "title": "市容环境卫生监管处 · 单位管理员"}],
    )
    [user] = ws_client.get("/_ws/users").get_json()["users"]
    assert user["title"] == "市容环境卫生监管处 · 单位管理员"
    assert user["conversationId"].startswith("cidp")
    assert ws_client.post("/_ws/users", json=[{"staffId": "a2", "name": "x", "title": 3}]).status_code == 400


def test_specs_are_served_for_the_renderer(ws_client):
    specs = ws_client.get("/_ws/specs").get_json()["specs"]
    assert sorted(specs) == card_spec.keys()
    one = ws_client.get("/_ws/specs/task_card").get_json()
    assert one["layout"] == card_spec.load("task_card")["layout"]
    assert "agree" in one["actionIds"] and not any(key.startswith("_") for key in one)
    assert ws_client.get("/_ws/specs/nope").status_code == 404


def test_feed_is_one_persons_view_with_a_cursor(ws_client, token, people):
    ws_client.post("/_ws/say", json={"staffId": "u-zhang", "conversationId": people["group"], "text": "帮助"})
    create_and_deliver(
        ws_client,
        token,
        openSpaceId=f"dtv1.card//IM_GROUP.{people['group']}",
        imGroupOpenDeliverModel={"robotCode": APP_KEY},
        privateData={"u-li": {"cardParamMap": {"toast": "只给李四"}}},
    )
    first = ws_client.get("/_ws/feed", query_string={"staffId": "u-li", "since": 0}).get_json()
    kinds = sorted(c["kind"] for c in first["conversations"])
    assert kinds == ["group", "private"]  # not 王五's 1:1, not 张三's
    group = next(c for c in first["conversations"] if c["kind"] == "group")
    assert group["lastSender"] == "bot" and group["preview"] == "[卡片] 3号楼巡检"
    assert [m["msgtype"] for m in first["messages"]] == ["text", "interactiveCard"]
    assert first["messages"][0]["atBot"] is True
    [card] = first["cards"]
    assert card["mine"] == {"toast": "只给李四"} and "private" not in card
    wang = ws_client.get("/_ws/feed", query_string={"staffId": "u-wang", "since": 0}).get_json()
    assert wang["cards"] == [] and wang["messages"] == []

    quiet = ws_client.get("/_ws/feed", query_string={"staffId": "u-li", "since": first["seq"]}).get_json()
    assert quiet["messages"] == [] and quiet["cards"] == [] and quiet["seq"] == first["seq"]
    update(
        ws_client,
        token,
        {
            "outTrackId": "notice-1",
            "cardData": {"cardParamMap": {"status": "已处理"}},
            "cardUpdateOptions": {"updateCardDataByKey": True},
        },
    )
    changed = ws_client.get("/_ws/feed", query_string={"staffId": "u-li", "since": first["seq"]}).get_json()
    assert [c["params"]["status"] for c in changed["cards"]] == ["已处理"]
    assert changed["cards"][0]["seq"] > first["seq"] and changed["messages"] == []


def test_feed_refuses_unknown_people_and_bad_cursors(ws_client, people):
    assert ws_client.get("/_ws/feed", query_string={"staffId": "nobody"}).status_code == 404
    assert ws_client.get("/_ws/feed", query_string={"staffId": "u-li", "since": "x"}).status_code == 400


def test_group_message_without_at_is_shown_but_not_sent_to_the_bot(ws_client, people, fake_bot):
    answer = ws_client.post(
        "/_ws/say",
        json={"staffId": "u-zhang", "conversationId": people["group"], "text": "大家好", "atBot": False},
    )
    assert answer.status_code == 200 and answer.get_json()["status"] is None
    assert fake_bot.requests == []
    feed = ws_client.get("/_ws/feed", query_string={"staffId": "u-li"}).get_json()
    assert [(m["content"]["content"], m["atBot"]) for m in feed["messages"]] == [("大家好", False)]
    bad = ws_client.post(
        "/_ws/say", json={"staffId": "u-zhang", "conversationId": people["group"], "text": "x", "atBot": "no"}
    )
    assert bad.status_code == 400


def test_a_persons_picture_and_the_bots_media_can_be_shown(ws_client, people):
    png = b"\x89PNG\r\n\x1a\nfake"
    ws_client.post(
        "/_ws/send_media",
        json={
            "staffId": "u-zhang",
            "private": True,
            "msgtype": "picture",
            "data_base64": base64.b64encode(png).decode(),
            "fileName": "现场.png",
            "contentType": "image/png",
        },
    )
    feed = ws_client.get("/_ws/feed", query_string={"staffId": "u-zhang"}).get_json()
    code = feed["messages"][0]["content"]["downloadCode"]
    shown = ws_client.get(f"/_ws/files/{code}")
    assert shown.status_code == 200 and shown.data == png and shown.headers["Content-Disposition"] == "inline"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert ws_client.get("/_ws/files/unknown").status_code == 404

    token = ws_client.get("/gettoken", query_string={"appkey": APP_KEY, "appsecret": "test-workspace-secret"})
    uploaded = ws_client.post(
        f"/media/upload?access_token={token.get_json()['access_token']}&type=file",
        data={"media": (io.BytesIO(b"%PDF-1.7"), "通知书.pdf", "application/pdf")},
        content_type="multipart/form-data",
    ).get_json()
    media = ws_client.get(f"/_ws/media/{uploaded['media_id']}")
    assert media.data == b"%PDF-1.7"
    assert media.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
