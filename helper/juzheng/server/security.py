"""Every defence of the local API in one function, ``admit``, which the API's middleware
(server/middleware.py) applies before any handler runs.

Order: canonical path → Host (DNS rebinding) → fetch metadata (a web page's no-cors probe) →
Origin (web pages, other extensions) → CORS
preflight → API version (412) → body size (413) → credentials (401). Which credential a request
needs is decided from the *canonical* method and path, never from what the router matched, so
``//api/...`` or ``/api/health/%2e%2e/cases`` cannot reach a handler without a token.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from urllib.parse import unquote

from aiohttp import web
from multidict import CIMultiDictProxy, MultiMapping

from .. import API_VERSION, __version__
from .context import RUNTIME
from .connections import connection_of
from .errors import error_response

Key = tuple[str, str]  # (method, canonical path)


@dataclass(frozen=True)
class RoutePolicy:
    """Which credential each route needs, as the route table (``ROUTES``) declares it. A route not
    named here needs a pairing token: forgetting to declare one fails closed."""

    public: frozenset[Key]
    pairing: frozenset[Key]  # public, but only for an extension origin
    ticket: frozenset[Key]
    admin: frozenset[Key]

    @classmethod
    def of(cls, routes: Iterable[RouteLike]) -> RoutePolicy:
        sets: dict[str, set[Key]] = {"public": set(), "pairing": set(), "ticket": set(), "admin": set()}
        for route in routes:
            if route.auth == "token":
                continue
            if "{" in route.path:  # the middleware matches literal paths: a template would never match
                raise ValueError(f"{route.method} {route.path}: only literal paths can be {route.auth}")
            key = (route.method.upper(), route.path)
            sets[route.auth].add(key)
            if route.extension_only:
                sets["pairing"].add(key)
        return cls(**{name: frozenset(keys) for name, keys in sets.items()})


class RouteLike(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def auth(self) -> str: ...
    @property
    def extension_only(self) -> bool: ...


class RequestLike(Protocol):
    """What the checks read of a request: an aiohttp request, or a head the connection answers
    itself (``fast_path.RequestHead``), so both are judged by this one module."""

    @property
    def app(self) -> web.Application: ...
    @property
    def method(self) -> str: ...
    @property
    def raw_path(self) -> str: ...
    @property
    def headers(self) -> CIMultiDictProxy[str]: ...
    @property
    def transport(self) -> asyncio.Transport | None: ...
    @property
    def content_length(self) -> int | None: ...
    @property
    def query(self) -> MultiMapping[str]: ...


ROUTE_POLICY = web.AppKey("route_policy", RoutePolicy)
EXTENSION_ORIGIN = re.compile(r"^(chrome-extension|moz-extension)://[a-z0-9][a-z0-9._-]{0,127}$")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")

JSON_LIMIT = 1024 * 1024
UPLOAD_LIMIT = 200 * 1024 * 1024
UPLOAD_PATH = re.compile(r"^/api/cases/[^/]+/evidence$")


def canonical_path(raw_path: str) -> str:
    """Decode escapes (repeatedly: ``%252e``), turn ``\\`` into ``/``, drop empty and dot segments."""
    path = raw_path.split("?", 1)[0]
    if "%" not in path and "\\" not in path and "//" not in path and "/." not in path and path.startswith("/"):
        return path.rstrip("/") or "/"  # the common case, on every request: nothing to decode or fold
    for _ in range(4):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    segments: list[str] = []
    for segment in path.replace("\\", "/").split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return "/" + "/".join(segments)


def bearer(request: RequestLike) -> str | None:
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@lru_cache(maxsize=8)
def _hosts(port: int) -> frozenset[str]:
    return frozenset(f"{h}:{port}" for h in LOCAL_HOSTS)


def allowed_host(host: str | None, port: int) -> bool:
    if not host:
        return False
    return host.lower() in _hosts(port)


def local_port(request: RequestLike) -> int | None:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        return int(sockname[1])
    return None


def admit(request: RequestLike) -> web.Response | None:
    """The refusal a request gets before reaching its handler, or None when it may go on."""
    runtime = request.app[RUNTIME]
    policy = request.app[ROUTE_POLICY]
    method = request.method.upper()
    path = canonical_path(request.raw_path)
    raw = request.raw_path.split("?", 1)[0]

    port = local_port(request)
    if port is None or not allowed_host(request.headers.get("Host"), port):
        return error_response(403, "Host 不被接受：只接受 127.0.0.1、localhost 或 [::1] 加本端口（防止 DNS 重绑定）", code="host_refused")

    origin = request.headers.get("Origin")
    if web_page_probe(origin, request.headers.get("Sec-Fetch-Site")):
        # A page's <img>/<script>/fetch(no-cors) sends no Origin; any HTTP answer, even a 403,
        # resolves its fetch and so tells the page that the helper is installed. Closing the
        # connection without a word looks the same to it as a port where nothing listens.
        if request.transport is not None:
            request.transport.abort()
        return error_response(403, "网页不能访问本地助手", code="web_page_refused")
    key = (method if method != "HEAD" else "GET", path)
    if origin is not None:
        if not EXTENSION_ORIGIN.match(origin):
            return error_response(403, "网页不能访问本地助手（Origin 被拒绝）", code="origin_refused")
        if key in policy.admin:
            return error_response(403, "该操作只能由本机命令行 juzheng pair 发起", code="admin_only")
        paired = runtime.paired_origins
        if key not in policy.pairing and paired and origin not in paired:
            return error_response(403, "该扩展未与本地助手配对（Origin 与已配对的扩展不一致）", code="origin_not_paired")

    if method == "OPTIONS":
        # Preflight: answered only for the paired extension (the service worker needs none).
        if origin is not None and origin in runtime.paired_origins:
            return web.Response(status=204)
        return error_response(403, "跨域预检只对已配对的扩展开放", code="preflight_refused")

    api = request.headers.get("X-Juzheng-Api")
    if api is not None:
        problem = api_version_problem(api)
        if problem:
            return error_response(412, problem, code="api_version_mismatch")

    length = request.content_length
    limit = UPLOAD_LIMIT if UPLOAD_PATH.match(path) else JSON_LIMIT
    if length is not None and length > limit:
        return error_response(413, f"请求体过大（{length} 字节），上限 {limit // (1024 * 1024)} MB", code="too_large")

    if key in policy.public:
        if key in policy.pairing and origin is None:
            return error_response(403, "配对只接受来自浏览器扩展的请求", code="pairing_needs_extension")
    elif key in policy.ticket:
        ticket = request.query.get("ticket", "")
        if not ticket or not runtime.auth.use_ticket(ticket):
            return error_response(401, "事件连接需要有效的一次性 ticket（先 POST /api/events/ticket）", auth=True, code="ticket_required")
    elif key in policy.admin:
        token = bearer(request)
        if token is None or not runtime.auth.check_admin(token):
            return error_response(401, "需要本机管理令牌（由 juzheng pair 自动提供）", auth=True, code="admin_token_required")
    else:
        token = bearer(request)
        if token is None or not runtime.auth.check_token(token, connection_of(request)):
            return error_response(401, "需要配对令牌：请在扩展的选项页点「开始配对」", auth=True, code="token_required")

    if path != raw:
        return error_response(400, f"请求路径不规范（含 //、. 或编码的分隔符），请使用 {path}", code="path_not_canonical")
    return None


def web_page_probe(origin: str | None, fetch_site: str | None) -> bool:
    """A browser request made by a web page rather than by the extension or the seller.

    ``Sec-Fetch-Site`` is set by the browser, never by page script: ``none`` is the seller's own
    navigation or an extension with host permission; anything else without an extension Origin
    came from a page (cross-site, or another page on this machine: same-site/same-origin).
    """
    if fetch_site is None or fetch_site.strip().lower() == "none":
        return False
    return origin is None or not EXTENSION_ORIGIN.match(origin)


def api_version_problem(value: str) -> str | None:
    try:
        client = int(value.strip())
    except ValueError:
        return f"X-Juzheng-Api 应为整数接口版本号，收到 {value[:20]!r}；本地助手的接口版本是 {API_VERSION}"
    if client < API_VERSION:
        return f"浏览器扩展过旧：扩展接口版本 {client}，本地助手需要 {API_VERSION}。请更新浏览器扩展。"
    if client > API_VERSION:
        return f"本地助手过旧：助手接口版本 {API_VERSION}，扩展需要 {client}。请更新本地助手（重新运行 scripts/run）。"
    return None


def stamp(request: RequestLike, response: web.StreamResponse) -> None:
    """Headers every response carries, errors included: the middleware stamps what a handler
    returns, a handler that prepares its own response (the WebSocket handshake) stamps it first."""
    response.headers["X-Juzheng-Version"] = __version__
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    origin = request.headers.get("Origin")
    # CORS names only a paired extension; never '*', never another origin.
    if origin is not None and origin in request.app[RUNTIME].paired_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Juzheng-Api"
            response.headers["Access-Control-Max-Age"] = "600"
