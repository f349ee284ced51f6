"""Draw a ``DocumentForm`` as an A4 PDF in the usual form layout of enforcement documents:
issuer and title, number, a label/value table, body text, tables, numbered notices, signature
and seal lines, and "第 x 页 共 y 页" on every page.

Output is deterministic for the same form and font (reportlab's ``invariant`` mode: no creation
time, fixed document id), so the same document always has the same SHA-256.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from cards.documents.fonts import cjk_font
from cards.documents.form import DocumentForm, FormTable

MARGIN = 20 * mm
LABEL_FILL = colors.HexColor("#F2F2F2")


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "issuer": ParagraphStyle("issuer", parent=base, fontSize=14, leading=20, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=19, leading=26, alignment=TA_CENTER),
        "number": ParagraphStyle("number", parent=base, alignment=TA_RIGHT),
        "body": ParagraphStyle("body", parent=base, firstLineIndent=22),
        "plain": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=10, leading=13),
        "heading": ParagraphStyle("heading", parent=base, spaceBefore=6),
        "sign": ParagraphStyle("sign", parent=base, alignment=TA_RIGHT, leading=20),
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=14),
    }


def _numbered_canvas(font: str) -> type[canvas.Canvas]:
    """A canvas that writes "第 x 页 共 y 页" once the page count is known (two passes)."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, 9)
                self.drawCentredString(A4[0] / 2, 12 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
                super().showPage()
            super().save()

    return NumberedCanvas


class VoidMark(Flowable):
    """A large diagonal 作废 across the page, for a voided document's copy."""

    def __init__(self, font: str, reason: str) -> None:
        super().__init__()
        self.font, self.reason = font, reason
        self.width = self.height = 0

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.setFillColor(colors.Color(0.8, 0, 0, alpha=0.35))
        c.setFont(self.font, 72)
        c.translate(60 * mm, -80 * mm)
        c.rotate(30)
        c.drawString(0, 0, "作废")
        c.setFont(self.font, 12)
        c.drawString(0, -20, self.reason[:40])
        c.restoreState()


def _fields_table(fields: list[tuple[str, str]], styles: dict[str, ParagraphStyle], width: float) -> Table:
    data = [
        [Paragraph(_escape(label), styles["cell"]), Paragraph(_escape(value), styles["cell"])]
        for label, value in fields
    ]
    table = Table(data, colWidths=[width * 0.24, width * 0.76])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _grid_table(spec: FormTable, styles: dict[str, ParagraphStyle], width: float) -> list[Any]:
    weights = spec.widths or tuple(1.0 for _ in spec.columns)
    total = sum(weights)
    header = [Paragraph(_escape(c), styles["cell"]) for c in spec.columns]
    rows = [[Paragraph(_escape(str(v)), styles["cell"]) for v in row] for row in spec.rows]
    table = Table([header, *rows], colWidths=[width * w / total for w in weights], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), LABEL_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return [Paragraph(_escape(spec.title), styles["heading"]), Spacer(1, 1 * mm), table]


SIGNATURE_HEIGHT = 16 * mm


def _signature_table(images: list[tuple[str, bytes]], styles: dict[str, Any], width: float) -> Table:
    """Drawn signatures side by side, each scaled to one height, its label underneath."""
    per_row = 3
    cell = width / per_row
    pictures: list[Any] = []
    labels: list[Any] = []
    centred = ParagraphStyle("signature_label", parent=styles["small"], alignment=TA_CENTER)
    for label, data in images:
        reader = ImageReader(io.BytesIO(data))
        w, h = reader.getSize()
        scale = min(SIGNATURE_HEIGHT / max(h, 1), (cell - 4 * mm) / max(w, 1))
        pictures.append(Image(io.BytesIO(data), width=w * scale, height=h * scale, mask="auto"))
        labels.append(Paragraph(_escape(label), centred))
    rows: list[list[Any]] = []
    for start in range(0, len(pictures), per_row):
        pad = per_row - len(pictures[start : start + per_row])
        rows.append(pictures[start : start + per_row] + [""] * pad)
        rows.append(labels[start : start + per_row] + [""] * pad)
    table = Table(rows, colWidths=[cell] * per_row)
    table.setStyle(
        TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")])
    )
    return table


def render(form: DocumentForm, *, font_path: str = "") -> bytes:
    """The PDF bytes of ``form``."""
    font = cjk_font(font_path).name
    styles = _styles(font)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{form.title} {form.number}",
        author=form.issuer,
        invariant=1,
    )
    width = A4[0] - 2 * MARGIN
    story: list[Any] = []
    if form.voided:
        story.append(VoidMark(font, form.voided))
    story += [
        Paragraph(_escape(form.issuer), styles["issuer"]),
        Paragraph(_escape(form.title), styles["title"]),
        Spacer(1, 2 * mm),
        Paragraph(_escape(form.number), styles["number"]),
        Spacer(1, 4 * mm),
    ]
    if form.addressee:
        story.append(Paragraph(_escape(form.addressee), styles["plain"]))
    story += [Paragraph(_escape(text), styles["body"]) for text in form.body]
    if form.fields:
        story += [Spacer(1, 3 * mm), _fields_table(form.fields, styles, width)]
    for spec in form.tables:
        story += [Spacer(1, 3 * mm), *_grid_table(spec, styles, width)]
    if form.notices:
        story.append(Spacer(1, 3 * mm))
        story += [
            Paragraph(_escape(f"{index}. {text}"), styles["plain"])
            for index, text in enumerate(form.notices, start=1)
        ]
    if form.signatures or form.signature_images:
        lines: list[Any] = [Spacer(1, 6 * mm)]
        if form.signature_images:
            lines.append(_signature_table(form.signature_images, styles, width))
        lines += [Paragraph(_escape(line), styles["sign"]) for line in form.signatures]
        story.append(KeepTogether(lines))
    if form.footer:
        story += [Spacer(1, 3 * mm), Paragraph(_escape(form.footer), styles["small"])]
    document.build(story, canvasmaker=_numbered_canvas(font))
    return buffer.getvalue()
