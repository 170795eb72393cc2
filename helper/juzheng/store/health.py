"""What can go wrong with the state directory, said plainly, and how the store gets over it.

- A damaged or truncated database file: the file is kept as ``juzheng.sqlite3.damaged-<time>``
  (never deleted), whatever rows can still be read are copied into a fresh database, and the seller
  is told (API ``/api/health``, tray, ``juzheng status``). Cases come back as their after-sale pages
  are opened again; evidence records come back from the folder's own index.
- The state directory full or read-only: writes fail with :class:`StateUnavailable` (the API turns it
  into a 503 with a stable ``code``), the problem is shown, and a probe retries a tiny write every
  second until it succeeds; then the waiting work is retried at once.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from ..errors import Unavailable

RECOVERED_SETTING = "store.recovered"
RECOVERED_SHOWN_FOR = timedelta(days=3)  # long enough for the seller to see it at least once
MIN_FREE_BYTES = 1024 * 1024

STATE_FULL = "state_dir_full"
STATE_READONLY = "state_dir_readonly"
DB_RECOVERED = "database_recovered"
DB_DAMAGED = "database_damaged"
# Short forms for the tray's tooltip (a few words fit there); the API and juzheng status say it in full.
PROBLEM_LABELS = {
    STATE_FULL: "数据目录磁盘已满",
    STATE_READONLY: "数据目录只读",
    DB_RECOVERED: "数据库曾损坏，已重建",
    DB_DAMAGED: "数据库文件损坏",
}
DB_DAMAGED_MESSAGES = ("file is not a database", "malformed", "database disk image", "file is encrypted")


class StoreProblem(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    code: str
    message: str  # zh-CN, for the seller


class StateUnavailable(Unavailable):
    """The state directory refused a write (full, read-only): say so, never a generic 500."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


def full_message(state_dir: Path) -> str:
    return f"助手的数据目录 {state_dir} 所在磁盘已满：新的案子和整理记录暂时无法保存，收件箱里的文件会留在原处。请清理磁盘空间，空间恢复后会立即自动继续。"


def readonly_message(state_dir: Path) -> str:
    return f"助手的数据目录 {state_dir} 是只读的（或没有写入权限）：新的案子和整理记录暂时无法保存，收件箱里的文件会留在原处。请检查该目录的权限或所在磁盘，恢复后会立即自动继续。"


def classify_write_error(exc: BaseException, state_dir: Path) -> StateUnavailable | None:
    """A write failure of the state directory as a problem the seller can act on, else None."""
    text = str(exc).lower()
    code = getattr(exc, "sqlite_errorcode", None)
    full_codes = {getattr(sqlite3, "SQLITE_FULL", 13)}
    readonly_codes = {getattr(sqlite3, "SQLITE_READONLY", 8)}
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return StateUnavailable(STATE_FULL, full_message(state_dir))
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return StateUnavailable(STATE_READONLY, readonly_message(state_dir))
        return None
    if not isinstance(exc, sqlite3.Error):
        return None
    if (code is not None and code & 0xFF in full_codes) or "disk is full" in text:
        return StateUnavailable(STATE_FULL, full_message(state_dir))
    if (code is not None and code & 0xFF in readonly_codes) or "readonly" in text or "read-only" in text:
        return StateUnavailable(STATE_READONLY, readonly_message(state_dir))
    if "disk i/o error" in text or "unable to open database file" in text:
        # SQLite says only "I/O error" for both: ask the directory itself.
        return probe_directory(state_dir) or StateUnavailable(STATE_READONLY, readonly_message(state_dir))
    return None


def probe_directory(state_dir: Path) -> StateUnavailable | None:
    """Full or read-only, judged without writing anything (``juzheng status`` writes nothing)."""
    try:
        if not os.access(state_dir, os.W_OK):
            return StateUnavailable(STATE_READONLY, readonly_message(state_dir))
        if shutil.disk_usage(state_dir).free < MIN_FREE_BYTES:
            return StateUnavailable(STATE_FULL, full_message(state_dir))
    except OSError:
        return None
    return None


def is_damaged(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and any(m in str(exc).lower() for m in DB_DAMAGED_MESSAGES)


def recovered_problem(raw: str | None, now: datetime | None = None) -> StoreProblem | None:
    """The "database was damaged" notice while it is recent, from the setting the recovery wrote."""
    if not raw:
        return None
    try:
        at_text, copy, salvaged = raw.split("|", 2)
        at = datetime.fromisoformat(at_text)
    except ValueError:
        return None
    now = now or datetime.now(timezone.utc)
    if now - at > RECOVERED_SHOWN_FOR:
        return None
    return StoreProblem(
        code=DB_RECOVERED,
        message=(
            f"助手的数据库文件损坏，已于 {at.astimezone().strftime('%Y-%m-%d %H:%M')} 换用新的数据库（{salvaged}）。"
            f"损坏的文件保留为 {copy}。打开各售后单页面即可恢复案子，证据会从证据文件夹重新索引。"
        ),
    )


def keep_damaged(path: Path, stamp: str) -> Path:
    """Rename the damaged database (and its -wal/-shm) aside; never delete it."""
    copy = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while copy.exists():
        n += 1
        copy = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.replace(path, copy)
    wal, shm = Path(str(path) + "-wal"), Path(str(path) + "-shm")
    if wal.exists() and wal.stat().st_size:
        os.replace(wal, Path(str(copy) + "-wal"))  # committed rows not yet in the main file
    # The -shm file is only an index of the -wal, rebuilt on open; a stale one hides the rows.
    for side in (wal, shm):
        try:
            side.unlink()
        except OSError:
            pass
    return copy


def salvage(damaged: Path, fresh: sqlite3.Connection, tables: list[str]) -> dict[str, int]:
    """Copy every row still readable from ``damaged`` into ``fresh`` (same schema); counts per table."""
    counts: dict[str, int] = {}
    try:
        # immutable: read the file as it lies, creating no -shm/-wal beside the kept copy (unless it
        # has a -wal of its own with rows in it, which only a normal read-only open replays).
        has_wal = Path(str(damaged) + "-wal").exists()
        old = sqlite3.connect(f"file:{damaged}?{'mode=ro' if has_wal else 'immutable=1'}", uri=True)
        # A truncated file's schema names root pages past its end, and SQLite then refuses every
        # table; with writable_schema it reads the tables whose pages are still there.
        old.execute("PRAGMA writable_schema=ON")
    except sqlite3.Error:
        return counts
    try:
        for table in tables:
            try:
                columns = [r[1] for r in fresh.execute(f"PRAGMA table_info({table})")]
                rows = _readable_rows(old, table, columns)
            except sqlite3.Error:
                continue
            if not rows:
                continue
            marks = ",".join("?" * len(columns))
            with fresh:
                before = fresh.total_changes
                fresh.executemany(f"INSERT OR IGNORE INTO {table} ({','.join(columns)}) VALUES ({marks})", rows)
                counts[table] = fresh.total_changes - before
    finally:
        old.close()
    return counts


def _readable_rows(old: sqlite3.Connection, table: str, columns: list[str]) -> list[tuple]:
    """The rows of ``table`` up to the first damaged page in rowid order, plus whatever a scan from
    the far end (descending rowid) reaches before it meets the damage from the other side."""
    rows: dict[int, tuple] = {}
    for order in ("ASC", "DESC"):
        try:
            cursor = old.execute(f"SELECT rowid, {','.join(columns)} FROM {table} ORDER BY rowid {order}")
        except sqlite3.Error:
            continue
        while True:
            try:
                row = cursor.fetchone()
            except sqlite3.Error:
                break
            if row is None:
                break
            rows.setdefault(row[0], tuple(row[1:]))
    return [rows[k] for k in sorted(rows)]
