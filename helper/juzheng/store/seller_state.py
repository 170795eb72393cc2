"""The store's side of what the helper remembers for the seller between runs, each in its table
(these were JSON blobs in ``settings``): the case in focus, the files undo put back into the inbox,
the inbox files declined for a case, the notifications already sent (migration 5); the paired
browsers, the extension ids the seller allowed, the duplicate notes and the undo journal (8)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import NamedTuple, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from .records import DuplicateFile, PairedBrowser, UndoIntent

log = logging.getLogger(__name__)
# A plain value: set once the browser list was first written (see ``paired_browsers``).
BROWSERS_LISTED_SETTING = "pairing.browsers_listed"
M = TypeVar("M", bound=BaseModel)

FileMark = tuple[str, int, int]  # path, size, mtime_ns: the file as it was when marked


class _Db(Protocol):
    def _all(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]: ...

    def _one(self, sql: str, params: tuple = ()) -> sqlite3.Row | None: ...

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def get_setting(self, key: str, default: str | None = None) -> str | None: ...


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

    # -- the paired browsers --------------------------------------------------------------------
    def paired_browsers(self: _Db) -> list[PairedBrowser] | None:
        """Oldest pairing first; None while the list was never written (a helper from before the
        list existed issued tokens nobody recorded, and those are adopted on first use)."""
        rows = self._all("SELECT id, name, origin, paired_at FROM paired_browsers ORDER BY paired_at, id")
        if not rows and self.get_setting(BROWSERS_LISTED_SETTING) is None:
            return None
        return _valid(PairedBrowser, rows, "paired browser")

    def set_paired_browsers(self: _Db, browsers: Iterable[PairedBrowser]) -> None:
        """The whole list (at most a few dozen rows), in one transaction."""
        rows = [(b.id, b.name, b.origin, b.paired_at.isoformat()) for b in browsers]
        with self.transaction() as db:
            db.execute("DELETE FROM paired_browsers")
            db.executemany("INSERT OR REPLACE INTO paired_browsers (id, name, origin, paired_at) VALUES (?, ?, ?, ?)", rows)
            db.execute("INSERT OR REPLACE INTO settings VALUES (?, '1')", (BROWSERS_LISTED_SETTING,))

    # -- extension ids the seller allowed to ask for pairing -----------------------------------
    def allowed_extension_ids(self: _Db) -> list[str]:
        """In the order the seller allowed them (checking them is the pairing policy's job)."""
        return [r[0] for r in self._all("SELECT id FROM allowed_extensions ORDER BY rowid")]

    def set_allowed_extension_ids(self: _Db, ids: Iterable[str]) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM allowed_extensions")
            db.executemany("INSERT OR IGNORE INTO allowed_extensions (id) VALUES (?)", [(i,) for i in ids])

    # -- files set aside as duplicates ---------------------------------------------------------
    def add_duplicate(self: _Db, note: DuplicateFile) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO duplicate_notes (platform, order_id, path, same_as, at) VALUES (?, ?, ?, ?, ?)",
                (note.platform, note.order_id, note.path, note.same_as, note.at.isoformat()),
            )

    def duplicates(self: _Db, platform: str, order_id: str, limit: int) -> list[DuplicateFile]:
        """The order's duplicates, newest first."""
        rows = self._all(
            "SELECT platform, order_id, path, same_as, at FROM duplicate_notes WHERE platform = ? AND order_id = ?"
            " ORDER BY id DESC LIMIT ?",
            (platform, order_id, limit),
        )
        return _valid(DuplicateFile, rows, "duplicate note")

    # -- the undo journal: undos begun and not yet finished ------------------------------------
    def undo_intents(self: _Db) -> list[UndoIntent]:
        return _valid(UndoIntent, self._all("SELECT move_id, batch FROM undo_intents ORDER BY move_id"), "undo intent")

    def begin_undo(self: _Db, intent: UndoIntent) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO undo_intents (move_id, batch) VALUES (?, ?)", (intent.move_id, intent.batch))

    def end_undo(self: _Db, move_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM undo_intents WHERE move_id = ?", (move_id,))


def _valid(model: type[M], rows: list[sqlite3.Row], what: str) -> list[M]:
    """The rows that make a valid ``model``; a row written by hand or half-salvaged is skipped (and
    logged), so one bad row never hides the others."""
    out = []
    for row in rows:
        try:
            out.append(model.model_validate(dict(row)))
        except ValidationError as exc:
            log.warning("unreadable %s row skipped: %s", what, exc)
    return out
