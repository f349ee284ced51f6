"""统一社会信用代码 (GB 32100-2015): normalise, validate, generate.

Pure functions, no I/O. The rules follow domain.md §5.5:

- 18 characters; positions 1-2 and 9-18 from the 31-symbol charset (no I, O, Z, S, V),
  positions 3-8 digits (the registering authority's region code);
- check character = CHARSET[(31 - sum(value_i * 3^(i-1) mod 31)) % 31];
- positions 1-8 are *not* required to be digits, so valid ``Y1…``, ``A1…`` and ``N1…`` codes pass
  (python-stdnum rejects them, which would refuse real organisations);
- an unknown authority/category pair only warns: the code tables change more often than the
  check algorithm;
- a 15-digit old registration number (注册号) is accepted as *legacy*, flagged and unchecked.

Messages are Simplified Chinese because they end up in import reports and chat replies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {char: index for index, char in enumerate(CHARSET)}
WEIGHTS = tuple(
    pow(3, i, 31) for i in range(17)
)  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
FORBIDDEN_LETTERS = "IOZSV"
LENGTH = 18
_SYMBOL = "[0-9A-HJ-NP-RTUWXY]"  # CHARSET as a regex class
_WELL_FORMED = re.compile(f"{_SYMBOL}{{2}}[0-9]{{6}}{_SYMBOL}{{10}}")
LEGACY_LENGTH = 15

# Registration authority (pos 1) -> name, and the category codes (pos 2) known for it.
# An empty category set means "not listed in our table": no warning about position 2.
AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "1239"),
    "2": ("外交", ""),
    "3": ("司法行政", "123459"),
    "4": ("文化", ""),
    "5": ("民政", "1239"),
    "6": ("旅游", ""),
    "7": ("宗教", ""),
    "8": ("工会", ""),
    "9": ("工商", "123"),
    "A": ("中央军委改革和编制办公室", ""),
    "N": ("农业", "1239"),
    "Y": ("其他", "1"),
}
# Categories under authority 9 (market regulation), the ones inspections mostly meet.
MARKET_CATEGORIES = {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}


@dataclass(frozen=True)
class UsccResult:
    """The outcome of checking one value.

    ``value`` is the normalised code (upper case, no spaces or hyphens). ``error`` is set when the
    value must be refused; ``warning`` when it is accepted but looks odd; ``legacy`` when it is an
    old 15-digit registration number stored without a check.
    """

    value: str
    error: str | None = None
    warning: str | None = None
    legacy: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def normalise(raw: str) -> str:
    """Trim, drop spaces and hyphens (people paste codes as ``9133 1102 …``), upper-case."""
    return "".join(raw.split()).replace("-", "").replace("－", "").upper()


def check_char(prefix17: str) -> str:
    """The check character for the first 17 characters (which must be in the charset)."""
    total = sum(VALUES[char] * weight for char, weight in zip(prefix17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def make_uscc(prefix17: str) -> str:
    """A valid code from its first 17 characters (for demo data and tests)."""
    prefix = normalise(prefix17)
    if len(prefix) != 17 or any(char not in VALUES for char in prefix) or not prefix[2:8].isdigit():
        raise ValueError(f"not a valid 17-character USCC prefix: {prefix17!r}")
    return prefix + check_char(prefix)


def validate(raw: str | None) -> UsccResult:
    """Check a value from a sheet or a chat message; see the module docstring for the rules."""
    value = normalise(raw or "")
    if not value:
        return UsccResult(value, error="不能为空")
    if len(value) == LEGACY_LENGTH and value.isdigit():
        return UsccResult(
            value, legacy=True, warning="按旧版 15 位注册号登记，无法校验；请尽快更新为统一社会信用代码"
        )
    if len(value) != LENGTH:
        return UsccResult(value, error=f"长度为 {len(value)} 位，统一社会信用代码应为 18 位")
    if _WELL_FORMED.fullmatch(value) is None:
        return UsccResult(value, error=_format_error(value))
    expected = check_char(value[:17])
    if value[17] != expected:
        return UsccResult(value, error=f"校验位错误：第 18 位应为「{expected}」，实际为「{value[17]}」")
    return UsccResult(value, warning=_pair_warning(value))


def _format_error(value: str) -> str:
    """Why an 18-character value is not shaped like a code (the first reason that applies)."""
    # A forbidden letter in position 18 is reported as a wrong check character (with the right one).
    forbidden = [char for char in dict.fromkeys(value[:17]) if char in FORBIDDEN_LETTERS]
    if forbidden:
        letters = "、".join(forbidden)
        return f"含有信用代码不使用的字母 {letters}（I、O、Z、S、V 均不使用）"
    bad = [char for char in value[:17] if char not in VALUES]
    if bad:
        return f"含有非法字符「{bad[0]}」"
    if not value[2:8].isdigit():
        return "第 3 至 8 位（登记管理机关行政区划码）应为数字"
    expected = check_char(value[:17])
    return f"校验位错误：第 18 位应为「{expected}」，实际为「{value[17]}」"


def is_valid(raw: str | None) -> bool:
    result = validate(raw)
    return result.ok and not result.legacy


def _pair_warning(value: str) -> str | None:
    authority = AUTHORITIES.get(value[0])
    if authority is None:
        return f"第 1 位登记管理部门代码「{value[0]}」不在代码表中，请核对"
    name, categories = authority
    if categories and value[1] not in categories:
        return f"第 2 位机构类别代码「{value[1]}」不在{name}部门的代码表中，请核对"
    return None


def market_category(value: str) -> str | None:
    """企业 / 个体工商户 / 农民专业合作社 for codes issued by market regulation, else None."""
    if len(value) == LENGTH and value[0] == "9":
        return MARKET_CATEGORIES.get(value[1])
    return None
