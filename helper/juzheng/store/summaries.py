"""The store's side of the case list: cheap stamps that say whether a case's summary is still true,
the persisted summaries themselves, and each case's last seen deadline level.

A stamp is made of facts in the database only (the case row's ``updated_at`` and the order's
evidence rows), so a change made by any process — ``juzheng sort`` while the helper was stopped,
a hand edit picked up by the index — makes the stored summary stale without anyone telling it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import AbstractContextManager
from typing import NamedTuple, Protocol


class _Db(Protocol):
    def _all(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]: ...

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


class ListedCase(NamedTuple):
    """A case of the list with its stored summary, if any (one row of one query)."""

    id: int
    platform: str
    order_id: str
    updated_at: str
    stamp: str | None
    computed_at: str | None
    valid_until: str | None
    deadline_ts: float | None
    level: str | None
    data: str | None


class StoredSummary(NamedTuple):
    case_id: int
    stamp: str
    computed_at: str
    valid_until: str | None
    deadline_ts: float | None
    level: str | None
    data: str


class SummaryStoreMixin:
    """Mixed into ``SqliteStore``; every query here reads a few columns, never ``SELECT *``."""

    def listed_cases(self: _Db, status: str | None = "open") -> list[ListedCase]:
        where, params = ("WHERE c.status=?", (status,)) if status else ("", ())
        rows = self._all(
            "SELECT c.id, c.platform, c.order_id, c.updated_at, s.stamp, s.computed_at, s.valid_until, s.deadline_ts,"
            f" s.level, s.data FROM cases c LEFT JOIN case_summaries s ON s.case_id = c.id {where}",
            params,
        )
        return [ListedCase(*r) for r in rows]

    def case_keys(self: _Db) -> list[tuple[str, str, str | None]]:
        """(platform, order, scenario) of every case: what the sorter matches file names against,
        read without building a record per case (a sort round runs this on every burst)."""
        return [(r[0], r[1], r[2]) for r in self._all("SELECT platform, order_id, scenario FROM cases ORDER BY id")]

    def evidence_stamps(self: _Db, status: str | None = "open") -> dict[tuple[str, str], str]:
        """(platform, order) → a digest of the order's evidence rows, for the orders of the cases listed."""
        where, params = ("WHERE status=?", (status,)) if status else ("", ())
        rows = self._all(
            "SELECT e.platform, e.order_id, group_concat(e.id || '/' || ifnull(e.kind, '') || '/' || ifnull(e.generated_at, '')"
            " || '/' || ifnull(e.covers_from, '') || '/' || ifnull(e.path, ''), '|') FROM evidence e"
            f" WHERE (e.platform, e.order_id) IN (SELECT platform, order_id FROM cases {where})"
            " GROUP BY e.platform, e.order_id",
            params,
        )
        return {(r[0], r[1]): hashlib.blake2b(r[2].encode(), digest_size=12).hexdigest() for r in rows}

    def save_summaries(self: _Db, summaries: list[StoredSummary]) -> None:
        if not summaries:
            return
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO case_summaries (case_id, stamp, computed_at, valid_until, deadline_ts, level, data)"
                " SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM cases WHERE id=?)",
                [(*s, s.case_id) for s in summaries],
            )

    # -- deadline levels last seen (so a restart never repeats a level change) ------------------
    def case_levels(self: _Db) -> dict[int, str]:
        return {r[0]: r[1] for r in self._all("SELECT case_id, level FROM case_levels")}

    def set_case_level(self: _Db, case_id: int, level: str | None) -> None:
        with self.transaction() as db:
            if level is None:
                db.execute("DELETE FROM case_levels WHERE case_id=?", (case_id,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO case_levels (case_id, level) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM cases WHERE id=?)",
                    (case_id, level, case_id),
                )
