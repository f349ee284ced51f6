"""The public 行政行为码 page (亮码检查): what an inspected business sees after scanning.

Pure HTML, no scripts, no external assets (works on any phone, offline-cacheable, nothing to
leak to third parties). It shows only the enforcement body, the inspectors and their
certificate numbers, the items, the legal basis, the window and the result: no contact data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

STYLE = """
body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;
background:#f4f5f7;color:#1f2329;line-height:1.6}
main{max-width:640px;margin:0 auto;padding:16px}
h1{font-size:20px;margin:8px 0 4px}
.status{display:inline-block;padding:2px 10px;border-radius:10px;background:#e8f3ff;color:#1456f0;font-size:14px}
.status.void{background:#fdecec;color:#c62828}
section{background:#fff;border-radius:8px;padding:12px 16px;margin:12px 0}
h2{font-size:15px;color:#646a73;margin:0 0 8px}
table{width:100%;border-collapse:collapse;font-size:15px}
td,th{padding:6px 4px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{color:#646a73;font-weight:normal;width:34%}
ol{margin:0;padding-left:20px}
footer{font-size:12px;color:#8f959e;text-align:center;margin:16px 0}
"""


@dataclass(frozen=True)
class CodePage:
    code: str  # grouped for display
    status: str
    valid: bool
    body: str  # the enforcement body (issuing bureau)
    units: list[str] = field(default_factory=list)  # participating units
    inspectors: list[tuple[str, str]] = field(default_factory=list)  # (name, certificate number)
    items: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    window: str = ""
    result: str = ""


def _page(title: str, content: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>{content}</main></body></html>"
    )


def code_page(page: CodePage) -> str:
    status_class = "status" if page.valid else "status void"
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(cert)}</td></tr>" for name, cert in page.inspectors
    )
    items = "".join(f"<li>{escape(item)}</li>" for item in page.items)
    bases = "".join(f"<li>{escape(basis)}</li>" for basis in page.bases)
    units = escape("、".join(page.units))
    content = (
        f'<h1>行政检查信息</h1><span class="{status_class}">{escape(page.status)}</span>'
        f"<section><h2>检查机关</h2><table><tr><th>执法机关</th><td>{escape(page.body)}</td></tr>"
        f"<tr><th>参加单位</th><td>{units}</td></tr>"
        f"<tr><th>检查时间</th><td>{escape(page.window)}</td></tr>"
        f"<tr><th>行政行为码</th><td>{escape(page.code)}</td></tr></table></section>"
        f"<section><h2>检查人员</h2><table><tr><th>姓名</th><th>执法证号</th></tr>{rows}</table></section>"
        f"<section><h2>检查事项</h2><ol>{items}</ol></section>"
        f"<section><h2>检查依据</h2><ol>{bases}</ol></section>"
        f"<section><h2>检查结果</h2><p>{escape(page.result)}</p></section>"
        "<footer>检查人员应当出示行政执法证件。对检查人员身份有疑问的，可核对以上执法证号。</footer>"
    )
    return _page("行政检查信息", content)


def not_found_page() -> str:
    return _page(
        "未找到",
        "<h1>未找到该行政行为码</h1><section><p>请核对二维码或行政行为码是否完整、正确。</p></section>",
    )
