"""Route one inbound event to one handler, inside the caller's transaction.

Access is denied by default: a command runs only for a bound person holding one of its roles
(or for anyone when it is public). A refusal is polite, audited, and changes nothing else.
A ``UserError`` rolls back what the handler wrote and is answered in plain Chinese: a command's
raises ``CommandFailed`` so that the inbound route rolls the whole transaction back and answers in a
fresh one (no savepoint on the busiest path: SAVEPOINT and RELEASE cost as much as the rest of a
帮助), a card action's is undone with a savepoint (its answer is the callback's response).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.context import CardContext, CardResult, CommandContext, UserError
from bot.router import Router
from storage.models.platform import ROLE_AUDITOR, ROLE_INSPECTOR, ROLE_LEADER, ROLE_SYSADMIN, ROLE_UNIT_ADMIN

log = logging.getLogger(__name__)

ROLE_LABELS = {
    ROLE_INSPECTOR: "执法检查人员",
    ROLE_UNIT_ADMIN: "单位管理员",
    ROLE_LEADER: "局领导",
    ROLE_AUDITOR: "审计员",
    ROLE_SYSADMIN: "系统管理员",
}

UNKNOWN_COMMAND = "没有找到这个命令。发送「帮助」查看可用的命令。"
NOT_BOUND = "您还没有登记为本系统的用户，暂时不能使用这个功能。请联系本单位管理员登记。"
NON_TEXT_HINT = "暂不支持在这里处理这类消息。发送「帮助」查看可用的命令。"


class CommandFailed(Exception):
    """A command refused with a ``UserError``: roll back everything and reply with ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def role_text(roles: frozenset[str]) -> str:
    return "、".join(ROLE_LABELS.get(role, role) for role in sorted(roles))


def _denial(ctx: Any, roles: frozenset[str], public: bool, what: str) -> str | None:
    """Return a refusal message, or None when the caller may go on."""
    if public:
        return None
    if ctx.person is None or not ctx.person.active:
        return NOT_BOUND
    if not roles:
        return None
    held = ctx.person.role_names()
    if held & roles or ROLE_SYSADMIN in held:
        return None
    return f"「{what}」需要{role_text(roles)}权限，您暂无此权限。如需办理，请联系本单位管理员。"


def handle_message(router: Router, ctx: CommandContext) -> None:
    message = ctx.message
    if message.kind in ("text", "richText") and message.command_text:
        command, args = router.match(message.command_text)
        ctx.command, ctx.args = command, args
        # Not a command: a picture with a caption goes to the message handler below.
        if command is None and not (_has_files(message) and message.kind in router.message_kinds):
            ctx.reply(UNKNOWN_COMMAND)
            return
    command = ctx.command
    if command is not None:
        if command.where == "group" and not message.is_group:
            ctx.reply(f"「{command.word}」需要在工作群里 @我 使用。")
            return
        if command.where == "private" and message.is_group:
            ctx.reply(f"「{command.word}」涉及个人信息，请在与我的单聊中使用。")
            return
        refusal = _denial(ctx, command.roles, command.public, command.word)
        if refusal:
            ctx.audit(
                "access.denied",
                "command",
                command.word,
                detail={"staff_id": ctx.staff_id, "roles": sorted(command.roles)},
            )
            ctx.reply(refusal)
            return
        _run(ctx, lambda: command.func(ctx))
        return
    handler = router.message_kinds.get(message.kind)
    if handler is None:
        ctx.reply(NON_TEXT_HINT)
        return
    refusal = _denial(ctx, handler.roles, False, "发送材料")
    if refusal:
        ctx.audit("access.denied", "message", message.kind, detail={"staff_id": ctx.staff_id})
        ctx.reply(refusal)
        return
    _run(ctx, lambda: handler.func(ctx))


def _has_files(message: Any) -> bool:
    content = message.content or {}
    return any(isinstance(item, dict) and item.get("downloadCode") for item in content.get("richText", []))


def _run(ctx: CommandContext, call: Any) -> None:
    try:
        call()
    except UserError as problem:
        raise CommandFailed(problem.message) from problem


def handle_card(router: Router, ctx: CardContext) -> dict[str, Any]:
    """Run a card action and build the callback response (the card update)."""
    card = ctx.card
    if card.audience and ctx.staff_id not in card.audience:
        ctx.audit(
            "access.denied",
            "card",
            card.out_track_id,
            detail={"staff_id": ctx.staff_id, "reason": "audience"},
        )
        return respond(CardResult(toast="这张卡片不是发给您的，您不能操作。"))
    if card.state == "readonly":
        return respond(CardResult(toast="这张卡片已处理完毕或已失效，不能再操作。"))
    action = router.card_action_for(card.template_key, ctx.action_id)
    if action is None:
        return respond(CardResult(toast="未知的操作，请刷新卡片后重试。"))
    refusal = _denial(ctx, action.roles, False, "该操作")
    if refusal:
        ctx.audit(
            "access.denied",
            "card",
            card.out_track_id,
            detail={"staff_id": ctx.staff_id, "action": ctx.action_id},
        )
        return respond(CardResult(toast=refusal))
    savepoint = ctx.session.begin_nested()
    try:
        result = action.func(ctx) or CardResult()
    except UserError as problem:
        savepoint.rollback()
        errors = json.dumps(problem.fields, ensure_ascii=False) if problem.fields else ""
        return respond(CardResult(toast=problem.message, private={"errors": errors} if errors else {}))
    savepoint.commit()
    if result.update or result.readonly:
        merged = dict(card.params)
        merged.update(result.update)
        card.params = merged
        card.version = card.version + 1
        card.updated_at = ctx.now
        if result.readonly:
            card.state = "readonly"
    return respond(result)


def respond(result: CardResult) -> dict[str, Any]:
    private = dict(result.private)
    if result.toast is not None:
        private["toast"] = result.toast
    body: dict[str, Any] = {
        "cardUpdateOptions": {"updateCardDataByKey": True, "updatePrivateDataByKey": True}
    }
    if result.update:
        body["cardData"] = {"cardParamMap": dict(result.update)}
    if private:
        body["userPrivateData"] = {"cardParamMap": private}
    return body
