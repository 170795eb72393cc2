"""5. The helper's idle CPU and its memory with a large tree indexed.

A real ``juzheng serve`` is started on the big sorted tree (the first start indexes it: the time to
the last file indexed and the peak RSS meanwhile are recorded), then left alone for the idle
window (``--idle-seconds`` or ``JUZHENG_BENCH_IDLE_SECONDS``; the issue asks for an hour), its RSS
noted at ten points of it. Over the same window psutil samples the CPU time of three processes
side by side: that helper, a helper on an empty folder, and the bare aiohttp server of the API
benchmark.

Baselines: idle CPU — the bare aiohttp server over the same window (an event loop doing nothing);
memory — the same helper on an empty folder (so the ratio is what the index costs).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from .results import Figure, Target
from .tree import Tree

TARGET_CPU_PCT = 1.0
TARGET_RSS_MB = 120.0
MB = 1024 * 1024


def _indexed(db: Any) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0
    try:
        return int(con.execute("SELECT count(*) FROM evidence").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # the schema is not there yet
    finally:
        con.close()


def _cpu(proc: Any) -> float:
    t = proc.cpu_times()
    return t.user + t.system


SAMPLES = 10  # RSS points across the idle window: a leak or a late rescan shows as a slope, not one figure


def _sample_rss(big: Any, empty: Any, idle_seconds: float) -> list[dict[str, float]]:
    """Sleep through the idle window, noting both helpers' RSS at ``SAMPLES`` even points (printed as
    they come: a long window is watched, not waited for)."""
    started = time.monotonic()
    points = []
    for i in range(1, SAMPLES + 1):
        time.sleep(max(0.0, started + idle_seconds * i / SAMPLES - time.monotonic()))
        point = {"s": round(time.monotonic() - started, 1), "mb": round(big.memory_info().rss / MB, 1),
                 "empty_mb": round(empty.memory_info().rss / MB, 1)}
        points.append(point)
        if idle_seconds >= 60:
            print(f"   idle {point['s']:.0f} s: RSS {point['mb']} MB (empty helper {point['empty_mb']} MB)", flush=True)
    return points


def measure(session: Any, tree: Tree, idle_seconds: float) -> list[Figure]:
    import psutil

    from juzheng.store import DB_NAME

    from .api import _bare_server

    empty = session.helper("idle-empty", pair=False)
    bare_proc, _ = _bare_server(session, b'{"idle": true}')
    big = session.prepare_helper("idle-big", root=tree.root)
    started = time.monotonic()
    big.start()
    proc = psutil.Process(big.process.pid)
    db = big.state_dir / DB_NAME
    peak = 0
    deadline = time.monotonic() + max(300.0, tree.files / 200)
    while _indexed(db) < tree.files:
        peak = max(peak, proc.memory_info().rss)
        if time.monotonic() > deadline:
            raise RuntimeError(f"the helper indexed {_indexed(db)} of {tree.files} files in time")
        time.sleep(0.2)
    to_indexed = time.monotonic() - started
    after_index = proc.memory_info().rss
    time.sleep(min(5.0, idle_seconds))  # let the first rescan's tail (events, WAL) settle

    procs = {"big": proc, "empty": psutil.Process(empty.process.pid), "bare": psutil.Process(bare_proc.pid)}
    before = {k: _cpu(p) for k, p in procs.items()}
    wall = time.monotonic()
    over_idle = _sample_rss(proc, procs["empty"], idle_seconds)
    wall = time.monotonic() - wall
    pct = {k: (_cpu(p) - before[k]) / wall * 100.0 for k, p in procs.items()}
    rss = proc.memory_info().rss
    peak = max(peak, rss)
    empty_rss = procs["empty"].memory_info().rss
    return [
        Figure(
            id="idle_cpu_pct", title=f"helper idle CPU over {idle_seconds:.0f} s ({tree.files:,} files)", unit="%", stat="mean",
            value=pct["big"], details={"empty_helper_pct": pct["empty"], "bare_pct": pct["bare"], "window_s": wall},
            baseline=pct["bare"], baseline_title="(bare aiohttp idle)",
            baseline_why="the bare aiohttp server's CPU over the same idle window",
            target=Target(on="value", op="<", limit=TARGET_CPU_PCT),
        ).judge(),
        Figure(
            id="rss_mb", title=f"helper RSS with {tree.files:,} files indexed", unit="MB", stat="after index and idle window",
            value=rss / MB, details={"peak_mb_while_indexing": peak / MB, "rss_mb_right_after_index": after_index / MB, "start_to_indexed_s": to_indexed, "files": tree.files,
                                     "rss_mb_over_idle": ", ".join(f"{p['s']:g} s {p['mb']}" for p in over_idle),
                                     "rss_mb_idle_max": max(p["mb"] for p in over_idle), "idle_s": round(wall)},
            baseline=empty_rss / MB, baseline_title="(helper, empty folder)",
            baseline_why="the same helper started on an empty evidence folder, measured at the same moment",
            target=Target(on="value", op="<=", limit=TARGET_RSS_MB),
        ).judge(),
    ]
