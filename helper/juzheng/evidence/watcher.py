"""Filesystem events become hints, debounced per path (watchdog itself is in :mod:`.observer`).

Events are hints, never facts: the worker re-reads the disk before acting on one. Rules:

- the whole evidence root is watched recursively, so the sorter's own moves are renames inside the
  tree (a move out of the tree stalls inotify's queue for about half a second);
- a file is acted on after a quiet period that restarts on every write, and at the latest after a
  maximum delay; on Linux a file that is being written (modified, not yet closed) waits for its
  close event; where there is no close event (Windows, macOS) the worker waits until size and mtime
  are the same on two checks a quiet period apart;
- partial-download and editor names (.crdownload, .part, .tmp, ~$…) are ignored until renamed;
- a flood of events collapses into one rescan;
- nothing here polls: the worker sleeps on a condition until the next due time.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .links import is_link
from .mover import FileState

Hint = str  # 'created' | 'modified' | 'closed' | 'moved_in' | 'recheck'
# After a close or a move-in the file is complete: act at once, with just enough delay that files
# closed in the same instant (a multi-file paste) are sorted in one round and one undo batch.
SETTLE = 0.03
# Files found in a folder that has just appeared: their first writes may predate the folder's
# watch, so "no event for a quiet period" proves little. Waiting this long lets a writer that pauses
# between chunks show itself through the (now active) watch before the file is taken as complete.
NEW_FOLDER_QUIET = 3.0


@dataclass
class _Entry:
    first: float
    last: float
    writing: bool = False
    complete: bool = False
    last_state: FileState | None = None  # for stability checks where there is no close event
    quiet: float | None = None  # this entry's own quiet period, where it needs a longer one


class Debouncer:
    """Per-path quiet period + maximum delay. Not thread-safe: the caller holds its lock."""

    def __init__(self, quiet: float, max_delay: float, close_events: bool, writing_timeout: float = 30.0,
                 flood_limit: int = 20_000) -> None:
        self.quiet = quiet
        self.max_delay = max_delay
        self.close_events = close_events
        self.writing_timeout = writing_timeout
        self.flood_limit = flood_limit
        self._entries: dict[Path, _Entry] = {}
        self.flooded = False

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: Path) -> bool:
        return path in self._entries

    def hint(self, path: Path, kind: Hint, now: float, state: FileState | None = None, quiet: float | None = None) -> None:
        if self.flooded and kind != "recheck":
            return
        entry = self._entries.get(path)
        if entry is None:
            # Our own rechecks never count as a flood: they are how a rescan makes progress.
            if kind != "recheck" and len(self._entries) >= self.flood_limit:
                self._entries.clear()
                self.flooded = True  # the worker rescans instead of tracking every path
                return
            entry = self._entries[path] = _Entry(first=now, last=now)
        entry.last = now
        if kind == "modified":
            entry.writing, entry.complete = True, False
        elif kind in ("closed", "moved_in"):
            entry.writing, entry.complete = False, True
        elif kind == "recheck":
            entry.first = now  # a new round of waiting, with the state seen now
            entry.last_state = state
        if quiet is not None:
            entry.quiet = max(quiet, entry.quiet or 0.0)

    def due_at(self, entry: _Entry) -> float:
        quiet = entry.quiet or self.quiet
        if self.close_events:
            if entry.complete:
                return entry.last + SETTLE
            if entry.writing:
                # Open for writing: wait for its close; the timeout covers a missed close event.
                return entry.last + self.writing_timeout
        return min(entry.last + quiet, entry.first + max(self.max_delay, quiet))

    def next_due(self) -> float | None:
        return min((self.due_at(e) for e in self._entries.values()), default=None)

    def pop_due(self, now: float) -> list[tuple[Path, FileState | None]]:
        due = [(p, e) for p, e in self._entries.items() if self.due_at(e) <= now]
        for path, _ in due:
            del self._entries[path]
        due.sort(key=lambda pe: pe[1].first)
        return [(p, e.last_state) for p, e in due]

    def forget(self, path: Path) -> None:
        self._entries.pop(path, None)

    def take_flood(self) -> bool:
        flooded, self.flooded = self.flooded, False
        return flooded


class EventSink(Protocol):
    """What the watcher reports to; the service implements it."""

    def hint(self, path: Path, kind: Hint) -> None: ...
    def deleted(self, path: Path, is_dir: bool) -> None: ...
    def moved(self, src: Path, dest: Path, is_dir: bool) -> None: ...
    def folder_appeared(self, path: Path) -> None: ...


def monotonic() -> float:
    return time.monotonic()


def tree_entries(path: Path, skip_hidden: bool = False) -> list[Path]:
    """Every entry a file operation may concern under ``path``, links included but never followed.

    A symbolic link (to a file or to a folder) is one entry of its own; a linked folder is not
    entered, so a folder link renamed into the inbox never brings its target's files along.
    ``pathlib.rglob`` plus ``is_file()`` follows links, which moved a linked folder's files out.
    """
    if not os.path.lexists(path):
        return []
    if is_link(path) or not os.path.isdir(path):
        return [path]
    out: list[Path] = []
    for folder, dirs, files in os.walk(path, followlinks=False):
        if skip_hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        links = [d for d in dirs if is_link(os.path.join(folder, d))]  # symlinks and junctions alike
        dirs[:] = [d for d in dirs if d not in links]
        out.extend(Path(folder) / name for name in (*files, *links))
    return out
