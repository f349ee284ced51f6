"""Per-family QPS limits and injected faults: a refused call has no effect (protocol §9)."""

from __future__ import annotations

import json

import pytest

from tests.workspace.support import APP_KEY, messages


def send_text(client, token, user="u-zhang", text="你好"):
    return client.post(
        "/v1.0/robot/oToMessages/batchSend",
        json={
            "robotCode": APP_KEY,
            "userIds": [user],
            "msgKey": "sampleText",
            "msgParam": json.dumps({"content": text}),
        },
        headers={"x-acs-dingtalk-access-token": token},
    )


def test_qps_limit_answers_403_qps_limit_for_api_and_delivers_nothing(ws_client, ws_clock, token, people):
    for n in range(20):
        assert send_text(ws_client, token, text=f"m{n}").status_code == 200
    refused = send_text(ws_client, token, text="over")
    assert refused.status_code == 403
    body = refused.get_json()
    assert body["code"] == "Forbidden.AccessDenied.QpsLimitForApi"
    assert body["message"].startswith("请求过于频繁，限制将在 ") and body["message"].endswith(" 结束")
    assert body["requestid"] == refused.headers["x-acs-request-id"]
    assert "over" not in [m["content"]["content"] for m in messages(ws_client, people["private"]["u-zhang"])]
    ws_clock.advance(1000)
    assert send_text(ws_client, token).status_code == 200


def test_qps_is_counted_per_api_family(ws_client, token, people):
    ws_client.post("/_ws/faults", json={"qps": {"robot": 1}})
    assert send_text(ws_client, token).status_code == 200
    assert send_text(ws_client, token).status_code == 403
    card = ws_client.post(
        "/v1.0/card/instances",
        json={"cardTemplateId": "t", "outTrackId": "c", "cardData": {"cardParamMap": {}}},
        headers={"x-acs-dingtalk-access-token": token},
    )
    assert card.status_code == 200


def test_throttle_status_can_be_429(ws_client, token, people):
    ws_client.post("/_ws/faults", json={"qps": {"robot": 1}, "throttle_status": 429})
    send_text(ws_client, token)
    assert send_text(ws_client, token).status_code == 429


@pytest.mark.parametrize("kind", ["5xx", "qps403", "errcode200", "html"])
def test_a_faulted_call_delivers_nothing_and_is_recorded(ws_client, token, people, kind):
    ws_client.post("/_ws/faults", json={"failure_rate": 1.0, "kinds": [kind], "seed": 3})
    response = send_text(ws_client, token, text="faulted")
    assert response.status_code != 200 or response.mimetype == "text/html"
    ws_client.post("/_ws/faults", json={"failure_rate": 0.0})
    assert messages(ws_client, people["private"]["u-zhang"]) == []
    [call] = ws_client.get("/_ws/calls", query_string={"path": "/v1.0/robot/"}).get_json()["calls"]
    assert call["fault"] == kind and call["status"] == response.status_code


def test_errcode200_fault_on_oapi_is_system_busy(ws_client, token, people):
    ws_client.post("/_ws/faults", json={"failure_rate": 1.0, "kinds": ["errcode200"]})
    response = ws_client.post(
        "/topapi/message/corpconversation/asyncsend_v2",
        query_string={"access_token": token},
        json={
            "agent_id": 4242,
            "userid_list": "u-zhang",
            "msg": {"msgtype": "text", "text": {"content": "x"}},
        },
    )
    assert response.status_code == 200
    assert response.get_json() == {"errcode": -1, "errmsg": "系统繁忙"}


def test_a_faulted_card_create_makes_no_card(ws_client, token, people):
    ws_client.post("/_ws/faults", json={"failure_rate": 1.0, "kinds": ["5xx"]})
    response = ws_client.post(
        "/v1.0/card/instances/createAndDeliver",
        json={
            "cardTemplateId": "t",
            "outTrackId": "c",
            "cardData": {"cardParamMap": {}},
            "openSpaceId": "dtv1.card//IM_ROBOT.u-zhang",
        },
        headers={"x-acs-dingtalk-access-token": token},
    )
    assert response.status_code >= 500
    assert ws_client.get("/_ws/cards").get_json()["cards"] == []


def test_slow_fault_still_succeeds(ws_client, token, people):
    ws_client.post("/_ws/faults", json={"failure_rate": 1.0, "kinds": ["slow"], "slow_ms": 30})
    response = send_text(ws_client, token)
    assert response.status_code == 200
    assert len(messages(ws_client, people["private"]["u-zhang"])) == 1


def test_a_retrying_client_gets_exactly_one_delivery(ws_client, token, people):
    ws_client.post("/_ws/faults", json={"failure_rate": 0.7, "kinds": ["5xx", "qps403", "html"], "seed": 11})
    attempts = 0
    while attempts < 50:
        attempts += 1
        response = send_text(ws_client, token, text="once")
        if response.status_code == 200 and response.mimetype == "application/json":
            break
    assert attempts > 1, "the seed should fault at least the first attempt"
    assert [m["content"]["content"] for m in messages(ws_client, people["private"]["u-zhang"])] == ["once"]
    statuses = [
        c["status"]
        for c in ws_client.get("/_ws/calls", query_string={"path": "/v1.0/robot/"}).get_json()["calls"]
    ]
    assert len(statuses) == attempts


def test_faults_never_touch_the_control_api(ws_client, people):
    ws_client.post("/_ws/faults", json={"failure_rate": 1.0, "kinds": ["5xx"]})
    assert ws_client.get("/_ws/state").status_code == 200
    assert ws_client.get("/_ws/conversations").status_code == 200


def test_bad_fault_settings_are_refused(ws_client):
    assert ws_client.post("/_ws/faults", json={"failure_rate": 2}).status_code == 400
    assert ws_client.post("/_ws/faults", json={"kinds": ["boom"]}).status_code == 400
    assert ws_client.post("/_ws/faults", json={"qps": {"nope": 1}}).status_code == 400
