"""Old-style oapi endpoints (protocol §6, §7.1): work notifications and media upload.

Work notifications are asynchronous on DingTalk: ``errcode 0`` means "task accepted", not
"delivered". Unknown users, the daily cap (500 per user) and the same content to the same user on
the same day are all accepted and then filtered, visible only through ``getsendresult``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, request

from workspace.replies import OapiError, oapi_body, oapi_json
from workspace.runtime import Workspace, current

WORK_MSG_TYPES = ("text", "image", "voice", "file", "link", "markdown", "action_card", "oa")
MEDIA_TYPES = ("image", "voice", "video", "file")
DAY_MS = 86_400_000
CHINA_OFFSET_MS = 8 * 3_600_000
DAILY_CAP_CODE, DUPLICATE_CODE = 143105, 143106


def _check_agent(ws: Workspace, body: dict[str, Any], key: str = "agent_id") -> None:
    agent = body.get(key)
    if agent is None or agent == "":
        raise OapiError(41011, "缺少agentid")
    if str(agent) != str(ws.config.agent_id):
        raise OapiError(40056, "不合法的agentid")


def china_day(ms: int) -> int:
    """The calendar day in China (UTC+8): DingTalk's "same day"."""
    return (ms + CHINA_OFFSET_MS) // DAY_MS


def async_send_v2() -> Response:
    ws = current()
    body = oapi_body()
    _check_agent(ws, body)
    user_list = body.get("userid_list")
    if user_list is not None and not isinstance(user_list, str):
        raise OapiError(40035, "不合法的参数 userid_list：应为逗号分隔的字符串")
    to_all = body.get("to_all_user") is True
    if not user_list and not body.get("dept_id_list") and not to_all:
        raise OapiError(40035, "缺少参数 userid_list")
    msg = body.get("msg")
    if msg is None:
        raise OapiError(40035, "缺少参数 msg")
    if not isinstance(msg, dict):
        raise OapiError(40035, "不合法的参数 msg：应为对象")
    msgtype = msg.get("msgtype")
    if msgtype not in WORK_MSG_TYPES or not isinstance(msg.get(msgtype), dict):
        raise OapiError(40035, "不合法的参数 msg.msgtype")

    digest = hashlib.sha256(json.dumps(msg, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    now = ws.now_ms()
    day = china_day(now)
    task_id = ws.ids.task_id()
    result: dict[str, Any] = {
        "invalid_user_id_list": [],
        "forbidden_user_id_list": [],
        "failed_user_id_list": [],
        "read_user_id_list": [],
        "unread_user_id_list": [],
        "invalid_dept_id_list": [part for part in str(body.get("dept_id_list") or "").split(",") if part],
        "forbidden_list": [],
    }
    with ws.state.lock:
        users = (
            list(ws.state.users)
            if to_all
            else [part.strip() for part in (user_list or "").split(",") if part.strip()]
        )
        for user_id in dict.fromkeys(users):
            if user_id not in ws.state.users:
                result["invalid_user_id_list"].append(user_id)
                continue
            count = ws.state.work_counts.get((user_id, day), 0)
            code = None
            if count >= ws.config.work_notice_daily_cap:
                code = DAILY_CAP_CODE
            elif (user_id, day, digest) in ws.state.work_seen:
                code = DUPLICATE_CODE
            if code is not None:
                result["forbidden_user_id_list"].append(user_id)
                result["forbidden_list"].append({"code": str(code), "count": 1, "userid": user_id})
                continue
            ws.state.work_counts[(user_id, day)] = count + 1
            ws.state.work_seen.add((user_id, day, digest))
            ws.state.add_message(
                ws.state.work_conversation(user_id, ws.config.app_key),
                msg_id=ws.ids.msg_id(),
                sender="bot",
                msgtype=msgtype,
                content=dict(msg[msgtype]),
                time_ms=now,
                via="corpconversation/asyncsend_v2",
                extra={"taskId": task_id},
            )
            result["unread_user_id_list"].append(user_id)
        ws.state.work_tasks[task_id] = {"taskId": task_id, "time": now, "msg": msg, "sendResult": result}
    return oapi_json(
        {"errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": ws.ids.oapi_request_id()}
    )


def _task(ws: Workspace) -> dict[str, Any]:
    body = oapi_body()
    _check_agent(ws, body)
    try:
        task_id = int(body.get("task_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise OapiError(40035, "缺少参数 task_id") from exc
    with ws.state.lock:
        task = ws.state.work_tasks.get(task_id)
    if task is None:
        raise OapiError(40035, "不合法的参数 task_id")
    return task


def get_send_progress() -> Response:
    ws = current()
    _task(ws)
    return oapi_json(
        {
            "errcode": 0,
            "errmsg": "ok",
            "progress": {"progress_in_percent": 100, "status": 2},
            "request_id": ws.ids.oapi_request_id(),
        }
    )


def get_send_result() -> Response:
    ws = current()
    task = _task(ws)
    return oapi_json(
        {
            "errcode": 0,
            "errmsg": "ok",
            "send_result": task["sendResult"],
            "request_id": ws.ids.oapi_request_id(),
        }
    )


def media_upload() -> Response:
    """Multipart ``media``; ``type`` from the form field or the query (both are used in the wild)."""
    ws = current()
    media_type = request.form.get("type") or request.args.get("type")
    if not media_type:
        raise OapiError(40035, "缺少参数 type")
    if media_type not in MEDIA_TYPES:
        # ASSUMED errcode/text.
        raise OapiError(40004, "不合法的媒体文件类型")
    item = request.files.get("media")
    if item is None:
        raise OapiError(40035, "缺少参数 media")
    data = item.read()
    if not data:
        raise OapiError(40006, "不合法的文件大小")
    now = ws.now_ms()
    media_id = ws.ids.media_id()
    with ws.state.lock:
        ws.state.media[media_id] = {
            "data": data,
            "name": item.filename or "media",
            "type": media_type,
            "contentType": item.mimetype or "application/octet-stream",
            "createdAt": now,
        }
    return oapi_json(
        {"errcode": 0, "errmsg": "ok", "type": media_type, "media_id": media_id, "created_at": now}
    )
