"""The case list (popup, badge, tray, level checks): computed once per change, shared by every caller.

Each case's summary is kept with a stamp of what it was computed from (rulebook digest, the case
row's ``updated_at``, a digest of its order's evidence rows) and the next moment it stops being
true (a level boundary or an expiring 举证号). A list request with nothing changed returns the
same bytes without touching the database; after a change, two cheap stamp queries find the cases
whose summary is stale and only those are evaluated again. Summaries are persisted, so a fresh
process's first list reads them instead of evaluating every case.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from ..store import SqliteStore
from ..store.summaries import ListedCase, StoredSummary
from .models import CaseSummary

log = logging.getLogger(__name__)

# A clock that moved back further than this (a corrected wall clock) makes every summary suspect.
CLOCK_SLACK = timedelta(minutes=1)


class Entry(NamedTuple):
    case_id: int
    stamp: str
    computed_at: datetime
    valid_until: datetime | None
    deadline_ts: float | None
    level: str | None
    data: bytes

    @property
    def summary(self) -> CaseSummary:
        return CaseSummary.model_validate_json(self.data)

    def fresh(self, stamp: str, now: datetime) -> bool:
        if stamp != self.stamp or now + CLOCK_SLACK < self.computed_at:
            return False
        return self.valid_until is None or now < self.valid_until

    def stored(self) -> StoredSummary:
        return StoredSummary(
            self.case_id, self.stamp, self.computed_at.isoformat(),
            self.valid_until.isoformat() if self.valid_until else None, self.deadline_ts, self.level, self.data.decode(),
        )


def _sort_key(entry: Entry) -> tuple:
    # By deadline, soonest first; cases without one last.
    return (entry.deadline_ts is None, entry.deadline_ts or 0.0, entry.case_id)


@dataclass
class Listing:
    entries: list[Entry]
    data: bytes
    valid_until: datetime | None
    computed_at: datetime
    changes: int  # the change counter the listing was built at


class CaseList:
    """``summarize(case_id, now)`` builds one summary (through the view cache) with its expiry."""

    def __init__(
        self,
        store: SqliteStore,
        digest: Callable[[], str],
        summarize: Callable[[int, datetime], tuple[CaseSummary, datetime | None]],
    ) -> None:
        self.store = store
        self.digest = digest
        self.summarize = summarize
        self._changes = 0
        self._entries: dict[int, Entry] = {}
        self._listings: dict[str | None, Listing] = {}
        self._build_lock = threading.Lock()
        self._state_lock = threading.Lock()

    def changed(self) -> None:
        """Something a summary may depend on changed (any journaled event but a level change)."""
        with self._state_lock:
            self._changes += 1

    def cached(self, status: str | None, now: datetime) -> Listing | None:
        """The listing if nothing changed and no boundary passed: no database, no lock wait."""
        listing = self._listings.get(status)
        if listing is None or listing.changes != self._changes:
            return None
        if now + CLOCK_SLACK < listing.computed_at:
            return None
        if listing.valid_until is not None and now >= listing.valid_until:
            return None
        return listing

    def get(self, status: str | None, now: datetime) -> Listing:
        hit = self.cached(status, now)
        if hit is not None:
            return hit
        with self._build_lock:  # concurrent requests share one build
            hit = self.cached(status, now)
            if hit is not None:
                return hit
            with self._state_lock:
                changes = self._changes
            listing = self._build(status, now, changes)
            self._listings[status] = listing
            return listing

    def _build(self, status: str | None, now: datetime, changes: int) -> Listing:
        digest = self.digest()
        evidence = self.store.evidence_stamps(status)
        entries: list[Entry] = []
        to_save: list[Entry] = []
        for row in self.store.listed_cases(status):
            stamp = f"{digest}|{row.updated_at}|{evidence.get((row.platform, row.order_id), '')}"
            entry = self._entries.get(row.id)
            if entry is None or not entry.fresh(stamp, now):
                entry = _from_row(row, stamp, now)
            if entry is None:
                try:
                    summary, valid_until = self.summarize(row.id, now)
                except LookupError:
                    continue  # removed meanwhile
                except Exception:  # one broken case must never break the whole list
                    log.exception("case %s could not be summarised", row.id)
                    continue
                deadline_ts = summary.deadline_at.timestamp() if summary.deadline_at else None
                entry = Entry(row.id, stamp, now, valid_until, deadline_ts, summary.level, summary.model_dump_json().encode())
                to_save.append(entry)
            self._entries[row.id] = entry
            entries.append(entry)
        if to_save:
            try:
                self.store.save_summaries([e.stored() for e in to_save])
            except Exception:  # a read-only or full state dir: the list is still served from memory
                log.warning("case summaries could not be saved", exc_info=True)
        entries.sort(key=_sort_key)
        boundaries = [e.valid_until for e in entries if e.valid_until is not None]
        data = b"[" + b",".join(e.data for e in entries) + b"]"
        return Listing(entries, data, min(boundaries, default=None), now, changes)


def _from_row(row: ListedCase, stamp: str, now: datetime) -> Entry | None:
    """The summary a previous process stored, if it is still true."""
    if row.stamp != stamp or row.data is None or row.computed_at is None:
        return None
    try:
        computed_at = datetime.fromisoformat(row.computed_at)
        valid_until = datetime.fromisoformat(row.valid_until) if row.valid_until else None
    except ValueError:
        return None  # an unreadable row is recomputed, never trusted
    entry = Entry(row.id, stamp, computed_at, valid_until, row.deadline_ts, row.level, row.data.encode())
    return entry if entry.fresh(stamp, now) else None
