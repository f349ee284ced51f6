"""Card builder for the rectification follow-up (service, on-the-spot correction, re-check).
Pure: view values in, cardParamMap out (``cards.spec``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cards.spec import render

SERVICE_METHODS = {
    "on_site": "当场送达",
    "direct": "直接送达",
    "post": "邮寄送达",
    "electronic": "电子送达",
    "notice": "公告送达",
}


@dataclass
class RectificationCardView:
    rectification_id: int
    title: str
    status: str
    fields: list[tuple[str, str]]
    facts: str
    note: str
    can_serve: bool = False
    can_on_spot: bool = False
    can_recheck: bool = False
    now_default: str = ""
    team: list[tuple[str, str]] = field(default_factory=list)  # (inspector id, label)
    team_default: list[str] = field(default_factory=list)
    targets: list[tuple[str, str]] = field(default_factory=list)  # (value, label)


def rectification_card(view: RectificationCardView) -> dict[str, str]:
    return render(
        "rectification_card",
        title=view.title,
        status=view.status,
        fields=[{"label": label, "value": value} for label, value in view.fields],
        facts=view.facts,
        note=view.note,
        can_serve=view.can_serve,
        can_on_spot=view.can_on_spot,
        can_recheck=view.can_recheck,
        now_default=view.now_default,
        team_options=[{"value": value, "label": label} for value, label in view.team],
        team_default=view.team_default,
        target_options=[{"value": value, "label": label} for value, label in view.targets],
        rectification=str(view.rectification_id),
    )
