"""Guard for URLs that arrive in callbacks (``sessionWebhook``): they are attacker-controlled.

Only hosts on the allowlist are called; their addresses must be public unless loopback is
explicitly allowed (the local workspace). Redirects are never followed by the caller.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from bot.dingtalk.errors import SsrfRefused

Resolver = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


def check_url(
    url: str,
    *,
    allowed_hosts: Iterable[str],
    allow_loopback: bool = False,
    resolver: Resolver = _resolve,
) -> str:
    """Return the URL if it may be called, else raise ``SsrfRefused`` (nothing is sent)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise SsrfRefused(f"refused URL scheme {parts.scheme!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise SsrfRefused("refused URL without a host")
    if parts.username or parts.password:
        raise SsrfRefused("refused URL with credentials")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allowed = {h.lower() for h in allowed_hosts}
    if host not in allowed and f"{host}:{port}" not in allowed:
        raise SsrfRefused(f"refused host {host!r}: not a DingTalk host")
    if parts.scheme == "http" and not allow_loopback:
        raise SsrfRefused("refused plain http")
    try:
        addresses = resolver(host, port)
    except OSError as exc:  # fail closed: an unresolvable host is not called
        raise SsrfRefused(f"refused host {host!r}: cannot resolve") from exc
    if not addresses:
        raise SsrfRefused(f"refused host {host!r}: no address")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.is_loopback and allow_loopback:
            continue
        if not ip.is_global or ip.is_multicast:
            raise SsrfRefused(f"refused host {host!r}: resolves to a non-public address")
    return url
