"""Printable legal documents (PDF): a shared form layout and one builder per document kind.

``build(kind, number, fields)`` turns the fields stored with a document into a ``DocumentForm``;
``render_pdf`` draws it. Later kinds (现场检查记录, 行政检查登记表, 责令改正通知书) add a builder
here and are numbered, stored and sent by the same machinery (handlers/documents).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from cards.documents.form import DocumentForm, FormTable
from cards.documents.layout import render
from cards.documents.notices import inspection_notice
from cards.documents.results import rectify_order, registration, site_record

Builder = Callable[..., DocumentForm]

BUILDERS: dict[str, Builder] = {
    "inspection_notice": inspection_notice,
    "site_record": site_record,
    "registration": registration,
    "rectify_order": rectify_order,
}
TITLES: dict[str, str] = {
    "inspection_notice": "行政检查通知书",
    "site_record": "现场检查记录",
    "registration": "行政检查登记表",
    "rectify_order": "责令改正通知书",
}


def build(kind: str, number: str, fields: dict[str, Any], *, voided: str = "") -> DocumentForm:
    try:
        builder = BUILDERS[kind]
    except KeyError:
        raise ValueError(f"no document builder for kind {kind!r}") from None
    return builder(number, fields, voided=voided)


def render_pdf(
    kind: str,
    number: str,
    fields: dict[str, Any],
    *,
    font_path: str = "",
    voided: str = "",
    pictures: Mapping[str, bytes] | None = None,
) -> bytes:
    """Draw a document. ``fields["signature_images"]`` ([{label, sha256}]) names drawn signatures;
    ``pictures`` gives their bytes by SHA-256 (the caller reads and checks them). A picture that
    is not given is left out, and the printed SHA-256 reference still names it."""
    form = build(kind, number, fields, voided=voided)
    shown = [
        (str(entry["label"]), pictures[entry["sha256"]])
        for entry in fields.get("signature_images", [])
        if pictures and entry.get("sha256") in pictures
    ]
    if shown:
        form = replace(form, signature_images=shown)
    return render(form, font_path=font_path)


__all__ = ["BUILDERS", "TITLES", "DocumentForm", "FormTable", "build", "render", "render_pdf"]
