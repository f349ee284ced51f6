"""The transfer (移送) state machine, domain.md §11.5 (国务院令310号), checked at import.

reported --approve--> approved (head, within 3 days) | --refuse--> refused (reasons kept)
approved --transfer--> transferred (within 24 hours; the four attachments required)
transferred --police_file--> police_filed (police decide within 3 days)
transferred --police_refuse--> police_refused
police_refused --reconsider--> reconsideration (asked within 3 days)
police_refused --supervise--> supervision (the procuratorate is asked to supervise)
police_filed --hand_over--> handed_over (items and files within 3 days)
{refused, police_refused, reconsideration, supervision, handed_over} --close--> closed
"""

from __future__ import annotations

STATES = (
    "reported",
    "approved",
    "refused",
    "transferred",
    "police_filed",
    "police_refused",
    "reconsideration",
    "supervision",
    "handed_over",
    "closed",
)
STATE_LABELS = {
    "reported": "待负责人审批",
    "approved": "已批准，待移送",
    "refused": "负责人不批准",
    "transferred": "已移送，待公安机关决定",
    "police_filed": "公安机关已立案，待移交涉案物品",
    "police_refused": "公安机关不予立案",
    "reconsideration": "已申请复议",
    "supervision": "已提请检察机关监督",
    "handed_over": "已移交涉案物品和材料",
    "closed": "已办结",
}
TRANSITIONS: dict[tuple[str, str], str] = {
    ("reported", "approve"): "approved",
    ("reported", "refuse"): "refused",
    ("approved", "transfer"): "transferred",
    ("transferred", "police_file"): "police_filed",
    ("transferred", "police_refuse"): "police_refused",
    ("police_refused", "reconsider"): "reconsideration",
    ("police_refused", "supervise"): "supervision",
    ("police_filed", "hand_over"): "handed_over",
    ("refused", "close"): "closed",
    ("police_refused", "close"): "closed",
    ("reconsideration", "close"): "closed",
    ("supervision", "close"): "closed",
    ("handed_over", "close"): "closed",
}
EVENT_LABELS = {
    "approve": "批准移送",
    "refuse": "不批准移送",
    "transfer": "标记已移送",
    "police_file": "登记公安机关立案",
    "police_refuse": "登记公安机关不予立案",
    "reconsider": "申请复议",
    "supervise": "提请监督",
    "hand_over": "登记移交",
    "close": "办结",
}


class IllegalTransition(ValueError):
    """The message is for users."""


def next_state(state: str, event: str) -> str:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(
            f"这件移送当前为「{STATE_LABELS.get(state, state)}」，不能{EVENT_LABELS.get(event, event)}。"
        ) from None


def _check() -> None:
    for (source, event), target in TRANSITIONS.items():
        if source not in STATES or target not in STATES or event not in EVENT_LABELS:
            raise AssertionError(f"bad transition {source} -{event}-> {target}")
    terminal = {s for s in STATES if not any(src == s for src, _ in TRANSITIONS)}
    if terminal != {"closed"}:
        raise AssertionError(f"unexpected terminal states {terminal}")


_check()
