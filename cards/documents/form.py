"""What a printed document consists of, independent of how it is drawn.

Builders for each document kind (``notices.py`` and later ones) fill a ``DocumentForm``;
``layout.render`` draws any form the same way, so all of the bureau's documents share one look.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FormTable:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    widths: tuple[float, ...] = ()  # relative column widths; empty = equal


@dataclass(frozen=True)
class DocumentForm:
    title: str  # e.g. 行政检查通知书
    issuer: str  # the issuing body, printed above the title
    number: str  # 丽综执检通〔2026〕1号
    addressee: str = ""  # "某某有限公司：" before the body
    fields: list[tuple[str, str]] = field(default_factory=list)  # label / value table
    body: list[str] = field(default_factory=list)  # paragraphs
    tables: list[FormTable] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # numbered rights and duties
    signatures: list[str] = field(default_factory=list)  # lines at the foot, right-aligned
    # Drawn signatures (label, PNG bytes), shown above the signature lines.
    signature_images: list[tuple[str, bytes]] = field(default_factory=list)
    footer: str = ""  # e.g. how many copies and who gets them
    voided: str = ""  # when set, a 作废 mark with the reason
