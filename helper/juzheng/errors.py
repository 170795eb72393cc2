"""What went wrong, as the domain says it: not found, invalid, conflict, unavailable, refused, too
many tries. Each carries a zh-CN message for the seller, optional field detail and a stable
``code`` clients act on; no HTTP here (``server/errors.py`` maps these types to statuses)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    default_code = "error"

    def __init__(self, message: str, detail: list[dict[str, Any]] | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or []
        self.code = code or self.default_code

    def extra(self) -> dict[str, Any]:
        """Fields the error body carries besides error/detail/code (e.g. attempts left)."""
        return {}


class NotFound(DomainError):
    default_code = "not_found"


class Invalid(DomainError):
    default_code = "invalid"


class Conflict(DomainError):
    default_code = "conflict"


class Unavailable(DomainError):
    default_code = "unavailable"


class Refused(DomainError):
    default_code = "refused"


class RateLimited(DomainError):
    default_code = "rate_limited"


def field_error(field: str, message: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", field], "msg": message, "type": "value_error"}]
