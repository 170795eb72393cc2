"""The connection guard's framing reader: when a request has fully arrived, and when it is overdue."""

from __future__ import annotations

from juzheng.server.request_progress import MIN_BODY_RATE, RequestProgress


def test_a_body_is_owed_until_its_last_byte_then_the_next_request_starts():
    p = RequestProgress(now=0)
    p.feed(b"POST /api/pair HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", now=1)
    assert p.pending and p.headed
    p.feed(b"cde", now=2)
    assert not p.pending
    p.feed(b"GET /api/health HTTP/1.1\r\n", now=3)  # pipelined / kept alive: a new head is owed
    assert p.pending and not p.headed and p.started == 3


def test_a_chunked_body_split_anywhere_ends_at_its_last_chunk():
    raw = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n"
    for cut in range(1, len(raw)):
        p = RequestProgress(now=0)
        p.feed(raw[:cut])
        p.feed(raw[cut:])
        assert not p.pending, cut


def test_a_head_sent_byte_by_byte_is_recognised():
    p = RequestProgress(now=0)
    for byte in b"GET / HTTP/1.1\r\nHost: x\r\n\r\n":
        assert p.pending
        p.feed(bytes([byte]))
    assert not p.pending and p.requests == 1


def test_a_dribbled_body_earns_almost_no_time_and_a_real_one_keeps_ahead():
    p = RequestProgress(now=0)
    p.feed(b"POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", now=0)
    for second in range(1, 30):
        p.feed(b"x", now=second)
    assert p.deadline(10) < 10.01  # 29 bytes: still overdue at 10 s
    real = RequestProgress(now=0)
    real.feed(b"POST / HTTP/1.1\r\nContent-Length: 50000000\r\n\r\n", now=0)
    real.feed(b"x" * (MIN_BODY_RATE * 20), now=19)  # ahead of the minimum rate
    assert real.deadline(10) > 19 + 10


def test_only_a_get_upgrade_stops_the_framing():
    ws = RequestProgress(now=0)
    ws.feed(b"GET /api/events HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello")
    assert ws.state == "tunnel" and not ws.pending
    post = RequestProgress(now=0)
    post.feed(b"POST /x HTTP/1.1\r\nUpgrade: websocket\r\nContent-Length: 4\r\n\r\nab")
    assert post.pending


def test_a_whole_head_in_one_read_is_taken_as_the_byte_reader_takes_it():
    """The one-step path for a read that is exactly one bodiless head must leave the reader where
    feeding the same bytes in pieces (the general path) leaves it, whatever came before."""
    import random

    heads = [
        b"GET /api/cases/1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\nAuthorization: Bearer t\r\n\r\n",
        b"GET /api/events?ticket=x HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        b"POST /api/pair HTTP/1.1\r\nContent-Length: 3\r\n\r\n",
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"DELETE /api/cases/2 HTTP/1.1\r\n\r\n",
    ]
    bodies = {2: b"abc", 3: b"3\r\nabc\r\n0\r\n\r\n"}
    rng = random.Random(7)
    for _ in range(300):
        script = [rng.randrange(len(heads)) for _ in range(rng.randint(1, 4))]
        whole, pieces = RequestProgress(now=0), RequestProgress(now=0)
        clock = 0
        for i in script:
            clock += 1
            raw = heads[i] + bodies.get(i, b"")
            whole.feed(heads[i], now=clock)
            if bodies.get(i):
                whole.feed(bodies[i], now=clock)
            for k in range(0, len(raw), 5):
                pieces.feed(raw[k : k + 5], now=clock)
            for attr in ("state", "requests", "pending", "headed", "started", "body_started", "body_received"):
                assert getattr(whole, attr) == getattr(pieces, attr), (attr, script)
            if whole.state == "tunnel":
                break
    fresh = RequestProgress(now=0)
    fresh.feed(heads[0], now=5)
    assert not fresh.pending and fresh.requests == 1  # a fresh connection's first GET, whole
    fresh.feed(heads[0] + heads[0], now=6)  # two pipelined heads in one read: the general path
    assert not fresh.pending and fresh.requests == 3
