"""Every OS difference the evidence folder depends on, in one module.

- Linux (inotify) reports when a writer closes a file; Windows and macOS do not, so there the
  watcher waits until size and mtime stop changing.
- A lock shared by every process that moves files (the helper, ``juzheng sort``, ``juzheng undo``):
  ``flock`` on POSIX, ``msvcrt.locking`` on Windows; the OS drops it when a process dies, even by
  kill -9, so a crash never leaves the folder locked.
- Directory fsync exists on POSIX only.
"""

from __future__ import annotations

import os
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
        self._fd: int | None = None

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        delay = 0.002
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                os.close(fd)
                raise LockTimeout(str(self.path))
            time.sleep(delay)  # only while another process holds it for one file
            delay = min(delay * 2, 0.05)
        self._fd = fd

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            try:
                _unlock(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None
        self._local.release()

    def __enter__(self) -> SorterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
