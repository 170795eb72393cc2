"""Moving a file without ever losing or overwriting one.

Every move is journaled in the store before it happens (state ``planned``) and finished after
(``done`` or ``failed``); :mod:`.recovery` completes or rolls back what a crash left planned.

The final step never replaces an existing name, even if the name appears between our check and the
move: a plain rename replaces silently on POSIX, so we use

- ``os.link`` then ``os.unlink`` on one filesystem (the link fails with FileExistsError if the name
  was taken meanwhile, and at every instant the bytes have at least one name), else
- an exclusive create (``open(dest, 'xb')``), copy, fsync, verify sha256, then remove the source
  (other filesystems, FAT/exFAT USB drives, shares without hard links).

Just before the final step the source is checked against the size and mtime recorded when it was
planned, and after the link against the hash when one was taken (the sorter hashes before the move
only files that may be a duplicate); a file that changed meanwhile is left where it is. A file moved
without a hash is hashed once, through its new name, after the link: the one read of its bytes. A file another process still has
open for writing is never moved (see :class:`.osfacts.WriterCheck`): checked before the move, and
on the copy path once more after the copy, just before the source is removed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sys
import stat
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..store import SqliteStore
from ..store.records import MoveState
from .layout import numbered
from .osfacts import WriterCheck, fsync_dir

CHUNK = 1024 * 1024
HASH_LIMIT = 16 * 1024**3  # a 4K screen recording of a whole unboxing stays below this
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)
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
    sha256: str | None = None  # the bytes now at ``dest``


@dataclass(frozen=True)
class PlannedMove:
    """One move of :meth:`Mover.move_many`: ``dest`` a free name chosen by the caller."""

    src: Path
    dest: Path
    expect: FileState
    sha256: str | None = None


class NotRegularFile(OSError):
    """A FIFO, a device, a socket or a symbolic link where a file was expected: never read through."""


class FileTooLarge(OSError):
    pass


def open_regular(path: Path, limit: int | None = None):
    """Open ``path`` for reading only if it is a regular file itself (not a link to one, not a FIFO
    or a device such as /dev/zero), and at most ``limit`` bytes long.

    Opening a FIFO blocks until a writer appears; reading /dev/zero never ends. Both hung the
    helper. O_NONBLOCK makes the open of a FIFO return at once, O_NOFOLLOW refuses a final
    symlink; the type is then checked on the open descriptor, so it cannot be swapped meanwhile.
    """
    if os.name == "nt" and os.path.islink(path):  # no O_NOFOLLOW on Windows
        raise NotRegularFile(errno.ELOOP, "符号链接不会被读取", str(path))
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _BINARY)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFile(errno.ELOOP, "符号链接不会被读取", str(path)) from exc
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, "不是普通文件", str(path))
        if limit is not None and st.st_size > limit:
            raise FileTooLarge(errno.EFBIG, f"文件超过 {limit // 1024**2} MB", str(path))
        if _NONBLOCK and sys.platform != "win32":
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def is_regular(path: Path) -> bool:
    """A regular file itself, not through a link (lstat)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def sha256_file(path: Path, limit: int = HASH_LIMIT) -> str:
    digest = hashlib.sha256()
    with open_regular(path, limit) as fh:
        read = 0
        while chunk := fh.read(CHUNK):
            read += len(chunk)
            if read > limit:  # grew past the cap while we read it
                raise FileTooLarge(errno.EFBIG, f"文件超过 {limit // 1024**2} MB", str(path))
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_batch(prefix: str = "sort") -> str:
    return f"{prefix}:{uuid.uuid4().hex[:12]}"


def journal_path(path: Path) -> str:
    # Absolute paths: recovery and undo must never resolve a move against the wrong root.
    if isinstance(path, Path) and path.is_absolute():  # what absolute() returns as it is, without its cwd lookup
        return str(path)
    return str(Path(path).absolute())


class Echoes:
    """Paths the mover's own link, unlink or create is about to touch, so that the watcher can tell
    those file events from the seller's. Each is consulted once: anything later on the same path
    (an edit) counts again."""

    def __init__(self) -> None:
        self._paths: set[str] = set()
        self._lock = threading.Lock()  # the mover runs on callers' threads, the watcher on its own

    def expect(self, *paths: Path) -> None:
        with self._lock:
            self._paths.update(str(p) for p in paths)

    def drop(self, *paths: Path) -> None:
        with self._lock:
            self._paths.difference_update(str(p) for p in paths)

    def consume(self, path: Path, kind: str) -> bool:
        """True when this created/deleted event is the echo of our own move (and forget it)."""
        if kind not in ("created", "deleted"):
            return False
        key = str(path)
        with self._lock:
            if key in self._paths:
                self._paths.discard(key)
                return True
        return False

    def clear(self) -> None:
        """Echoes that never came (an event lost by the watcher) must not hide a later real one."""
        with self._lock:
            self._paths.clear()


class Mover:
    def __init__(self, store: SqliteStore, *, use_links: bool = True, writers: WriterCheck | None = None) -> None:
        self.store = store
        self.use_links = use_links
        self.writers = writers or WriterCheck()
        self.echoes = Echoes()

    # -- moving an existing file -------------------------------------------------------------------
    def move(
        self,
        src: Path,
        dest_dir: Path,
        name: str,
        *,
        batch: str,
        expect: FileState,
        sha256: str | None,
        done_state: Literal["done", "undone"] = "done",
        hash_after: bool = True,
    ) -> MoveResult:
        """Move ``src`` into ``dest_dir`` as ``name`` (or ``name (2)``…), never replacing anything.

        ``sha256``: the bytes planned, checked after the link; None: hashed once after the link
        (the journal's hash is filled in then; recovery of a link needs none: both names are one file).
        ``hash_after=False`` with no ``sha256``: a link is checked by size and mtime only and its bytes
        are never read here (``juzheng sort``: they are hashed later, when a same-size file arrives).
        """
        ensure_folder(dest_dir)
        for n in range(1, MAX_NUMBER):
            dest = dest_dir / numbered(name, n)
            if os.path.lexists(dest):
                continue
            move_id = self.store.journal_move(batch, journal_path(src), journal_path(dest), sha256 or "", expect.size)
            self.echoes.expect(src, dest)  # before the link: the watcher may report it at once
            try:
                outcome, digest = self._place(src, dest, expect, sha256, move_id, hash_after)
            except BaseException as exc:
                # An unexpected error (disk full, permissions): nothing was lost — the source is
                # removed only after a verified copy — but say what happened in the journal.
                self.echoes.drop(src, dest)
                if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    self.store.finish_move(move_id, "failed", f"{type(exc).__name__}: {exc}")
                raise
            if outcome == "taken":
                self.echoes.drop(dest)
                self.store.finish_move(move_id, "failed", "目标文件名刚被占用，换用下一个编号")
                continue
            if outcome == "moved":
                if sha256 is None and digest is not None:
                    self.store.finish_hashed_move(move_id, done_state, digest)
                else:
                    self.store.finish_move(move_id, done_state)
                return MoveResult("moved", src, dest, move_id, sha256=digest)
            if outcome == "stuck":
                # Both names exist and neither could be removed (Windows: the file is open
                # elsewhere). The journal stays 'planned' so recovery finishes it later.
                return MoveResult("stuck", src, dest, move_id, "文件正被其他程序占用")
            self.echoes.drop(src, dest)
            self.store.finish_move(move_id, "failed", _DETAILS[outcome])
            status: MoveStatus = "busy" if outcome == "writing" else outcome  # type: ignore[assignment]
            return MoveResult(status, src, None, move_id, _DETAILS[outcome])
        raise RuntimeError(f"no free name for {name!r} in {dest_dir}")

    def move_many(self, moves: list[PlannedMove], *, batch: str, hash_after: bool = True) -> list[MoveResult | OSError | None]:
        """Several moves, each as :meth:`move` does it, journaled together: all of them 'planned' in one
        transaction before the first happens, their completions in one transaction after the last.

        A kill at any point leaves each move either finished in the journal or 'planned', which
        :mod:`.recovery` completes or rolls back by what is on disk (as for a single move: the journal
        still comes before the link). The destination names must be free and distinct (the caller
        chose them); one taken meanwhile gives None (nothing happened: move that file alone), an
        error of the destination (disk full, permissions) the OSError. The caller holds the sorter
        lock throughout, so no recovery runs between the journal and the completions.
        """
        unmade = make_folders({m.dest.parent for m in moves})
        ids = self.store.journal_moves(batch, [(journal_path(m.src), journal_path(m.dest), m.sha256 or "", m.expect.size) for m in moves])
        finished: list[tuple[int, MoveState, str | None, str | None]] = []
        results: list[MoveResult | OSError | None] = []
        try:
            for m, move_id in zip(moves, ids, strict=True):
                refused = unmade.get(m.dest.parent)
                if refused is not None:  # its folder could not be made (permissions, disk full)
                    finished.append((move_id, "failed", f"{type(refused).__name__}: {refused}", None))
                    results.append(refused)
                    continue
                self.echoes.expect(m.src, m.dest)
                try:
                    outcome, digest = self._place(m.src, m.dest, m.expect, m.sha256, move_id, hash_after)
                except OSError as exc:  # nothing lost (see move): the file stays where it is
                    self.echoes.drop(m.src, m.dest)
                    finished.append((move_id, "failed", f"{type(exc).__name__}: {exc}", None))
                    results.append(exc)
                    continue
                if outcome == "taken":
                    self.echoes.drop(m.dest)
                    finished.append((move_id, "failed", "目标文件名刚被占用，换用下一个编号", None))
                    results.append(None)
                elif outcome == "moved":
                    finished.append((move_id, "done", None, digest if m.sha256 is None else None))
                    results.append(MoveResult("moved", m.src, m.dest, move_id, sha256=digest))
                elif outcome == "stuck":  # stays 'planned': recovery finishes it later
                    results.append(MoveResult("stuck", m.src, m.dest, move_id, "文件正被其他程序占用"))
                else:
                    self.echoes.drop(m.src, m.dest)
                    finished.append((move_id, "failed", _DETAILS[outcome], None))
                    status: MoveStatus = "busy" if outcome == "writing" else outcome  # type: ignore[assignment]
                    results.append(MoveResult(status, m.src, None, move_id, _DETAILS[outcome]))
        finally:
            # Also after an interruption: the moves not reached stay 'planned' (nothing happened to
            # them; recovery rolls them back), the ones done are recorded as done.
            self.store.finish_moves(finished)
        return results

    def _place(
        self, src: Path, dest: Path, expect: FileState, sha256: str | None, move_id: int, hash_after: bool = True,
    ) -> tuple[str, str | None]:
        """The outcome, and the hash of the bytes now at ``dest`` when moved."""
        try:
            if FileState.of(src) != expect:
                return "changed", None
        except FileNotFoundError:
            return "vanished", None
        if self.writers.open_for_writing(src):
            return "writing", None
        if self.use_links:
            try:
                os.link(src, dest)
            except FileExistsError:
                return "taken", None
            except FileNotFoundError:
                return "vanished", None
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return "vanished", None
                copy_sha = self._copy_sha(src, sha256, move_id)  # no links here: copy instead
                return self._copy_then_remove(src, dest, expect, copy_sha), copy_sha
            return self._finish_link(src, dest, expect, sha256, hash_after)
        copy_sha = self._copy_sha(src, sha256, move_id)
        return self._copy_then_remove(src, dest, expect, copy_sha), copy_sha

    def _copy_sha(self, src: Path, sha256: str | None, move_id: int) -> str:
        """A copy is verified against the source's hash, journaled before the copy starts (recovery
        tells a finished copy from a partial one by it)."""
        if sha256 is None:
            sha256 = sha256_file(src)
            self.store.set_move_sha(move_id, sha256)
        return sha256

    def _finish_link(
        self, src: Path, dest: Path, expect: FileState, sha256: str | None, hash_after: bool = True,
    ) -> tuple[str, str | None]:
        # dest and src are one file now; check it is still the one we planned before dropping src.
        digest: str | None = None
        try:
            unchanged = FileState.of(dest) == expect
            if unchanged and (sha256 is not None or hash_after):
                digest = sha256_file(dest)
                unchanged = sha256 is None or digest == sha256
        except OSError:
            unchanged = False
        if not unchanged:
            return ("changed" if remove_quietly(dest) else "stuck"), None
        return self._remove_source(src, dest), digest

    def _copy_then_remove(self, src: Path, dest: Path, expect: FileState, sha256: str) -> str:
        try:
            out = open(dest, "xb")  # exclusive: fails if the name appeared meanwhile
        except FileExistsError:
            return "taken"
        digest = hashlib.sha256()
        try:
            with out, open_regular(src) as inp:
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
            self.echoes.expect(dest)
            try:
                out = open(dest, "xb")
            except FileExistsError:
                self.echoes.drop(dest)
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
                self.echoes.drop(dest)
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


def ensure_folder(folder: Path) -> None:
    """``folder`` exists afterwards, its parents made as needed: one mkdir whether it is new (its
    parent there) or already there. A stat first failed once per new folder, and a failed lookup
    costs three times a found one; pathlib's ``mkdir(exist_ok=True)`` stats again after EEXIST.

    A file by that name is left alone: the move into it then fails with the reason the seller sees."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:  # its parent first (pathlib would try this folder once more before it)
        if folder.parent == folder:
            raise
        ensure_folder(folder.parent)
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass


def make_folders(folders: set[Path]) -> dict[Path, OSError]:
    """Each folder made (as :func:`ensure_folder`); the ones that could not be, with the error, so
    that only their moves fail (with the reason the seller sees) and the rest of a batch goes on."""
    unmade: dict[Path, OSError] = {}
    for folder in folders:
        try:
            ensure_folder(folder)
        except OSError as exc:
            unmade[folder] = exc
    return unmade


def remove_quietly(path: Path) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False
