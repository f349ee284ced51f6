"""Typed outbound errors. The worker decides from the type alone what to do next."""

from __future__ import annotations


class DingTalkError(Exception):
    """Base class. ``code`` is the platform's code (dotted v1.0 code or oapi errcode)."""

    def __init__(
        self, message: str, *, code: str = "", status: int | None = None, request_id: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [super().__str__()]
        if self.status is not None:
            parts.append(f"http={self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        if self.request_id:
            parts.append(f"requestid={self.request_id}")
        return " ".join(parts)


class RetryableError(DingTalkError):
    """Worth trying again later: network trouble, 5xx, throttling. ``retry_after`` in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class AuthError(DingTalkError):
    """The access token was refused; the client drops it and the call is retried once."""


class FatalError(DingTalkError):
    """The request itself is wrong (bad parameter, missing permission): retrying cannot help."""


class SsrfRefused(FatalError):
    """A URL we were asked to call is not an allowed DingTalk host."""
