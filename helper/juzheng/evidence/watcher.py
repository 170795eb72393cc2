"""watchdog glue: filesystem events become hints, debounced per path.

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
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from .layout import is_ignored_name
from .links import is_link
from .mover import FileState

WATCHED_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileMovedEvent, FileDeletedEvent,
    DirCreatedEvent, DirMovedEvent, DirDeletedEvent,
]

# watchdog 7 warns when a folder is re-added to its inotify watch table (folders created and moved
# quickly); it replaces the entry itself, so the warning says nothing we can act on.
warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning, module="watchdog")

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


class _Handler(FileSystemEventHandler):
    def __init__(self, sink: EventSink) -> None:
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            self._dispatch(event)
        except Exception:  # a bad event must never kill the observer thread
            import logging

            logging.getLogger(__name__).exception("watch event failed: %r", event)

    def _dispatch(self, event: FileSystemEvent) -> None:
        src = Path(_text(event.src_path))
        if isinstance(event, (FileMovedEvent, DirMovedEvent)):
            dest = Path(_text(event.dest_path))
            self.sink.moved(src, dest, event.is_directory)
            return
        if isinstance(event, (FileDeletedEvent, DirDeletedEvent)):
            self.sink.deleted(src, event.is_directory)
            return
        if isinstance(event, DirCreatedEvent):
            self.sink.folder_appeared(src)  # a folder dropped in whole: its files bring no events
            return
        if event.is_directory or is_ignored_name(src.name):
            return
        if isinstance(event, FileClosedEvent):
            self.sink.hint(src, "closed")
        elif isinstance(event, FileCreatedEvent):
            self.sink.hint(src, "created")
        elif isinstance(event, FileModifiedEvent):
            self.sink.hint(src, "modified")
        # FileOpenedEvent / FileClosedNoWriteEvent: a reader, nothing changed


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


class RootWatcher:
    """One recursive watchdog observer on the evidence root."""

    def __init__(self, root: Path, sink: EventSink) -> None:
        self.root = Path(root)
        self._observer = Observer()
        self._observer.daemon = True
        # Only the events acted on: the default mask also asks for open and close-without-write,
        # four events per folder whenever anything reads the tree (our own index, a backup tool).
        # Past ~4,000 folders that overflows the kernel queue, and watchdog's recovery re-walks the
        # whole tree, which overflows it again: a core spun at 100 % for good.
        self._observer.schedule(_Handler(sink), str(self.root), recursive=True, event_filter=WATCHED_EVENTS)
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self._observer.start()
            self._started = True

    def stop(self) -> None:
        with self._lock:
            if self._started:
                self._observer.stop()
                self._observer.join(timeout=5)
                self._started = False


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
