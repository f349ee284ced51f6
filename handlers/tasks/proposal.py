"""A task proposal: reading it from a one-line command or from the form card, and checking it.

Pure functions: no session, no Flask. Error messages name the part that is wrong and say what is
expected, in the words a bureau's staff would use.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

SOURCES = {"plan": "计划检查", "theme": "监管一件事", "complaint": "投诉举报", "referral": "转办交办"}
METHOD_WORDS = {
    "书面检查": "written", "书面": "written", "书面核查": "written",
    "实地核查": "on_site", "实地": "on_site", "实地检查": "on_site", "现场检查": "on_site", "现场": "on_site", "现场核查": "on_site",
    "网络监测": "network", "网络": "network", "线上": "network", "网络检查": "network",
}  # fmt: skip
SOURCE_WORDS = {"计划": "plan", "主题": "theme", "投诉": "complaint", "举报": "complaint", "投诉举报": "complaint",
                "转办": "referral", "交办": "referral", "转办交办": "referral"}  # fmt: skip
DRAW_WORDS = {
    "交叉": "cross_office",
    "所所交叉": "cross_office",
    "交叉检查": "cross_office",
    "平均": "even",
    "平均分配": "even",
}
DRAW_LABELS = {"even": "平均分配", "cross_office": "所所交叉（不查本所辖区）"}
EXEMPT_WORDS = ("不通知", "免通知", "不预先通知", "不事先通知", "暗查")
MAX_WINDOW_DAYS = 92
MAX_OBJECTS = 5000

_DATE = r"(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?"
_SHORT_DATE = r"(\d{1,2})[-./月](\d{1,2})日?"
_RANGE_SEP = r"\s*(?:至|到|~|～|—|－)\s*"
_EXEMPT_PREFIX = re.compile("^(" + "|".join(EXEMPT_WORDS) + ")[:：]?")


@dataclass
class Proposal:
    scenario_id: int | None = None
    theme_id: int | None = None
    source: str = "plan"
    method: str = "on_site"
    window_start: date | None = None
    window_end: date | None = None
    object_count: int | None = None
    object_ratio: float | None = None
    per_object: int = 2
    draw_mode: str = "even"
    prenotice: str = "send"
    prenotice_reason: str = ""
    remarks: str = ""
    area_codes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("window_start", "window_end"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


@dataclass(frozen=True)
class Choice:
    """A scenario or theme the caller may pick, with the words that identify it."""

    id: int
    name: str
    scenario_ids: tuple[int, ...] = ()


def parse_date(text: str, today: date) -> date:
    text = text.strip()
    match = re.fullmatch(_DATE, text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        short = re.fullmatch(_SHORT_DATE, text)
        if not short:
            raise ValueError(f"「{text}」不是日期，请写成 2026-12-01 这样的格式")
        year, month, day = today.year, int(short.group(1)), int(short.group(2))
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"「{text}」不是有效的日期（{year}年{month}月没有{day}日）") from None


def parse_window(text: str, today: date) -> tuple[date, date]:
    parts = re.split(_RANGE_SEP, text.strip(), maxsplit=1)
    start = parse_date(parts[0], today)
    end = parse_date(parts[1], today) if len(parts) == 2 else start
    if len(parts) == 2 and not re.search(r"\d{4}", parts[1]) and end < start:
        end = end.replace(year=end.year + 1)
    return start, end


def _looks_like_window(token: str) -> bool:
    return bool(re.match(r"^\d{1,4}[-./年月]", token))


def _match(token: str, choices: list[Choice]) -> list[Choice]:
    exact = [c for c in choices if c.name == token]
    if exact:
        return exact
    return [c for c in choices if token in c.name]


def parse_one_line(
    text: str, *, today: date, scenarios: list[Choice], themes: list[Choice]
) -> tuple[Proposal | None, list[str]]:
    """Read ``人行道 10家 2026-12-01至2026-12-05 实地核查`` and the like."""
    proposal = Proposal()
    errors: list[str] = []
    text = text.replace("\u3000", " ").strip()
    remarks_match = re.search(r"备注[:：]\s*(.*)$", text)
    if remarks_match:
        proposal.remarks = remarks_match.group(1).strip()
        text = text[: remarks_match.start()].strip()
    # Join "2026-12-01 至 2026-12-05" written with spaces into one token.
    text = re.sub(r"\s+(至|到|~|～)\s+", r"\1", text)
    tokens = [token for token in text.split() if token]
    reference: str | None = None
    seen_window = False
    for token in tokens:
        if token in METHOD_WORDS:
            proposal.method = METHOD_WORDS[token]
        elif token in SOURCE_WORDS:
            proposal.source = SOURCE_WORDS[token]
        elif token in DRAW_WORDS:
            proposal.draw_mode = DRAW_WORDS[token]
        elif any(token.startswith(word) for word in EXEMPT_WORDS):
            proposal.prenotice = "exempt"
            reason = _EXEMPT_PREFIX.sub("", token).strip("（）()")
            proposal.prenotice_reason = reason
        elif m := re.fullmatch(r"(\d+)\s*(家|户|个)", token):
            proposal.object_count = int(m.group(1))
        elif m := re.fullmatch(r"(\d+(?:\.\d+)?)\s*[%％]", token):
            proposal.object_ratio = float(m.group(1))
        elif m := re.fullmatch(r"(?:每户|每组|每家)(\d+)人|(\d+)人一组|(\d+)人/户", token):
            proposal.per_object = int(next(g for g in m.groups() if g))
        elif _looks_like_window(token):
            if seen_window:
                errors.append(f"「{token}」：检查时间只能写一段，例如 2026-12-01至2026-12-05")
                continue
            seen_window = True
            try:
                proposal.window_start, proposal.window_end = parse_window(token, today)
            except ValueError as exc:
                errors.append(f"检查时间{exc}")
        elif reference is None:
            reference = token
        else:
            errors.append(
                f"「{token}」看不懂：可以写检查方式（书面检查/实地核查/网络监测）、数量（如 10家 或 5%）、"
                "时间（如 2026-12-01至2026-12-05）、每户人数（如 每户2人）、交叉、不通知:理由、备注:内容"
            )
    if reference is None:
        errors.append(
            "缺少检查场景：请写场景名称，例如「发起检查 人行道 10家 2026-12-01至2026-12-05 实地核查」"
        )
    else:
        _resolve_reference(reference, proposal, scenarios, themes, errors)
    if not seen_window:
        errors.append("缺少检查时间：请写成 2026-12-01至2026-12-05")
    if errors:
        return None, errors
    return proposal, []


def _resolve_reference(
    reference: str, proposal: Proposal, scenarios: list[Choice], themes: list[Choice], errors: list[str]
) -> None:
    found = _match(reference, scenarios)
    if len(found) == 1:
        proposal.scenario_id = found[0].id
        theme_hits = [t for t in themes if found[0].id in t.scenario_ids and reference in t.name]
        if len(theme_hits) == 1:
            proposal.theme_id = theme_hits[0].id
            if proposal.source == "plan":
                proposal.source = "theme"
        return
    if len(found) > 1:
        names = "、".join(c.name for c in found[:5])
        errors.append(f"「{reference}」对应多个检查场景（{names}），请写完整的场景名称")
        return
    theme_hits = _match(reference, themes)
    usable = [t for t in theme_hits if any(s.id in t.scenario_ids for s in scenarios)]
    if len(usable) == 1:
        theme = usable[0]
        own = [s for s in scenarios if s.id in theme.scenario_ids]
        proposal.theme_id = theme.id
        proposal.scenario_id = own[0].id
        if proposal.source == "plan":
            proposal.source = "theme"
        return
    errors.append(f"没有找到本单位牵头的检查场景「{reference}」。发送「场景」查看可选的场景")


def validate(proposal: Proposal, *, today: date, min_per_object: int = 2) -> dict[str, str]:
    """Field -> problem. Empty when the proposal may be stored."""
    problems: dict[str, str] = {}
    if proposal.scenario_id is None:
        problems["scenario"] = "请选择检查场景"
    if proposal.source not in SOURCES:
        problems["source"] = "任务来源只能是计划检查、监管一件事、投诉举报或转办交办"
    if proposal.method not in ("written", "on_site", "network"):
        problems["method"] = "检查方式只能是书面检查、实地核查或网络监测"
    start, end = proposal.window_start, proposal.window_end
    if start is None or end is None:
        problems["window_start"] = "请填写检查开始和结束日期"
    else:
        if start < today:
            problems["window_start"] = (
                f"开始日期 {start.isoformat()} 已经过去，请选择今天（{today.isoformat()}）或以后的日期"
            )
        if end < start:
            problems["window_end"] = "结束日期不能早于开始日期"
        elif (end - start).days > MAX_WINDOW_DAYS:
            problems["window_end"] = f"检查时间跨度不能超过 {MAX_WINDOW_DAYS} 天，请分批发起"
    if proposal.object_count is None and proposal.object_ratio is None:
        problems["count"] = "请填写抽取的检查对象数量（如 10）或比例（如 5%）"
    elif proposal.object_count is not None and proposal.object_ratio is not None:
        problems["count"] = "数量和比例只填一个"
    elif proposal.object_count is not None and not 1 <= proposal.object_count <= MAX_OBJECTS:
        problems["count"] = f"检查对象数量应在 1 到 {MAX_OBJECTS} 之间"
    elif proposal.object_ratio is not None and not 0 < proposal.object_ratio <= 100:
        problems["count"] = "抽取比例应大于 0 且不超过 100%"
    if proposal.per_object < max(2, min_per_object):
        problems["per_object"] = f"每户检查人员不少于 {max(2, min_per_object)} 人（行政处罚法第四十二条）"
    elif proposal.per_object > 10:
        problems["per_object"] = "每户检查人员不超过 10 人"
    if proposal.draw_mode not in DRAW_LABELS:
        problems["draw_mode"] = "抽取方式只能是平均分配或所所交叉"
    if proposal.prenotice == "exempt" and not proposal.prenotice_reason.strip():
        problems["prenotice_reason"] = "不事先通知检查对象时，必须写明理由（如投诉核查、暗访）"
    if proposal.prenotice not in ("send", "exempt"):
        problems["prenotice"] = "事先通报只能选择通知或不通知"
    if len(proposal.remarks) > 500:
        problems["remarks"] = "备注不超过 500 字"
    return problems


def from_form(params: dict[str, str], *, today: date) -> tuple[Proposal, dict[str, str]]:
    """Read the create-task form card. Returns the proposal and per-field problems in reading it."""
    problems: dict[str, str] = {}
    proposal = Proposal()

    def integer(name: str, label: str) -> int | None:
        raw = params.get(name, "").strip()
        if not raw:
            return None
        try:
            return int(float(raw))
        except ValueError:
            problems[name] = f"{label}应填写数字"
            return None

    scenario = integer("scenario", "检查场景")
    proposal.scenario_id = scenario
    proposal.theme_id = integer("theme", "监管一件事")
    proposal.source = params.get("source") or "plan"
    proposal.method = params.get("method") or "on_site"
    for name, label in (("window_start", "开始日期"), ("window_end", "结束日期")):
        raw = params.get(name, "").strip()
        if raw:
            try:
                setattr(proposal, name, parse_date(raw, today))
            except ValueError as exc:
                problems[name] = f"{label}{exc}"
    proposal.object_count = integer("count", "检查对象数量")
    ratio = params.get("ratio", "").strip().rstrip("%％")
    if ratio:
        try:
            proposal.object_ratio = float(ratio)
        except ValueError:
            problems["ratio"] = "抽取比例应填写数字，例如 5"
    per_object = integer("per_object", "每户检查人数")
    proposal.per_object = per_object if per_object is not None else 2
    proposal.draw_mode = params.get("draw_mode") or "even"
    proposal.prenotice = params.get("prenotice") or "send"
    proposal.prenotice_reason = params.get("prenotice_reason", "").strip()
    proposal.remarks = params.get("remarks", "").strip()
    return proposal, problems
