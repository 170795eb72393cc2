"""Moving a file without ever losing or overwriting one.

Every move is journaled in the store before it happens (state ``planned``) and finished after
(``done`` or ``failed``); :mod:`.recovery` completes or rolls back what a crash left planned.

The final step never replaces an existing name, even if the name appears between our check and the
move: a plain rename replaces silently on POSIX, so we use

- ``os.link`` then ``os.unlink`` on one filesystem (the link fails with FileExistsError if the name
  was taken meanwhile, and at every instant the bytes have at least one name), else
- an exclusive create (``open(dest, 'xb')``), copy, fsync, verify sha256, then remove the source
  (other filesystems, FAT/exFAT USB drives, shares without hard links).

Just before the final step the source is checked against the size, mtime and hash recorded when it
was planned; a file that changed meanwhile is left where it is. A file another process still has
open for writing is never moved (see :class:`.osfacts.WriterCheck`): checked before the move, and
on the copy path once more after the copy, just before the source is removed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..store import SqliteStore
from .layout import numbered
from .osfacts import WriterCheck, fsync_dir

CHUNK = 1024 * 1024
MAX_NUMBER = 10_000
UPLOAD_SRC = ""  # the journal's src of a file written from an upload: there is no source file

MoveStatus = Literal["moved", "changed", "vanished", "busy", "stuck"]


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileState:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class MoveResult:
    status: MoveStatus
    src: Path
    dest: Path | None = None
    move_id: int | None = None
    detail: str | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_batch(prefix: str = "sort") -> str:
    return f"{prefix}:{uuid.uuid4().hex[:12]}"


def journal_path(path: Path) -> str:
    # Absolute paths: recovery and undo must never resolve a move against the wrong root.
    return str(Path(path).absolute())


class Mover:
    def __init__(self, store: SqliteStore, *, use_links: bool = True, writers: WriterCheck | None = None) -> None:
        self.store = store
        self.use_links = use_links
        self.writers = writers or WriterCheck()

    # -- moving an existing file -------------------------------------------------------------------
    def move(
        self,
        src: Path,
        dest_dir: Path,
        name: str,
        *,
        batch: str,
        expect: FileState,
        sha256: str,
        done_state: Literal["done", "undone"] = "done",
    ) -> MoveResult:
        """Move ``src`` into ``dest_dir`` as ``name`` (or ``name (2)``…), never replacing anything."""
        dest_dir.mkdir(parents=True, exist_ok=True)
        for n in range(1, MAX_NUMBER):
            dest = dest_dir / numbered(name, n)
            if os.path.lexists(dest):
                continue
            move_id = self.store.journal_move(batch, journal_path(src), journal_path(dest), sha256, expect.size)
            try:
                outcome = self._place(src, dest, expect, sha256)
            except BaseException as exc:
                # An unexpected error (disk full, permissions): nothing was lost — the source is
                # removed only after a verified copy — but say what happened in the journal.
                if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    self.store.finish_move(move_id, "failed", f"{type(exc).__name__}: {exc}")
                raise
            if outcome == "taken":
                self.store.finish_move(move_id, "failed", "目标文件名刚被占用，换用下一个编号")
                continue
            if outcome == "moved":
                self.store.finish_move(move_id, done_state)
                return MoveResult("moved", src, dest, move_id)
            if outcome == "stuck":
                # Both names exist and neither could be removed (Windows: the file is open
                # elsewhere). The journal stays 'planned' so recovery finishes it later.
                return MoveResult("stuck", src, dest, move_id, "文件正被其他程序占用")
            self.store.finish_move(move_id, "failed", _DETAILS[outcome])
            status: MoveStatus = "busy" if outcome == "writing" else outcome  # type: ignore[assignment]
            return MoveResult(status, src, None, move_id, _DETAILS[outcome])
        raise RuntimeError(f"no free name for {name!r} in {dest_dir}")

    def _place(self, src: Path, dest: Path, expect: FileState, sha256: str) -> str:
        try:
            if FileState.of(src) != expect:
                return "changed"
        except FileNotFoundError:
            return "vanished"
        if self.writers.open_for_writing(src):
            return "writing"
        if self.use_links:
            try:
                os.link(src, dest)
            except FileExistsError:
                return "taken"
            except FileNotFoundError:
                return "vanished"
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return "vanished"
                return self._copy_then_remove(src, dest, expect, sha256)  # no links here: copy instead
            return self._finish_link(src, dest, expect, sha256)
        return self._copy_then_remove(src, dest, expect, sha256)

    def _finish_link(self, src: Path, dest: Path, expect: FileState, sha256: str) -> str:
        # dest and src are one file now; check it is still the one we planned before dropping src.
        try:
            unchanged = FileState.of(dest) == expect and sha256_file(dest) == sha256
        except OSError:
            unchanged = False
        if not unchanged:
            return "changed" if remove_quietly(dest) else "stuck"
        return self._remove_source(src, dest)

    def _copy_then_remove(self, src: Path, dest: Path, expect: FileState, sha256: str) -> str:
        try:
            out = open(dest, "xb")  # exclusive: fails if the name appeared meanwhile
        except FileExistsError:
            return "taken"
        digest = hashlib.sha256()
        try:
            with out, open(src, "rb") as inp:
                while chunk := inp.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.utime(dest, ns=(expect.mtime_ns, expect.mtime_ns))  # the seller sees the original date
        except FileNotFoundError:
            remove_quietly(dest)
            return "vanished"
        except BaseException:
            remove_quietly(dest)
            raise
        fsync_dir(dest.parent)
        try:
            same = digest.hexdigest() == sha256 and sha256_file(dest) == sha256 and FileState.of(src) == expect
        except FileNotFoundError:
            same = False
        if not same:
            remove_quietly(dest)
            return "vanished" if not src.exists() else "changed"
        if self.writers.open_for_writing(src, fresh=True):
            # Opened for writing while we copied: its next bytes would be lost with the source.
            remove_quietly(dest)
            return "writing"
        return self._remove_source(src, dest)

    def _remove_source(self, src: Path, dest: Path) -> str:
        try:
            os.unlink(src)
        except FileNotFoundError:
            # Someone else (another sorter, the seller) moved the source meanwhile. If our name is
            # an extra link to a file that lives on elsewhere, drop ours so it exists once.
            try:
                if os.stat(dest).st_nlink > 1:
                    remove_quietly(dest)
                    return "vanished"
            except OSError:
                pass
            return "moved"
        except PermissionError:
            return "busy" if remove_quietly(dest) else "stuck"
        return "moved"

    # -- writing new bytes (uploads) ---------------------------------------------------------------
    def write_new(self, data: bytes, dest_dir: Path, name: str, *, batch: str) -> MoveResult:
        """Write ``data`` as a new file in ``dest_dir`` under a free name (exclusive create)."""
        dest_dir.mkdir(parents=True, exist_ok=True)
        sha = sha256_bytes(data)
        for n in range(1, MAX_NUMBER):
            dest = dest_dir / numbered(name, n)
            if os.path.lexists(dest):
                continue
            move_id = self.store.journal_move(batch, UPLOAD_SRC, journal_path(dest), sha, len(data))
            try:
                out = open(dest, "xb")
            except FileExistsError:
                self.store.finish_move(move_id, "failed", "目标文件名刚被占用，换用下一个编号")
                continue
            try:
                with out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                fsync_dir(dest_dir)
            except BaseException as exc:
                remove_quietly(dest)
                if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    self.store.finish_move(move_id, "failed", f"{type(exc).__name__}: {exc}")
                raise
            self.store.finish_move(move_id, "done")
            return MoveResult("moved", Path(UPLOAD_SRC), dest, move_id)
        raise RuntimeError(f"no free name for {name!r} in {dest_dir}")


_DETAILS = {
    "changed": "文件在整理前又被修改了，先不动它，等写完再整理",
    "vanished": "文件已被移走或删除",
    "busy": "文件正被其他程序占用，稍后再试",
    "writing": "文件仍在被写入（另一个程序还开着它），写完后会自动整理",
}


def remove_quietly(path: Path) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False
