"""The CJK font a document is set in.

Preference: the configured TTF/TTC, then a font Debian installs (fonts-wqy-microhei,
fonts-wqy-zenhei, fonts-noto-cjk, fonts-arphic), each embedded as a subset; otherwise the
built-in ``STSong-Light`` CID font, which needs no file but is NOT embedded, so a reader without
a CJK font shows blank glyphs (reliability-perf-ecosystem.md §7). reportlab cannot use
CFF-outline OpenType (most Noto CJK builds); such files are skipped.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

KNOWN_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
BUILTIN = "STSong-Light"


@dataclass(frozen=True)
class FontChoice:
    name: str  # the reportlab font name to use
    path: str | None  # the file embedded, or None for the built-in CID font
    embedded: bool


def _register_ttf(path: str) -> FontChoice | None:
    if not Path(path).is_file():
        return None
    name = "CJK-" + hashlib.sha1(path.encode()).hexdigest()[:8]
    try:
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
    except Exception as exc:  # unsupported outlines, damaged file: try the next candidate
        log.warning("cannot use CJK font %s: %s", path, exc)
        return None
    return FontChoice(name, path, True)


@cache
def cjk_font(configured: str = "") -> FontChoice:
    """Register and return the font to use (cached per configured path)."""
    candidates = ([configured] if configured else []) + list(KNOWN_CJK_FONTS)
    for path in candidates:
        choice = _register_ttf(path)
        if choice is not None:
            return choice
        if path == configured:
            log.warning("configured CJK font %s is unusable; trying installed fonts", configured)
    pdfmetrics.registerFont(UnicodeCIDFont(BUILTIN))
    return FontChoice(BUILTIN, None, False)
