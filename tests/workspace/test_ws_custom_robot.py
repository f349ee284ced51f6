"""Custom robots and sessionWebhook replies (protocol §2, §1.3): always HTTP 200 + errcode."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

import pytest

from tests.workspace.support import messages

SECRET = "SEC0123456789abcdef"


def url_sign(timestamp: int, secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


@pytest.fixture
def robot(ws_client, people):
    created = ws_client.post(
        "/_ws/custom_robots",
        json=[{"conversationId": people["group"], "name": "告警机器人", "access_token": "tok1"}],
    ).get_json()["robots"][0]
    return created


def send(client, token="tok1", body=None, **query):
    body = body or {"msgtype": "text", "text": {"content": "巡检提醒"}}
    return client.post("/robot/send", query_string={"access_token": token, **query}, json=body)


def test_custom_robot_posts_into_its_group(ws_client, robot, people):
    response = send(ws_client)
    assert response.status_code == 200 and response.get_json() == {"errcode": 0, "errmsg": "ok"}
    [message] = messages(ws_client, people["group"])
    assert message["sender"] == "customRobot:告警机器人" and message["content"]["content"] == "巡检提醒"
    assert robot["webhook"].endswith("/robot/send?access_token=tok1")


def test_unknown_token_does_not_exist(ws_client, robot):
    response = send(ws_client, token="nope")
    assert response.status_code == 200
    assert response.get_json() == {"errcode": 300001, "errmsg": "token is not exist"}


def test_signed_robot_accepts_a_url_encoded_signature_and_refuses_a_wrong_one(ws_client, ws_clock, people):
    ws_client.post(
        "/_ws/custom_robots",
        json=[{"conversationId": people["group"], "secret": SECRET, "access_token": "s"}],
    )
    now = ws_clock.now_ms
    good = ws_client.post(
        f"/robot/send?access_token=s&timestamp={now}&sign={url_sign(now)}",
        json={"msgtype": "text", "text": {"content": "ok"}},
    )
    assert good.get_json()["errcode"] == 0
    bad = ws_client.post(
        f"/robot/send?access_token=s&timestamp={now}&sign=AAAA",
        json={"msgtype": "text", "text": {"content": "x"}},
    )
    assert bad.get_json()["errcode"] == 310000
    unsigned = send(ws_client, token="s")
    assert unsigned.get_json()["errcode"] == 310000
    assert len(messages(ws_client, people["group"])) == 1


def test_signature_older_than_an_hour_is_an_invalid_timestamp(ws_client, ws_clock, people):
    ws_client.post(
        "/_ws/custom_robots",
        json=[{"conversationId": people["group"], "secret": SECRET, "access_token": "s"}],
    )
    stale = ws_clock.now_ms - 3_600_001
    response = ws_client.post(
        f"/robot/send?access_token=s&timestamp={stale}&sign={url_sign(stale)}",
        json={"msgtype": "text", "text": {"content": "x"}},
    )
    assert response.get_json() == {"errcode": 310000, "errmsg": "invalid timestamp"}


def test_message_without_a_keyword_is_refused(ws_client, people):
    ws_client.post(
        "/_ws/custom_robots",
        json=[{"conversationId": people["group"], "keywords": ["巡检"], "access_token": "k"}],
    )
    assert (
        send(ws_client, token="k", body={"msgtype": "text", "text": {"content": "你好"}}).get_json()[
            "errcode"
        ]
        == 310000
    )
    markdown = {"msgtype": "markdown", "markdown": {"title": "巡检通报", "text": "本周"}}
    assert send(ws_client, token="k", body=markdown).get_json()["errcode"] == 0


def test_twenty_first_message_in_a_minute_is_throttled_and_blocked_for_ten_minutes(
    ws_client, ws_clock, robot, people
):
    for _ in range(20):
        assert send(ws_client).get_json()["errcode"] == 0
        ws_clock.advance(1000)
    assert send(ws_client).get_json() == {
        "errcode": 130101,
        "errmsg": "send too fast, exceed 20 times per minute",
    }
    ws_clock.advance(5 * 60 * 1000)
    assert send(ws_client).get_json()["errcode"] == 130101
    ws_clock.advance(5 * 60 * 1000)
    assert send(ws_client).get_json()["errcode"] == 0
    assert len(messages(ws_client, people["group"])) == 21


def test_body_over_20000_bytes_is_refused(ws_client, robot, people):
    response = send(ws_client, body={"msgtype": "text", "text": {"content": "x" * 20_001}})
    assert response.get_json()["errcode"] == 460101
    assert messages(ws_client, people["group"]) == []


def test_unknown_msgtype_is_refused(ws_client, robot):
    assert send(ws_client, body={"msgtype": "image2", "image2": {}}).get_json()["errcode"] != 0


def test_unknown_session_webhook_does_not_exist(ws_client):
    response = ws_client.post(
        "/robot/sendBySession",
        query_string={"session": "0" * 32},
        json={"msgtype": "text", "text": {"content": "x"}},
    )
    assert response.status_code == 200
    assert response.get_json() == {"errcode": 300001, "errmsg": "session 不存在"}
