"""GET /plain — a plain overview page of every conversation, refreshed every 3 seconds.

Server-rendered, no scripts, no external assets: it must work offline and in any browser (and it
shows every conversation at once, which the phone page at ``/`` does not). Text is escaped,
markdown is shown as text, cards as their title, status and parameters.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response
from markupsafe import escape

from workspace import card_view
from workspace.messages import preview
from workspace.runtime import current

blueprint = Blueprint("workspace_page", __name__)

KIND_LABELS = {"group": "群聊", "private": "单聊", "work": "工作通知"}
STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:1rem;background:#f5f6f7;color:#1f2329}
section{background:#fff;border-radius:8px;padding:.8rem 1rem;margin-bottom:1rem;box-shadow:0 1px 2px #0001}
h1{font-size:1.3rem}h2{font-size:1.05rem;margin:.2rem 0 .6rem}
.meta{color:#8f959e;font-size:.8rem}.msg{margin:.4rem 0;padding:.4rem .6rem;border-radius:6px;background:#f0f1f2}
.bot{background:#e8f1ff}.text{white-space:pre-wrap;margin:.2rem 0}
.card{border:1px solid #c9d8f5;border-radius:6px;padding:.4rem .6rem;background:#fff}
table{border-collapse:collapse;font-size:.85rem}td{border:1px solid #e5e6eb;padding:.15rem .4rem;vertical-align:top}
"""


def _time(ms: int) -> str:
    return (datetime.fromtimestamp(ms / 1000, UTC) + timedelta(hours=8)).strftime("%m-%d %H:%M:%S")


def _sender(users: dict[str, Any], sender: str) -> str:
    if sender == "bot":
        return "机器人"
    if sender.startswith("customRobot:"):
        return sender.split(":", 1)[1]
    user = users.get(sender)
    return f"{user['name']}（{sender}）" if user else sender


def _card_html(card: dict[str, Any] | None, out_track_id: str) -> str:
    if card is None:
        return f'<div class="card">[互动卡片] {escape(out_track_id)}（未找到）</div>'
    head = card_view.headline(card)
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in sorted(card["params"].items())
    )
    private = ""
    if card["private"]:
        private = (
            f'<div class="meta">私有数据：{escape(json.dumps(card["private"], ensure_ascii=False))}</div>'
        )
    template = head["templateKey"] or card["cardTemplateId"]
    return (
        f'<div class="card"><b>{escape(head["title"] or "（无标题）")}</b> '
        f'<span class="meta">{escape(head["status"])}</span>'
        f'<div class="meta">模板 {escape(template)} · 版本 {card["version"]} · {escape(out_track_id)}</div>'
        f"<table>{rows}</table>{private}</div>"
    )


def _message_html(ws_cards: dict[str, Any], users: dict[str, Any], message: dict[str, Any]) -> str:
    if message["msgtype"] == "interactiveCard":
        out_track_id = message["content"].get("outTrackId", "")
        body = _card_html(ws_cards.get(out_track_id), out_track_id)
    else:
        body = f'<div class="text">{escape(preview(message))}</div>'
    css = "msg" if message["sender"] in users else "msg bot"
    return (
        f'<div class="{css}"><div class="meta">{escape(_sender(users, message["sender"]))} · '
        f"{_time(message['time'])} · {escape(message.get('msgKey') or message['msgtype'])}</div>{body}</div>"
    )


@blueprint.get("/plain")
def index() -> Response:
    ws = current()
    state = ws.state
    with state.lock:
        sections = []
        for cid, conversation in state.conversations.items():
            members = "、".join(state.users[m]["name"] for m in conversation["members"] if m in state.users)
            items = "".join(_message_html(state.cards, state.users, m) for m in state.messages[cid][-50:])
            sections.append(
                f"<section><h2>{escape(conversation['title'])} "
                f'<span class="meta">{KIND_LABELS[conversation["kind"]]} · {escape(cid)}</span></h2>'
                f'<div class="meta">成员：{escape(members)}</div>{items or "<p class=meta>暂无消息</p>"}</section>'
            )
        summary = state.summary()
    html = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="3"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>查一次 · 本地工作台</title><style>{STYLE}</style></head><body>"
        f'<h1>查一次 · 本地钉钉工作台 <a class="meta" href="/">手机界面</a></h1>'
        f'<p class="meta">用户 {summary["users"]} · 消息 {summary["messages"]} · 卡片 {summary["cards"]} · '
        f"接口调用 {summary['calls']} · 每 3 秒自动刷新</p>"
        + ("".join(sections) or "<p>还没有会话。用 POST /_ws/users 和 /_ws/groups 创建。</p>")
        + "</body></html>"
    )
    return Response(html, content_type="text/html;charset=utf-8")
