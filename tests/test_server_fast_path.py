"""Cached GETs answered by the connection itself (server/fast_path.py), against the real ``juzheng serve``.

What must hold: a request the fast path answers gets exactly what aiohttp would have answered
(status, headers but the date, body), refusals included; only plain heads are taken, everything else
reaches aiohttp untouched; answers on one connection never overtake each other.

The same request with a query string (``?x=1``, which the handlers ignore) is never taken by the
fast path, so it shows what aiohttp answers for it.
"""

from __future__ import annotations

import socket
import time

import pytest
from aiohttp import web

from juzheng import API_VERSION
from juzheng.server.fast_path import FastPath
from juzheng.server.routes import ROUTES

OTHER_EXTENSION = "chrome-extension://" + "ponmlkjihgfedcba" * 2
FIRST_ANSWER = "cached GETs answered on the connection (fast path)"


# -- a raw HTTP/1.1 client: pipelining and split heads need the bytes themselves -------------------
class Conn:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def response(self) -> tuple[int, dict[str, str], bytes] | None:
        """The next response on the connection; None when the helper closed it without one."""
        while b"\r\n\r\n" not in self.buf:
            try:
                if not self._fill():
                    return None
            except ConnectionResetError:
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("utf-8").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        length = int(headers.get("Content-Length", "0"))
        while len(self.buf) < length:
            if not self._fill():
                raise AssertionError("connection closed inside a body")
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def closed(self) -> bool:
        try:
            return not self._fill()
        except (ConnectionResetError, TimeoutError):
            return True

    def close(self) -> None:
        self.sock.close()


def head(path: str, headers: dict[str, str], method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def ask(port: int, data: bytes) -> tuple[int, dict[str, str], bytes] | None:
    conn = Conn(port)
    try:
        conn.send(data)
        return conn.response()
    finally:
        conn.close()


def without_date(answer: tuple[int, dict[str, str], bytes] | None) -> tuple | None:
    if answer is None:
        return None
    status, headers, body = answer
    return status, {k: v for k, v in headers.items() if k != "Date"}, body


def extension_headers(helper, **extra: str) -> dict[str, str]:
    return {"Host": f"127.0.0.1:{helper.port}", "Authorization": f"Bearer {helper.token}",
            "X-Juzheng-Api": str(API_VERSION), "Origin": helper.origin, **extra}


@pytest.fixture(scope="module")
def case_helper(module_helper):
    """The module's helper with one case whose view is built (so it is cached)."""
    body = {"platform": "pinduoduo", "order_id": "240601-398812056731904", "aftersale_id": "SH2406019921",
            "remaining_text": "剩余处理时间 1天23小时", "request_text": "消费者反馈未收到商品，请提供快递签收底单及红章证明"}
    created = module_helper.request("POST", "/api/cases/detect", json_body=body, headers={"X-Juzheng-Api": str(API_VERSION)})
    assert created.status in (200, 201), created.body
    case_id = created.json()["id"]
    assert module_helper.request("GET", f"/api/cases/{case_id}").status == 200  # built and cached
    assert module_helper.request("GET", "/api/cases").status == 200
    module_helper.case_id = case_id
    return module_helper


def wait_for_output(helper, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in helper.output():
        assert time.monotonic() < deadline, f"{text!r} not in the helper's log:\n{helper.output()[-2000:]}"
        time.sleep(0.05)


# -- same answers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/cases/{id}", "/api/cases"])
def test_a_cached_read_gets_what_aiohttp_answers(case_helper, path):
    target = path.replace("{id}", str(case_helper.case_id))
    plain = ask(case_helper.port, head(target, extension_headers(case_helper)))
    via_aiohttp = ask(case_helper.port, head(target + "?x=1", extension_headers(case_helper)))
    assert plain is not None and plain[0] == 200
    assert without_date(plain) == without_date(via_aiohttp)
    assert plain[1]["Access-Control-Allow-Origin"] == case_helper.origin  # the paired extension's CORS, stamped
    wait_for_output(case_helper, FIRST_ANSWER)


REFUSALS = {
    "no token": {"Authorization": None},
    "wrong token": {"Authorization": "Bearer ext.AAAA.BBBB"},
    "token in another scheme": {"Authorization": "Basic abc"},
    "foreign host": {"Host": "evil.example:80"},
    "host on another port": {"Host": "127.0.0.1:1"},
    "another extension": {"Origin": OTHER_EXTENSION},
    "a web page's origin": {"Origin": "https://mms.pinduoduo.com"},
    "old api version": {"X-Juzheng-Api": "0"},
    "unreadable api version": {"X-Juzheng-Api": "abc"},
    "unknown case": {},
    "web page probe": {"Origin": None, "Sec-Fetch-Site": "cross-site"},
}


@pytest.mark.parametrize("change", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_is_the_same_from_both(case_helper, change):
    headers = {k: v for k, v in {**extension_headers(case_helper), **change}.items() if v is not None}
    case_id = 987654 if not change else case_helper.case_id
    plain = ask(case_helper.port, head(f"/api/cases/{case_id}", headers))
    via_aiohttp = ask(case_helper.port, head(f"/api/cases/{case_id}?x=1", headers))
    assert without_date(plain) == without_date(via_aiohttp)
    if "Sec-Fetch-Site" in change:
        assert plain is None  # closed without a word, as for any page's probe
    else:
        assert plain is not None and plain[0] >= 400 and b'"code"' in plain[2]


# -- order on one connection ----------------------------------------------------------------------
def test_answers_on_one_connection_keep_their_order(case_helper):
    h = extension_headers(case_helper)
    case = f"/api/cases/{case_helper.case_id}"
    conn = Conn(case_helper.port)
    try:
        conn.send(head(case, h))  # fast
        first = conn.response()
        conn.send(head("/api/health", h))  # aiohttp
        health = conn.response()
        conn.send(head("/api/cases", h) + head(case, h) + head("/api/health", h))  # pipelined in one write: aiohttp
        pipelined = [conn.response() for _ in range(3)]
        whole = head(case, h)
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.send(whole[:20])  # a head in two writes (read as one piece or two: one answer either way)
        conn.send(whole[20:])
        split = conn.response()
        conn.send(head(case, h))  # fast again, after aiohttp's answers
        last = conn.response()
    finally:
        conn.close()
    assert first is not None and health is not None and split is not None and last is not None
    assert first[0] == 200 and b'"order_id"' in first[2]
    assert health[0] == 200 and b'"api_version"' in health[2]
    assert [r[0] for r in pipelined if r] == [200, 200, 200]
    assert pipelined[0][2].startswith(b"[") and b'"order_id"' in pipelined[1][2] and b'"api_version"' in pipelined[2][2]
    assert split[2] == first[2] == last[2]


def test_connection_close_is_left_to_aiohttp(case_helper):
    conn = Conn(case_helper.port)
    try:
        conn.send(head(f"/api/cases/{case_helper.case_id}", extension_headers(case_helper, Connection="close")))
        answer = conn.response()
        assert answer is not None and answer[0] == 200
        assert conn.closed()  # aiohttp honours it; a fast answer would have kept the connection
    finally:
        conn.close()


# -- which heads are taken (the parser alone, no server) ------------------------------------------
@pytest.fixture(scope="module")
def fast() -> FastPath:
    return FastPath(web.Application(), ROUTES)


class _Transport:
    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default=None):
        return ("127.0.0.1", 8765) if name == "sockname" else default


PLAIN = b"GET /api/cases/12 HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nAuthorization: Bearer t\r\nX-Juzheng-Api: 1\r\n\r\n"


def test_a_plain_head_is_taken(fast):
    parsed = fast._parse(PLAIN, _Transport())
    assert parsed is not None
    request, entry = parsed
    assert request.raw_path == "/api/cases/12" and request.match_info == {"case_id": "12"}
    assert request.headers["authorization"] == "Bearer t"
    assert fast._parse(PLAIN.replace(b"/api/cases/12", b"/api/cases"), _Transport()) is not None


ODD = {
    "HEAD": PLAIN.replace(b"GET ", b"HEAD "),
    "lower-case method": PLAIN.replace(b"GET ", b"get "),
    "HTTP/1.0": PLAIN.replace(b"HTTP/1.1", b"HTTP/1.0"),
    "query": PLAIN.replace(b"/12 ", b"/12?x=1 "),
    "escaped path": PLAIN.replace(b"/12 ", b"/%31%32 "),
    "dot segment": PLAIN.replace(b"/api/cases/12", b"/api/x/../cases/12"),
    "double slash": PLAIN.replace(b"/api/cases/12", b"//api/cases/12"),
    "trailing slash": PLAIN.replace(b"/12 ", b"/12/ "),
    "another route": PLAIN.replace(b"/api/cases/12", b"/api/rules"),
    "a deeper path": PLAIN.replace(b"/api/cases/12", b"/api/cases/12/files/3"),
    "folded header": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api:\r\n 1"),
    "line without colon": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api 1"),
    "space before colon": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api : 1"),
    "control character": PLAIN.replace(b"Bearer t", b"Bearer \x01t"),
    "bare LF": PLAIN.replace(b"Host: 127.0.0.1:8765\r\n", b"Host: 127.0.0.1:8765\nX: y\r\n"),
    "two Authorization": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api: 1\r\nAuthorization: Bearer u"),
    "two Host": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api: 1\r\nhost: evil"),
    "Content-Length": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api: 1\r\nContent-Length: 0"),
    "Transfer-Encoding": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api: 1\r\nTransfer-Encoding: chunked"),
    "Upgrade": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api: 1\r\nUpgrade: websocket"),
    "Expect": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api: 1\r\nExpect: 100-continue"),
    "Connection: close": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api: 1\r\nConnection: close"),
    "Connection: upgrade": PLAIN.replace(b"X-Juzheng-Api: 1", b"X-Juzheng-Api: 1\r\nConnection: Upgrade"),
    "too many fields": PLAIN.replace(b"X-Juzheng-Api: 1", b"\r\n".join(b"X-%d: 1" % i for i in range(60))),
}


@pytest.mark.parametrize("data", ODD.values(), ids=ODD.keys())
def test_anything_but_a_plain_head_goes_to_aiohttp(fast, data):
    assert fast._parse(data, _Transport()) is None


# -- what the review found (each against aiohttp's own answer) --------------------------------------
LEFT_TO_AIOHTTP = {
    "a repeated singleton header": {"User-Agent": "a\r\nUser-Agent: b"},
    "a WebSocket key header": {"Sec-WebSocket-Key1": "x"},
}


@pytest.mark.parametrize("extra", LEFT_TO_AIOHTTP.values(), ids=LEFT_TO_AIOHTTP.keys())
def test_heads_aiohttp_refuses_are_refused_alike(case_helper, extra):
    target = f"/api/cases/{case_helper.case_id}"
    headers = extension_headers(case_helper, **extra)
    plain = ask(case_helper.port, head(target, headers))
    via_aiohttp = ask(case_helper.port, head(target + "?x=1", headers))
    assert plain is not None and plain[0] == 400
    assert without_date(plain) == without_date(via_aiohttp)


def test_a_head_without_host_and_a_token_that_is_not_text_get_aiohttps_answers(case_helper):
    target = f"/api/cases/{case_helper.case_id}"
    no_host = {k: v for k, v in extension_headers(case_helper).items() if k != "Host"}
    assert without_date(ask(case_helper.port, head(target, no_host))) == without_date(ask(case_helper.port, head(target + "?x=1", no_host)))
    odd = head(target, extension_headers(case_helper)).replace(f"Bearer {case_helper.token}".encode(), b"Bearer ext.abc.\xff\xfe")
    odd_aiohttp = odd.replace(target.encode() + b" ", target.encode() + b"?x=1 ")
    plain, via_aiohttp = ask(case_helper.port, odd), ask(case_helper.port, odd_aiohttp)
    assert plain is not None and plain[0] == 401  # not a 500: a token that is not text is a wrong token
    assert without_date(plain) == without_date(via_aiohttp)


class _Inner:
    """aiohttp's protocol as the fast path reads it: waiting for the next request."""

    class _Waiter:
        def done(self) -> bool:
            return False

    def __init__(self) -> None:
        self._waiter, self._messages, self._current_request, self._force_close = self._Waiter(), [], None, False
        self.received: list[bytes] = []

    def connection_made(self, transport) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        self.received.append(data)


class _Recorder:
    def __init__(self) -> None:
        self.asked: list[bytes] = []

    def answer(self, inner, data: bytes, transport) -> bytes | None:
        self.asked.append(data)
        return None


class _Guard:
    def __init__(self, fast) -> None:
        self.fast = fast

    def _opened(self, conn) -> None:
        pass

    def _schedule(self) -> None:
        pass


def test_after_a_body_only_aiohttp_answers_on_that_connection():
    from juzheng.server.connections import _Guarded

    fresh, used = _Recorder(), _Recorder()
    for recorder, before in ((fresh, []), (used, [b"POST /api/x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"])):
        conn = _Guarded(_Inner(), _Guard(recorder))
        conn.connection_made(_Transport())
        for data in [*before, PLAIN]:
            conn.data_received(data)
        assert conn.inner.received[-1] == PLAIN  # nothing answered here: all reached aiohttp
    assert fresh.asked == [PLAIN] and used.asked == []


def test_a_client_that_does_not_read_is_left_to_aiohttp(fast):
    class Unread(_Transport):
        def get_write_buffer_size(self) -> int:
            return 64 * 1024

    assert fast.answer(_Inner(), PLAIN, Unread()) is None
