"""Robot OpenAPI: request checks, invalid users, delivery into conversations (protocol §4)."""

from __future__ import annotations

import json

import pytest

from tests.workspace.support import APP_KEY, messages


def batch_send(client, token, **overrides):
    body = {
        "robotCode": APP_KEY,
        "userIds": ["u-zhang"],
        "msgKey": "sampleText",
        "msgParam": json.dumps({"content": "你好"}, ensure_ascii=False),
    }
    body.update(overrides)
    return client.post(
        "/v1.0/robot/oToMessages/batchSend", json=body, headers={"x-acs-dingtalk-access-token": token}
    )


def group_send(client, token, cid, **overrides):
    body = {
        "robotCode": APP_KEY,
        "openConversationId": cid,
        "msgKey": "sampleMarkdown",
        "msgParam": json.dumps({"title": "巡检", "text": "### 3号楼"}, ensure_ascii=False),
    }
    body.update(overrides)
    return client.post(
        "/v1.0/robot/groupMessages/send", json=body, headers={"x-acs-dingtalk-access-token": token}
    )


@pytest.mark.parametrize(
    "msg_param",
    [{"content": "hi"}, "{'content': 'hi'}", '["content"]', "not json"],
    ids=["object", "python-repr", "json-array", "text"],
)
def test_msg_param_that_is_not_a_json_object_string_is_rejected(ws_client, token, people, msg_param):
    response = batch_send(ws_client, token, msgParam=msg_param)
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalidParameter.msgParam.invalid"
    assert "must be in JSON format" in response.get_json()["message"]
    assert messages(ws_client, people["private"]["u-zhang"]) == []


def test_twenty_one_user_ids_are_over_max(ws_client, token, people):
    response = batch_send(ws_client, token, userIds=[f"u{i}" for i in range(21)])
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalidParameter.userIds.overMax"


def test_twenty_user_ids_are_accepted(ws_client, token, people):
    response = batch_send(ws_client, token, userIds=["u-zhang"] + [f"x{i}" for i in range(19)])
    assert response.status_code == 200


def test_empty_user_ids_are_rejected(ws_client, token, people):
    assert batch_send(ws_client, token, userIds=[]).get_json()["code"] == "invalidParameter.userIds.empty"


def test_unknown_msg_key_is_rejected(ws_client, token, people):
    response = batch_send(ws_client, token, msgKey="sampleImage")
    assert response.get_json()["code"] == "invalidParameter.msgKey.invalid"


def test_foreign_robot_code_does_not_exist(ws_client, token, people):
    response = batch_send(ws_client, token, robotCode="dingSOMEONEelse")
    assert response.get_json()["code"] == "invalidParameter.robotCode.notExsit"


def test_unknown_users_are_listed_as_invalid_and_only_known_users_get_the_message(ws_client, token, people):
    response = batch_send(ws_client, token, userIds=["u-zhang", "ghost"])
    body = response.get_json()
    assert response.status_code == 200
    assert body["invalidStaffIdList"] == ["ghost"]
    assert body["flowControlledStaffIdList"] == [] and body["filteredStaffIdList"] == []
    assert body["processQueryKey"]
    delivered = messages(ws_client, people["private"]["u-zhang"])
    assert [(m["sender"], m["msgKey"], m["content"]) for m in delivered] == [
        ("bot", "sampleText", {"content": "你好"})
    ]
    assert all(
        c["conversationId"] != "ghost"
        for c in ws_client.get("/_ws/conversations").get_json()["conversations"]
    )


def test_group_send_reaches_the_group(ws_client, token, people):
    response = group_send(ws_client, token, people["group"])
    assert response.status_code == 200
    assert list(response.get_json()) == ["processQueryKey"]
    [message] = messages(ws_client, people["group"])
    assert message["msgtype"] == "markdown" and message["content"]["title"] == "巡检"


def test_group_send_to_an_unknown_conversation_is_rejected(ws_client, token, people):
    response = group_send(ws_client, token, "cidNOSUCHgroup==")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid.openConversationId"


def test_group_send_over_15000_bytes_of_msg_param_is_rejected(ws_client, token, people):
    text = "字" * 5100  # 3 bytes each in UTF-8
    response = group_send(
        ws_client,
        token,
        people["group"],
        msgKey="sampleText",
        msgParam=json.dumps({"content": text}, ensure_ascii=False),
    )
    assert response.status_code == 400
    assert messages(ws_client, people["group"]) == []


def test_paths_are_case_sensitive(ws_client, token, people):
    response = ws_client.post(
        "/v1.0/robot/otoMessages/batchSend", json={}, headers={"x-acs-dingtalk-access-token": token}
    )
    assert response.status_code == 404


def test_every_platform_call_is_recorded_with_its_status(ws_client, token, people):
    batch_send(ws_client, token, userIds=[])
    calls = ws_client.get("/_ws/calls", query_string={"path": "/v1.0/robot/"}).get_json()["calls"]
    assert [(c["method"], c["status"], c["response"]["code"]) for c in calls] == [
        ("POST", 400, "invalidParameter.userIds.empty")
    ]
    assert calls[0]["json"]["userIds"] == []
    assert calls[0]["headers"]["x-acs-dingtalk-access-token"] == "***"
    assert ws_client.delete("/_ws/calls").status_code == 200
    assert ws_client.get("/_ws/calls").get_json()["calls"] == []
