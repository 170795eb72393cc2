"""The case views, cached until something they are computed from changes.

A view is reused until the case, its order's evidence, the inbox's pending files or the rulebook
change (told by the event bus), or the clock crosses one of its boundaries (a level, an expiring
举证号), so a page polling a case costs a dict lookup; a change to one case rebuilds only that
case. ``remaining_seconds`` in a cached view is as of its ``computed_at``: clients count down from
``deadline_at``.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..events import CASE_CHANGED, EVIDENCE_CHANGED, LEVEL_CHANGED, PENDING_CHANGED
from ..rules import Rulebook
from ..store import Case, SqliteStore
from ..store.records import Event
from ..errors import NotFound
from .listing import CLOCK_SLACK
from .models import CaseView
from .view import expires as view_expires

Builder = Callable[[Case, Rulebook, datetime], CaseView]


@dataclass
class CachedView:
    key: tuple
    expires: datetime
    view: CaseView
    data: bytes | None = None
    mono_expires: float = 0.0


class ViewCache:
    def __init__(self, store: SqliteStore, rulebook: Callable[[], Rulebook], clock: Callable[[], datetime], build: Builder) -> None:
        self.store = store
        self.rulebook = rulebook
        self.clock = clock
        self.build = build
        self._generation = 0  # changes that may touch every view
        self._case_gen: defaultdict[int, int] = defaultdict(int)
        self._order_gen: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._pending_gen = 0
        self._gen_lock = threading.Lock()
        self._cache: dict[int, CachedView] = {}

    def changed(self, event: Event) -> None:
        # Evidence belongs to an order, pending files show in every view, a case event names its
        # case; level events change nothing a view is computed from; anything else touches all.
        if event.type == LEVEL_CHANGED:
            return
        payload = event.payload if isinstance(event.payload, dict) else {}
        with self._gen_lock:
            if event.type == CASE_CHANGED and (event.case_id or payload.get("case_id")):
                self._case_gen[int(event.case_id or payload["case_id"])] += 1
            elif event.type == EVIDENCE_CHANGED and payload.get("platform") and payload.get("order_id"):
                self._order_gen[(str(payload["platform"]), str(payload["order_id"]))] += 1
            elif event.type == PENDING_CHANGED:
                self._pending_gen += 1
            else:
                self._generation += 1

    def invalidate(self) -> None:
        with self._gen_lock:
            self._generation += 1

    def _key(self, case_id: int, platform: str, order_id: str) -> tuple:
        return (
            self._generation, self.rulebook().digest, self._case_gen.get(case_id, 0),
            self._order_gen.get((platform, order_id), 0), self._pending_gen,
        )

    def fresh(self, case_id: int, now: datetime) -> CachedView | None:
        hit = self._cache.get(case_id)
        if (
            hit is not None
            and hit.key == self._key(case_id, hit.view.platform, hit.view.order_id)
            and now < hit.expires
            and now + CLOCK_SLACK >= hit.view.computed_at  # the clock was set back: recompute
            and time.monotonic() < hit.mono_expires  # and a jump forward cannot stretch its life
        ):
            return hit
        return None

    def get(self, case_id: int) -> CachedView:
        """A view is reused until something it is computed from changes or the clock crosses one of
        its boundaries (a deadline level, an expiring 举证号)."""
        now = self.clock()
        hit = self.fresh(case_id, now)
        if hit is not None:
            return hit
        with self._gen_lock:  # the key before reading: a change while building makes the next read rebuild
            key_case = (self._generation, self._case_gen.get(case_id, 0), self._pending_gen)
        case = self.store.get_case(case_id)
        if case is None:
            raise NotFound(f"没有编号为 {case_id} 的案子")
        with self._gen_lock:
            order_gen = self._order_gen.get((case.platform, case.order_id), 0)
        book = self.rulebook()
        key = (key_case[0], book.digest, key_case[1], order_gen, key_case[2])
        view = self.build(case, book, now)
        expires = view_expires(view, book, now)
        entry = CachedView(key, expires, view, mono_expires=time.monotonic() + (expires - now).total_seconds())
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[case_id] = entry
        return entry

    def json(self, case_id: int) -> bytes:
        """The view serialised once per cache entry: the hot path of ``GET /api/cases/{id}``."""
        entry = self.get(case_id)
        if entry.data is None:
            entry.data = entry.view.model_dump_json().encode()
        return entry.data

    def cached_json(self, case_id: int) -> bytes | None:
        """The view's bytes when a valid cached view exists, else None: no database, no file
        read, so the server answers it on the event loop without a hop to a worker thread."""
        hit = self.fresh(case_id, self.clock())
        if hit is None or hit.data is None:
            return None
        return hit.data
