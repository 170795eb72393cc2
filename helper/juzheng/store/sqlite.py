"""The embedded store: one SQLite file in the state dir, WAL, migrations on open.

One connection guarded by a lock: the watcher thread and the server's event loop both write, and
every statement here is short, so serialising them costs less than a pool would.
"""

from __future__ import annotations

import json
import logging
import operator
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from itertools import repeat
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..rules.deadline_text import plausible
from .health import (
    DB_DAMAGED, RECOVERED_SETTING, STATE_FULL, STATE_READONLY, StateUnavailable, StoreProblem, classify_write_error, is_damaged,
    keep_damaged, recovered_problem, salvage,
)
from .records import Case, CaseKey, EvidenceHow, EvidenceRecord, Event, Move, MoveState, PendingFile, SortedFile, StoredEvidence
from .schema import EVIDENCE_LOOKUPS, MIGRATIONS
from .seller_state import SellerStateMixin
from .summaries import SummaryStoreMixin

_CASE_FIELDS = (
    "scenario", "scenario_source", "request_at", "buyer_evidence_at", "deadline_at", "tracking_number",
    "url", "request_text", "status", "outcome", "deadline_source", "page_deadline_at", "seller_deadline_at",
    "request_source", "recipient_name", "recipient_phone", "signed_at", "shipped_at",
)


log = logging.getLogger(__name__)
# One encoder for every event payload: json.dumps with options builds a new one per call, a third
# of the cost of journaling the ~9,000 events of a first index.
_payload_json = json.JSONEncoder(ensure_ascii=False, default=str).encode
PROBE_INTERVAL = 1.0
_CASE_TIMES = ("request_at", "buyer_evidence_at", "deadline_at", "signed_at", "shipped_at")

_EVIDENCE_COLUMNS = "platform,order_id,kind,path,value,generated_at,covers_from,sha256,size,mtime_ns,how,added_at"


class _IsoCache(dict):
    def __call__(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        text = self.get(value)
        if text is None:
            text = self[value] = value.isoformat()
        return text


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _stored_time(value: Any, what: str, case_id: Any) -> Any:
    """A stored case time, or None when it cannot be a live case's (read before the boundary
    checked it, or written by hand): the case then shows "no deadline known" instead of
    breaking every list it is in."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None or not plausible(parsed):
        log.warning("case %s: ignoring implausible stored %s %r", case_id, what, value)
        return None
    return value


def _case(row: sqlite3.Row) -> Case | None:
    data = dict(row)
    for name in _CASE_TIMES:
        data[name] = _stored_time(data.get(name), name, data.get("id"))
    try:
        return Case(**data)
    except ValidationError as exc:
        log.warning("case %s: unreadable row skipped: %s", data.get("id"), exc)
        return None


def _size_matches_header(path: Path) -> bool:
    """The file is at least as long as its header's page count says (a truncation fails this)."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
        size = path.stat().st_size
    except OSError:
        return True
    if len(header) < 100:
        return size == 0
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    return pages == 0 or size >= pages * page_size


def _evidence(row: sqlite3.Row) -> StoredEvidence | None:
    try:
        return StoredEvidence(**dict(row))
    except ValidationError as exc:
        log.warning("evidence %s: unreadable row skipped: %s", dict(row).get("id"), exc)
        return None


class SqliteStore(SummaryStoreMixin, SellerStateMixin):
    def __init__(self, path: Path | str, *, repair: bool = True) -> None:
        """``repair``: a damaged file is kept aside and replaced by a fresh database with whatever
        rows could be read (the helper); without it the damage is only reported (``juzheng status``,
        which must never swap the database under a running helper)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._problems: dict[str, StoreProblem] = {}
        self._writable_listeners: list[Callable[[], None]] = []
        self._probe: threading.Thread | None = None
        self._closed = False
        # Only a repairing opener (the helper, sort, undo) rebuilds lookups a cut-off bulk left
        # dropped: `juzheng status` must not write under a running helper, maybe mid-bulk.
        self._repair = repair
        if repair:
            self.on_writable(self._restore_lookups)  # a full disk that refused the rebuild, cleared
        try:
            self._open(full_check=repair)
        except sqlite3.DatabaseError as exc:
            if not is_damaged(exc):
                refused = classify_write_error(exc, self.path.parent)
                if refused is not None:  # a read-only or full state dir at start: say so
                    raise refused from exc
                raise
            if not repair:
                self._problems[DB_DAMAGED] = StoreProblem(
                    code=DB_DAMAGED, message=f"助手的数据库文件 {self.path} 已损坏：重新启动助手（juzheng serve）即可换用新的数据库，损坏的文件会保留。",
                )
                self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
                self._db.row_factory = sqlite3.Row
                self._migrate()
                return
            self._replace_damaged(exc)
        recovered = recovered_problem(self.get_setting(RECOVERED_SETTING))
        if recovered is not None:
            self._problems[recovered.code] = recovered

    def _open(self, full_check: bool = True) -> None:
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives process crashes, which is what we face
            self._db.execute("PRAGMA foreign_keys=ON")
            # A truncated or overwritten file can open and even answer the first queries; find out
            # now. The full check reads every page (0.4 s at 100k evidence rows): done where the
            # damage would be repaired (helper start, juzheng sort/undo); elsewhere the header and
            # the schema are read, which finds a truncation or an overwritten start.
            if full_check:
                check = self._db.execute("PRAGMA quick_check(1)").fetchone()[0]
            else:
                self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
                check = "ok" if _size_matches_header(self.path) else "file shorter than its header says"
            if check != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {check}")
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _replace_damaged(self, exc: BaseException) -> None:
        stamp = utcnow().strftime("%Y%m%d-%H%M%S")
        copy = keep_damaged(self.path, stamp)
        log.error("database %s is damaged (%s): kept as %s, starting on a fresh database", self.path, exc, copy)
        self._open()
        tables = [r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        counts = salvage(copy, self._db, tables)
        # Pages past a truncation read back as zeros: drop the rows that came back as garbage.
        for table, check in (("cases", _case), ("evidence", _evidence)):
            bad = [r["id"] for r in self._all(f"SELECT * FROM {table}") if check(r) is None]
            if bad:
                with self.transaction() as db:
                    db.executemany(f"DELETE FROM {table} WHERE id=?", [(i,) for i in bad])
                counts[table] = counts.get(table, 0) - len(bad)
        cases, evidence = counts.get("cases", 0), counts.get("evidence", 0)
        summary = f"从旧文件读回了 {cases} 个案子、{evidence} 条证据记录" if counts else "旧文件中没有能读回的记录"
        self.set_setting(RECOVERED_SETTING, f"{utcnow().isoformat()}|{copy.name}|{summary}")
        log.warning("salvaged from the damaged database: %s", counts)

    # -- what is wrong with the state directory ---------------------------------------------------
    def problems(self) -> list[StoreProblem]:
        with self._lock:
            return list(self._problems.values())

    def on_writable(self, callback: Callable[[], None]) -> None:
        """``callback()`` (on the probe's thread) once writes work again after the state dir refused them."""
        self._writable_listeners.append(callback)

    def _write_failed(self, exc: BaseException) -> None:
        problem = classify_write_error(exc, self.path.parent)
        if problem is None:
            raise exc
        with self._lock:
            fresh = problem.code not in self._problems
            self._problems[problem.code] = StoreProblem(code=problem.code, message=problem.message)
            if self._probe is None and not self._closed:
                self._probe = threading.Thread(target=self._probe_until_writable, name="juzheng-store-probe", daemon=True)
                self._probe.start()
        if fresh:
            log.error("state directory refuses writes: %s (%s)", problem.message, exc)
        raise problem from exc

    def _write_ok(self) -> None:
        if STATE_FULL not in self._problems and STATE_READONLY not in self._problems:
            return
        with self._lock:
            cleared = [self._problems.pop(c) for c in (STATE_FULL, STATE_READONLY) if c in self._problems]
        if cleared:
            log.info("state directory writable again")
            for callback in list(self._writable_listeners):
                try:
                    callback()
                except Exception:
                    log.exception("callback after the state dir became writable failed")

    def _probe_until_writable(self) -> None:
        # Only while a write has failed: one tiny write a second, so work resumes as soon as
        # space returns instead of at the next rescan.
        while not self._closed:
            time.sleep(PROBE_INTERVAL)
            try:
                with self.transaction() as db:
                    db.execute("INSERT OR REPLACE INTO settings VALUES ('store.probe', ?)", (_iso(utcnow()),))
            except (StateUnavailable, sqlite3.Error):
                if self._reopen_if_writable():
                    break
                continue
            break
        with self._lock:
            self._probe = None

    def _reopen_if_writable(self) -> bool:
        """A fresh connection, swapped in when it can write where the old one cannot.

        A disk that failed under us (ext4 ``errors=remount-ro``, a USB drive or network share that
        dropped) stays dead for the descriptors opened on it, even after the seller mounts it again
        at the same place: only opening the database by its path again reaches the working disk.
        """
        if self.path == Path(":memory:") or not self.path.exists():
            return False
        try:
            fresh = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5)
        except sqlite3.Error:
            return False
        try:
            fresh.row_factory = sqlite3.Row
            fresh.execute("PRAGMA journal_mode=WAL")
            fresh.execute("PRAGMA synchronous=NORMAL")
            fresh.execute("PRAGMA foreign_keys=ON")
            fresh.execute("BEGIN IMMEDIATE")
            fresh.execute("INSERT OR REPLACE INTO settings VALUES ('store.probe', ?)", (_iso(utcnow()),))
            fresh.execute("COMMIT")
        except sqlite3.Error:
            fresh.close()
            return False
        with self._lock:
            old, self._db = self._db, fresh
        try:
            old.close()
        except sqlite3.Error:
            pass
        log.warning("state directory: the database was opened again (the old connection could no longer write)")
        self._write_ok()
        return True

    # -- plumbing -----------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                with self.transaction():
                    for statement in script.split(";\n"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={number}")
            if self._repair:
                self._restore_lookups()

    def _restore_lookups(self) -> None:
        """Build the evidence lookup indexes a cut-off first index left dropped (see EVIDENCE_LOOKUPS).
        Never raises: what failed inside a bulk is what its caller must see; a read-only or full
        state dir only makes lookups slower until the next open or the next writable moment."""
        try:
            with self.transaction() as db:
                have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='evidence'")}
                for name, sql in EVIDENCE_LOOKUPS.items():
                    if name not in have:
                        db.execute(sql)
        except (sqlite3.Error, StateUnavailable) as exc:
            log.warning("evidence lookup indexes not rebuilt: %s", exc)

    @contextmanager
    def evidence_bulk(self) -> Iterator[None]:
        """A bulk insert of evidence rows: the lookup indexes dropped meanwhile and built once at the
        end (readers meanwhile get their answers by a scan). A failure to build them is logged and
        left to the next open, so it never hides what went wrong inside."""
        with self.transaction() as db:
            for name in EVIDENCE_LOOKUPS:
                db.execute(f"DROP INDEX IF EXISTS {name}")
        try:
            yield
        finally:
            with self._lock:
                self._restore_lookups()

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._write_failed(exc)
            try:
                yield self._db
            except BaseException as exc:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite already rolled back (disk full does that)
                if isinstance(exc, sqlite3.Error):
                    self._write_failed(exc)
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                self._write_failed(exc)
        self._write_ok()

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchone()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            self._db.close()

    # -- cases --------------------------------------------------------------------------------
    def upsert_case(self, key: CaseKey, **fields: Any) -> tuple[Case, bool]:
        """Create or update the case of (platform, order, after-sale); returns (case, created).

        A scenario the seller corrected is never overwritten by a later detection.
        """
        unknown = set(fields) - set(_CASE_FIELDS)
        if unknown:
            raise ValueError(f"unknown case fields {sorted(unknown)}")
        now = _iso(utcnow())
        values = {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
        with self.transaction() as db:
            row = db.execute(
                "SELECT * FROM cases WHERE platform=? AND order_id=? AND aftersale_id=?",
                (key.platform, key.order_id, key.aftersale_id),
            ).fetchone()
            if row is None and not key.aftersale_id:
                # A page that shows no after-sale id belongs to the order's only open case, if there is one.
                row = db.execute(
                    "SELECT * FROM cases WHERE platform=? AND order_id=? AND status='open' ORDER BY id DESC LIMIT 1",
                    (key.platform, key.order_id),
                ).fetchone()
            if row is None:
                columns = ["platform", "order_id", "aftersale_id", "created_at", "updated_at", *values]
                params = [key.platform, key.order_id, key.aftersale_id, now, now, *values.values()]
                cur = db.execute(
                    f"INSERT INTO cases ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})", params
                )
                case_id, created = int(cur.lastrowid or 0), True
            else:
                case_id, created = row["id"], False
                if row["scenario_source"] == "seller" and values.get("scenario_source", "detected") != "seller":
                    values.pop("scenario", None)
                    values.pop("scenario_source", None)
                values = {k: v for k, v in values.items() if v is not None}
                if values:
                    sets = ",".join(f"{k}=?" for k in values)
                    db.execute(f"UPDATE cases SET {sets}, updated_at=? WHERE id=?", (*values.values(), now, case_id))
        case = self.get_case(case_id)
        assert case is not None
        return case, created

    def update_case(self, case_id: int, **fields: Any) -> Case | None:
        unknown = set(fields) - set(_CASE_FIELDS)
        if unknown:
            raise ValueError(f"unknown case fields {sorted(unknown)}")
        values = {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
        if values:
            with self.transaction() as db:
                sets = ",".join(f"{k}=?" for k in values)
                db.execute(f"UPDATE cases SET {sets}, updated_at=? WHERE id=?", (*values.values(), _iso(utcnow()), case_id))
        return self.get_case(case_id)

    def relabel_case(self, case_id: int, platform: str, **fields: Any) -> Case | None:
        """Move a case to the other marketplace of its shop (淘宝 ↔ 天猫), keeping its id and all that
        hangs on it. Raises ``sqlite3.IntegrityError`` when that platform already has the case's key."""
        unknown = set(fields) - set(_CASE_FIELDS)
        if unknown:
            raise ValueError(f"unknown case fields {sorted(unknown)}")
        values = {"platform": platform, **{k: (_iso(v) if isinstance(v, datetime) else v) for k, v in fields.items()}}
        with self.transaction() as db:
            sets = ",".join(f"{k}=?" for k in values)
            db.execute(f"UPDATE cases SET {sets}, updated_at=? WHERE id=?", (*values.values(), _iso(utcnow()), case_id))
        return self.get_case(case_id)

    def get_case(self, case_id: int) -> Case | None:
        row = self._one("SELECT * FROM cases WHERE id=?", (case_id,))
        return _case(row) if row else None

    def list_cases(self, status: str | None = "open") -> list[Case]:
        where, params = ("WHERE status=?", (status,)) if status else ("", ())
        rows = self._all(f"SELECT * FROM cases {where} ORDER BY deadline_at IS NULL, deadline_at, id", params)
        return [c for c in map(_case, rows) if c is not None]

    def cases_for_order(self, order_id: str, platform: str | None = None) -> list[Case]:
        if platform:
            rows = self._all("SELECT * FROM cases WHERE order_id=? AND platform=? ORDER BY id", (order_id, platform))
        else:
            rows = self._all("SELECT * FROM cases WHERE order_id=? ORDER BY id", (order_id,))
        return [c for c in map(_case, rows) if c is not None]

    # -- evidence -----------------------------------------------------------------------------
    def add_evidence(self, record: EvidenceRecord) -> StoredEvidence:
        data = record.model_dump(exclude={"id"})
        data = {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in data.items()}
        with self.transaction() as db:
            cur = db.execute(
                f"INSERT INTO evidence ({','.join(data)}) VALUES ({','.join('?' * len(data))})", tuple(data.values())
            )
        return StoredEvidence(**{**record.model_dump(), "id": cur.lastrowid})

    def add_evidence_each(self, files: list[SortedFile], how: EvidenceHow, added_at: datetime) -> list[StoredEvidence]:
        """Records of files just sorted in, in one transaction, each returned with its id."""
        with self.transaction() as db:
            # The write lock is held (BEGIN IMMEDIATE): the row ids SQLite would give (``id`` is an
            # INTEGER PRIMARY KEY without AUTOINCREMENT: max + 1) are given explicitly, so one
            # executemany inserts them all (an execute per row was a third of a sorted file's cost).
            first = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM evidence").fetchone()[0])
            stamp = _iso(added_at)
            db.executemany(f"INSERT INTO evidence (id, {_EVIDENCE_COLUMNS}) VALUES ({','.join('?' * 13)})", [
                (first + i, f.platform, f.order_id, f.kind, f.path, None, None, None, f.sha256, f.size, f.mtime_ns, how, stamp)
                for i, f in enumerate(files)
            ])
        # The sorter's own values (the rulebook's placement, the file's stat) and the new row ids:
        # nothing to validate, one object per file.
        return [
            StoredEvidence.model_construct(
                id=first + i, platform=f.platform, order_id=f.order_id, kind=f.kind, path=f.path, sha256=f.sha256,
                size=f.size, mtime_ns=f.mtime_ns, how=how, added_at=added_at,
            )
            for i, f in enumerate(files)
        ]

    def add_evidence_many(self, records: Iterable[EvidenceRecord]) -> int:
        """Bulk insert for the first index of a large folder; paths already known are skipped."""
        iso = _IsoCache()  # a batch shares one added_at: format it once, not per row
        rows = [
            (
                r.platform, r.order_id, r.kind, r.path, r.value, iso(r.generated_at), iso(r.covers_from),
                r.sha256, r.size, r.mtime_ns, r.how, iso(r.added_at),
            )
            for r in records
        ]
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(f"INSERT OR IGNORE INTO evidence ({_EVIDENCE_COLUMNS}) VALUES ({','.join('?' * 12)})", rows)
            return db.total_changes - before

    def add_evidence_rows(
        self, rows: list[tuple[str, str, str | None, str, int, int]], how: str, added_at: datetime,
    ) -> int:
        """Bulk insert of plain (platform, order_id, kind, path, size, mtime_ns) rows sharing ``how``
        and ``added_at`` (the first index of a large folder: no model per file); paths already known
        are skipped. The same rows as :meth:`add_evidence_many` of the equivalent records."""
        stamp = _iso(added_at)
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO evidence (platform,order_id,kind,path,size,mtime_ns,how,added_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                map(operator.add, rows, repeat((how, stamp))),  # in C: no Python frame per row
            )
            return db.total_changes - before

    def update_evidence(self, evidence_id: int, **fields: Any) -> None:
        values = {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
        with self.transaction() as db:
            db.execute(f"UPDATE evidence SET {','.join(f'{k}=?' for k in values)} WHERE id=?", (*values.values(), evidence_id))

    def remove_evidence(self, evidence_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM evidence WHERE id=?", (evidence_id,))

    def get_evidence(self, evidence_id: int) -> StoredEvidence | None:
        row = self._one("SELECT * FROM evidence WHERE id=?", (evidence_id,))
        return _evidence(row) if row else None

    def evidence_by_path(self, path: str) -> StoredEvidence | None:
        row = self._one("SELECT * FROM evidence WHERE path=?", (path,))
        return _evidence(row) if row else None

    def evidence_under(self, prefix: str) -> list[StoredEvidence]:
        """Every file record whose path is ``prefix`` or inside it (a folder renamed or removed by hand)."""
        rows = self._all("SELECT * FROM evidence WHERE path=? OR substr(path, 1, ?)=?", (prefix, len(prefix) + 1, prefix + "/"))
        return [e for e in map(_evidence, rows) if e is not None]

    def evidence_by_sha(self, sha256: str) -> list[StoredEvidence]:
        return [e for e in map(_evidence, self._all("SELECT * FROM evidence WHERE sha256=?", (sha256,))) if e is not None]

    def evidence_for_order(self, platform: str, order_id: str) -> list[StoredEvidence]:
        rows = self._all("SELECT * FROM evidence WHERE platform=? AND order_id=? ORDER BY id", (platform, order_id))
        return [e for e in map(_evidence, rows) if e is not None]

    def orders_having_sizes(self, wanted: Iterable[tuple[str, str, int]]) -> set[tuple[str, str, int]]:
        """Those of (platform, order, size) for which :meth:`order_has_size` is true, in one query per
        hundred (a sort batch asks for each of its files)."""
        keys = list(dict.fromkeys(wanted))
        found: set[tuple[str, str, int]] = set()
        for start in range(0, len(keys), 100):
            chunk = keys[start:start + 100]
            orders = list(dict.fromkeys((p, o) for p, o, _ in chunk))
            marks = ",".join("(?,?)" for _ in orders)
            # CROSS JOIN keeps the few orders outside (SQLite then searches the order index for each);
            # `(platform, order_id) IN (VALUES …)` was planned as a scan of every record.
            rows = self._all(
                f"SELECT DISTINCT e.platform, e.order_id, e.size FROM (VALUES {marks}) AS v CROSS JOIN evidence e"
                " ON e.platform = v.column1 AND e.order_id = v.column2 WHERE e.path IS NOT NULL",
                [v for key in orders for v in key],
            )
            sizes: dict[tuple[str, str], set[int | None]] = {}
            for row in rows:
                sizes.setdefault((row[0], row[1]), set()).add(row[2])
            for platform, order_id, size in chunk:
                held = sizes.get((platform, order_id), ())
                if size in held or None in held:
                    found.add((platform, order_id, size))
        return found

    def paths_recorded(self, paths: Iterable[str]) -> set[str]:
        """Those of ``paths`` that have a record (one query per 500, not one per path)."""
        wanted = list(paths)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = self._all(f"SELECT path FROM evidence WHERE path IN ({','.join('?' * len(chunk))})", chunk)
            found.update(row[0] for row in rows)
        return found

    def order_has_size(self, platform: str, order_id: str, size: int) -> bool:
        """Whether a file of this order has this size (or an unknown one): only then can a file be its twin."""
        row = self._one(
            "SELECT 1 FROM evidence WHERE platform=? AND order_id=? AND path IS NOT NULL AND (size=? OR size IS NULL) LIMIT 1",
            (platform, order_id, size),
        )
        return row is not None

    def evidence_count(self) -> int:
        row = self._one("SELECT count(*) FROM evidence")
        return int(row[0]) if row else 0

    def all_evidence_paths(self) -> dict[str, tuple[int | None, int | None]]:
        """path → (size, mtime_ns) of every file record, for a rescan that touches only what changed."""
        rows = self._all("SELECT path, size, mtime_ns FROM evidence WHERE path IS NOT NULL")
        return {r["path"]: (r["size"], r["mtime_ns"]) for r in rows}

    # -- field-check confirmations -------------------------------------------------------------
    def set_confirmation(self, case_id: int, kind: str, field_id: str, confirmed: bool) -> None:
        with self.transaction() as db:
            if confirmed:
                db.execute(
                    "INSERT OR REPLACE INTO confirmations VALUES (?,?,?,?)", (case_id, kind, field_id, _iso(utcnow()))
                )
            else:
                db.execute("DELETE FROM confirmations WHERE case_id=? AND kind=? AND field_id=?", (case_id, kind, field_id))

    def confirmations(self, case_id: int) -> set[tuple[str, str]]:
        rows = self._all("SELECT kind, field_id FROM confirmations WHERE case_id=?", (case_id,))
        return {(r["kind"], r["field_id"]) for r in rows}

    # -- move journal --------------------------------------------------------------------------
    def journal_move(self, batch: str, src: str, dest: str, sha256: str, size: int) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO moves (batch, src, dest, sha256, size, state, created_at) VALUES (?,?,?,?,?,'planned',?)",
                (batch, src, dest, sha256, size, _iso(utcnow())),
            )
        return int(cur.lastrowid or 0)  # set by every INSERT

    def journal_moves(self, batch: str, moves: list[tuple[str, str, str, int]]) -> list[int]:
        """Several moves (src, dest, sha256, size) journaled 'planned' in one transaction: a whole
        batch is on record before the first of them happens (one commit instead of one per file)."""
        stamp = _iso(utcnow())
        with self.transaction() as db:
            # Write lock held: the ids SQLite would give (INTEGER PRIMARY KEY: max + 1), given
            # explicitly so one executemany journals the batch (an execute per move before).
            first = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM moves").fetchone()[0])
            ids = list(range(first, first + len(moves)))
            db.executemany(
                "INSERT INTO moves (id, batch, src, dest, sha256, size, state, created_at) VALUES (?,?,?,?,?,?,'planned',?)",
                [(move_id, batch, src, dest, sha256, size, stamp) for move_id, (src, dest, sha256, size) in zip(ids, moves, strict=True)],
            )
        return ids

    def finish_moves(self, finished: list[tuple[int, MoveState, str | None, str | None]]) -> None:
        """(move id, state, error, sha256 or None to keep the journaled one) of several moves, in one transaction."""
        if not finished:
            return
        stamp = _iso(utcnow())
        with self.transaction() as db:  # two executemany, not an execute per move
            db.executemany("UPDATE moves SET state=?, error=?, finished_at=? WHERE id=?",
                           [(state, error, stamp, move_id) for move_id, state, error, sha256 in finished if sha256 is None])
            db.executemany("UPDATE moves SET state=?, error=?, finished_at=?, sha256=? WHERE id=?",
                           [(state, error, stamp, sha256, move_id) for move_id, state, error, sha256 in finished if sha256 is not None])

    def finish_move(self, move_id: int, state: MoveState, error: str | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE moves SET state=?, error=?, finished_at=? WHERE id=?", (state, error, _iso(utcnow()), move_id))

    def finish_hashed_move(self, move_id: int, state: MoveState, sha256: str) -> None:
        """A move journaled before its bytes were hashed: finished, with the hash taken after the link."""
        with self.transaction() as db:
            db.execute("UPDATE moves SET state=?, error=NULL, finished_at=?, sha256=? WHERE id=?", (state, _iso(utcnow()), sha256, move_id))

    def set_move_sha(self, move_id: int, sha256: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE moves SET sha256=? WHERE id=?", (sha256, move_id))

    def moves_in_state(self, state: MoveState) -> list[Move]:
        return [Move(**dict(r)) for r in self._all("SELECT * FROM moves WHERE state=? ORDER BY id", (state,))]

    def get_move(self, move_id: int) -> Move | None:
        row = self._one("SELECT * FROM moves WHERE id=?", (move_id,))
        return Move(**dict(row)) if row else None

    def moves_in_batch(self, batch: str) -> list[Move]:
        return [Move(**dict(r)) for r in self._all("SELECT * FROM moves WHERE batch=? ORDER BY id", (batch,))]

    def last_batches(self, count: int) -> list[list[Move]]:
        """The newest ``count`` batches that still have completed moves, newest first (for undo)."""
        batches = self._all(
            "SELECT batch FROM moves WHERE state='done' GROUP BY batch ORDER BY max(id) DESC LIMIT ?", (count,)
        )
        return [
            [Move(**dict(r)) for r in self._all("SELECT * FROM moves WHERE batch=? AND state='done' ORDER BY id DESC", (b["batch"],))]
            for b in batches
        ]

    # -- files waiting in the inbox ------------------------------------------------------------
    def set_pending(self, path: str, reason: str) -> None:
        with self.transaction() as db:
            # A new reason keeps the first sighting: the focus files only what arrived after the seller
            # opened the case, and a reading that finishes late must not make an old file look new.
            db.execute(
                "INSERT INTO pending VALUES (?,?,?) ON CONFLICT(path) DO UPDATE SET reason = excluded.reason",
                (path, reason, _iso(utcnow())),
            )

    def clear_pending(self, path: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM pending WHERE path=?", (path,))

    def list_pending(self) -> list[PendingFile]:
        return [PendingFile(**dict(r)) for r in self._all("SELECT * FROM pending ORDER BY seen_at")]

    # -- event journal -------------------------------------------------------------------------
    def append_event(self, type: str, payload: dict, case_id: int | None = None) -> Event:
        return self.append_events([(type, payload, case_id)])[0]

    def append_events(self, items: list[tuple[str, dict, int | None]], *, returning: bool = True) -> list[Event]:
        """Several events in one transaction (a first index publishes one per order); ``returning``
        False: only journaled, and [] returned (nobody in this process listens)."""
        at = utcnow()
        stamp = _iso(at)
        with self.transaction() as db:
            # The write lock is held (BEGIN IMMEDIATE): the ids SQLite would give are max+1 onwards,
            # given explicitly so one executemany does it (a first index journals ~9,000 at once).
            first = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM events").fetchone()[0])
            db.executemany("INSERT INTO events (id, at, type, case_id, payload) VALUES (?,?,?,?,?)", [
                (first + i, stamp, type, case_id, _payload_json(payload))
                for i, (type, payload, case_id) in enumerate(items)
            ])
        if not returning:
            return []
        # The caller's own values, just written: nothing to validate (a sort publishes one per file).
        return [
            Event.model_construct(id=first + i, at=at, type=type, case_id=case_id, payload=payload)
            for i, (type, payload, case_id) in enumerate(items)
        ]

    def events_since(self, event_id: int, limit: int = 500) -> list[Event]:
        rows = self._all("SELECT * FROM events WHERE id>? ORDER BY id LIMIT ?", (event_id, limit))
        return [Event(**{**dict(r), "payload": json.loads(r["payload"])}) for r in rows]

    # -- settings ------------------------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM settings WHERE key=?", (key,))
        return row["value"] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO settings VALUES (?,?)", (key, value))
