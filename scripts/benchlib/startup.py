"""4d. ``juzheng sort``'s start-up: the command on an empty inbox, against a bare interpreter start.

What the seller waits for before the first file moves. The state directory is one that has been
used before (a first run outside the clock creates the database and caches the rulebook, as every
run after a seller's first finds them), and bytecode is cached as an installed wheel has it
(``PYTHONPYCACHEPREFIX`` in the bench's cache folder, written by that first run: this machine's
environment may forbid writing it beside the sources). Runs alternate with ``python -c pass``;
medians of wall time, and of CPU time (user + system of the child), which a busy machine inflates
less.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .results import Figure, Target

TARGET_S = 0.25


def _cpu() -> float:
    if sys.platform == "win32":
        return 0.0
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    cpu, started = _cpu(), time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    return took, _cpu() - cpu


def measure(session: Any, runs: int = 15) -> Figure:
    from juzheng.paths import INBOX

    base = session.workdir / "startup"
    shutil.rmtree(base, ignore_errors=True)
    root, state = base / "证据", base / "state"
    (root / INBOX).mkdir(parents=True)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "juzheng-bench" / "pycache"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUZHENG_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    sort = [sys.executable, "-m", "juzheng", "sort", "--root", str(root), "--state-dir", str(state)]
    bare = [sys.executable, "-c", "pass"]
    _timed(sort, env)  # the state directory and bytecode of a seller's second run
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    loads: list[float] = []
    for i in range(runs):
        loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0)
        for which in ((ours, sort), (theirs, bare)) if i % 2 == 0 else ((theirs, bare), (ours, sort)):
            which[0].append(_timed(which[1], env))
    shutil.rmtree(base, ignore_errors=True)
    wall, cpu = statistics.median(w for w, _ in ours), statistics.median(c for _, c in ours)
    bare_wall, bare_cpu = statistics.median(w for w, _ in theirs), statistics.median(c for _, c in theirs)
    return Figure(
        id="sort_startup_s", title="juzheng sort start-up, empty inbox", unit="s", stat="median", value=wall,
        details={"runs": runs, "cpu_s": round(cpu, 3), "bare_python_s": round(bare_wall, 4), "bare_python_cpu_s": round(bare_cpu, 3),
                 "min_s": round(min(w for w, _ in ours), 3), "load_avg_1m": f"{min(loads):.2f}–{max(loads):.2f}"},
        baseline=bare_wall, baseline_title="(python -c pass)",
        baseline_why="the interpreter's own start, alternated with the command: what no change to juzheng can remove",
        target=Target(on="value", op="<=", limit=TARGET_S),
        note="state directory and bytecode as a seller's second run finds them; ratio = times the bare interpreter",
    ).judge()
