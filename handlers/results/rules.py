"""The rules a submitted result must meet (BR-15, BR-18, BR-22), as one pure function.

``check(values, facts)`` takes the form values exactly as a card or the mobile form sends them
(strings, lists, "true"/"false") and returns the normalised content to store, or the problems
per field. No session, clock or Flask: the caller passes what it knows in ``Facts``, so the same
rules run for the card, the web form and the tests, and a refusal stores nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from storage.base import canonical_json
from storage.models import ITEM_RESULTS, METHOD_LABELS, NOTICES, RESULT_CODES

MIN_INSPECTORS = 2  # 行政处罚法第四十二条; never a setting (BR-04)
FAILED = ("fail", "fail_now")
SIGNATURE_MODES = {
    "paper": "当事人已在纸质现场检查记录上签名",
    "electronic": "当事人已在移动表单上签名",
    "refused": "当事人拒绝签名（有见证人）",
    "absent": "无人在场，无法签名",
}
FOLLOW_UP_CODES = ("A", "E")  # codes that need findings (BR-18)
TEXT_LIMIT = 1000
_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::\d{2})?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@dataclass(frozen=True)
class ItemFacts:
    id: int
    name: str
    default_days: int
    min_days: int


@dataclass(frozen=True)
class MemberFacts:
    inspector_id: int
    name: str
    certified: bool  # a valid certificate on the inspection day (BR-05)


@dataclass(frozen=True)
class Facts:
    items: list[ItemFacts]
    team: list[MemberFacts]
    now_local: datetime  # naive local time (Beijing) of the submission
    place_default: str = ""
    signatures: Mapping[str, str] = field(default_factory=dict)  # role -> sha256 already stored

    @property
    def today(self) -> date:
        return self.now_local.date()


@dataclass
class Outcome:
    content: dict[str, Any]
    errors: dict[str, str]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


def text(value: Any, limit: int = TEXT_LIMIT) -> str:
    """A form value as text: lists joined, dicts (some clients send selects as objects) unwrapped."""
    if type(value) is str:  # nearly every value: skip the other checks
        return value.strip()[:limit]
    if isinstance(value, dict):
        value = value.get("value", value.get("text", ""))
    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    return ("" if value is None else str(value)).strip()[:limit]


def choices(value: Any) -> list[str]:
    """A multiselect value: a list, or comma-separated text."""
    if isinstance(value, list | tuple):
        return [part for part in (text(v) for v in value) if part]
    return [part.strip() for part in text(value).split(",") if part.strip()]


def flag(value: Any) -> bool:
    return text(value).lower() in ("true", "1", "on", "yes")


def parse_datetime(value: str) -> datetime | None:
    match = _DATETIME.match(value)
    if match is None:
        return None
    try:
        return datetime(*(int(part) for part in match.groups()))  # type: ignore[misc]
    except ValueError:
        return None


def parse_date(value: str) -> date | None:
    match = _DATE.match(value)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def minute(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def default_deadline(today: date, item: ItemFacts) -> date:
    return today + timedelta(days=max(1, item.default_days))


def check(values: Mapping[str, Any], facts: Facts) -> Outcome:
    """Validate and normalise one submission. ``errors`` maps form field names to messages."""
    errors: dict[str, str] = {}
    warnings: list[str] = []
    all_pass = flag(values.get("all_pass"))

    method = text(values.get("method"))
    if method not in METHOD_LABELS:
        errors["method"] = "请选择实际采用的检查方式"

    started = parse_datetime(text(values.get("started_at")))
    ended_text = text(values.get("ended_at"))
    ended = parse_datetime(ended_text) if ended_text else facts.now_local.replace(second=0, microsecond=0)
    if started is None:
        errors["started_at"] = "请填写开始时间，例如 2026-12-03 09:00"
    elif started > facts.now_local + timedelta(minutes=5):
        errors["started_at"] = "开始时间不能晚于现在"
    if ended is None:
        errors["ended_at"] = "结束时间格式不对，例如 2026-12-03 10:30（留空按提交时间记录）"
    elif ended > facts.now_local + timedelta(minutes=5):
        errors["ended_at"] = "结束时间不能晚于现在"
    elif started is not None and ended < started:
        errors["ended_at"] = "结束时间不能早于开始时间"

    place = text(values.get("place"), 300) or facts.place_default
    if method == "on_site" and not place:
        errors["place"] = "实地核查请填写检查地点"
    location = _location(values)

    nobody = flag(values.get("nobody_present"))
    present = {
        "nobody": nobody,
        "name": "" if nobody else text(values.get("present_name"), 50),
        "position": "" if nobody else text(values.get("present_position"), 50),
        "phone": "" if nobody else text(values.get("present_phone"), 30),
    }
    if not nobody and not present["name"]:
        errors["present_name"] = "请填写在场人员姓名和职务，或勾选「无人在场」"

    team = {m.inspector_id: m for m in facts.team}
    wanted = values.get("inspectors")
    picked = [int(v) for v in choices(wanted) if v.isdigit()] if wanted not in (None, "") else list(team)
    wanted_ids = set(picked)
    picked = [i for i in team if i in wanted_ids]  # team order, no strangers, no repeats
    uncertified = [team[i].name for i in picked if not team[i].certified]
    if len(picked) < MIN_INSPECTORS:
        errors["inspectors"] = (
            f"检查人员不少于{MIN_INSPECTORS}名（《行政处罚法》第四十二条），当前 {len(picked)} 名"
        )
    elif uncertified:
        errors["inspectors"] = f"{'、'.join(uncertified)}的执法证在检查当日无效，不能作为检查人员"

    items = []
    failed = 0
    for index, item in enumerate(facts.items, start=1):
        name = f"item_{index}"
        result = "pass" if all_pass else text(values.get(name))
        note = text(values.get(f"{name}_note"))
        requirements = text(values.get(f"{name}_requirements"))
        entry: dict[str, Any] = {"item": item.id, "result": result, "note": note, "deadline": None}
        if result not in ITEM_RESULTS:
            errors[name] = f"请选择「{item.name}」的检查结果"
        elif result in FAILED:
            failed += 1
            if not note:
                errors[f"{name}_note"] = "判定不合格的，须写明查实的事实"
            if result == "fail":
                entry["deadline"] = _deadline(values, name, item, facts, errors, warnings)
            entry["requirements"] = requirements
        items.append(entry)

    chosen = set(choices(values.get("codes")))
    codes = [code for code in RESULT_CODES if code in chosen]
    if all_pass and (not codes or codes == ["1"]):
        codes = ["1"]
    if not codes:
        errors["codes"] = "请至少选择一项检查结果代码"
    elif failed and not set(codes) & set(FOLLOW_UP_CODES):
        errors["codes"] = "有不合格事项的，结果代码须包含 A（待后续处理）或 E（经责令已改正）"
    elif not failed and set(codes) & set(FOLLOW_UP_CODES):
        errors["codes"] = "结果代码 A、E 须有不合格事项（发现的问题）作依据"
    elif failed and "1" in codes:
        errors["codes"] = "有不合格事项的，不能选择「1 未发现问题」"

    given = set(choices(values.get("notices")))
    notices = [key for key in NOTICES if key in given]
    missing = [NOTICES[key].removeprefix("已告知当事人") for key in NOTICES if key not in notices]
    if missing and not nobody:
        warnings.append("未记录告知：" + "；".join(missing))

    signature = _signature(values, facts, nobody, errors)

    content = {
        "method": method,
        "started_at": minute(started) if started else "",
        "ended_at": minute(ended) if ended else "",
        "place": place,
        "location": location,
        "present": present,
        "inspectors": picked,
        "items": items,
        "codes": codes,
        "notices": notices,
        "narrative": text(values.get("narrative"), 2000),
        "measures": text(values.get("measures"), 500),
        "signature": signature,
    }
    return Outcome(content, errors, warnings)


def _deadline(
    values: Mapping[str, Any],
    name: str,
    item: ItemFacts,
    facts: Facts,
    errors: dict[str, str],
    warnings: list[str],
) -> str | None:
    raw = text(values.get(f"{name}_deadline"))
    deadline = parse_date(raw) if raw else default_deadline(facts.today, item)
    if deadline is None:
        errors[f"{name}_deadline"] = "整改期限格式不对，例如 2026-12-18"
        return None
    if deadline <= facts.today:
        errors[f"{name}_deadline"] = "整改期限须晚于今天；需当场改正的，请选择「不合格（立即改正）」"
        return None
    days = (deadline - facts.today).days
    if days < item.min_days:
        warnings.append(
            f"「{item.name}」的整改期限只有 {days} 天，短于该事项的最短期限 {item.min_days} 天，请确认当事人能够完成"
        )
    return deadline.isoformat()


def _location(values: Mapping[str, Any]) -> dict[str, float] | None:
    try:
        lat, lon = float(text(values.get("lat"))), float(text(values.get("lon")))
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    try:
        accuracy = round(float(text(values.get("accuracy"))), 1)
    except ValueError:
        accuracy = -1.0
    return {"lat": round(lat, 6), "lon": round(lon, 6), "accuracy": accuracy}


def _signature(
    values: Mapping[str, Any], facts: Facts, nobody: bool, errors: dict[str, str]
) -> dict[str, Any]:
    mode = text(values.get("signature")) or ("absent" if nobody else "paper")
    witness = text(values.get("witness"), 50)
    party = facts.signatures.get("party")
    inspectors = {
        role.split(":", 1)[1]: sha for role, sha in facts.signatures.items() if role.startswith("inspector:")
    }
    if mode not in SIGNATURE_MODES:
        errors["signature"] = "请选择当事人签名情况"
    elif mode == "refused" and not witness:
        errors["witness"] = "当事人拒绝签名的，须填写见证人姓名"
    elif mode == "electronic" and not party:
        errors["signature"] = "尚未收到当事人的电子签名，请在移动表单上签名，或选择其他签名情况"
    elif mode == "absent" and not nobody:
        errors["signature"] = "有人在场时，请记录当事人签名或拒绝签名的情况"
    return {
        "party": mode,
        "witness": witness if mode == "refused" else "",
        "party_sha": party if mode == "electronic" else None,
        "inspectors": dict(sorted(inspectors.items())),
    }


TRANSPORT = frozenset({"action", "submission_id", "deprecated_id", "draft_version", "version"})


def submission_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 of what was submitted (ODK compares the submission as sent, not as stored): the
    same answers give the same hash whatever their order or the time they arrive; the ids that
    carry the submission are left out."""
    answers = {
        key: choices(value) if isinstance(value, list | tuple) else text(value, 100_000)
        for key, value in values.items()
        if key not in TRANSPORT
    }
    answers = {key: value for key, value in answers.items() if value not in ("", [])}
    return hashlib.sha256(canonical_json(answers).encode()).hexdigest()
