"""The one way a background part of the helper runs its loop on a thread and is stopped.

The owner shares its condition variable: the loop waits on it, and ``stop`` sets ``stopping``
under it and wakes the loop, so a stop never waits out a sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class WorkerThread:
    def __init__(self, name: str, cond: threading.Condition) -> None:
        self.name = name
        self.cond = cond
        self.stopping = False
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, loop: Callable[[], None]) -> None:
        """Run ``loop`` (which returns once ``stopping`` is set) on a daemon thread; once."""
        if self._thread is not None:
            return
        self.stopping = False
        self._thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
