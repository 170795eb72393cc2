"""What a case operation refuses, said as what went wrong; the server maps it to HTTP."""

from __future__ import annotations

from typing import Any


class CaseError(Exception):
    """Bad input from a client: ``status`` 400/404/409/503, a zh-CN message, optional detail and a
    stable ``code`` for clients that act on the kind of refusal."""

    def __init__(self, status: int, message: str, detail: list[dict[str, Any]] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail or []
        self.code = code


def field_error(field: str, message: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", field], "msg": message, "type": "value_error"}]
