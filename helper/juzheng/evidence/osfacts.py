"""Every OS difference the evidence folder depends on, in one module.

- Linux (inotify) reports when a writer closes a file; Windows and macOS do not, so there the
  watcher waits until size and mtime stop changing.
- A lock shared by every process that moves files (the helper, ``juzheng sort``, ``juzheng undo``):
  ``flock`` on POSIX, ``msvcrt.locking`` on Windows; the OS drops it when a process dies, even by
  kill -9, so a crash never leaves the folder locked.
- Directory fsync exists on POSIX only.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import time
from pathlib import Path

HAS_CLOSE_EVENTS = sys.platform.startswith("linux")
IS_WINDOWS = os.name == "nt"

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only (sys.platform: mypy checks each branch)
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def fsync_dir(path: Path) -> None:
    """Make a new directory entry durable (POSIX); Windows cannot open a directory for this."""
    if IS_WINDOWS:
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LockTimeout(Exception):
    pass


class SorterLock:
    """Re-entrant within a process, exclusive across processes.

    Held for one file operation at a time, so the helper and a `juzheng sort` run interleave
    safely instead of one waiting for the other's whole batch.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.RLock()
        self._depth = 0
        self._fd: int | None = None  # locked now
        self._kept: int | None = None  # open between locks

    def acquire(self, timeout: float = 60.0) -> None:
        if not self._local.acquire(timeout=timeout):
            raise LockTimeout(str(self.path))
        if self._depth == 0:
            try:
                self._take_file_lock(timeout)
            except BaseException:
                self._local.release()
                raise
        self._depth += 1

    def _take_file_lock(self, timeout: float) -> None:
        fd = self._open_fd()
        deadline = time.monotonic() + timeout
        delay = 0.002
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise LockTimeout(str(self.path))
            time.sleep(delay)  # only while another process holds it for one file
            delay = min(delay * 2, 0.05)
        self._fd = fd

    def _open_fd(self) -> int:
        """The lock file's descriptor, kept open between files (an open per file cost more than the
        lock itself); reopened when the file was removed or replaced meanwhile, so that every
        process locks the same file."""
        if self._kept is not None:
            try:
                if os.path.samestat(os.fstat(self._kept), os.stat(self.path)):
                    return self._kept
            except OSError:
                pass
            os.close(self._kept)
            self._kept = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._kept = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._kept

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            try:
                _unlock(self._fd)
            finally:
                self._fd = None
        self._local.release()

    def __del__(self) -> None:
        if getattr(self, "_kept", None) is not None:
            try:
                os.close(self._kept)  # type: ignore[arg-type]
            except OSError:
                pass

    def close(self) -> None:
        with self._local:
            if self._kept is not None and self._depth == 0:
                os.close(self._kept)
                self._kept = None

    def __enter__(self) -> SorterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# -- is another process still writing this file? -----------------------------------------------------
# A writer that pauses (a phone sync, a download manager, a scanner) may keep its file open for
# minutes. Moving it then loses its later bytes on the copy path (the source is unlinked under it)
# and leaves a record with the wrong size on the link path (the writer goes on writing the moved
# file). So a file is moved only when nobody has it open for writing:
# - Linux: the open descriptors of every process we can see, /proc/<pid>/fd, and their access mode
#   in /proc/<pid>/fdinfo (a reader, such as a thumbnailer or a virus scanner, does not count);
# - Windows: opening it for delete while denying others write access fails with a sharing
#   violation exactly when another handle has it open for writing;
# - elsewhere (macOS): no cheap answer; the watcher's size-and-mtime stability check stands.
ERROR_SHARING_VIOLATION = 32
ERROR_LOCK_VIOLATION = 33
WINDOWS_BUSY = (ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION)
SNAPSHOT_TTL = 0.25  # one /proc scan (~10 ms for 1,000 descriptors) serves a burst of files


def _windows_open_for_delete(path: str) -> None:  # pragma: no cover - exercised on Windows only
    """Open and close ``path`` for delete, sharing only reading: raises OSError (winerror 32) if
    another handle has it open for writing or without delete sharing."""
    if sys.platform != "win32":
        raise OSError(0, "open-for-delete check exists on Windows only", path)
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateFileW.restype = wintypes.HANDLE
    kernel32.CreateFileW.argtypes = [
        wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, wintypes.LPVOID, wintypes.DWORD, wintypes.DWORD, wintypes.HANDLE,
    ]
    generic_read, delete, share_read, open_existing = 0x80000000, 0x00010000, 0x00000001, 3
    handle = kernel32.CreateFileW(path, generic_read | delete, share_read, None, open_existing, 0, None)
    if handle in (None, wintypes.HANDLE(-1).value):
        err = ctypes.get_last_error()
        raise OSError(0, ctypes.FormatError(err), path, err)
    kernel32.CloseHandle(handle)


def _lease_says_writing(path: Path) -> bool | None:
    """Linux's own answer, in microseconds: a read lease cannot be taken on a file that any
    process has open for writing (EAGAIN). None where leases are not allowed (a file we do not
    own, a network or FUSE filesystem): then the /proc scan answers.

    Taken and dropped at once; the break notice a writer opening meanwhile would send is set to
    SIGURG, whose default is to be ignored (SIGIO's default would end the process).
    """
    if sys.platform == "win32":  # no leases there (and no fcntl): the caller asks Windows itself
        return None
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not Linux
        return None
    setlease = getattr(fcntl, "F_SETLEASE", None)
    if setlease is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        try:
            fcntl.fcntl(fd, getattr(fcntl, "F_SETSIG", 10), signal.SIGURG)
            fcntl.fcntl(fd, setlease, fcntl.F_RDLCK)
        except OSError as exc:
            return True if exc.errno in (errno.EAGAIN, errno.EBUSY) else None
        try:
            fcntl.fcntl(fd, setlease, fcntl.F_UNLCK)
        except OSError:
            pass
        return False
    finally:
        os.close(fd)


class WriterCheck:
    """``open_for_writing(path)``: True when some process still has ``path`` open for writing.

    ``platform`` and ``opener`` are injectable so that each OS branch is testable anywhere.
    """

    def __init__(self, platform: str = sys.platform, opener=None, proc: str = "/proc", ttl: float = SNAPSHOT_TTL,
                 leases: bool = True) -> None:
        self.platform = platform
        self.leases = leases
        self.opener = opener or _windows_open_for_delete
        self.proc = proc
        self.ttl = ttl
        self._snapshot: dict[str, list[tuple[str, str]]] | None = None
        self._taken = 0.0
        self._lock = threading.Lock()

    def open_for_writing(self, path: Path, fresh: bool = False) -> bool:
        if self.platform.startswith("linux"):
            return self._linux(Path(path), fresh)
        if self.platform == "win32":
            return self._windows(Path(path))
        return False

    # Windows ----------------------------------------------------------------------------------------
    def _windows(self, path: Path) -> bool:
        try:
            self.opener(str(path))
        except FileNotFoundError:
            return False
        except OSError as exc:
            return getattr(exc, "winerror", None) in WINDOWS_BUSY or exc.errno in WINDOWS_BUSY
        return False

    # Linux ------------------------------------------------------------------------------------------
    def _linux(self, path: Path, fresh: bool) -> bool:
        leased = _lease_says_writing(path) if self.leases else None
        if leased is not None:
            return leased
        try:
            target = os.path.realpath(path)
        except OSError:
            return False
        with self._lock:
            now = time.monotonic()
            if fresh or self._snapshot is None or now - self._taken > self.ttl:
                self._snapshot = self._scan()
                self._taken = time.monotonic()
            holders = list(self._snapshot.get(target, ()))
        return any(self._writes(pid, fd, target) for pid, fd in holders)

    def _scan(self) -> dict[str, list[tuple[str, str]]]:
        """Every open file path → the (pid, fd) holding it, of every process we may look at."""
        found: dict[str, list[tuple[str, str]]] = {}
        try:
            pids = [p for p in os.listdir(self.proc) if p.isdigit()]
        except OSError:
            return found
        for pid in pids:
            fd_dir = f"{self.proc}/{pid}/fd"
            try:
                fds = os.listdir(fd_dir)
            except OSError:
                continue  # gone, or another user's process
            for fd in fds:
                try:
                    link = os.readlink(f"{fd_dir}/{fd}")
                except OSError:
                    continue
                if link.startswith("/"):
                    found.setdefault(link, []).append((pid, fd))
        return found

    def _writes(self, pid: str, fd: str, target: str) -> bool:
        if sys.platform == "win32":  # /proc is Linux's
            return False
        try:
            # Still the same file? A snapshot's descriptor may have been closed and its number reused.
            if os.readlink(f"{self.proc}/{pid}/fd/{fd}") != target:
                return False
            with open(f"{self.proc}/{pid}/fdinfo/{fd}", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("flags:"):
                        return (int(line.split()[1], 8) & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
        except (OSError, ValueError, IndexError):
            return False  # closed meanwhile
        return False
