"""3. ``GET /api/cases/{id}`` throughput and p99 with ``wrk --latency`` at 50 and 200 connections.

The helper is the real ``juzheng serve``; the request carries what the extension sends
(``Authorization: Bearer <token>`` and ``X-Juzheng-Api``), so every request passes the whole security
check (``security.admit``: in the connection's fast path for these cached reads, server/fast_path.py). The case has a checklist and evidence in the folder, as a seller's case does.

Baseline: a bare aiohttp handler (``bare_server.py``) returning the very bytes the helper returned,
started by the bench as a subprocess the same way (same Python, aiohttp and loop, no access log).
The two runs of each connection count are back to back, so both see the same machine.

wrk keeps every connection busy: with 200 connections, by Little's law the mean latency is
200 / throughput, so p99 <= 10 ms would need more than 20,000 req/s from one Python process — out of
reach of the bare handler too. So the 200 connections are also run *paced* (wrk's Lua ``delay()``:
each connection waits 0–200 ms (100 ms on average) between requests, about 2,000 req/s in all — still far above what one
seller's browser sends), which shows the latency a request meets when the helper is not saturated.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from juzheng import API_VERSION

from .results import Figure, Target

CONNECTIONS = (50, 200)
CASE_TARGET_RATIO = 0.7  # GET /api/cases/{id} >= 0.7x bare
LIST_TARGET_RATIO = 0.5  # GET /api/cases >= 50 % of bare at every size
TARGET_P99_MS = 10.0
ORDER = "231123-123456789012345"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors and non-2xx answers
    raw: str


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non2xx.group(1)) if non2xx else 0
    return WrkResult(rps, _ms(dist["50"]), _ms(dist["99"]), requests, errors, output)


PACED_DELAY_MS = 100


def wrk(url: str, connections: int, seconds: float, headers: dict[str, str], script: Path | None = None) -> WrkResult:
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (scripts/bench installs it)")
    cmd = [binary, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if script is not None:
        cmd += ["-s", str(script)]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def _realistic_case(helper: Any) -> int:
    """A Pinduoduo 未收到商品 case with two sorted files and a text note, as the overlay shows it."""
    body = {
        "platform": "pinduoduo", "order_id": ORDER, "aftersale_id": "98765432101",
        "remaining_text": "剩余处理时间 1天23小时59分",
        "request_text": "该订单顾客反馈未收到商品，请提供发货底单及快递签收红章证明，或客户确认签收的平台聊天截图。",
    }
    r = helper.request("POST", "/api/cases/detect", json_body=body, headers={"X-Juzheng-Api": str(API_VERSION)})
    if r.status not in (200, 201):
        raise RuntimeError(f"detect failed: {r.status} {r.body[:300]!r}")
    case_id = int(r.json()["id"])
    inbox = helper.root / "收件箱"
    inbox.mkdir(parents=True, exist_ok=True)
    for name in (f"{ORDER} 快递红章证明.jpg", f"{ORDER} 发货底单.jpg"):
        (inbox / name).write_bytes(name.encode() * 200)
    deadline = time.monotonic() + 20
    while True:
        view = helper.request("GET", f"/api/cases/{case_id}").json()
        if len(view.get("evidence", [])) >= 2:
            return case_id
        if time.monotonic() > deadline:
            raise RuntimeError("the two files were not sorted into the case within 20 s")
        time.sleep(0.1)


def _bare_server(session: Any, body: bytes) -> tuple[subprocess.Popen, int]:
    from fixtures.helper_process import free_port

    body_file = session.workdir / "bare-body.json"
    body_file.write_bytes(body)
    port = free_port()
    proc = session.track(subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("bare_server.py")), "--port", str(port), "--body", str(body_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    ))
    line = proc.stdout.readline().decode().strip() if proc.stdout else ""
    if line != "ready":
        raise RuntimeError(f"bare server did not start: {line!r}")
    return proc, port


def measure(session: Any, seconds: float, warm: bool = True) -> list[Figure]:
    helper = session.helper("api-helper")
    case_id = _realistic_case(helper)
    path = f"/api/cases/{case_id}"
    headers = {"Authorization": f"Bearer {helper.token}", "X-Juzheng-Api": str(API_VERSION)}
    first = helper.request("GET", path, headers={"X-Juzheng-Api": str(API_VERSION)})
    if first.status != 200:
        raise RuntimeError(f"GET {path}: {first.status}")
    _, bare_port = _bare_server(session, first.body)
    helper_url, bare_url = f"{helper.url}{path}", f"http://127.0.0.1:{bare_port}{path}"
    # Warm both (first-request costs, caches), then measure each connection count back to back.
    if warm:
        wrk(helper_url, 10, 1, headers)
        wrk(bare_url, 10, 1, headers)
    figures: list[Figure] = []
    for conns in CONNECTIONS:
        bare = wrk(bare_url, conns, seconds, headers)
        ours = wrk(helper_url, conns, seconds, headers)
        if ours.errors or bare.errors:
            raise RuntimeError(f"wrk saw errors at {conns} connections: helper {ours.errors}, bare {bare.errors}\n{ours.raw}")
        details = {"helper_p50_ms": ours.p50_ms, "bare_p50_ms": bare.p50_ms, "helper_requests": ours.requests,
                   "bare_requests": bare.requests, "body_bytes": len(first.body), "seconds": seconds}
        figures.append(Figure(
            id=f"api_rps_{conns}", title=f"GET /api/cases/id @{conns} conns", unit="req/s", stat="throughput",
            value=ours.rps, details=details, baseline=bare.rps, baseline_title="(bare aiohttp)",
            baseline_why="a bare aiohttp handler returning the same bytes, a subprocess started the same way" if conns == CONNECTIONS[0] else "",
            target=Target(on="ratio", op=">=", limit=CASE_TARGET_RATIO),
        ).judge())
        figures.append(Figure(
            id=f"api_p99_{conns}", title=f"GET /api/cases/id @{conns} conns", unit="ms", stat="p99",
            value=ours.p99_ms, details=details, baseline=bare.p99_ms, baseline_title="(bare aiohttp)",
            target=Target(on="value", op="<=", limit=TARGET_P99_MS) if conns == 200 else None,
        ).judge())
    paced = session.workdir / "paced.lua"
    # Random around the mean, so the 200 connections do not fire in lockstep waves.
    paced.write_text(f"function delay()\n  return math.random(0, {2 * PACED_DELAY_MS})\nend\n", encoding="ascii")
    bare = wrk(bare_url, 200, seconds, headers, paced)
    ours = wrk(helper_url, 200, seconds, headers, paced)
    if ours.errors or bare.errors:
        raise RuntimeError(f"wrk saw errors in the paced run: helper {ours.errors}, bare {bare.errors}\n{ours.raw}")
    figures.append(Figure(
        id="api_p99_200_paced", title=f"GET /api/cases/id @200 conns paced ~{200 * 1000 // PACED_DELAY_MS:,} req/s", unit="ms", stat="p99",
        value=ours.p99_ms, details={"helper_rps": ours.rps, "bare_rps": bare.rps, "helper_p50_ms": ours.p50_ms, "bare_p50_ms": bare.p50_ms},
        baseline=bare.p99_ms, baseline_title="(bare aiohttp, paced)",
        baseline_why="the bare handler under the same paced load (each connection waits 0-200 ms, 100 ms on average, between requests)",
        note="saturating wrk holds mean latency at connections/throughput (Little's law): 200 conns need >20k req/s "
        "for p99 <= 10 ms, beyond the bare handler too; the paced run (~2,000 req/s) shows the unsaturated p99",
        target=Target(on="value", op="<=", limit=TARGET_P99_MS),
    ).judge())
    figures.extend(_list_rows(session, helper, headers, seconds, LIST_SIZES_QUICK if not warm else LIST_SIZES))
    return figures


LIST_SIZES = (20, 200, 2000)
LIST_SIZES_QUICK = (20, 200)


def _open_cases(helper: Any, headers: dict[str, str], count: int) -> None:
    """Open cases until the helper has ``count`` (the popup's and the badge's list grows with the shop)."""
    have = len(helper.request("GET", "/api/cases", headers=headers).json())
    for i in range(have, count):
        body = {
            "platform": ("pinduoduo", "taobao", "douyin")[i % 3], "order_id": f"2411{i:06d}-{i:012d}", "aftersale_id": f"L{i}",
            "remaining_text": f"剩余处理时间 {1 + i % 2}天{i % 24}小时", "request_text": "买家反馈未收到货，请商家提供快递签收底单或红章证明",
        }
        r = helper.request("POST", "/api/cases/detect", json_body=body, headers=headers)
        if r.status not in (200, 201):
            raise RuntimeError(f"detect failed: {r.status} {r.body[:300]!r}")


def _list_rows(session: Any, helper: Any, headers: dict[str, str], seconds: float, sizes: tuple[int, ...]) -> list[Figure]:
    """GET /api/cases at growing case counts, each against a bare handler returning the very same list bytes."""
    rows = []
    for size in sizes:
        _open_cases(helper, headers, size)
        first = helper.request("GET", "/api/cases", headers=headers)
        if first.status != 200 or len(first.json()) < size:
            raise RuntimeError(f"GET /api/cases: {first.status}, {len(first.json())} cases, wanted {size}")
        proc, port = _bare_server(session, first.body)
        try:
            bare = wrk(f"http://127.0.0.1:{port}/api/cases", 50, seconds, headers)
            ours = wrk(f"{helper.url}/api/cases", 50, seconds, headers)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        if ours.errors or bare.errors:
            raise RuntimeError(f"wrk saw errors listing {size} cases: helper {ours.errors}, bare {bare.errors}\n{ours.raw}")
        rows.append(Figure(
            id=f"api_list_{size}", title=f"GET /api/cases with {size} open cases @50 conns", unit="req/s", stat="throughput",
            value=ours.rps, details={"body_bytes": len(first.body), "helper_p99_ms": ours.p99_ms, "bare_p99_ms": bare.p99_ms},
            baseline=bare.rps, baseline_title="(bare aiohttp, same bytes)",
            baseline_why="a bare aiohttp handler returning the helper's own list bytes for this many cases" if size == sizes[0] else "",
            target=Target(on="ratio", op=">=", limit=LIST_TARGET_RATIO),
        ).judge())
    return rows
