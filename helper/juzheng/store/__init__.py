"""The store: one small interface (``SqliteStore``'s public methods) that handlers call.

The file is ``juzheng.sqlite3`` in the state dir; a shared server database can be added later by
implementing the same methods.
"""

from pathlib import Path

from .records import Case, CaseKey, EvidenceRecord, Event, Move, PendingFile, StoredEvidence
from .health import StateUnavailable, StoreProblem
from .sqlite import SqliteStore, utcnow

DB_NAME = "juzheng.sqlite3"


def open_store(state_dir: Path | str, *, repair: bool = True) -> SqliteStore:
    return SqliteStore(Path(state_dir) / DB_NAME, repair=repair)


__all__ = [
    "Case", "CaseKey", "EvidenceRecord", "Event", "Move", "PendingFile", "SqliteStore", "StateUnavailable",
    "StoreProblem", "StoredEvidence", "open_store", "utcnow",
]
