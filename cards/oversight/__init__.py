"""What people see of the oversight capability: the bulletin chart (PNG), the progress page's
inline SVG charts and HTML, all pure (figures in, bytes or text out)."""

from __future__ import annotations
