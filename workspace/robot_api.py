"""Robot OpenAPI (protocol §4, §7.2): 1:1 batch send, group send, inbound file download.

Checks run in DingTalk's order and a refused call delivers nothing. Unknown users are not an
error: they come back in ``invalidStaffIdList`` and only the known ones get the message.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort

from workspace.messages import MessageError, parse_msg_param
from workspace.replies import ApiError, v1_body, v1_json
from workspace.runtime import Workspace, current

MAX_USER_IDS = 20
MAX_GROUP_MSG_PARAM_BYTES = 15_000


def _check_robot_code(ws: Workspace, body: dict[str, Any]) -> None:
    code = body.get("robotCode")
    if not code:
        raise ApiError(400, "invalidParameter.robotCode.empty", "robotCode 不能为空")
    if code != ws.config.robot_code:
        raise ApiError(400, "invalidParameter.robotCode.notExsit", "robotCode 不存在")


def _message(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    try:
        return parse_msg_param(body.get("msgKey"), body.get("msgParam"))
    except MessageError as exc:
        raise ApiError(400, exc.code, exc.message) from exc


def oto_batch_send() -> Response:
    ws = current()
    body = v1_body()
    _check_robot_code(ws, body)
    user_ids = body.get("userIds")
    if not isinstance(user_ids, list) or not user_ids:
        raise ApiError(400, "invalidParameter.userIds.empty", "userIds 不能为空")
    if not all(isinstance(user_id, str) and user_id for user_id in user_ids):
        raise ApiError(400, "invalidParameter.param.invalid", "userIds 必须是字符串数组")
    if len(user_ids) > MAX_USER_IDS:
        raise ApiError(400, "invalidParameter.userIds.overMax", f"userIds 最多 {MAX_USER_IDS} 个")
    msgtype, params = _message(body)
    key = ws.ids.process_query_key()
    now = ws.now_ms()
    invalid: list[str] = []
    with ws.state.lock:
        for user_id in dict.fromkeys(user_ids):
            if user_id not in ws.state.users:
                invalid.append(user_id)
                continue
            ws.state.add_message(
                ws.state.private_conversation(user_id),
                msg_id=ws.ids.msg_id(),
                sender="bot",
                msgtype=msgtype,
                msg_key=body["msgKey"],
                content=params,
                time_ms=now,
                via="oToMessages/batchSend",
                extra={"processQueryKey": key},
            )
    return v1_json(
        {
            "processQueryKey": key,
            "invalidStaffIdList": invalid,
            "flowControlledStaffIdList": [],
            "filteredStaffIdList": [],
        }
    )


def group_send() -> Response:
    ws = current()
    body = v1_body()
    _check_robot_code(ws, body)
    cid = body.get("openConversationId")
    if not isinstance(cid, str) or ws.state.group(cid) is None:
        raise ApiError(400, "invalid.openConversationId", "openConversationId 不合法")
    msgtype, params = _message(body)
    if len(body["msgParam"].encode()) > MAX_GROUP_MSG_PARAM_BYTES:
        raise ApiError(
            400, "invalidParameter.msgParam.tooLong", f"msgParam 不能超过 {MAX_GROUP_MSG_PARAM_BYTES} 字节"
        )
    key = ws.ids.process_query_key()
    ws.state.add_message(
        cid,
        msg_id=ws.ids.msg_id(),
        sender="bot",
        msgtype=msgtype,
        msg_key=body["msgKey"],
        content=params,
        time_ms=ws.now_ms(),
        via="groupMessages/send",
        extra={"processQueryKey": key},
    )
    return v1_json({"processQueryKey": key})


def message_file_download() -> Response:
    ws = current()
    body = v1_body()
    _check_robot_code(ws, body)
    code = body.get("downloadCode")
    if not code:
        raise ApiError(400, "invalidParameter.downloadCode.empty", "downloadCode 不能为空")
    with ws.state.lock:
        if code not in ws.state.files:
            # ASSUMED code: the real one for an unknown downloadCode is not documented.
            raise ApiError(400, "invalidParameter.downloadCode.invalid", "downloadCode 不合法或已过期")
        token = ws.ids.file_token()
        ws.state.file_links[token] = code
    return v1_json({"downloadUrl": f"{ws.own_base_url()}/_files/{token}"})


def serve_file(token: str) -> Response:
    """The ``downloadUrl`` target: no auth header, like DingTalk's storage links."""
    ws = current()
    with ws.state.lock:
        code = ws.state.file_links.get(token)
        stored = ws.state.files.get(code or "")
    if stored is None:
        abort(404)
    response = Response(stored["data"], status=200, content_type=stored["contentType"])
    response.headers["Content-Disposition"] = "attachment"
    return response
