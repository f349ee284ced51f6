"""Everything the workspace remembers, in memory, behind one lock.

One re-entrant lock guards all of it: the fake serves a handful of users, and one lock makes every
platform call atomic (a throttled or faulted call can never leave half an effect behind). Never
hold the lock while calling the bot over HTTP.

Records are plain dicts so that the control API can return them as JSON without a mapping layer.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from workspace.ids import stable_id

Record = dict[str, Any]

CALL_LIMIT = 5000  # recorded platform calls kept (oldest dropped first)


class UnknownEntity(KeyError):
    """A user, conversation, card or message the workspace does not know."""


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.users: dict[str, Record] = {}
            # conversationId -> {conversationId, kind: group|private|work, title, members, owner}
            self.conversations: dict[str, Record] = {}
            self.private_by_user: dict[str, str] = {}
            self.work_by_user: dict[str, str] = {}
            self.messages: dict[str, list[Record]] = {}
            self.cards: dict[str, Record] = {}
            self.card_routes: dict[str, Record] = {}
            self.calls: deque[Record] = deque(maxlen=CALL_LIMIT)
            self.callbacks: deque[Record] = deque(maxlen=CALL_LIMIT)
            # msgId -> the exact robot callback body sent to the bot (for redelivery)
            self.sent_bodies: dict[str, Record] = {}
            self.media: dict[str, Record] = {}
            self.files: dict[str, Record] = {}
            self.file_links: dict[str, str] = {}
            # token -> {kind, expires_ms}; kind -> the token currently handed out
            self.tokens: dict[str, Record] = {}
            self.current_token: dict[str, str] = {}
            self.custom_robots: dict[str, Record] = {}
            self.robot_windows: dict[str, deque[int]] = {}
            self.robot_blocked_until: dict[str, int] = {}
            self.sessions: dict[str, Record] = {}
            self.qps_windows: dict[str, deque[int]] = {}
            self.work_counts: dict[tuple[str, int], int] = {}
            self.work_seen: set[tuple[str, int, str]] = set()
            self.work_tasks: dict[int, Record] = {}
            self.clock_offset_ms = 0
            self._seq = 0

    def next_seq(self) -> int:
        with self.lock:
            self._seq += 1
            return self._seq

    def last_seq(self) -> int:
        """The newest sequence number handed out: a reader's cursor for "everything so far"."""
        with self.lock:
            return self._seq

    # -- people and conversations ---------------------------------------------------------------
    def add_user(
        self,
        staff_id: str,
        name: str,
        *,
        mobile: str = "",
        is_admin: bool = False,
        title: str = "",
        app_key: str,
    ) -> Record:
        """Add (or replace) a person. ``title`` is a display line for the page's identity picker
        (unit and role, e.g. "市容环境卫生监管处 · 单位管理员"); DingTalk itself never sends it."""
        with self.lock:
            user = {"staffId": staff_id, "name": name, "mobile": mobile, "isAdmin": is_admin, "title": title}
            self.users[staff_id] = user
            cid = stable_id("cidp", app_key, staff_id, suffix="==")
            self.private_by_user[staff_id] = cid
            self.conversations.setdefault(
                cid,
                {
                    "conversationId": cid,
                    "kind": "private",
                    "title": name,
                    "members": [staff_id],
                    "owner": staff_id,
                },
            )
            self.messages.setdefault(cid, [])
            return user

    def user(self, staff_id: str) -> Record:
        with self.lock:
            if staff_id not in self.users:
                raise UnknownEntity(f"unknown user {staff_id}")
            return self.users[staff_id]

    def add_group(self, cid: str, title: str, members: list[str]) -> Record:
        with self.lock:
            missing = [m for m in members if m not in self.users]
            if missing:
                raise UnknownEntity(f"unknown members {missing}")
            group = {
                "conversationId": cid,
                "kind": "group",
                "title": title,
                "members": list(members),
                "owner": None,
            }
            self.conversations[cid] = group
            self.messages.setdefault(cid, [])
            return group

    def group(self, cid: str) -> Record | None:
        with self.lock:
            conversation = self.conversations.get(cid)
            return conversation if conversation and conversation["kind"] == "group" else None

    def private_conversation(self, staff_id: str) -> str:
        with self.lock:
            if staff_id not in self.private_by_user:
                raise UnknownEntity(f"unknown user {staff_id}")
            return self.private_by_user[staff_id]

    def work_conversation(self, staff_id: str, app_key: str) -> str:
        """The user's "工作通知" conversation, made on first use."""
        with self.lock:
            cid = self.work_by_user.get(staff_id)
            if cid is None:
                cid = stable_id("cidw", app_key, staff_id, suffix="==")
                self.work_by_user[staff_id] = cid
                self.conversations[cid] = {
                    "conversationId": cid,
                    "kind": "work",
                    "title": "工作通知",
                    "members": [staff_id],
                    "owner": staff_id,
                }
                self.messages[cid] = []
            return cid

    # -- messages -------------------------------------------------------------------------------
    def add_message(
        self,
        cid: str,
        *,
        msg_id: str,
        sender: str,
        msgtype: str,
        content: Record,
        time_ms: int,
        via: str,
        msg_key: str | None = None,
        extra: Record | None = None,
    ) -> Record:
        with self.lock:
            if cid not in self.conversations:
                raise UnknownEntity(f"unknown conversation {cid}")
            message: Record = {
                "seq": self.next_seq(),
                "id": msg_id,
                "conversationId": cid,
                "sender": sender,
                "msgtype": msgtype,
                "content": content,
                "time": time_ms,
                "via": via,
            }
            if msg_key is not None:
                message["msgKey"] = msg_key
            if extra:
                message.update(extra)
            self.messages[cid].append(message)
            return message

    def messages_since(self, cid: str, since: int = 0) -> list[Record]:
        with self.lock:
            if cid not in self.conversations:
                raise UnknownEntity(f"unknown conversation {cid}")
            return [dict(m) for m in self.messages[cid] if m["seq"] > since]

    # -- recorded calls -------------------------------------------------------------------------
    def record_call(self, entry: Record) -> Record:
        with self.lock:
            entry["seq"] = self.next_seq()
            self.calls.append(entry)
            return entry

    def calls_since(self, path: str | None = None, since: int = 0) -> list[Record]:
        with self.lock:
            return [
                dict(call)
                for call in self.calls
                if call["seq"] > since and (not path or call["path"].startswith(path))
            ]

    def record_callback(self, entry: Record) -> Record:
        with self.lock:
            entry["seq"] = self.next_seq()
            self.callbacks.append(entry)
            return entry

    # -- tokens ---------------------------------------------------------------------------------
    def issue_token(self, kind: str, value: str, *, now_ms: int, ttl_s: int) -> str:
        """The token of ``kind``: the same one while it is valid, its life renewed on each fetch."""
        with self.lock:
            current = self.current_token.get(kind)
            if current and self.tokens[current]["expires_ms"] > now_ms:
                value = current
            self.tokens[value] = {"kind": kind, "expires_ms": now_ms + ttl_s * 1000}
            self.current_token[kind] = value
            return value

    def token_valid(self, value: str | None, now_ms: int) -> bool:
        with self.lock:
            token = self.tokens.get(value or "")
            return token is not None and token["expires_ms"] > now_ms

    # -- summary --------------------------------------------------------------------------------
    def summary(self) -> Record:
        with self.lock:
            kinds: dict[str, int] = {}
            for conversation in self.conversations.values():
                kinds[conversation["kind"]] = kinds.get(conversation["kind"], 0) + 1
            return {
                "users": len(self.users),
                "conversations": kinds,
                "messages": sum(len(items) for items in self.messages.values()),
                "cards": len(self.cards),
                "calls": len(self.calls),
                "callbacks": len(self.callbacks),
                "customRobots": len(self.custom_robots),
                "sessions": len(self.sessions),
                "media": len(self.media),
                "files": len(self.files),
                "workTasks": len(self.work_tasks),
                "clockOffsetMs": self.clock_offset_ms,
            }
