"""The phone page (``GET /``) and the plain page (``GET /plain``): small, local, and served."""

from __future__ import annotations

import re
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parents[2] / "workspace"
PAGE_BUDGET = 150 * 1024
EXTERNAL = re.compile(r"""(?:https?:)?//[a-z0-9-]+\.[a-z0-9.-]+|@import|(?:src|href)\s*=\s*["']?//""", re.I)


def _assets(ws_client) -> dict[str, bytes]:
    page = ws_client.get("/")
    html = page.get_data()
    found = {"/": html}
    for path in re.findall(rb'(?:src|href)="(/static/[^"]+)"', html):
        found[path.decode()] = ws_client.get(path.decode()).get_data()
    return found


def test_page_and_its_assets_are_small_and_local(ws_client):
    page = ws_client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assets = _assets(ws_client)
    assert set(assets) == {"/", "/static/phone.css", "/static/phone.js"}
    assert sum(len(body) for body in assets.values()) < PAGE_BUDGET
    for path, body in assets.items():
        assert EXTERNAL.findall(body.decode("utf-8")) == [], path
    # every file in static/ and templates/ is part of the page (nothing unchecked rides along)
    shipped = {p.name for folder in ("static", "templates") for p in (WORKSPACE / folder).iterdir()}
    assert shipped == {"phone.css", "phone.js", "phone.html"}


def test_plain_page_moved_and_links_back(ws_client, people):
    html = ws_client.get("/plain").get_data(as_text=True)
    assert "巡检一组" in html and 'href="/"' in html
