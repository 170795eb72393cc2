"""The reader worker is stopped when it is stuck, never because a busy machine makes it slow.

Real child processes: one that computes in short bursts with long pauses (what a below-normal
priority worker looks like from outside while other programs take the cores) outlives the
wall-clock time the old timeout allowed; one that loops is stopped by its CPU budget; one that
blocks is stopped for using no CPU.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from juzheng.reader.watchdog import Budget, Progress, Watch

pytestmark = pytest.mark.subprocess

STARVED = """
import time, sys
end = time.monotonic() + {seconds}
while time.monotonic() < end:
    t = time.process_time()
    while time.process_time() - t < 0.03:
        pass
    time.sleep(0.15)
print("done", flush=True)
"""
LOOPS = "while True:\n    pass\n"
BLOCKS = "import time\ntime.sleep(600)\n"


def run(code: str, budget: Budget) -> tuple[str, str | None, float]:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        with Watch(proc.pid, budget, lambda reason: proc.kill()) as watch:
            assert proc.stdout is not None
            line = proc.stdout.readline()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
    return line.strip(), watch.reason, time.monotonic() - started


def test_a_slow_but_working_worker_is_not_stopped_by_the_wall_clock():
    # 3 s of wall time at ~17 % of a core: the old rule (a 1 s timeout) stopped it; its 1 CPU-second budget does not.
    line, reason, took = run(STARVED.format(seconds=3), Budget(cpu_seconds=1.0, stall_seconds=2.0))
    assert (line, reason) == ("done", None)
    assert took >= 3.0


def test_a_worker_in_a_loop_is_stopped_by_its_cpu_budget():
    line, reason, _ = run(LOOPS, Budget(cpu_seconds=0.5, stall_seconds=30.0))
    assert line == "" and reason is not None and "CPU-seconds" in reason


def test_a_blocked_worker_is_stopped_for_using_no_cpu():
    line, reason, took = run(BLOCKS, Budget(cpu_seconds=30.0, stall_seconds=1.0))
    assert line == "" and reason is not None and "no CPU used" in reason
    assert took < 30


def test_the_wall_cap_bounds_even_steady_progress():
    line, reason, _ = run(STARVED.format(seconds=30), Budget(cpu_seconds=30.0, stall_seconds=5.0, wall_seconds=1.5))
    assert line == "" and reason is not None and "no reply within 2 s" in reason


def test_progress_rules_without_a_process():
    p = Progress(Budget(cpu_seconds=10, stall_seconds=5, wall_seconds=100), started=0.0, cpu_start=1.0)
    assert p.verdict(4.0, 1.0) is None  # idle for 4 s: still within the stall allowance
    assert p.verdict(20.0, 1.5) is None  # slow progress long past the CPU budget's worth of wall time
    assert "no CPU used" in (p.verdict(26.0, 1.5) or "")
    q = Progress(Budget(cpu_seconds=10), started=0.0, cpu_start=None)  # CPU time unreadable: wall rule
    assert q.verdict(9.0, None) is None and "no reply within 10 s" in (q.verdict(11.0, None) or "")
    r = Progress(Budget(cpu_seconds=2), started=0.0, cpu_start=0.0)
    assert "CPU-seconds" in (r.verdict(1.0, 2.5) or "")
