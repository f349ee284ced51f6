"""Plain rules of the directory: certificate numbers, risk classes, flags, entity types, dates.

No sessions, no Flask: importers, chat commands and the demo data all use these, so a value is
judged the same way wherever it comes from. Labels are the Chinese words staff read and type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from storage.models.directory import OBJECT_FLAGS, InspectionObject, Inspector

DEFAULT_TZ = "Asia/Shanghai"

# -- 执法证 (domain.md §6.1: the number's format is unknown, so it is an opaque string) ---------
CERT_NO_PATTERN = re.compile(r"^[A-Za-z0-9-]{6,32}$")
CERT_STATUS_LABELS = {
    "valid": "有效",
    "expired": "已过期",
    "suspended": "暂扣",
    "revoked": "注销",
    "none": "无",
}
_CERT_STATUS_WORDS = {
    "有效": "valid",
    "正常": "valid",
    "已过期": "expired",
    "过期": "expired",
    "暂扣": "suspended",
    "暂停": "suspended",
    "注销": "revoked",
    "吊销": "revoked",
    "撤销": "revoked",
    "无": "none",
    "无证": "none",
}


def check_cert_no(raw: str) -> tuple[str, str | None]:
    """(trimmed value, error). Letters, digits and hyphens only, 6 to 32 characters."""
    value = raw.strip()
    if not CERT_NO_PATTERN.fullmatch(value):
        return value, "执法证号应为 6 至 32 位字母、数字或连字符"
    return value, None


def parse_cert_status(word: str) -> str | None:
    text = word.strip()
    if text in CERT_STATUS_LABELS:
        return text
    return _CERT_STATUS_WORDS.get(text)


@dataclass(frozen=True)
class Eligibility:
    """Whether an inspector may be drawn on a day, and if not, why (for 我的信息 and imports)."""

    ok: bool
    reason: str = ""


def inspector_eligibility(inspector: Inspector, day: date) -> Eligibility:
    """BR-05: a valid certificate on the day; auxiliaries never; and the unit's own mark."""
    if not inspector.active:
        return Eligibility(False, "档案已停用")
    if inspector.auxiliary:
        return Eligibility(False, "辅助人员不能参与执法检查")
    if not inspector.assignable:
        return Eligibility(False, "未纳入抽检人员库")
    reason = certificate_problem(
        inspector.cert_no, inspector.cert_status, inspector.cert_valid_from, inspector.cert_valid_to, day
    )
    if reason:
        return Eligibility(False, reason)
    return Eligibility(True)


def certificate_problem(
    cert_no: str | None, status: str, valid_from: date | None, valid_to: date | None, day: date
) -> str:
    """Why a certificate does not qualify on ``day`` ("" when it does)."""
    if not cert_no:
        return "没有执法证"
    if status != "valid":
        return f"执法证状态为「{CERT_STATUS_LABELS.get(status, status)}」"
    if valid_from is None or valid_to is None:
        return "执法证有效期不完整"
    if day < valid_from:
        return f"执法证自 {valid_from.isoformat()} 起生效，尚未生效"
    if day > valid_to:
        return f"执法证已于 {valid_to.isoformat()} 到期"
    return ""


# -- risk class (SAMR A-D, domain.md §2.3) -------------------------------------------------------
RISK_LABELS = {"A": "A 类（低风险）", "B": "B 类（一般风险）", "C": "C 类（较高风险）", "D": "D 类（高风险）"}


def parse_risk_class(word: str) -> tuple[str | None, str | None]:
    """(class or None for 未评定, error)."""
    text = word.strip().upper().removesuffix("类").removesuffix("级").strip()
    if text in ("", "未评定", "无"):
        return None, None
    if text in RISK_LABELS:
        return text, None
    return None, "风险等级应为 A、B、C、D 之一（不填表示未评定）"


def risk_label(risk_class: str | None) -> str:
    return RISK_LABELS.get(risk_class or "", "未评定")


# -- flags (the "three lists" and credit lists) --------------------------------------------------
FLAG_LABELS = {
    "key_supervision": "重点监管",
    "abnormal": "经营异常名录",
    "dishonest": "严重违法失信名单",
    "no_disturb": "无事不扰",
}


@dataclass(frozen=True)
class ActiveFlag:
    flag: str
    label: str
    start: date
    end: date | None

    def text(self) -> str:
        period = (
            f"{self.start.isoformat()} 至 {self.end.isoformat()}"
            if self.end
            else f"{self.start.isoformat()} 起"
        )
        return f"{self.label}（{period}）"


def active_flags(obj: InspectionObject, day: date) -> list[ActiveFlag]:
    found = []
    for flag in OBJECT_FLAGS:
        if obj.flag_on(flag, day):
            found.append(
                ActiveFlag(flag, FLAG_LABELS[flag], getattr(obj, f"{flag}_from"), getattr(obj, f"{flag}_to"))
            )
    return found


# -- entity types, registration status, unit kinds, methods --------------------------------------
ENTITY_TYPES = ("企业", "个体工商户", "农民专业合作社", "其他")
_ENTITY_WORDS = {"个体户": "个体工商户", "个体": "个体工商户", "合作社": "农民专业合作社", "公司": "企业"}
REGISTRATION_STATUSES = ("存续", "注销", "吊销", "撤销", "迁出")
_REGISTRATION_WORDS = {"在业": "存续", "开业": "存续", "正常": "存续", "吊销未注销": "吊销"}

UNIT_KINDS = {
    "bureau": "局",
    "dept": "处室",
    "squad": "执法队",
    "external": "外部门",
    "police": "公安机关",
    "procuratorate": "检察机关",
    "government": "人民政府",
}
_UNIT_KIND_WORDS = {
    "执法局": "bureau",
    "部门": "dept",
    "科室": "dept",
    "中队": "squad",
    "大队": "squad",
    "执法大队": "squad",
    "执法中队": "squad",
    "其他部门": "external",
    "公安": "police",
    "检察院": "procuratorate",
    "政府": "government",
}

METHOD_WORDS = {"书面检查": "written", "实地核查": "on_site", "网络监测": "network", "现场检查": "on_site"}


def parse_entity_type(word: str) -> str | None:
    text = word.strip()
    if text in ENTITY_TYPES:
        return text
    return _ENTITY_WORDS.get(text)


def parse_registration_status(word: str) -> str | None:
    text = word.strip()
    if text in REGISTRATION_STATUSES:
        return text
    return _REGISTRATION_WORDS.get(text)


def parse_unit_kind(word: str) -> str | None:
    text = word.strip()
    if text in UNIT_KINDS:
        return text
    for kind, label in UNIT_KINDS.items():
        if text == label:
            return kind
    return _UNIT_KIND_WORDS.get(text)


def parse_method(word: str) -> str | None:
    text = word.strip()
    if text in METHOD_WORDS.values():
        return text
    return METHOD_WORDS.get(text)


# -- time -----------------------------------------------------------------------------------------
def local_today(now: datetime, tz: str = DEFAULT_TZ) -> date:
    """The calendar day in the bureau's time zone (certificate validity is a local date)."""
    return now.astimezone(ZoneInfo(tz)).date()


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(text: str) -> date | None:
    """The date forms bureau sheets use: 2026-12-31, 2026/12/31, 2026.12.31, 2026年12月31日, 20261231."""
    value = text.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(value)
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return None
    return None
