"""Slow and half-open connections never lock the extension out of the real ``juzheng serve``.

The helper runs with the descriptor limit most Linux desktops give a process (1024, soft and hard,
set on the running process) and faces about 1,000 sockets that each sent half a request head and
then nothing, or that each sent a whole head and then dribbled the body a byte at a time. A real
request must still be answered, promptly; and a half-open socket is closed once its head or its body
is overdue.
"""

from __future__ import annotations

import http.client
import json
import resource
import socket
import sys
import time

import pytest

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sets the helper's descriptor limit with prlimit (Linux)"),
    pytest.mark.timeout(180),
]

HALF_OPEN = 1100
HELPER_FDS = 1024  # the usual default soft and hard RLIMIT_NOFILE


@pytest.fixture(autouse=True)
def enough_descriptors_here():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, HALF_OPEN * 2 + 200))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _half_open(port: int, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode())
        socks.append(s)
    return socks


EXTENSION = "chrome-extension://" + "a" * 32


def _slow_bodies(port: int, count: int) -> list[socket.socket]:
    """Whole request heads that promise a JSON body, then a few bytes of it: aiohttp has started
    the pairing handler, which waits for the rest."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(
            f"POST /api/pair HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {EXTENSION}\r\n"
            f"Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{{\"co".encode()
        )
        socks.append(s)
    return socks


def _dribble(socks: list[socket.socket]) -> None:
    for s in socks:
        try:
            s.send(b" ")
        except OSError:
            pass  # already closed by the helper: that is the point


def _health(port: int, timeout: float = 5.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/api/health")
        response = conn.getresponse()
        json.loads(response.read())
        return response.status
    finally:
        conn.close()


def _closed_by_peer(s: socket.socket) -> bool:
    s.settimeout(0.0)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_a_thousand_half_open_sockets_do_not_lock_out_a_real_request(helper_factory):
    helper = helper_factory(pair=False)
    resource.prlimit(helper.process.pid, resource.RLIMIT_NOFILE, (HELPER_FDS, HELPER_FDS))
    socks = _half_open(helper.port, HALF_OPEN)
    try:
        started = time.monotonic()
        assert _health(helper.port) == 200
        assert time.monotonic() - started < 5.0
        # ...and again, with the flood still connected
        assert _health(helper.port) == 200
    finally:
        for s in socks:
            s.close()


@pytest.mark.helper_options(env={"JUZHENG_HEADER_TIMEOUT": "1"})
def test_a_request_head_that_never_ends_is_closed(running_helper):
    (slow,) = _half_open(running_helper.port, 1)
    try:
        deadline = time.monotonic() + 15
        while not _closed_by_peer(slow):
            assert time.monotonic() < deadline, "half-open connection still open long after the head timeout"
            time.sleep(0.1)
        assert _health(running_helper.port) == 200
    finally:
        slow.close()


def test_a_thousand_slow_bodies_do_not_lock_out_a_real_request(helper_factory):
    """Each socket's head is complete, so a guard that only watches heads counts them as real
    requests being served and turns the newcomer away once the connection cap is reached."""
    helper = helper_factory(pair=False)
    resource.prlimit(helper.process.pid, resource.RLIMIT_NOFILE, (HELPER_FDS, HELPER_FDS))
    socks = _slow_bodies(helper.port, HALF_OPEN)
    try:
        _dribble(socks)
        started = time.monotonic()
        assert _health(helper.port) == 200
        assert time.monotonic() - started < 5.0
        _dribble(socks)
        assert _health(helper.port) == 200
    finally:
        for s in socks:
            s.close()


@pytest.mark.helper_options(env={"JUZHENG_HEADER_TIMEOUT": "1"})
def test_a_body_dribbled_a_byte_at_a_time_is_closed(running_helper):
    (slow,) = _slow_bodies(running_helper.port, 1)
    try:
        deadline = time.monotonic() + 15
        while not _closed_by_peer(slow):
            assert time.monotonic() < deadline, "a dribbling body kept its connection long after the timeout"
            slow.settimeout(1.0)
            try:
                slow.send(b" ")  # still sending: a byte every tenth of a second earns no more time
            except OSError:
                break
            time.sleep(0.1)
        assert _health(running_helper.port) == 200
    finally:
        slow.close()


def test_slow_sockets_on_the_status_page_port_do_not_starve_the_api(helper_factory):
    """The pairing/status page is served on a port of its own by the same process: its sockets
    spend the same 1,024 descriptors (before, it had no guard: the flood there took them all)."""
    from juzheng.instance import read_info

    helper = helper_factory(pair=False)
    resource.prlimit(helper.process.pid, resource.RLIMIT_NOFILE, (HELPER_FDS, HELPER_FDS))
    status_port = (read_info(helper.state_dir) or {}).get("status_port")
    assert status_port, "the helper serves no status page"
    socks = _half_open(int(status_port), HALF_OPEN)
    try:
        _dribble(socks)
        started = time.monotonic()
        assert _health(helper.port) == 200
        assert time.monotonic() - started < 5.0
    finally:
        for s in socks:
            s.close()
