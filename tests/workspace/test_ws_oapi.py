"""Work notifications and media upload (protocol §6, §7.1)."""

from __future__ import annotations

import io
from dataclasses import replace

from tests.workspace.support import messages, oapi_token_for
from workspace import create_app


def work_notice(client, token, **overrides):
    body = {
        "agent_id": 4242,
        "userid_list": "u-zhang,u-li",
        "msg": {"msgtype": "text", "text": {"content": "今日巡检"}},
    }
    body.update(overrides)
    return client.post(
        "/topapi/message/corpconversation/asyncsend_v2", query_string={"access_token": token}, json=body
    )


def work_messages(client, staff_id):
    conversations = client.get("/_ws/conversations").get_json()["conversations"]
    found = [c for c in conversations if c["kind"] == "work" and c["owner"] == staff_id]
    return messages(client, found[0]["conversationId"]) if found else []


def test_work_notice_is_accepted_and_lands_in_each_users_work_conversation(ws_client, people):
    token = oapi_token_for(ws_client)
    body = work_notice(ws_client, token).get_json()
    assert body["errcode"] == 0 and body["errmsg"] == "ok"
    assert isinstance(body["task_id"], int) and body["request_id"]
    for staff_id in ("u-zhang", "u-li"):
        [message] = work_messages(ws_client, staff_id)
        assert message["msgtype"] == "text" and message["content"] == {"content": "今日巡检"}
    conversations = ws_client.get("/_ws/conversations").get_json()["conversations"]
    assert {c["title"] for c in conversations if c["kind"] == "work"} == {"工作通知"}


def test_user_list_as_a_json_array_is_refused(ws_client, people):
    body = work_notice(ws_client, oapi_token_for(ws_client), userid_list=["u-zhang"]).get_json()
    assert body["errcode"] != 0
    assert work_messages(ws_client, "u-zhang") == []


def test_msg_as_a_string_is_refused(ws_client, people):
    body = work_notice(
        ws_client, oapi_token_for(ws_client), msg='{"msgtype":"text","text":{"content":"x"}}'
    ).get_json()
    assert body["errcode"] != 0


def test_wrong_agent_id_is_errcode_40056(ws_client, people):
    assert work_notice(ws_client, oapi_token_for(ws_client), agent_id=1).get_json()["errcode"] == 40056


def test_same_content_same_user_same_day_is_accepted_but_not_delivered(ws_client, ws_clock, people):
    token = oapi_token_for(ws_client)
    work_notice(ws_client, token, userid_list="u-zhang")
    again = work_notice(ws_client, token, userid_list="u-zhang").get_json()
    assert again["errcode"] == 0
    assert len(work_messages(ws_client, "u-zhang")) == 1
    result = ws_client.post(
        "/topapi/message/corpconversation/getsendresult",
        query_string={"access_token": token},
        json={"agent_id": 4242, "task_id": again["task_id"]},
    ).get_json()["send_result"]
    assert result["forbidden_user_id_list"] == ["u-zhang"]
    assert result["forbidden_list"][0]["code"] == "143106"
    ws_clock.advance(24 * 3600 * 1000)
    work_notice(ws_client, oapi_token_for(ws_client), userid_list="u-zhang")
    assert len(work_messages(ws_client, "u-zhang")) == 2


def test_daily_cap_per_user_stops_delivery_until_the_next_day(ws_config, ws_clock):
    client = create_app(replace(ws_config, work_notice_daily_cap=2)).test_client()
    client.post("/_ws/users", json=[{"staffId": "u-li", "name": "李四"}])
    token = oapi_token_for(client)
    for n in range(3):
        text = {"msgtype": "text", "text": {"content": f"第{n}条"}}
        assert work_notice(client, token, userid_list="u-li", msg=text).get_json()["errcode"] == 0
    assert [m["content"]["content"] for m in work_messages(client, "u-li")] == ["第0条", "第1条"]
    ws_clock.advance(24 * 3600 * 1000)
    work_notice(client, oapi_token_for(client), userid_list="u-li")
    assert len(work_messages(client, "u-li")) == 3


def test_unknown_users_are_accepted_but_listed_as_invalid(ws_client, people):
    token = oapi_token_for(ws_client)
    task = work_notice(ws_client, token, userid_list="ghost").get_json()["task_id"]
    result = ws_client.post(
        "/topapi/message/corpconversation/getsendresult",
        query_string={"access_token": token},
        json={"agent_id": 4242, "task_id": task},
    ).get_json()["send_result"]
    assert result["invalid_user_id_list"] == ["ghost"]


def test_media_upload_takes_type_from_the_form_or_the_query(ws_client):
    token = oapi_token_for(ws_client)
    from_form = ws_client.post(
        "/media/upload",
        query_string={"access_token": token},
        data={"type": "image", "media": (io.BytesIO(b"\x89PNG fake"), "a.png", "image/png")},
        content_type="multipart/form-data",
    ).get_json()
    from_query = ws_client.post(
        "/media/upload",
        query_string={"access_token": token, "type": "file"},
        data={"media": (io.BytesIO(b"%PDF"), "r.pdf", "application/pdf")},
        content_type="multipart/form-data",
    ).get_json()
    assert (
        from_form["errcode"] == 0 and from_form["type"] == "image" and from_form["media_id"].startswith("@lA")
    )
    assert isinstance(from_form["created_at"], int)
    assert from_query["type"] == "file" and from_query["media_id"] != from_form["media_id"]


def test_media_upload_without_the_media_field_fails(ws_client):
    body = ws_client.post(
        "/media/upload",
        query_string={"access_token": oapi_token_for(ws_client), "type": "image"},
        data={"file": (io.BytesIO(b"x"), "a.png")},
        content_type="multipart/form-data",
    ).get_json()
    assert body["errcode"] != 0
