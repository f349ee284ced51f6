"""The ten county-level areas of Lishui (GB/T 2260), used for 所属区域 and for demo data.

The codes come from domain.md §5.1 (marked "verify before use"); the bureau confirms them when it
loads its own object list, and an import refuses any region outside this table.
"""

from __future__ import annotations

LISHUI_REGIONS: dict[str, str] = {
    "331100": "市本级",
    "331102": "莲都区",
    "331121": "青田县",
    "331122": "缙云县",
    "331123": "遂昌县",
    "331124": "松阳县",
    "331125": "云和县",
    "331126": "庆元县",
    "331127": "景宁畲族自治县",
    "331181": "龙泉市",
}

# Names people write for the same places.
_ALIASES: dict[str, str] = {
    "丽水市": "331100",
    "丽水市本级": "331100",
    "市直": "331100",
    "景宁县": "331127",
    "景宁": "331127",
}


def region_label(code: str | None) -> str:
    if not code:
        return ""
    return LISHUI_REGIONS.get(code, code)


def parse_region(value: str) -> str | None:
    """A region code from a code or a name (莲都区, 莲都, 331102); None when unknown."""
    text = value.strip()
    if text in LISHUI_REGIONS:
        return text
    if text in _ALIASES:
        return _ALIASES[text]
    for code, name in LISHUI_REGIONS.items():
        if text == name or (len(text) >= 2 and name.startswith(text)):
            return code
    return None
