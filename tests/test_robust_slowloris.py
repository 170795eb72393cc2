"""Slow and half-open connections never lock the extension out of the real ``juzheng serve``.

The helper runs with the descriptor limit most Linux desktops give a process (1024, soft and hard,
set on the running process) and faces about 1,000 sockets that each sent half a request head and
then nothing. A real request must still be answered, promptly; and a half-open socket is closed
once its head is overdue.
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
