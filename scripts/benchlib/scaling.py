"""How the case paths grow with a shop's case count: list, detect and the level check at 20 / 200 / 2,000.

Runs in-process on the helper's own parts (``Runtime.build`` with the evidence worker started, as
``juzheng serve`` wires them), so the figures are the software's cost, not HTTP's. Each size gets a
fresh state folder with that many open cases (a third with evidence in the folder index).

Baseline: the same path at 20 cases in the same run. The targets say the cost must stay flat:
detect and a level check with nothing changed cost O(changed cases), and a warm list is cached
bytes. The cold list (a new process's first list) is judged on its value (<= 50 ms at 2,000).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from .results import Figure, Target
from .session import REPO

SIZES = (20, 200, 2000)
PLATFORMS = ("pinduoduo", "taobao", "douyin")
FLAT_RATIO = 3.0  # at 100x the cases, a flat path may cost at most 3x (noise, cache misses)
COLD_LIST_MS = 50.0


def _build(state: Path, root: Path):
    from juzheng.runtime import Runtime

    rt = Runtime.build(root=root, state_dir=state, rules_dir=REPO / "rules", secret_backend="file")
    rt.start()
    return rt


def _files(root: Path, n: int) -> None:
    """A third of the orders have a red-stamp proof in the folder, as real files the index finds."""
    from juzheng.evidence.layout import Layout
    from juzheng.rules import load_rulebook

    layout = Layout(root, load_rulebook(REPO / "rules"))
    for i in range(0, n, 3):
        folder = layout.kind_dir(PLATFORMS[i % 3], _order(i), "red_stamp_proof")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"红章{i}.jpg").write_bytes(b"\xff\xd8" + i.to_bytes(4, "big"))


def _order(i: int) -> str:
    return f"2411{i:06d}-{i:012d}"


def _idle(rt) -> None:
    """Until the evidence worker has indexed the folder and has nothing waiting."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        st = rt.evidence.status()
        if not st.indexing and not st.waiting:
            return
        time.sleep(0.05)
    raise RuntimeError("the evidence worker did not become idle")


def _populate(rt, n: int) -> None:
    from juzheng.cases.models import DetectRequest
    from juzheng.store import utcnow

    now = utcnow()
    for i in range(n):
        platform = PLATFORMS[i % 3]
        order = _order(i)
        rt.cases.detect(
            DetectRequest(
                platform=platform, order_id=order, aftersale_id=f"A{i}",
                request_text="买家反馈未收到货，请商家提供快递签收底单或红章证明",
                deadline_at=now + timedelta(hours=1 + (i % 70)),
            )
        )



def _lister(cases) -> Callable[[str], object]:
    """The list as the API serves it: its JSON bytes."""
    fast = getattr(cases, "list_json", None)
    return fast or (lambda status: b"[" + b",".join(s.model_dump_json().encode() for s in cases.summaries(status)) + b"]")


def _cold_lists(rt, repeats: int) -> tuple[float, float]:
    """Median wall and CPU ms of a first list by a new case service on the same store (as a new process)."""
    from juzheng.cases import CaseService

    walls, cpus = [], []
    for _ in range(repeats):
        fresh = CaseService(rt.store, rt.rules.get, rt.bus, evidence=rt.evidence)
        try:
            listing = _lister(fresh)
            t0, c0 = time.perf_counter(), time.thread_time()
            listing("open")
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.thread_time() - c0) * 1000)
        finally:
            fresh.close()
    return _p(walls, 0.5), _p(cpus, 0.5)


def _timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(workdir: Path, quick: bool = False) -> list[Figure]:
    from juzheng.cases.models import DetectRequest

    sizes = (20, 200) if quick else SIZES
    if hasattr(os, "sync"):
        # The rows before may leave gigabytes to write back (the sort row's photo pool, removed):
        # a detect's commit waiting behind them read 9 ms at p95 in a full run, 1 ms in this row alone.
        os.sync()
    repeats = 5 if quick else 30
    rows: dict[str, dict[int, float]] = {"list_warm": {}, "list_cold": {}, "list_cold_cpu": {}, "list_unsummarised": {}, "detect": {}, "levels": {}}
    for n in sizes:
        base = Path(tempfile.mkdtemp(prefix=f"scaling-{n}-", dir=workdir))
        _files(base / "root", n)
        rt = _build(base / "state", base / "root")
        try:
            _idle(rt)
            _populate(rt, n)
            listing = _lister(rt.cases)
            t0 = time.perf_counter()
            listing("open")  # what a running helper's level check does every 30 s: summaries persisted
            rows["list_unsummarised"][n] = (time.perf_counter() - t0) * 1000
            rt.stop()
            # Cold: a new process's first list (nothing cached, the store opened afresh).
            rt = _build(base / "state", base / "root")
            _idle(rt)
            rows["list_cold"][n], rows["list_cold_cpu"][n] = _cold_lists(rt, 1 if quick else 5)
            listing = _lister(rt.cases)
            rows["list_warm"][n] = _p(_timed(lambda listing=listing: listing("open"), repeats * 10), 0.5)
            rt.cases.check_levels()
            rows["levels"][n] = _p(_timed(rt.cases.check_levels, repeats), 0.5)
            req = DetectRequest(platform="pinduoduo", order_id="000000-999999999999", aftersale_id="X",
                                request_text="买家反馈未收到货，请商家提供快递签收底单或红章证明")
            samples = []
            for i in range(repeats):
                bumped = req.model_copy(update={"page_text": f"第 {i} 次读取"})
                t0 = time.perf_counter()
                rt.cases.detect(bumped)
                samples.append((time.perf_counter() - t0) * 1000)
            rows["detect"][n] = _p(samples, 0.95)
        finally:
            rt.stop()
    figures = []
    titles = {
        "list_warm": ("case list, warm (cached bytes)", "median"),
        "levels": ("level check, nothing changed", "median"),
        "detect": ("detect one case (+ evidence worker round)", "p95"),
    }
    top = sizes[-1]
    for key, (title, stat) in titles.items():
        figures.append(
            Figure(
                id=f"scaling_{key}", title=f"{title} at {top} cases", unit="ms", stat=stat, value=rows[key][top],
                details={f"at_{n}": round(v, 4) for n, v in rows[key].items()},
                baseline=rows[key][sizes[0]], baseline_title=f"the same at {sizes[0]} cases",
                baseline_why="a flat path costs the same at any case count; both measured in this run",
                target=Target(on="ratio", op="<=", limit=FLAT_RATIO),
            ).judge()
        )
    figures.append(
        Figure(
            id="scaling_list_cold", title=f"case list, cold (first after start) at {top} cases", unit="ms", stat="single",
            value=rows["list_cold"][top],
            details={**{f"at_{n}": round(v, 3) for n, v in rows["list_cold"].items()},
                     **{f"cpu_ms_at_{n}": round(v, 3) for n, v in rows["list_cold_cpu"].items()}},
            baseline=rows["list_cold"][sizes[0]], baseline_title=f"the same at {sizes[0]} cases",
            baseline_why="how the cold cost grows with cases, in this run",
            target=Target(on="value", op="<=", limit=COLD_LIST_MS),
            note="a new process's first list, reading the summaries the previous one stored",
        ).judge()
    )
    figures.append(
        Figure(
            id="scaling_list_unsummarised", title=f"case list with no stored summary (new rules) at {top} cases",
            unit="ms", stat="single", value=rows["list_unsummarised"][top],
            details={f"at_{n}": round(v, 3) for n, v in rows["list_unsummarised"].items()},
            baseline=rows["list_unsummarised"][sizes[0]], baseline_title=f"the same at {sizes[0]} cases",
            baseline_why="every case evaluated once (after a rulebook change or an upgrade), in this run",
            note="no target: linear by design, once per rulebook change",
        ).judge()
    )
    return figures


def table_rows(figures: list[Figure]) -> list[str]:
    """The scaling table printed under the bench's main table."""
    out = ["case paths by open cases (ms):"]
    for f in figures:
        cells = "  ".join(f"{k.replace('at_', '')}: {v:.3g}" for k, v in f.details.items())
        out.append(f"  {f.title.split(' at ')[0]:<44} {cells}")
    return out


if __name__ == "__main__":  # a quick look without the whole bench
    import sys

    sys.path.insert(0, str(REPO / "helper"))
    with tempfile.TemporaryDirectory() as tmp:
        figs = measure(Path(tmp), quick="--quick" in sys.argv)
        for f in figs:
            print(f.title, f.value, f.details, f.passed)
