"""Mask mobile and resident ID numbers in log records (and anywhere else text leaves us).

ID numbers are masked only when their GB 11643 check character is right, so that long order
numbers and timestamps are left alone.
"""

from __future__ import annotations

import logging
import re

_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3})([0-9Xx])(?![0-9A-Za-z])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number_valid(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == value[17].upper()


def mask_mobile(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return "****"


def mask_text(text: str) -> str:
    def _id(match: re.Match[str]) -> str:
        whole = match.group(0)
        if not id_number_valid(whole):
            return whole
        return whole[:6] + "********" + whole[-4:]

    text = _ID.sub(_id, text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class MaskingFilter(logging.Filter):
    """Rewrites the formatted message of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return True
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg = masked
            record.args = ()
        return True


def install(level: int = logging.INFO) -> None:
    """Configure root logging once, with masking on every handler."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
