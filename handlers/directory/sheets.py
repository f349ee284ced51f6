"""The shape of an import/export sheet: its Chinese column headers, and how problems are told.

A ``SheetSpec`` lists the columns a bureau's sheet has for one kind of record. The same spec
writes the template, reads an import (headers matched exactly, after trimming and ignoring a
required-marker ``*``), and writes an export, so the three can never drift apart.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any


class FileRefused(Exception):
    """The file as a whole cannot be imported (format, encoding, size, headers). Chinese text."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)


@dataclass(frozen=True)
class Problem:
    """One finding about a file: where (row, column) and what, in Chinese."""

    row: int | None
    column: str | None
    message: str

    def text(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第 {self.row} 行")
        if self.column:
            where.append(f"「{self.column}」")
        prefix = "".join(where)
        return f"{prefix}：{self.message}" if prefix else self.message


@dataclass(frozen=True)
class Column:
    """One column. ``mask``: how an export hides personal data ("phone" or "text")."""

    header: str
    field: str
    required: bool = False
    note: str = ""
    aliases: tuple[str, ...] = ()
    mask: str = ""
    export_only: bool = False


@dataclass(frozen=True)
class SheetSpec:
    kind: str  # CLI word: objects, inspectors, ...
    title: str  # sheet name and what reports call the records
    entity_type: str  # directory_version.entity_type
    columns: tuple[Column, ...]
    key_note: str = ""  # how rows are matched to existing records, for the template

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    @cached_property
    def _by_field(self) -> dict[str, Column]:
        return {column.field: column for column in self.columns}

    def column(self, field_name: str) -> Column:
        return self._by_field[field_name]

    def is_header_cell(self, cell: Any) -> bool:
        name = _normal_header("" if cell is None else str(cell))
        return any(name in (_normal_header(c.header), *map(_normal_header, c.aliases)) for c in self.columns)

    def match_headers(self, cells: Sequence[Any], row_number: int = 1) -> HeaderMatch:
        """Map header cells to columns; unknown, duplicate and missing required headers are errors."""
        known: dict[str, Column] = {}
        for column in self.columns:
            for name in (column.header, *column.aliases):
                known[_normal_header(name)] = column
        positions: dict[int, Column] = {}
        seen: dict[str, int] = {}
        problems: list[Problem] = []
        matched_any = False
        for index, cell in enumerate(cells):
            text = "" if cell is None else str(cell)
            name = _normal_header(text)
            if not name:
                continue
            column = known.get(name)
            if column is None:
                hint = difflib.get_close_matches(name, [_normal_header(c.header) for c in self.columns], n=1)
                suggestion = f"，是否应为「{self.column_by_normal(hint[0]).header}」？" if hint else ""
                problems.append(Problem(row_number, text.strip(), f"无法识别的列{suggestion}"))
                continue
            matched_any = True
            if column.field in seen:
                problems.append(Problem(row_number, column.header, f"与第 {seen[column.field] + 1} 列重复"))
                continue
            seen[column.field] = index
            if not column.export_only:
                positions[index] = column
        for column in self.columns:
            if column.required and column.field not in seen:
                problems.append(Problem(row_number, column.header, "缺少必填列"))
        if not matched_any:
            problems.append(
                Problem(
                    row_number,
                    None,
                    f"没有识别出任何列名：这一行应为「{self.title}」表的表头（如「{self.columns[0].header}」）。"
                    "如表头显示为乱码，请检查文件编码（应为 UTF-8 或 GB18030）。",
                )
            )
        return HeaderMatch(
            positions=positions, present=frozenset(c.field for c in positions.values()), problems=problems
        )

    def column_by_normal(self, normal: str) -> Column:
        for column in self.columns:
            if _normal_header(column.header) == normal:
                return column
        raise KeyError(normal)


@dataclass(frozen=True)
class HeaderMatch:
    positions: dict[int, Column]
    present: frozenset[str]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Row:
    """One data row: cell values by field name (text, date or None) and where it came from."""

    number: int
    values: dict[str, str | date | None]
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def get(self, field_name: str) -> str | date | None:
        return self.values.get(field_name)

    def text(self, field_name: str) -> str | None:
        value = self.values.get(field_name)
        if isinstance(value, date):
            return value.isoformat()
        return value

    def error(self, column: Column | str | None, message: str) -> None:
        self.errors.append(Problem(self.number, _header(column), message))

    def warn(self, column: Column | str | None, message: str) -> None:
        self.warnings.append(Problem(self.number, _header(column), message))


def _header(column: Column | str | None) -> str | None:
    if isinstance(column, Column):
        return column.header
    return column


def _normal_header(text: str) -> str:
    value = text.strip().strip("*＊").strip()
    return value.replace("（", "(").replace("）", ")").replace(" ", "")
