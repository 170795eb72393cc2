"""5. The helper's idle CPU and its memory with a large tree indexed.

A real ``juzheng serve`` is started on the big sorted tree (the first start indexes it: the time to
the last file indexed and the peak RSS meanwhile are recorded), then left alone. Over the same idle
window psutil samples the CPU time of three processes side by side: that helper, a helper on an
empty folder, and the bare aiohttp server of the API benchmark.

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
    time.sleep(idle_seconds)
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
            value=rss / MB, details={"peak_mb_while_indexing": peak / MB, "rss_mb_right_after_index": after_index / MB, "start_to_indexed_s": to_indexed, "files": tree.files},
            baseline=empty_rss / MB, baseline_title="(helper, empty folder)",
            baseline_why="the same helper started on an empty evidence folder, measured at the same moment",
            target=Target(on="value", op="<=", limit=TARGET_RSS_MB),
        ).judge(),
    ]
