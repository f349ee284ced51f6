"""The router: what the bot can do, registered by ``handlers`` at start-up.

Four kinds of registration:
- commands: Chinese command words (with aliases) typed after the @-mention or in a 1:1 chat;
- card actions: (card template key, actionId) pairs from card callbacks;
- message kinds: non-text messages (pictures, files, audio, video) in a chat;
- background work: periodic scans and due-item handlers for the ticker, job kinds for the worker.

Registrations are validated when made (duplicates raise), like a state machine checked at import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.context import CardContext, CardResult, CommandContext, JobContext, TickContext

Where = str  # "any" | "group" | "private"


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    summary: str
    usage: str
    roles: frozenset[str]
    public: bool
    where: Where
    func: Callable[[CommandContext], None]
    section: str = "常用"

    @property
    def word(self) -> str:
        return self.words[0]


@dataclass(frozen=True)
class CardAction:
    template_key: str
    action_id: str
    roles: frozenset[str]
    func: Callable[[CardContext], CardResult | None]


@dataclass(frozen=True)
class MessageKind:
    kind: str
    roles: frozenset[str]
    func: Callable[[CommandContext], None]


@dataclass(frozen=True)
class Periodic:
    name: str
    seconds: float
    func: Callable[[TickContext], None]


@dataclass
class Router:
    commands: list[Command] = field(default_factory=list)
    card_actions: dict[tuple[str, str], CardAction] = field(default_factory=dict)
    message_kinds: dict[str, MessageKind] = field(default_factory=dict)
    periodics: dict[str, Periodic] = field(default_factory=dict)
    due_handlers: dict[str, Callable[[TickContext, Any], None]] = field(default_factory=dict)
    # Kinds handled many at a time (a list of due items per call): reminders that must keep up
    # with thousands of rows per tick.
    due_batch_handlers: dict[str, Callable[[TickContext, list[Any]], None]] = field(default_factory=dict)
    jobs: dict[str, Callable[[JobContext, dict[str, Any]], str | None]] = field(default_factory=dict)
    _words: dict[str, Command] = field(default_factory=dict)

    # -- registration -------------------------------------------------------------------
    def command(
        self,
        *words: str,
        summary: str,
        usage: str = "",
        roles: frozenset[str] | set[str] | tuple[str, ...] = (),
        public: bool = False,
        where: Where = "any",
        section: str = "常用",
    ) -> Callable[[Callable[[CommandContext], None]], Callable[[CommandContext], None]]:
        """Register a command. ``roles`` empty = any bound person; ``public`` = strangers too."""
        if not words:
            raise ValueError("a command needs at least one word")
        if where not in ("any", "group", "private"):
            raise ValueError(f"bad where={where!r}")

        def decorate(func: Callable[[CommandContext], None]) -> Callable[[CommandContext], None]:
            cmd = Command(tuple(words), summary, usage, frozenset(roles), public, where, func, section)
            for word in words:
                if not word or any(ch.isspace() for ch in word):
                    raise ValueError(f"command word {word!r} must be non-empty without spaces")
                if word in self._words:
                    raise ValueError(f"command word {word!r} registered twice")
                self._words[word] = cmd
            self.commands.append(cmd)
            return func

        return decorate

    def card_action(
        self, template_key: str, *action_ids: str, roles: frozenset[str] | set[str] | tuple[str, ...] = ()
    ) -> Callable[[Callable[[CardContext], CardResult | None]], Callable[[CardContext], CardResult | None]]:
        def decorate(
            func: Callable[[CardContext], CardResult | None],
        ) -> Callable[[CardContext], CardResult | None]:
            for action_id in action_ids:
                key = (template_key, action_id)
                if key in self.card_actions:
                    raise ValueError(f"card action {key} registered twice")
                self.card_actions[key] = CardAction(template_key, action_id, frozenset(roles), func)
            return func

        return decorate

    def on_message(
        self, kind: str, roles: frozenset[str] | set[str] | tuple[str, ...] = ()
    ) -> Callable[[Callable[[CommandContext], None]], Callable[[CommandContext], None]]:
        def decorate(func: Callable[[CommandContext], None]) -> Callable[[CommandContext], None]:
            if kind in self.message_kinds:
                raise ValueError(f"message kind {kind!r} registered twice")
            self.message_kinds[kind] = MessageKind(kind, frozenset(roles), func)
            return func

        return decorate

    def periodic(
        self, name: str, seconds: float
    ) -> Callable[[Callable[[TickContext], None]], Callable[[TickContext], None]]:
        def decorate(func: Callable[[TickContext], None]) -> Callable[[TickContext], None]:
            if name in self.periodics:
                raise ValueError(f"periodic scan {name!r} registered twice")
            self.periodics[name] = Periodic(name, seconds, func)
            return func

        return decorate

    def on_due(
        self, kind: str
    ) -> Callable[[Callable[[TickContext, Any], None]], Callable[[TickContext, Any], None]]:
        def decorate(func: Callable[[TickContext, Any], None]) -> Callable[[TickContext, Any], None]:
            if kind in self.due_handlers or kind in self.due_batch_handlers:
                raise ValueError(f"due kind {kind!r} registered twice")
            self.due_handlers[kind] = func
            return func

        return decorate

    def on_due_batch(
        self, kind: str
    ) -> Callable[[Callable[[TickContext, list[Any]], None]], Callable[[TickContext, list[Any]], None]]:
        """Like ``on_due``, but the handler gets every claimed item of ``kind`` in one call.

        The ticker runs the batch in one savepoint; if it fails, each item is retried alone so
        one bad row is postponed without holding back the others.
        """

        def decorate(
            func: Callable[[TickContext, list[Any]], None],
        ) -> Callable[[TickContext, list[Any]], None]:
            if kind in self.due_handlers or kind in self.due_batch_handlers:
                raise ValueError(f"due kind {kind!r} registered twice")
            self.due_batch_handlers[kind] = func
            return func

        return decorate

    def job(
        self, kind: str
    ) -> Callable[
        [Callable[[JobContext, dict[str, Any]], str | None]],
        Callable[[JobContext, dict[str, Any]], str | None],
    ]:
        def decorate(
            func: Callable[[JobContext, dict[str, Any]], str | None],
        ) -> Callable[[JobContext, dict[str, Any]], str | None]:
            if kind in self.jobs:
                raise ValueError(f"job kind {kind!r} registered twice")
            self.jobs[kind] = func
            return func

        return decorate

    # -- lookup -----------------------------------------------------------------------------
    def match(self, text: str) -> tuple[Command | None, str]:
        """Find the command a text starts with. Returns (command, arguments).

        The first whitespace-separated token is tried first; otherwise the longest command word
        the text begins with wins, so ``查对象丽水`` works as well as ``查对象 丽水``.
        """
        text = text.strip()
        if not text:
            return None, ""
        head, _, rest = text.partition(" ")
        head = head.strip()
        if head in self._words:
            return self._words[head], rest.strip()
        for word in sorted(self._words, key=len, reverse=True):
            if text.startswith(word):
                return self._words[word], text[len(word) :].strip()
        return None, text

    def card_action_for(self, template_key: str, action_id: str) -> CardAction | None:
        return self.card_actions.get((template_key, action_id))
