"""The store's side of what the helper remembers for the seller between runs, each in its table
(migration 5; these were JSON blobs in ``settings``): the case in focus, the files undo put back
into the inbox, the inbox files declined for a case, the notifications already sent."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import NamedTuple, Protocol

FileMark = tuple[str, int, int]  # path, size, mtime_ns: the file as it was when marked


class _Db(Protocol):
    def _all(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]: ...

    def _one(self, sql: str, params: tuple = ()) -> sqlite3.Row | None: ...

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


class FocusRow(NamedTuple):
    case_id: int
    at: str
    since: str
    ended_at: str | None


class SellerStateMixin:
    # -- the case in focus ----------------------------------------------------------------------
    def get_focus(self: _Db) -> FocusRow | None:
        row = self._one("SELECT case_id, at, since, ended_at FROM focus WHERE id = 1")
        return FocusRow(*row) if row is not None else None

    def set_focus(self: _Db, focus: FocusRow) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO focus (id, case_id, at, since, ended_at) VALUES (1, ?, ?, ?, ?)", tuple(focus))

    # -- files put back by undo, held in the inbox until they change ----------------------------
    def held_files(self: _Db) -> set[FileMark]:
        return {(r[0], r[1], r[2]) for r in self._all("SELECT path, size, mtime_ns FROM held_files")}

    def set_held_files(self: _Db, held: Iterable[FileMark]) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM held_files")
            db.executemany("INSERT OR IGNORE INTO held_files (path, size, mtime_ns) VALUES (?, ?, ?)", list(held))

    # -- inbox files the seller declined for a case ---------------------------------------------
    def declined_offers(self: _Db, case_id: int) -> set[FileMark]:
        rows = self._all("SELECT path, size, mtime_ns FROM declined_offers WHERE case_id = ?", (case_id,))
        return {(r[0], r[1], r[2]) for r in rows}

    def decline_offers(self: _Db, case_id: int, files: Iterable[FileMark]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO declined_offers (case_id, path, size, mtime_ns) VALUES (?, ?, ?, ?)",
                [(case_id, *f) for f in files],
            )

    # -- level notifications already sent (a restart never repeats one) ------------------------
    def notified_levels(self: _Db) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for case_id, level in self._all("SELECT case_id, level FROM notified_levels ORDER BY rowid"):
            out.setdefault(case_id, []).append(level)
        return out

    def add_notified_level(self: _Db, case_id: int, level: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO notified_levels (case_id, level) VALUES (?, ?)", (case_id, level))
