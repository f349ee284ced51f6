"""What a handler gets: one open transaction plus ways to record and to queue messages.

Everything a handler does through a context lands in the same transaction: state change,
audit rows, outbox rows and due items commit together or not at all. Nothing here makes a
network call; the worker sends what the outbox holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from storage import due as due_items
from storage import outbox
from storage.audit import AuditEntry, AuditLog
from storage.base import canonical_json
from storage.bulk import insert_rows
from storage.models.platform import CardInstance, Person

if TYPE_CHECKING:
    from bot.dingtalk.client import DingTalkClient
    from bot.payloads import RobotMessage
    from bot.router import Command
    from storage.db import Database

OTO_BATCH = 20  # oToMessages/batchSend takes at most 20 userIds per call


class UserError(Exception):
    """A problem the user can fix. The message (Simplified Chinese) is shown to them as is;
    everything the handler wrote in this event is rolled back."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


@dataclass(frozen=True)
class Group:
    conversation_id: str


@dataclass(frozen=True)
class Users:
    staff_ids: tuple[str, ...]

    @classmethod
    def of(cls, *staff_ids: str) -> Users:
        return cls(tuple(dict.fromkeys(staff_ids)))


Destination = Group | Users


@dataclass(frozen=True)
class CardToSend:
    """One card for ``Context.send_cards``; the fields mean what ``send_card``'s arguments mean."""

    template_key: str
    out_track_id: str
    to: Group | str
    params: dict[str, str]
    audience: Sequence[str] = ()
    entity: tuple[str, Any] | None = None


@dataclass
class CardResult:
    """The answer to a card callback: public variables (everyone sees) and the clicker's own."""

    update: dict[str, str] = field(default_factory=dict)
    private: dict[str, str] = field(default_factory=dict)
    toast: str | None = None
    readonly: bool = False


# What ``send_cards`` writes per card; the rest of the row is the same for the whole batch.
CARD_COLUMNS = (
    "out_track_id", "template_key", "space_type", "space_id", "audience", "entity_type", "entity_id", "params",
)  # fmt: skip


class Context:
    """Base context: a transaction, the time, the actor, and the outbox."""

    def __init__(
        self,
        *,
        session: Session,
        now: datetime,
        settings: Settings,
        audit_log: AuditLog,
        person: Person | None = None,
        person_loader: Callable[[], Person | None] | None = None,
        staff_id: str | None,
        event_key: str,
    ) -> None:
        self.session = session
        self.now = now
        self.settings = settings
        self._audit_log = audit_log
        self._person = person
        # Looked up on first use: a public command (帮助) or a hint never needs who is asking.
        self._person_loader = person_loader
        self.staff_id = staff_id
        self.event_key = event_key
        self._seq = 0
        self._deferred: list[outbox.Pending] | None = None

    # -- identity ---------------------------------------------------------------------------
    @property
    def person(self) -> Person | None:
        if self._person_loader is not None:
            self._person = self._person_loader()
            self._person_loader = None
        return self._person

    @person.setter
    def person(self, person: Person | None) -> None:
        self._person = person
        self._person_loader = None

    @property
    def actor(self) -> str:
        if self.person is not None:
            return f"person:{self.person.id}"
        if self.staff_id:
            return f"staff:{self.staff_id}"
        return "system"

    # -- record -----------------------------------------------------------------------------
    def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: Any,
        *,
        before: Any = None,
        after: Any = None,
        detail: Any = None,
    ) -> None:
        self._audit_log.append(
            self.session,
            AuditEntry(
                action=action,
                entity_type=entity_type,
                entity_id=str(entity_id),
                actor=self.actor,
                actor_person_id=self.person.id if self.person else None,
                before=before,
                after=after,
                detail=detail,
            ),
            at=self.now,
        )

    def audit_many(self, events: Sequence[tuple[str, str, Any, dict[str, Any]]]) -> None:
        """Several audit events at once: (action, entity_type, entity_id, {before, after, detail})."""
        self._audit_log.append_many(
            self.session,
            [
                AuditEntry(
                    action=action,
                    entity_type=entity_type,
                    entity_id=str(entity_id),
                    actor=self.actor,
                    actor_person_id=self.person.id if self.person else None,
                    before=extra.get("before"),
                    after=extra.get("after"),
                    detail=extra.get("detail"),
                )
                for action, entity_type, entity_id, extra in events
            ],
            at=self.now,
        )

    # -- outbox -----------------------------------------------------------------------------
    def _next_key(self, label: str) -> str:
        self._seq += 1
        return f"{self.event_key}:{label}:{self._seq}"

    def defer_outbox(self) -> None:
        """Hold plain new messages back until ``take_deferred``; the caller then writes them with
        the event's own row (``storage.inbox.record``). Coalescing or delayed rows still go at once."""
        self._deferred = []

    def take_deferred(self) -> list[outbox.Pending]:
        """The held-back messages, in the order queued; later messages are written at once."""
        held, self._deferred = self._deferred or [], None
        return held

    def enqueue(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        key: str | None = None,
        rate_keys: Iterable[str] = (),
        coalesce_key: str | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Queue raw work. ``key`` makes it idempotent; by default it is derived from the event.

        Returns False when a row with this key exists; a held-back message (``defer_outbox``)
        counts as queued, and is skipped when written if its key exists by then."""
        dedupe_key = key or self._next_key(kind)
        if self._deferred is not None and coalesce_key is None and not_before is None:
            self._deferred.append(outbox.Pending(kind, dedupe_key, payload, tuple(rate_keys)))
            return True
        return outbox.enqueue(
            self.session,
            kind=kind,
            dedupe_key=dedupe_key,
            payload=payload,
            now=self.now,
            rate_keys=rate_keys,
            coalesce_key=coalesce_key,
            max_attempts=self.settings.outbox_max_attempts,
            not_before=not_before,
        )

    def enqueue_many(self, rows: Sequence[outbox.Pending]) -> None:
        """Queue many new rows (explicit, unique keys) with one multi-row insert."""
        if self._deferred is not None:
            self._deferred.extend(rows)
            return
        outbox.enqueue_many(self.session, rows, now=self.now, max_attempts=self.settings.outbox_max_attempts)

    def send_texts(self, messages: Sequence[tuple[Users, str, str]]) -> None:
        """Many 1:1 texts (users, text, key) with one multi-row insert; keys must be unique."""
        pending = [
            outbox.Pending(
                "robot.oto",
                f"{key}:{index}",
                {"userIds": list(batch), "msgKey": "sampleText", "msgParam": {"content": text}},
                ("api:robot",),
            )
            for to, text, key in messages
            for index, batch in enumerate(_batches(to.staff_ids, OTO_BATCH))
        ]
        self.enqueue_many(pending)

    def send_text(self, to: Destination, text: str, *, key: str | None = None) -> None:
        self._send_message(to, "sampleText", {"content": text}, key=key)

    def send_markdown(self, to: Destination, title: str, text: str, *, key: str | None = None) -> None:
        self._send_message(to, "sampleMarkdown", {"title": title, "text": text}, key=key)

    def send_file(
        self, to: Users, *, path: str, file_name: str, file_type: str = "pdf", key: str | None = None
    ) -> None:
        """Upload a stored file as media and send it 1:1 (the worker does both steps)."""
        base = key or self._next_key("file")
        for index, batch in enumerate(_batches(to.staff_ids, OTO_BATCH)):
            self.enqueue(
                "robot.file",
                {"userIds": list(batch), "path": path, "fileName": file_name, "fileType": file_type},
                key=f"{base}:{index}",
                rate_keys=["api:oapi", "api:robot"],
            )

    def _send_message(self, to: Destination, msg_key: str, param: dict[str, str], *, key: str | None) -> None:
        base = key or self._next_key(msg_key)
        if isinstance(to, Group):
            self.enqueue(
                "robot.group",
                {"openConversationId": to.conversation_id, "msgKey": msg_key, "msgParam": param},
                key=base,
                rate_keys=["api:robot", f"group:{to.conversation_id}"],
            )
            return
        for index, batch in enumerate(_batches(to.staff_ids, OTO_BATCH)):
            self.enqueue(
                "robot.oto",
                {"userIds": list(batch), "msgKey": msg_key, "msgParam": param},
                key=f"{base}:{index}",
                rate_keys=["api:robot"],
            )

    def work_notice(
        self, staff_ids: Sequence[str], title: str, markdown: str, *, key: str | None = None
    ) -> None:
        """A 工作通知 (work notification): reaches people who never opened a chat with the bot."""
        base = key or self._next_key("worknotice")
        for index, batch in enumerate(_batches(tuple(staff_ids), 100)):
            self.enqueue(
                "worknotice",
                {
                    "userIds": list(batch),
                    "msg": {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}},
                },
                key=f"{base}:{index}",
                rate_keys=["api:oapi"],
            )

    # -- cards ------------------------------------------------------------------------------
    def send_card(
        self,
        template_key: str,
        out_track_id: str,
        to: Group | str,
        params: dict[str, str],
        *,
        audience: Sequence[str] = (),
        entity: tuple[str, Any] | None = None,
        at_users: dict[str, str] | None = None,
    ) -> CardInstance:
        """Create and deliver a card to a group or to one user's 1:1 chat with the robot.

        ``out_track_id`` must be deterministic (derived from what the card is about), so that
        a retried create reaches the same card instead of making a second one.
        """
        _check_params(params)
        existing = self.session.get(CardInstance, out_track_id)
        if existing is not None:
            self.update_card(out_track_id, params)
            return existing
        card, payload = self._new_card(template_key, out_track_id, to, params, audience, entity, at_users)
        self.session.add(card)
        self.session.flush()
        self.enqueue("card.create", payload, key=f"card:{out_track_id}:create", rate_keys=["api:card"])
        return card

    def send_cards(self, cards: Sequence[CardToSend]) -> None:
        """Many cards in one event: three statements in all instead of three per card (one
        dispatch sends hundreds). Same rules as ``send_card``: an existing card is updated."""
        ids = [c.out_track_id for c in cards]
        existing: set[str] = set()
        for start in range(0, len(ids), 900):
            existing.update(
                self.session.execute(
                    select(CardInstance.out_track_id).where(
                        CardInstance.out_track_id.in_(ids[start : start + 900])
                    )
                ).scalars()
            )
        rows: list[tuple[Any, ...]] = []
        pending: list[outbox.Pending] = []
        for c in cards:
            _check_params(c.params)
            if c.out_track_id in existing:
                self.update_card(c.out_track_id, c.params)
                continue
            existing.add(c.out_track_id)
            space_type, space_id, payload = self._card_payload(
                c.template_key, c.out_track_id, c.to, c.params, None
            )
            rows.append(
                (
                    c.out_track_id,
                    c.template_key,
                    space_type,
                    space_id,
                    canonical_json(list(c.audience)),
                    c.entity[0] if c.entity else None,
                    str(c.entity[1]) if c.entity else None,
                    canonical_json(dict(c.params)),
                )
            )
            pending.append(
                outbox.Pending("card.create", f"card:{c.out_track_id}:create", payload, ("api:card",))
            )
        # Straight to the driver (storage/bulk.py): a dispatch creates a thousand cards, and ORM
        # objects for them would cost more than the statement.
        insert_rows(
            self.session,
            CardInstance.__table__,
            CARD_COLUMNS,
            rows,
            constants={"version": 1, "state": "active", "created_at": self.now, "updated_at": self.now},
        )
        outbox.enqueue_many(
            self.session, pending, now=self.now, max_attempts=self.settings.outbox_max_attempts
        )

    def _new_card(
        self,
        template_key: str,
        out_track_id: str,
        to: Group | str,
        params: dict[str, str],
        audience: Sequence[str],
        entity: tuple[str, Any] | None,
        at_users: dict[str, str] | None,
    ) -> tuple[CardInstance, dict[str, Any]]:
        space_type, space_id, payload = self._card_payload(template_key, out_track_id, to, params, at_users)
        card = CardInstance(
            out_track_id=out_track_id,
            template_key=template_key,
            space_type=space_type,
            space_id=space_id,
            audience=list(audience),
            entity_type=entity[0] if entity else None,
            entity_id=str(entity[1]) if entity else None,
            params=dict(params),
            version=1,
            state="active",
            created_at=self.now,
            updated_at=self.now,
        )
        return card, payload

    def _card_payload(
        self,
        template_key: str,
        out_track_id: str,
        to: Group | str,
        params: dict[str, str],
        at_users: dict[str, str] | None,
    ) -> tuple[str, str, dict[str, Any]]:
        """(space type, space id, the createAndDeliver body) of a new card."""
        if isinstance(to, Group):
            space_type, space_id = "IM_GROUP", to.conversation_id
        else:
            space_type, space_id = "IM_ROBOT", to
        payload: dict[str, Any] = {
            "templateKey": template_key,
            "cardTemplateId": self.settings.card_template_id(template_key),
            "outTrackId": out_track_id,
            "callbackType": self.settings.card_callback_type,
            "cardData": {"cardParamMap": dict(params)},
            "openSpaceId": f"dtv1.card//{space_type}.{space_id}",
            "userIdType": 1,
        }
        if self.settings.card_callback_type == "HTTP":
            payload["callbackRouteKey"] = self.settings.card_callback_route_key
        if space_type == "IM_GROUP":
            payload["imGroupOpenSpaceModel"] = {"supportForward": True}
            deliver: dict[str, Any] = {"robotCode": self.settings.robot_code}
            if at_users:
                deliver["atUserIds"] = at_users
            payload["imGroupOpenDeliverModel"] = deliver
        else:
            payload["imRobotOpenSpaceModel"] = {"supportForward": False}
            payload["imRobotOpenDeliverModel"] = {
                "spaceType": "IM_ROBOT",
                "robotCode": self.settings.robot_code,
            }
        return space_type, space_id, payload

    def update_card(
        self, out_track_id: str, params: dict[str, str], *, readonly: bool | None = None
    ) -> CardInstance:
        """Change a card for everyone. Only the newest unsent state is delivered (coalesced)."""
        _check_params(params)
        card = self.session.get(CardInstance, out_track_id, with_for_update=True)
        if card is None:
            raise KeyError(f"unknown card {out_track_id}")
        merged = dict(card.params)
        merged.update(params)
        if merged == card.params and (readonly is None or (card.state == "readonly") == readonly):
            return card
        card.params = merged
        card.version = card.version + 1
        card.updated_at = self.now
        if readonly is not None:
            card.state = "readonly" if readonly else "active"
        self.enqueue(
            "card.update",
            {"outTrackId": out_track_id, "cardData": {"cardParamMap": merged}, "userIdType": 1},
            key=f"card:{out_track_id}:v{card.version}",
            rate_keys=["api:card"],
            coalesce_key=f"card:{out_track_id}",
        )
        return card

    # -- time -------------------------------------------------------------------------------
    def schedule(
        self, kind: str, ref: str, due_at: datetime, *, key: str, payload: dict[str, Any] | None = None
    ) -> bool:
        return due_items.schedule(
            self.session, kind=kind, ref=ref, due_at=due_at, dedupe_key=key, payload=payload
        )

    def cancel_due(self, ref: str, *kinds: str) -> int:
        return due_items.cancel(self.session, ref=ref, kinds=kinds or None, now=self.now)


class CommandContext(Context):
    """A chat message being handled."""

    def __init__(self, *, message: RobotMessage, command: Command | None, args: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.command = command
        self.args = args

    @property
    def is_group(self) -> bool:
        return self.message.is_group

    @property
    def conversation_id(self) -> str:
        return self.message.conversationId

    @property
    def here(self) -> Destination:
        """Where a reply goes: the group, or the sender's 1:1 chat with the robot."""
        if self.message.is_group:
            return Group(self.message.conversationId)
        return Users.of(self.staff_id or "")

    def reply(self, text: str) -> None:
        self.send_text(self.here, text, key=self._next_key("reply"))

    def reply_markdown(self, title: str, text: str) -> None:
        self.send_markdown(self.here, title, text, key=self._next_key("reply"))


class CardContext(Context):
    """A card callback being handled."""

    def __init__(self, *, card: CardInstance, action_id: str, params: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.card = card
        self.action_id = action_id
        self.params = params

    def param(self, name: str, default: str = "") -> str:
        """A form value as text (selects may arrive as objects with a ``value`` or ``index``)."""
        value = self.params.get(name, default)
        if isinstance(value, dict):
            value = value.get("value", value.get("text", value.get("index", default)))
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        return "" if value is None else str(value).strip()


class TickContext(Context):
    """A periodic scan or a due item, acting as the system."""


@dataclass
class JobContext:
    """A background job in the worker. It may call the platform and open its own transactions."""

    db: Database
    settings: Settings
    client: DingTalkClient
    audit_log: AuditLog
    now: datetime
    attempt: int
    outbox_id: int


def _batches(items: Sequence[str], size: int) -> Iterable[tuple[str, ...]]:
    items = tuple(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_params(params: dict[str, str]) -> None:
    for name, value in params.items():
        if not isinstance(value, str):
            raise TypeError(f"cardParamMap value for {name!r} must be a string, got {type(value).__name__}")


def content_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
