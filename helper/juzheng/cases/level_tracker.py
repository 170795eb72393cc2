"""Which deadline level each open case was last seen at, and the LEVEL_CHANGED event when one got
worse: the one memory of levels (the ``case_levels`` table), so a restart never repeats one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..events import LEVEL_CHANGED, EventBus
from ..rules.deadlines import LEVEL_ORDER, Level
from ..store import SqliteStore
from .listing import CaseList


class LevelTracker:
    def __init__(self, store: SqliteStore, bus: EventBus, listing: CaseList, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.bus = bus
        self.listing = listing
        self.clock = clock
        self._lock = threading.Lock()
        self._levels: dict[int, str] | None = None  # last seen level per case, loaded once
        self._checked: tuple[int, datetime | None] | None = None

    def check_all(self) -> list[dict[str, Any]]:
        """Publish LEVEL_CHANGED for every open case whose level got worse since last seen.

        Runs from the open-case list, which is rebuilt only for the cases that changed or crossed
        a boundary; with nothing changed since the last check it returns at once."""
        listing = self.listing.get("open", self.clock())
        mark = (listing.changes, listing.computed_at)
        if self._checked == mark:
            return []
        changes = []
        for entry in listing.entries:
            change = self.check(entry.case_id, entry.level)  # type: ignore[arg-type]
            if change:
                changes.append(change)
        self._checked = mark
        return changes

    def check(self, case_id: int, level: Level | None) -> dict[str, Any] | None:
        with self._lock:
            if self._levels is None:
                self._levels = self.store.case_levels()
            previous = self._levels.get(case_id)
            if previous == level:
                return None
            if level is None:
                self._levels.pop(case_id, None)
            else:
                self._levels[case_id] = level
            self.store.set_case_level(case_id, level)
            if level is None:
                return None
        if LEVEL_ORDER[level] > LEVEL_ORDER.get(previous or "ok", 0):  # type: ignore[call-overload]
            payload = {"case_id": case_id, "level": level, "previous": previous}
            self.bus.publish(LEVEL_CHANGED, payload, case_id)
            return payload
        return None
