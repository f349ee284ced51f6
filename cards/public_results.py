"""The public result page (一公开, ``/public/results``): published inspection results, searchable
by the object's name or code. Pure HTML: no scripts, no external assets, readable on a phone.
Only what is public: object name and code, task number, date, result code and text, publisher."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

STYLE = """
body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;
background:#f4f5f7;color:#1f2329;line-height:1.6}
main{max-width:760px;margin:0 auto;padding:16px}
h1{font-size:20px;margin:8px 0}
form{display:flex;gap:8px;margin:12px 0}
input{flex:1;font-size:16px;padding:8px;border:1px solid #ccc;border-radius:6px}
button{font-size:16px;padding:8px 14px;border:0;border-radius:6px;background:#1456f0;color:#fff}
.item{background:#fff;border-radius:8px;padding:10px 14px;margin:10px 0}
.name{font-weight:600}
.meta{font-size:13px;color:#646a73}
.code{display:inline-block;padding:0 8px;border-radius:8px;background:#e8f3ff;color:#1456f0;font-size:13px}
.pages{display:flex;justify-content:space-between;margin:12px 0}
a{color:#1456f0}
footer{font-size:12px;color:#8f959e;text-align:center;margin:16px 0}
"""


@dataclass(frozen=True)
class PublicResult:
    name: str
    code: str  # USCC or legacy registration number
    task: str
    day: str
    result_code: str
    result_text: str
    body: str
    published: str


def results_page(rows: list[PublicResult], *, query: str, page: int, more: bool, total: int) -> str:
    items = "".join(
        '<div class="item">'
        f'<div class="name">{escape(r.name)}</div>'
        f'<div class="meta">统一社会信用代码：{escape(r.code or "—")}</div>'
        f'<div><span class="code">{escape(r.result_code)}</span> {escape(r.result_text)}</div>'
        f'<div class="meta">检查任务 {escape(r.task)}｜检查日期 {escape(r.day)}｜{escape(r.body)}｜公示于 {escape(r.published)}</div>'
        "</div>"
        for r in rows
    )
    if not rows:
        items = '<div class="item">没有找到符合条件的公示结果。</div>'
    q = quote(query)
    prev_link = f'<a href="?q={q}&amp;page={page - 1}">上一页</a>' if page > 1 else "<span></span>"
    next_link = f'<a href="?q={q}&amp;page={page + 1}">下一页</a>' if more else "<span></span>"
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>双随机抽查结果公示</title><style>{STYLE}</style></head><body><main>"
        "<h1>双随机抽查结果公示</h1>"
        '<form method="get" action=""><input name="q" maxlength="60" placeholder="输入企业名称或统一社会信用代码" '
        f'value="{escape(query)}"><button type="submit">查询</button></form>'
        f'<div class="meta">共 {total} 条</div>{items}'
        f'<div class="pages">{prev_link}{next_link}</div>'
        "<footer>依据《企业信息公示暂行条例》公示。本页不含个人信息。</footer></main></body></html>"
    )
