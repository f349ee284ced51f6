"""Writing sheets people will open in Excel or WPS: streamed, formula-safe, masked by default.

Formula injection: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is
prefixed with an apostrophe (OWASP CSV-injection guidance), in .csv and .xlsx alike; in .xlsx
openpyxl would otherwise store such a string as a formula. The importer strips that apostrophe
again, so an export imports back unchanged.

CSV is written as UTF-8 with a BOM, which Excel needs to open it as UTF-8 rather than GBK.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from bot.logmask import mask_mobile, mask_text

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def mask(value: str, how: str) -> str:
    if how == "phone":
        return mask_mobile(value)
    if how == "text":
        return mask_text(value)
    return value


def cell(value: Any, how: str = "") -> str:
    """One exported cell: text, masked as the column says, then made formula-safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    if how and text:
        text = mask(text, how)
    return neutralise(_printable(text))


def _printable(text: str) -> str:
    # Control characters other than tab/CR/LF are illegal in XML (and in a spreadsheet cell).
    if text.isprintable():
        return text
    return "".join(ch for ch in text if ch.isprintable() or ch in "\t\r\n")


class SheetWriter(Protocol):
    def add_sheet(self, title: str) -> None: ...

    def write_row(self, values: Sequence[str]) -> None: ...


@contextmanager
def open_writer(path: Path) -> Iterator[SheetWriter]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            yield _CsvWriter(handle)
    elif suffix == ".xlsx":
        writer = _XlsxWriter()
        yield writer
        writer.save(path)
    else:
        raise ValueError("只支持导出为 .xlsx 或 .csv 文件。")


class _CsvWriter:
    def __init__(self, handle: Any) -> None:
        self._writer = csv.writer(handle)
        self._sheets = 0

    def add_sheet(self, title: str) -> None:
        # CSV has one sheet: the first one (data) is written, later ones (notes) are not.
        self._sheets += 1

    def write_row(self, values: Sequence[str]) -> None:
        if self._sheets <= 1:
            self._writer.writerow(values)


class _XlsxWriter:
    def __init__(self) -> None:
        from openpyxl import Workbook

        self._book = Workbook(write_only=True)
        self._sheet: Any = None

    def add_sheet(self, title: str) -> None:
        self._sheet = self._book.create_sheet(title[:31])

    def write_row(self, values: Sequence[str]) -> None:
        if self._sheet is None:
            self.add_sheet("Sheet1")
        self._sheet.append(list(values))

    def save(self, path: Path) -> None:
        self._book.save(str(path))


def write_table(
    path: Path,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    notes: Sequence[Sequence[str]] = (),
) -> int:
    """Write header + rows (+ an optional 填写说明 sheet in .xlsx). Returns the data row count."""
    count = 0
    with open_writer(path) as writer:
        writer.add_sheet(title)
        writer.write_row([neutralise(text) for text in header])
        for row in rows:
            writer.write_row(row)
            count += 1
        if notes:
            writer.add_sheet("填写说明")
            for note in notes:
                writer.write_row([cell(text) for text in note])
    return count
