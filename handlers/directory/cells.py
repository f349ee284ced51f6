"""Typed reads of one row's cells, each recording a Chinese error on the row when it fails.

The importers read every field through here, so "不能为空", date formats, yes/no words and list
separators are judged the same way on every sheet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from bot.logmask import mask_mobile
from handlers.directory.rules import parse_date
from handlers.directory.sheets import Row, SheetSpec

T = TypeVar("T")

_LIST_SPLIT = re.compile(r"[、,，;；\n\r|]+")
_LINE_SPLIT = re.compile(r"[\n\r；;]+")
_RANGE_SPLIT = re.compile(r"\s*(?:至|~|～|到|—|–)\s*|\s+-\s+")
_YES = {"是", "y", "yes", "true", "1", "√", "✓", "有"}
_NO = {"否", "n", "no", "false", "0", "×", "无"}
_ACTIVE = {"启用": True, "在用": True, "有效": True, "停用": False, "注销": False, "撤销": False}


def split_list(text: str | None) -> list[str]:
    if not text:
        return []
    return list(dict.fromkeys(part.strip() for part in _LIST_SPLIT.split(text) if part.strip()))


MASKED_PHONE = re.compile(r"^\d{3}\*{4}\d{4}$")


class Masked(str):
    """A phone number as our masked export wrote it (138****5678).

    Importing it must not overwrite the real number: the importer keeps the stored value when it
    masks to the same text, and refuses it otherwise.
    """


def keep_masked(value: str | None, stored: str | None) -> tuple[str | None, str | None]:
    """(value to store, error): resolve a ``Masked`` value against the stored one."""
    if not isinstance(value, Masked):
        return value, None
    if stored is None:
        return None, "新增记录的号码不能是脱敏号码（含 ****），请填写完整号码"
    if mask_mobile(stored) != value:
        return None, "脱敏号码与库中号码不一致，请填写完整号码，或保留导出时的内容"
    return stored, None


def split_lines(text: str | None) -> list[str]:
    """Sentences such as check points: one per line or separated by semicolons (they contain 、)."""
    if not text:
        return []
    return list(dict.fromkeys(part.strip() for part in _LINE_SPLIT.split(text) if part.strip()))


class Cells:
    def __init__(self, row: Row, spec: SheetSpec) -> None:
        self.row = row
        self.spec = spec

    def _raw(self, field_name: str) -> str | date | None:
        value = self.row.get(field_name)
        column = self.spec.column(field_name)
        if value is None and column.required:
            self.row.error(column, "不能为空")
        return value

    def phone(self, field_name: str, pattern: re.Pattern[str]) -> str | None:
        """A phone number, or a ``Masked`` one from our own export (resolved when writing)."""
        text = self.text(field_name, max_len=30)
        if text is None:
            return None
        if MASKED_PHONE.fullmatch(text):
            return Masked(text)
        if not pattern.fullmatch(text) or sum(ch.isdigit() for ch in text) < 5:
            self.row.error(self.spec.column(field_name), f"「{text}」不是电话号码")
            return None
        return text

    def text(self, field_name: str, *, max_len: int = 200) -> str | None:
        value = self._raw(field_name)
        if value is None:
            return None
        text = value.isoformat() if isinstance(value, date) else value
        if len(text) > max_len:
            self.row.error(self.spec.column(field_name), f"不能超过 {max_len} 个字")
            return None
        return text

    def date(self, field_name: str) -> date | None:
        value = self._raw(field_name)
        if value is None or isinstance(value, date):
            return value
        parsed = parse_date(value)
        if parsed is None:
            self.row.error(self.spec.column(field_name), f"「{value}」不是日期，请写成 2026-12-31")
        return parsed

    def date_range(self, field_name: str) -> tuple[date | None, date | None]:
        """起止: "2026-01-01至2026-12-31", "2026-01-01至" or "2026-01-01" (open end), blank."""
        value = self._raw(field_name)
        if value is None:
            return None, None
        if isinstance(value, date):
            return value, None
        parts = _RANGE_SPLIT.split(value, maxsplit=1)
        start = parse_date(parts[0]) if parts[0] else None
        end = parse_date(parts[1]) if len(parts) > 1 and parts[1] else None
        column = self.spec.column(field_name)
        if start is None or (len(parts) > 1 and parts[1] and end is None):
            self.row.error(
                column,
                f"「{value}」不是有效的起止日期，请写成 2026-01-01至2026-12-31（无截止日期可只写开始日期）",
            )
            return None, None
        if end is not None and end < start:
            self.row.error(column, "截止日期早于开始日期")
            return None, None
        return start, end

    def yes_no(self, field_name: str, *, default: bool) -> bool:
        value = self._raw(field_name)
        if value is None:
            return default
        word = str(value).strip().lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
        self.row.error(self.spec.column(field_name), f"「{value}」应填“是”或“否”")
        return default

    def active(self, field_name: str = "active") -> bool:
        value = self._raw(field_name)
        if value is None:
            return True
        word = str(value).strip()
        if word in _ACTIVE:
            return _ACTIVE[word]
        self.row.error(self.spec.column(field_name), f"「{value}」应填“启用”或“停用”")
        return True

    def choice(
        self, field_name: str, parse: Callable[[str], T | None], allowed: str, *, default: T | None = None
    ) -> T | None:
        value = self._raw(field_name)
        if value is None:
            return default
        parsed = parse(str(value))
        if parsed is None:
            self.row.error(self.spec.column(field_name), f"「{value}」不是可选值，应为：{allowed}")
            return default
        return parsed

    def integer(self, field_name: str, *, low: int, high: int, default: int) -> int:
        value = self._raw(field_name)
        if value is None:
            return default
        text = str(value).strip()
        if not text.isdigit() or not low <= int(text) <= high:
            self.row.error(self.spec.column(field_name), f"应为 {low} 至 {high} 之间的整数")
            return default
        return int(text)

    def items(self, field_name: str) -> list[str]:
        value = self._raw(field_name)
        return split_list(value if isinstance(value, str) else None)
