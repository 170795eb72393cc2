"""One helper per state dir, and the small files it leaves there: the OS-specific bits live here.

- ``helper.lock``: held with an OS file lock for the helper's lifetime (msvcrt on Windows, fcntl
  elsewhere). The OS drops it when the process dies, so a crash never leaves a stale lock.
- ``helper.json``: where the running helper listens and which secret store it uses, so
  ``juzheng pair`` finds it without being told the port.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO, Any

LOCK_NAME = "helper.lock"
INFO_NAME = "helper.json"


class AlreadyRunning(Exception):
    pass


class InstanceLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / LOCK_NAME
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")
        try:
            _lock(handle)
        except OSError as exc:
            handle.close()
            raise AlreadyRunning(str(self.path)) from exc
        # Nothing is written into the locked file (Windows refuses writes over a locked range from
        # other handles and truncation is fragile there); helper.json carries the pid.
        self._file = handle

    def release(self) -> None:
        if self._file is None:
            return
        try:
            _unlock(self._file)
        finally:
            self._file.close()
            self._file = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # raises OSError when held elsewhere

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` readable by the current user only, atomically (temp file + replace).

    On POSIX the file is created 0600. On Windows the per-user profile folders the state dir lives
    in already carry a user-only ACL, which new files inherit.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_info(state_dir: Path, info: dict[str, Any]) -> None:
    write_private_file(Path(state_dir) / INFO_NAME, json.dumps(info, ensure_ascii=False))


def read_info(state_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(state_dir) / INFO_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def clear_info(state_dir: Path) -> None:
    try:
        (Path(state_dir) / INFO_NAME).unlink()
    except OSError:
        pass
