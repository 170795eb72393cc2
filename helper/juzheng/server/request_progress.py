"""How far the request a client is sending has arrived: its head, then its body.

The connection guard (``connections.py``) needs to know, for every open connection, whether a
request is half-sent and since when, so that a client that sends its head and then dribbles the body
(one byte now and then, or nothing) is closed like one that never finishes its head. aiohttp keeps
this to itself and waits for a body forever, so the guard follows the bytes itself: a small framing
reader (Content-Length and chunked bodies, pipelined requests, WebSocket upgrades) that never
buffers more than a head; aiohttp still does the real parsing and refuses what is malformed.
"""

from __future__ import annotations

import time

HEAD_END = b"\r\n\r\n"
HEAD_CAP = 64 * 1024  # past this aiohttp refuses the head anyway (8 KiB per line)
MIN_BODY_RATE = 256 * 1024  # bytes/s a real body keeps up on loopback (it does ~1 GB/s)


class RequestProgress:
    """Feeds on the bytes a connection receives; ``pending`` says a request is partly sent."""

    def __init__(self, now: float | None = None) -> None:
        self.state = "head"  # head | body | chunk-size | chunk-data | trailer | idle | tunnel
        self.started = time.monotonic() if now is None else now  # the current request's first byte (or the connection)
        self.body_started = 0.0
        self.body_received = 0
        self.requests = 0  # heads completed on this connection
        self._head = b""
        self._remaining = 0
        self._line = b""

    @property
    def pending(self) -> bool:
        """A request has begun and not fully arrived (a fresh connection counts: it owes a head)."""
        return self.state not in ("idle", "tunnel")

    @property
    def headed(self) -> bool:
        return self.state != "head"

    def deadline(self, timeout: float) -> float:
        """When the pending request is overdue: the head within ``timeout``, the body within
        ``timeout`` plus the time its bytes so far take at ``MIN_BODY_RATE`` (a real upload
        keeps earning time; a dribble of a byte a second does not)."""
        if self.state == "head":
            return self.started + timeout
        return self.body_started + timeout + self.body_received / MIN_BODY_RATE

    def feed(self, data: bytes, now: float | None = None) -> bool:
        """Follow ``data``; True when it was exactly one whole request head with no body."""
        if self._whole_bodiless_head(data, now):
            return True
        view = memoryview(data)
        while view and self.state != "tunnel":
            if self.state == "idle":
                self.state = "head"
                self.started = time.monotonic() if now is None else now
            if self.state == "head":
                view = self._feed_head(view, now)
            elif self.state == "body":
                take = min(self._remaining, len(view))
                self._remaining -= take
                self.body_received += take
                view = view[take:]
                if self._remaining == 0:
                    self.state = "idle"
            elif self.state == "chunk-data":
                take = min(self._remaining, len(view))
                self._remaining -= take
                self.body_received += take
                view = view[take:]
                if self._remaining == 0:
                    self.state = "chunk-size"
            else:  # chunk-size / trailer: line by line
                view = self._feed_line(view)
        return False

    def _whole_bodiless_head(self, data: bytes, now: float | None) -> bool:
        """The common case in one step: ``data`` is exactly one request head, with no body to follow
        (every GET the extension polls arrives so). Taken as the general path would take it."""
        if not (self.state == "idle" or (self.state == "head" and not self._head)):
            return False
        if len(data) > HEAD_CAP or not data.endswith(HEAD_END) or data.find(HEAD_END) != len(data) - 4:
            return False
        lowered = data.lower()
        if b"content-length" in lowered or b"transfer-encoding" in lowered or b"upgrade" in lowered:
            return False
        at = time.monotonic() if now is None else now
        if self.state == "idle":
            self.started = at
        self.state = "idle"
        self.requests += 1
        self.body_started = at
        self.body_received = 0
        return True

    def _feed_head(self, view: memoryview, now: float | None) -> memoryview:
        searched = max(0, len(self._head) - 3)
        taken = bytes(view[: HEAD_CAP + 4])
        combined = self._head + taken
        end = combined.find(HEAD_END, searched)
        if end < 0:
            self._head = combined
            if len(combined) > HEAD_CAP:
                self.state = "tunnel"  # aiohttp answers 400 and closes; nothing more to follow
            return view[len(taken):]
        self._head = b""
        self.requests += 1
        self.body_started = time.monotonic() if now is None else now
        self.body_received = 0
        self._begin_body(combined[:end])
        left = len(combined) - (end + 4)  # bytes after the head, all from ``taken``: the search began in the old part's tail
        return view[len(taken) - left:]

    def _begin_body(self, head: bytes) -> None:
        lowered = head.lower()
        if b"content-length" not in lowered and b"transfer-encoding" not in lowered and b"upgrade" not in lowered:
            # Most requests (every GET the extension polls): no body to follow. One scan in C instead
            # of splitting every header line, which was most of this reader's cost per request.
            self.state = "idle"
            return
        length = 0
        chunked = upgrade = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip().lower()
            if name == b"content-length" and value.isdigit():
                length = int(value)
            elif name == b"transfer-encoding" and value.endswith(b"chunked"):
                chunked = True
            elif name == b"upgrade" and value:
                upgrade = True
        if upgrade and head.startswith(b"GET "):
            # WebSocket frames follow (an upgrade is always a GET); aiohttp's heartbeat looks after them.
            self.state = "tunnel"
        elif chunked:
            self.state = "chunk-size"
        elif length:
            self.state, self._remaining = "body", length
        else:
            self.state = "idle"

    def _feed_line(self, view: memoryview) -> memoryview:
        raw = bytes(view[:4096])
        cut = raw.find(b"\n")
        if cut < 0:
            self._line = (self._line + raw)[-4096:]
            return view[len(raw):]
        line = (self._line + raw[:cut]).strip()
        self._line = b""
        rest = view[cut + 1:]
        if self.state == "trailer":
            if not line:
                self.state = "idle"
            return rest
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            self.state = "tunnel"  # malformed: aiohttp answers 400 and closes
            return rest
        if size == 0:
            self.state = "trailer"
        else:
            self.state, self._remaining = "chunk-data", size + 2  # the data and its CRLF
        return rest
