"""Sending result cards and keeping every copy current (members' result cards, the lead's review
cards). A card that was clicked is not updated through the outbox: the callback answer carries
its new params, so callers get them back instead."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Context
from handlers.results.records import Loaded, Member
from handlers.results.views import ENTITY, REVIEW_ENTITY, card_params, cards_of, review_params
from handlers.tasks import service as tasks
from storage.identity import staff_ids_of
from storage.models import CardInstance, Person

READONLY_STATES = ("reviewed", "withdrawn")


def card_id(assignment_id: int, inspector_id: int, suffix: str = "") -> str:
    return f"result-{assignment_id}-{inspector_id}{suffix}"


def review_card_id(record_id: int, person_id: int) -> str:
    return f"review-{record_id}-{person_id}"


def send_result_card(ctx: Context, loaded: Loaded, member: Member, *, suffix: str = "") -> str | None:
    """Give one member a copy of the record's card in their 1:1 chat (a new message when the
    copy is new; an existing copy is brought up to date)."""
    if member.staff_id is None:
        return None
    out = card_id(loaded.assignment.id, member.inspector.id, suffix)
    existing = ctx.session.get(CardInstance, out)
    params = card_params(ctx, loaded, member.inspector.person_id, existing.params if existing else None)
    ctx.send_card(
        "result_card",
        out,
        member.staff_id,
        params,
        audience=(member.staff_id,),
        entity=(ENTITY, loaded.record.id),
    )
    return out


def refresh_cards(
    ctx: Context,
    loaded: Loaded,
    *,
    clicked: str | None = None,
    remint: bool = False,
    editing: bool | None = None,
    clicked_note: str = "",
    settled: str | None = None,
) -> dict[str, str]:
    """Bring every copy up to date; returns the clicked copy's params (empty if none clicked).

    ``settled``: a version's submission id; copies already built on that version (their
    ``deprecated_id`` names it: the submitter's clicked card, a teammate's 修改结果) keep their
    own submission id and editing state, the others get ``remint``/``editing``."""
    answer: dict[str, str] = {}
    readonly = loaded.record.state in READONLY_STATES
    for card in cards_of(ctx, loaded.record.id):
        staff = card.audience[0] if card.audience else None
        member = next((m for m in loaded.team if m.staff_id == staff), None)
        if member is None:
            if card.state != "readonly" and card.out_track_id != clicked:
                ctx.update_card(
                    card.out_track_id,
                    {
                        "editing": "false",
                        "can_modify": "false",
                        "note": "您已不在本户检查组中，这张卡片已失效。",
                    },
                    readonly=True,
                )
            continue
        keep = settled is not None and card.params.get("deprecated_id") == settled
        params = card_params(
            ctx,
            loaded,
            member.inspector.person_id,
            card.params,
            remint=remint and not keep,
            editing=None if keep else editing,
            extra_note=clicked_note if card.out_track_id == clicked else "",
        )
        if card.out_track_id == clicked:
            answer = params
            if readonly:
                card.state = "readonly"
            continue
        ctx.update_card(card.out_track_id, params, readonly=True if readonly else None)
    return answer


def send_review_cards(ctx: Context, loaded: Loaded) -> None:
    """Each admin of the lead unit gets (or sees updated) the review card of this record."""
    admins = tasks.unit_admins(ctx.session, [loaded.task.lead_unit_id])
    staff = {p.id: s for p, s in zip(admins, _staff(ctx, admins), strict=True)}
    params = review_params(ctx, loaded)
    for person_id, staff_id in staff.items():
        if not staff_id:
            continue
        out = review_card_id(loaded.record.id, person_id)
        existing = ctx.session.get(CardInstance, out)
        if existing is not None and existing.state == "readonly":
            ctx.update_card(out, params, readonly=False)
            continue
        ctx.send_card(
            "result_review",
            out,
            staff_id,
            params,
            audience=(staff_id,),
            entity=(REVIEW_ENTITY, loaded.record.id),
        )


def refresh_review_cards(
    ctx: Context, loaded: Loaded, *, clicked: str | None = None, note: str = ""
) -> dict[str, str]:
    params = review_params(ctx, loaded, note=note)
    done = loaded.record.state != "submitted"
    answer: dict[str, str] = {}
    cards = ctx.session.execute(
        select(CardInstance).where(
            CardInstance.entity_type == REVIEW_ENTITY, CardInstance.entity_id == str(loaded.record.id)
        )
    ).scalars()
    for card in cards:
        if card.out_track_id == clicked:
            answer = params
            if done:
                card.state = "readonly"
            continue
        ctx.update_card(card.out_track_id, params, readonly=done)
    return answer


def _staff(ctx: Context, people: list[Person]) -> list[str | None]:
    mapping = staff_ids_of(ctx.session, [p.id for p in people], corp_id=ctx.settings.corp_id)
    return [mapping.get(p.id) for p in people]
