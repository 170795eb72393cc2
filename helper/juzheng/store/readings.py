"""Cached readings of evidence images (by sha256) and the field checks a reading ticked.

Kept beside :mod:`.sqlite` (which owns the connection and the migrations) so the reader's
queries live in one small module.
"""

from __future__ import annotations

from ..reader.protocol import Reading
from .sqlite import SqliteStore, utcnow


def get_reading(store: SqliteStore, sha256: str) -> Reading | None:
    row = store._one("SELECT reading FROM readings WHERE sha256=?", (sha256,))
    return Reading.model_validate_json(row["reading"]) if row else None


def has_reading(store: SqliteStore, sha256: str) -> bool:
    return store._one("SELECT 1 FROM readings WHERE sha256=?", (sha256,)) is not None


def put_reading(store: SqliteStore, reading: Reading) -> None:
    with store.transaction() as db:
        db.execute(
            "INSERT OR REPLACE INTO readings VALUES (?,?,?,?,?)",
            (reading.sha256, reading.status, reading.engine, reading.model_dump_json(), utcnow().isoformat()),
        )


def reading_count(store: SqliteStore) -> int:
    row = store._one("SELECT count(*) FROM readings")
    return int(row[0]) if row else 0


def auto_check(store: SqliteStore, case_id: int, kind: str, field_id: str, sha256: str) -> bool:
    """Tick a field check because the image shows it; False when the seller's state is kept.

    Applied once per (case, kind, field): a seller who unticks it is not overridden by a later file.
    """
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM auto_checks WHERE case_id=? AND kind=? AND field_id=?", (case_id, kind, field_id)).fetchone():
            return False
        if db.execute("SELECT 1 FROM confirmations WHERE case_id=? AND kind=? AND field_id=?", (case_id, kind, field_id)).fetchone():
            return False
        now = utcnow().isoformat()
        db.execute("INSERT INTO confirmations (case_id, kind, field_id, confirmed_at) VALUES (?,?,?,?)", (case_id, kind, field_id, now))
        db.execute("INSERT INTO auto_checks VALUES (?,?,?,?,?)", (case_id, kind, field_id, sha256, now))
    return True


def auto_checks(store: SqliteStore, case_id: int) -> set[tuple[str, str]]:
    """Field checks ticked by a reading and still ticked (the seller has not unticked them)."""
    rows = store._all(
        "SELECT a.kind, a.field_id FROM auto_checks a JOIN confirmations c"
        " ON c.case_id=a.case_id AND c.kind=a.kind AND c.field_id=a.field_id WHERE a.case_id=?",
        (case_id,),
    )
    return {(r["kind"], r["field_id"]) for r in rows}
