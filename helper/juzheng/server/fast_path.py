"""Answers that are ready in memory, written by the connection itself instead of by aiohttp.

The extension polls two things all day, a case's view and the list of cases, and both are served
from bytes cached until something changes. For those, aiohttp's own request handling (a parsed
message queued for the connection's task, a new task per request, the router, the middleware, a
response object and its writer) costed more than the helper's code: measured with no security
layer at all, a cached ``GET /api/cases/{id}`` reached only 0.65x a bare aiohttp handler. Here a
route that declares a ``cached`` form (``api.Route``) is answered when its request arrives:

- only a plain request: exactly one whole head with no body in the bytes received, ``GET`` on a
  path of letters, digits, ``-``, ``_`` and ``/`` (nothing to decode, no query), HTTP/1.1, every
  header line a token, a colon and a value without control characters, no header that aiohttp would
  treat specially (``Content-Length``, ``Transfer-Encoding``, ``Upgrade``, ``Expect``, a
  ``Connection`` other than keep-alive), no header name given twice;
- only on a connection that has carried nothing but such bodiless heads (the guard's framing reader
  is not aiohttp's parser: after a body, a chunked or upgraded request, only aiohttp knows where the
  next request begins), only while aiohttp has nothing in hand on it (its task waits for the next
  request), so answers never overtake one another, and only while the client reads its answers
  (an unread write buffer sends the request to aiohttp, whose handler waits for it to drain);
- decided by the same :func:`security.admit` and stamped by the same :func:`security.stamp` as
  every other request; a refusal is answered here too, so that a refused token is never checked
  twice. When the route's cached form has nothing ready (the view must be built, which reads
  files), or anything in answering raises, the request goes to aiohttp untouched, as does
  anything else. A repeated header name, a ``Sec-WebSocket-*`` header or a missing ``Host`` is left
  to aiohttp's own rules too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from .security import admit, stamp

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import asyncio

    from .api import Route

Cached = Callable[[Any], "bytes | None"]  # a route's answer when it is ready in memory (api.Route.cached)

MAX_HEAD = 8 * 1024  # aiohttp's own line limit; an extension's GET head is ~300 bytes
MAX_FIELDS = 50
_REQUEST_LINE = re.compile(rb"GET (/[A-Za-z0-9/_-]{0,200}) HTTP/1\.1")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_AIOHTTP_ONLY = frozenset({"content-length", "transfer-encoding", "upgrade", "expect", "te", "trailer"})
_NO_QUERY: MultiDictProxy[str] = MultiDictProxy(MultiDict())


class RequestHead:
    """What ``admit``, ``stamp`` and a route's cached form read of a request (``security.RequestLike``)."""

    __slots__ = ("app", "headers", "match_info", "method", "query", "raw_path", "transport")
    content_length = None  # a request with a body never comes here
    app: web.Application
    method: str
    raw_path: str
    headers: CIMultiDictProxy[str]
    match_info: dict[str, str]
    query: MultiDictProxy[str]
    transport: asyncio.Transport

    def __init__(self, app: web.Application, path: str, headers: CIMultiDictProxy[str],
                 match_info: dict[str, str], transport: asyncio.Transport) -> None:
        self.app = app
        self.method = "GET"
        self.raw_path = path
        self.headers = headers
        self.match_info = match_info
        self.query = _NO_QUERY
        self.transport = transport


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern[str]
    cached: Cached


class FastPath:
    """The routes answered from memory, and the one function that answers them."""

    def __init__(self, app: web.Application, routes: list[Route]) -> None:
        self.app = app
        self.entries = [_Entry(_template(r.path), r.cached) for r in routes if r.cached is not None and r.method == "GET"]
        self.answered = 0  # requests answered here; the first is logged (the tests wait for that line)

    def answer(self, inner: Any, data: bytes, transport: asyncio.Transport) -> bytes | None:
        """The whole response for ``data`` (one bodiless request head), or None to let aiohttp
        answer it. ``inner`` is aiohttp's protocol for the connection."""
        if len(data) > MAX_HEAD or not _idle(inner) or transport.get_write_buffer_size():
            return None  # (a client that does not read: aiohttp's handler waits for the buffer to drain)
        try:
            return self._answer(inner, data, transport)
        except Exception:  # odd bytes in a token and the like: aiohttp answers as it always does
            return None

    def _answer(self, inner: Any, data: bytes, transport: asyncio.Transport) -> bytes | None:
        parsed = self._parse(data, transport)
        if parsed is None:
            return None
        head, entry = parsed
        refused = admit(head)
        if refused is None:
            body = entry.cached(head)
            if body is None:
                return None
            response = web.Response(body=body, content_type="application/json")
        elif transport.is_closing():
            return b""  # admit closed it (a web page's probe): nothing is written
        else:
            response = refused
        stamp(head, response)
        _kept_alive(inner)
        self.answered += 1
        if self.answered == 1:
            log.info("cached GETs answered on the connection (fast path): first %s %s", response.status, head.raw_path)
        return _serialize(response)

    def _parse(self, data: bytes, transport: asyncio.Transport) -> tuple[RequestHead, _Entry] | None:
        lines = data[:-4].split(b"\r\n")
        first = _REQUEST_LINE.fullmatch(lines[0])
        if first is None or len(lines) > MAX_FIELDS + 1:
            return None
        path = first.group(1).decode("ascii")
        match = None
        for entry in self.entries:
            found = entry.pattern.fullmatch(path)
            if found is not None:
                match = (entry, found.groupdict())
                break
        if match is None:
            return None
        headers: CIMultiDict[str] = CIMultiDict()
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or _TOKEN.fullmatch(name) is None or _CONTROL.search(value) is not None:
                return None  # folded, empty or odd lines: aiohttp's parser decides what they mean
            key = name.decode("ascii")
            lowered = key.lower()
            if lowered in _AIOHTTP_ONLY or lowered.startswith("sec-websocket") or key in headers:
                return None  # aiohttp refuses many repeated names (its singletons) and reads these itself
            headers.add(key, value.strip(b" \t").decode("utf-8", "surrogateescape"))
        if "Host" not in headers:
            return None  # aiohttp answers 400 for an HTTP/1.1 head without one
        connection = headers.get("Connection")
        if connection is not None and connection.strip().lower() != "keep-alive":
            return None
        return RequestHead(self.app, path, CIMultiDictProxy(headers), match[1], transport), match[0]


def _template(path: str) -> re.Pattern[str]:
    """``/api/cases/{case_id}`` as a pattern; a parameter is one path segment, as aiohttp's router has it."""
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)))


def _idle(inner: Any) -> bool:
    """aiohttp's task for the connection waits for a request and holds none. Read from its
    protocol's private state: when that changes shape, every request falls back to aiohttp
    (tests check the fast path is taken, so an upgrade that breaks it is seen)."""
    waiter = getattr(inner, "_waiter", None)
    return (
        waiter is not None and not waiter.done()
        and not getattr(inner, "_messages", True)
        and getattr(inner, "_current_request", True) is None
        and not getattr(inner, "_force_close", True)
    )


def _kept_alive(inner: Any) -> None:
    """aiohttp closes a connection idle for its keep-alive time; a request answered here counts."""
    timeout = getattr(inner, "_keepalive_timeout", 0)
    if timeout and hasattr(inner, "_next_keepalive_close_time"):
        inner._next_keepalive_close_time = inner._loop.time() + timeout


def _serialize(response: web.Response) -> bytes:
    """The bytes aiohttp would write for ``response`` to a keep-alive HTTP/1.1 request."""
    body = response.body
    assert isinstance(body, bytes)
    lines = [f"HTTP/1.1 {response.status} {response.reason}"]
    headers = response.headers
    lines.extend(f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("content-length", "date", "server"))
    lines.append(f"Content-Length: {len(body)}")
    lines.append(f"Date: {rfc822_formatted_time()}")  # aiohttp's own Date, cached per second
    lines.append(f"Server: {headers.get('Server', SERVER_SOFTWARE)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
