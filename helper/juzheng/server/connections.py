"""Limits on connections, so that a flood of slow or idle sockets never locks the extension out.

aiohttp waits forever for the first request on a new connection and keeps no count of them: about
1,000 half-open sockets (a slowloris from any local process or page) used up the descriptors and the
helper stopped accepting. Here, in front of aiohttp's own protocol:

- every request must complete its head within ``header_timeout`` seconds of its first byte (of the
  connection, for the first), else the connection is closed; idle kept-alive connections are covered
  by aiohttp's keep-alive timeout;
- its body, once the head is in, within ``header_timeout`` plus the time the bytes received so far
  take at ``MIN_BODY_RATE``: a head followed by a dribble of a byte now and then (a slow-body attack:
  aiohttp waits for a body forever) is closed like a head that never ends, while a real upload keeps
  earning time. The body size cap stays with the security middleware (413 before any handler);
- at most ``limit`` connections are open; a new one beyond that first evicts the oldest connection
  whose request has not fully arrived (the attacker's, never a request being served), and only
  when every connection is busy with a real request is the newcomer closed;
- the process's soft descriptor limit is raised to its hard limit where the OS allows (POSIX).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from .request_progress import RequestProgress

if TYPE_CHECKING:
    from .fast_path import FastPath
    from .security import RequestLike

log = logging.getLogger(__name__)

HEADER_TIMEOUT = 10.0  # a real client sends its request head in milliseconds
KEEPALIVE_TIMEOUT = 15.0  # idle kept-alive connections (aiohttp's default is an hour)
MAX_CONNECTIONS = 512


def raise_descriptor_limit() -> int | None:
    """Soft RLIMIT_NOFILE up to the hard limit (POSIX); the soft limit in force, None where unknown."""
    if sys.platform == "win32":  # no per-process descriptor limit of this kind
        return None
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return None if soft == resource.RLIM_INFINITY else int(soft)


def connection_limit(descriptors: int | None, wanted: int = MAX_CONNECTIONS) -> int:
    """Connections allowed with ``descriptors`` available: half of them, the rest for the store,
    the watcher's inotify, the evidence files being moved, logs."""
    if descriptors is None:
        return wanted
    return max(16, min(wanted, descriptors // 2))


class _Guarded(asyncio.Protocol):
    """Forwards everything to aiohttp's protocol; follows how far each request has arrived."""

    def __init__(self, inner: Any, guard: ConnectionGuard) -> None:
        self.inner = inner
        self.guard = guard
        self.transport: asyncio.BaseTransport | None = None
        self.progress = RequestProgress()
        self.verified_token: tuple[str, object, object] | None = None  # pairing.auth.Auth.check_token
        self.plain = True  # every byte so far came as whole bodiless heads (see fast_path)

    @property
    def pending(self) -> bool:
        """A request (or, on a fresh connection, its head) is owed and not fully arrived."""
        return self.progress.pending

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.guard._opened(self)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        was_pending = self.progress.pending
        whole = self.progress.feed(data)
        self.plain = self.plain and whole
        fast = self.guard.fast
        if self.plain and fast is not None and self.transport is not None:
            transport = cast("asyncio.Transport", self.transport)  # a TCP server's: a full transport
            answer = fast.answer(self.inner, data, transport)
            if answer is not None:
                if answer:
                    transport.write(answer)
                return
        if self.progress.pending and not was_pending:
            self.guard._schedule()  # a new request on a kept-alive connection: its clock runs
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard._closed(self)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def connection_of(request: RequestLike) -> _Guarded | None:
    """The guarded connection a request came in on (None under a plain site, e.g. in tests)."""
    transport = request.transport
    protocol = transport.get_protocol() if transport is not None else None
    return protocol if isinstance(protocol, _Guarded) else None


class ConnectionGuard:
    """The protocol factory handed to ``loop.create_server`` instead of aiohttp's ``Server``."""

    def __init__(self, factory: Callable[[], Any], *, limit: int = MAX_CONNECTIONS, header_timeout: float = HEADER_TIMEOUT,
                 fast: FastPath | None = None) -> None:
        self.factory = factory
        self.fast = fast
        self.limit = limit
        self.header_timeout = header_timeout
        self.evicted = 0
        self._open: dict[_Guarded, None] = {}  # insertion order = age
        self._sweeper: asyncio.TimerHandle | None = None

    def __call__(self) -> _Guarded:
        return _Guarded(self.factory(), self)

    def __len__(self) -> int:
        return len(self._open)

    def _opened(self, conn: _Guarded) -> None:
        if len(self._open) >= self.limit:
            victim = next((c for c in self._open if c.pending), None)
            if victim is None:
                conn.close()  # every connection is serving a real request: this one must wait
                return
            self._open.pop(victim, None)
            victim.close()
            self.evicted += 1
            if self.evicted in (1, 100) or self.evicted % 1000 == 0:
                log.warning("too many open connections (%s): closed %s whose request had not fully arrived", self.limit, self.evicted)
        self._open[conn] = None
        self._schedule()

    def _closed(self, conn: _Guarded) -> None:
        self._open.pop(conn, None)

    def _schedule(self) -> None:
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.call_later(min(1.0, self.header_timeout / 2), self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        now = time.monotonic()
        stale = [c for c in self._open if c.pending and c.progress.deadline(self.header_timeout) <= now]
        for conn in stale:
            self._open.pop(conn, None)
            conn.close()
        if any(c.pending for c in self._open):
            self._schedule()

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None


class GuardedSite(web.TCPSite):
    """``web.TCPSite`` whose connections pass through a :class:`ConnectionGuard`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, limit: int | None = None,
                 header_timeout: float = HEADER_TIMEOUT, fast: FastPath | None = None, **kwargs: Any) -> None:
        super().__init__(runner, host, port, **kwargs)
        self.fast = fast
        self.limit = limit if limit is not None else connection_limit(raise_descriptor_limit())
        self.header_timeout = header_timeout
        self.guard: ConnectionGuard | None = None

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self.guard = ConnectionGuard(server, limit=self.limit, header_timeout=self.header_timeout, fast=self.fast)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.guard, self._host, self._port, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
        )

    async def stop(self) -> None:
        if self.guard is not None:
            self.guard.stop()
        await super().stop()


def header_timeout_from_env() -> float:
    try:
        return float(os.environ.get("JUZHENG_HEADER_TIMEOUT", HEADER_TIMEOUT))
    except ValueError:
        return HEADER_TIMEOUT
