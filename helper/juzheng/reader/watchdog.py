"""When to give up on the reader worker: by the CPU time it spends, not the wall-clock time it waits.

The worker runs below normal priority, so on a seller's busy machine (a browser, a video call, a
backup) it may get a tenth of a core: loading the models then takes a minute of wall time for a few
seconds of work. A wall-clock timeout killed such a worker again and again, and every unnamed photo
waited for minutes. A worker is stuck when it burns through its CPU budget (a model in a loop) or
uses no CPU at all for a long while (blocked), not when it is slow; a hard wall cap still bounds
the wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel


class Budget(BaseModel, frozen=True):
    """What one exchange with the worker (start-up, or one image) may take."""

    cpu_seconds: float  # the work itself, at any priority
    stall_seconds: float = 60.0  # no CPU used at all for this long: blocked, not starved
    wall_seconds: float = 900.0  # a ceiling however slowly it progresses


@dataclass
class Progress:
    """Pure bookkeeping of one exchange; ``verdict`` says why to stop, or None to go on."""

    budget: Budget
    started: float
    cpu_start: float | None  # None: the CPU time cannot be read, the old wall-clock rule applies
    last_cpu: float = field(init=False)
    last_change: float = field(init=False)

    def __post_init__(self) -> None:
        self.last_cpu = self.cpu_start or 0.0
        self.last_change = self.started

    def verdict(self, now: float, cpu: float | None) -> str | None:
        if now - self.started > self.budget.wall_seconds:
            return f"no reply within {self.budget.wall_seconds:.0f} s"
        if cpu is None or self.cpu_start is None:
            return f"no reply within {self.budget.cpu_seconds:.0f} s" if now - self.started > self.budget.cpu_seconds else None
        if cpu - self.cpu_start > self.budget.cpu_seconds:
            return f"used {cpu - self.cpu_start:.1f} CPU-seconds (budget {self.budget.cpu_seconds:.0f})"
        if cpu > self.last_cpu:
            self.last_cpu, self.last_change = cpu, now
        elif now - self.last_change > self.budget.stall_seconds:
            return f"no CPU used for {now - self.last_change:.0f} s"
        return None


def cpu_reader(pid: int) -> Callable[[], float | None]:
    """The process's user + system CPU seconds (all its threads), or None once it cannot be read."""
    try:
        import psutil

        process = psutil.Process(pid)
    except Exception:  # psutil missing, or the process already gone  # noqa: BLE001
        return lambda: None

    def read() -> float | None:
        try:
            times = process.cpu_times()
        except Exception:  # noqa: BLE001
            return None
        return float(times.user + times.system)

    return read


class Watch:
    """A thread that calls ``kill`` with a reason when the exchange with process ``pid`` is stuck.

    Use as a context manager around the blocking read of the worker's reply.
    """

    POLL_SECONDS = 0.5

    def __init__(self, pid: int, budget: Budget, kill: Callable[[str], None]) -> None:
        self._cpu = cpu_reader(pid)
        self._budget = budget
        self._kill = kill
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reader-watch", daemon=True)
        self.reason: str | None = None

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        progress = Progress(self._budget, time.monotonic(), self._cpu())
        while not self._done.wait(self.POLL_SECONDS):
            reason = progress.verdict(time.monotonic(), self._cpu())
            if reason is not None:
                self.reason = reason
                self._kill(reason)
                return
