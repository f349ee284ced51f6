"""Reading a bureau's sheet (.xlsx or .csv) as a stream of rows, refusing what is not safe.

Memory stays flat in the file size: rows are yielded one at a time and nothing keeps them.

.xlsx: the zip is checked before any XML is parsed (entry count, total uncompressed size and the
compression ratio of big entries), so a zip bomb is refused without being inflated; the zip
reader also stops at each entry's declared size, so a lying header cannot inflate more. All XML is
parsed with defusedxml, checked to be active on every read: without it openpyxl has no guard
against entity-expansion bombs. openpyxl (read-only) reads the package: content types, workbook,
shared strings and styles. The worksheet rows are streamed by ``_sheet_rows`` (defusedxml's
parser feeding a row target) rather than through ``load_workbook(read_only=True)``: that call
parses the whole sheet an extra time to look for a ``<dimension>`` element when the producer
(openpyxl itself, in write-only mode) wrote none, read-only mode trusts that element even when it
is wrong, and openpyxl's per-cell objects cost twice the XML parsing.

.csv: UTF-8 (with or without BOM) or GB18030, which is what Chinese Excel writes for "CSV".
The encoding is decided by a streaming pre-pass over the bytes, so a file is never half-imported
before a decoding error shows up; anything else gets a clear refusal.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from handlers.directory.sheets import FileRefused

MAX_XLSX_ENTRIES = 1_000
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_XLSX_RATIO = 100  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
CSV_ENCODINGS = ("utf-8", "gb18030")
_CHUNK = 1024 * 1024
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary .xls / .et


@dataclass(frozen=True)
class RawTable:
    """What a reader found: the file's format and encoding, and its rows (first = header)."""

    fmt: str
    encoding: str
    rows: Iterator[tuple[int, list[Any]]]


@contextmanager
def open_table(path: Path, *, prefer_sheet: str | None = None) -> Iterator[RawTable]:
    """Open a .xlsx or .csv file; rows come as (row number as the user sees it, cell values)."""
    if not path.is_file():
        raise FileRefused(f"找不到文件 {path}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        with _open_xlsx(path, prefer_sheet) as rows:
            yield RawTable("xlsx", "", rows)
    elif suffix == ".csv":
        encoding = detect_csv_encoding(path)
        with path.open("r", encoding=encoding, newline="") as handle:
            yield RawTable("csv", encoding, _csv_rows(handle))
    elif suffix in (".xls", ".et", ".wps"):
        raise FileRefused("不支持旧版 .xls 文件，请在 Excel 或 WPS 中另存为 .xlsx 后再导入。")
    else:
        raise FileRefused("只支持 .xlsx 和 .csv 文件。")


# -- CSV ------------------------------------------------------------------------------------------
def detect_csv_encoding(path: Path) -> str:
    """``utf-8-sig``, ``utf-8`` or ``gb18030``; anything else is refused with the reason."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(codecs.BOM_UTF8):
        if not _decodes(path, "utf-8-sig"):
            raise FileRefused("文件开头标明是 UTF-8 编码，但内容中有无法按 UTF-8 解码的字节，请重新导出。")
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(
            "文件是 UTF-16 编码（Excel 的“Unicode 文本”），无法导入。"
            "请另存为“CSV UTF-8（逗号分隔）”或 GB18030 编码的 CSV。"
        )
    if head.startswith(b"PK\x03\x04"):
        raise FileRefused("这是 Excel 工作簿，不是 CSV 文件：请把扩展名改为 .xlsx 后再导入。")
    if head.startswith(_OLE2):
        raise FileRefused("这是旧版 Excel 工作簿，不是 CSV 文件：请另存为 .xlsx 或 CSV UTF-8 后再导入。")
    for encoding in CSV_ENCODINGS:
        if _decodes(path, encoding):
            return encoding
    raise FileRefused(
        "无法识别文件编码：CSV 文件应为 UTF-8 或 GB18030（简体中文 Excel 默认）编码。"
        "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再导入。"
    )


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if b"\x00" in chunk:
                raise FileRefused(
                    "文件中含有空字节，不是文本 CSV 文件（可能是 UTF-16 编码，或是其他格式改了扩展名）。"
                )
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                return False
            if not chunk:
                return True


def _csv_rows(handle: Any) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(handle)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record
    except csv.Error as exc:
        raise FileRefused(f"第 {number + 1} 行不是合法的 CSV 格式：{exc}") from exc


# -- XLSX -----------------------------------------------------------------------------------------
def check_xlsx_archive(path: Path) -> None:
    """Refuse a zip bomb or a broken file before anything is inflated or parsed."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_OLE2):
        raise FileRefused("这是旧版 .xls 文件（只是扩展名为 .xlsx），请在 Excel 或 WPS 中另存为 .xlsx。")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRefused("不是有效的 .xlsx 文件：文件已损坏，或是其他格式改了扩展名。") from exc
    if len(infos) > MAX_XLSX_ENTRIES:
        raise FileRefused(
            f"文件包含 {len(infos)} 个内部文件，超过上限 {MAX_XLSX_ENTRIES}，拒绝导入（疑似压缩炸弹）。"
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise FileRefused(
            f"文件解压后有 {total // (1024 * 1024)} MB，超过上限 {MAX_XLSX_UNCOMPRESSED // (1024 * 1024)} MB，"
            "拒绝导入（疑似压缩炸弹）。如确有这么多数据，请分成几个文件导入。"
        )
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_XLSX_RATIO * max(info.compress_size, 1):
            raise FileRefused(
                f"文件中的 {info.filename} 压缩比异常（{info.file_size // max(info.compress_size, 1)} 倍），"
                "拒绝导入（疑似压缩炸弹）。"
            )


def assert_defusedxml_active() -> None:
    """openpyxl parses with defusedxml only when it is installed and not switched off."""
    import openpyxl
    from openpyxl.worksheet import _reader
    from openpyxl.xml import functions

    parsers = (functions.iterparse, functions.fromstring, _reader.iterparse)
    if not openpyxl.DEFUSEDXML or not all(p.__module__.startswith("defusedxml") for p in parsers):
        raise RuntimeError(
            "defusedxml is not active in openpyxl (not installed, or OPENPYXL_DEFUSEDXML=False): "
            "refusing to parse .xlsx files without XML-bomb protection"
        )


@contextmanager
def _open_xlsx(path: Path, prefer_sheet: str | None) -> Iterator[Iterator[tuple[int, list[Any]]]]:
    check_xlsx_archive(path)
    assert_defusedxml_active()
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    try:
        reader = ExcelReader(str(path), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = [
            (sheet, rel)
            for sheet, rel in reader.parser.find_sheets()
            if "chartsheet" not in rel.Type and rel.target in reader.valid_files
        ]
    except FileRefused:
        raise
    except Exception as exc:  # openpyxl raises many types for a malformed package
        raise FileRefused(
            f"无法读取该 .xlsx 文件：{type(exc).__name__}。请在 Excel 中重新保存后再试。"
        ) from exc
    if not sheets:
        reader.archive.close()
        raise FileRefused("工作簿中没有工作表。")
    chosen = next((pair for pair in sheets if pair[0].name == prefer_sheet), sheets[0])
    workbook = reader.wb
    source = reader.archive.open(chosen[1].target)
    try:
        yield _sheet_rows(source, list(reader.shared_strings), set(workbook._date_formats), workbook.epoch)
    finally:
        source.close()
        reader.archive.close()


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE = f"{_MAIN}row", f"{_MAIN}c", f"{_MAIN}v"
_INLINE, _TEXT, _PHONETIC = f"{_MAIN}is", f"{_MAIN}t", f"{_MAIN}rPh"
_DIGITS = "0123456789"
_FEED = 64 * 1024


def _sheet_rows(
    source: Any, strings: list[str], date_styles: set[int], epoch: Any
) -> Iterator[tuple[int, list[Any]]]:
    """Rows of one worksheet part, parsed by defusedxml as a stream.

    openpyxl's own cell parser (coordinates, styles, rich-text objects per cell) costs about twice
    the XML parsing itself, which made .xlsx imports miss the 5,000 rows/s goal. Here defusedxml's
    parser feeds a small target that keeps only what an import needs (each cell's position, type
    and value; dates recognised from the cell style as openpyxl does) and builds no element tree,
    so memory does not grow with the sheet.
    """
    from defusedxml.ElementTree import DefusedXMLParser

    target = _SheetTarget(strings, date_styles, epoch)
    parser = DefusedXMLParser(target=target)
    try:
        while True:
            chunk = source.read(_FEED)
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
            yield from target.rows
            target.rows.clear()
            if not chunk:
                return
    except zipfile.BadZipFile as exc:
        raise FileRefused("工作表数据已损坏（解压校验失败），拒绝导入。") from exc
    except FileRefused:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith("defusedxml"):
            raise FileRefused("工作表中含有 XML 实体声明（可能是 XML 炸弹），拒绝导入。") from exc
        if type(exc).__module__.startswith("xml"):
            raise FileRefused(f"工作表 XML 已损坏（{exc}），拒绝导入。") from exc
        raise


class _SheetTarget:
    """An ElementTree parser target that turns ``<row>``/``<c>`` events into value lists."""

    def __init__(self, strings: list[str], date_styles: set[int], epoch: Any) -> None:
        self.rows: list[tuple[int, list[Any]]] = []
        self._strings = strings
        self._date_styles = date_styles
        self._epoch = epoch
        self._columns: dict[str, int] = {}
        self._number = 0
        self._values: list[Any] = []
        self._ref: str | None = None
        self._kind = "n"
        self._style: str | None = None
        self._text: list[str] | None = None
        self._capture = False
        self._inline = False
        self._phonetic = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag == _CELL:
            self._ref = attrib.get("r")
            self._kind = attrib.get("t", "n")
            self._style = attrib.get("s")
            self._text = None
        elif tag == _VALUE:
            self._text = []
            self._capture = True
        elif tag == _INLINE:
            self._inline = True
            self._text = []
        elif tag == _TEXT:
            self._capture = self._inline and not self._phonetic
        elif tag == _PHONETIC:
            self._phonetic = True
        elif tag == _ROW:
            number = attrib.get("r")
            self._number = int(number) if number else self._number + 1
            self._values = []

    def data(self, text: str) -> None:
        if self._capture and self._text is not None:
            self._text.append(text)

    def end(self, tag: str) -> None:
        if tag in (_VALUE, _TEXT):
            self._capture = False
        elif tag == _CELL:
            self._end_cell()
        elif tag == _INLINE:
            self._inline = False
        elif tag == _PHONETIC:
            self._phonetic = False
        elif tag == _ROW and self._values:
            self.rows.append((self._number, self._values))

    def close(self) -> None:
        return None

    def _end_cell(self) -> None:
        values = self._values
        if self._ref:
            letters = self._ref.rstrip(_DIGITS)
            index = self._columns.get(letters)
            if index is None:
                from openpyxl.utils.cell import column_index_from_string

                index = self._columns[letters] = column_index_from_string(letters)
        else:
            index = len(values) + 1
        if index > len(values):
            values.extend([None] * (index - len(values)))
        values[index - 1] = self._value()

    def _value(self) -> Any:
        if self._text is None:
            return None
        text = "".join(self._text)
        kind = self._kind
        if kind in ("inlineStr", "str", "e"):
            return text
        if kind == "s":
            try:
                return self._strings[int(text)]
            except (ValueError, IndexError) as exc:
                raise FileRefused("工作表引用了不存在的共享字符串，文件已损坏。") from exc
        if kind == "b":
            return text == "1"
        from openpyxl.utils.datetime import from_excel, from_ISO8601

        if kind == "d":
            return from_ISO8601(text)
        try:
            number = float(text)
        except ValueError:
            return text
        if self._style is not None and int(self._style) in self._date_styles:
            return from_excel(number, self._epoch)
        return int(number) if number.is_integer() and "E" not in text.upper() else number


def cell_text(value: Any) -> str | date | None:
    """One cell as the importer wants it: trimmed text, a date, or None for blank.

    Integers typed into Excel (phone numbers, counts) come back as int or float; dates as
    datetime. A leading apostrophe that our own export added to stop formula injection is removed
    again, so an exported sheet imports back unchanged.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
            text = text[1:].strip()
        return text or None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value).strip() or None
