"""Every error the API sends has one shape: ``{"error": "<zh-CN message>", "detail": [...], "code": "<stable>"}``.

``HTTP_STATUS`` is the one place a domain error (:mod:`juzheng.errors`) becomes an HTTP status;
clients act on ``code``, never on the wording of ``error``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from ..errors import Conflict, DomainError, Invalid, NotFound, RateLimited, Refused, Unavailable

log = logging.getLogger(__name__)


class BadRequest(Exception):
    """The HTTP request itself is unusable (body, path, content type): the server's own refusal."""

    def __init__(self, status: int, message: str, detail: list[Any] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail or []
        self.code = code


_REASONS = {
    400: "请求有误",
    401: "需要认证",
    403: "拒绝访问",
    404: "找不到",
    405: "不支持该请求方法",
    409: "冲突",
    412: "接口版本不一致",
    413: "请求体过大",
    415: "不支持的内容类型",
    429: "尝试次数过多",
    500: "本地助手内部错误",
    503: "服务暂不可用",
}


# Domain error type -> HTTP status; a subclass takes its nearest listed base.
HTTP_STATUS: dict[type[DomainError], int] = {
    Invalid: 400,
    Refused: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    Unavailable: 503,
}
# The code of an error the server itself sends without a more specific one.
_CODES = {
    400: "invalid_request", 401: "auth_required", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 412: "api_version_mismatch", 413: "too_large", 415: "unsupported_media_type",
    429: "rate_limited", 500: "internal_error", 503: "unavailable",
}


def status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]  # type: ignore[index]
    return 400


def domain_response(exc: DomainError) -> web.Response:
    return error_response(status_of(exc), exc.message, exc.detail, code=exc.code, **exc.extra())


def error_response(status: int, message: str, detail: list[Any] | None = None, *, auth: bool = False, code: str | None = None, **extra: Any) -> web.Response:
    body = {"error": message, "detail": detail or [], "code": code or _CODES.get(status, "error"), **extra}
    response = web.Response(
        status=status, body=json.dumps(body, ensure_ascii=False, default=str).encode(), content_type="application/json"
    )
    if auth:
        response.headers["WWW-Authenticate"] = 'Bearer realm="juzheng"'
    return response


def response_for(request: web.BaseRequest, exc: Exception) -> web.Response | None:
    """What the API answers for an exception out of a handler, or None when it must go on up:
    aiohttp's own errors (404, 405, 413 from the body reader) take the same JSON shape; a bug
    becomes a logged 500 without a traceback sent to the client."""
    if isinstance(exc, web.HTTPException):
        if exc.status < 400 or exc.content_type == "application/json":
            return None
        message = _REASONS.get(exc.status, exc.reason)
        if exc.status == 404:
            message = f"没有这个接口：{request.method} {request.path}（见 /api/openapi.json）"
        elif exc.status == 405:
            message = f"{request.path} 不支持 {request.method}"
        response = error_response(exc.status, message)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    if isinstance(exc, ConnectionResetError):
        return None
    if isinstance(exc, BadRequest):
        return error_response(exc.status, exc.message, exc.detail, code=exc.code)
    if isinstance(exc, DomainError):  # a refusal no handler turned into a response itself
        return domain_response(exc)
    log.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return error_response(500, "本地助手内部错误，已记录日志。请重试；若反复出现请反馈。")
