"""The evidence service's worker thread: what the watcher reports, turned into file work.

The watcher (on watchdog's thread) calls the sink methods ``hint``/``deleted``/``moved``/
``folder_appeared``; they only queue. One worker thread then does every file operation: the
debounced inbox sort (a file counts as complete once written or quiet), index updates for hand
changes in order folders, the periodic rescan and the retry of waiting files when cases change.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from ..paths import INBOX
from ..store import StateUnavailable, utcnow
from ..worker_thread import WorkerThread
from .assign import resort_renamed
from .layout import Layout, is_ignored_name, rel
from .mover import FileState, new_batch
from .sorter import SortContext, unhold
from .watcher import NEW_FOLDER_QUIET, Debouncer, Hint, monotonic, tree_entries

if TYPE_CHECKING:
    from .service import EvidenceService

log = logging.getLogger(__name__)
T = TypeVar("T")

# Moves journaled together when the watcher finds several files complete at once (a phone export,
# a folder dropped in): small, since the helper hashes each file inside the sorter lock.
WATCH_BATCH = 20


class IndexProgress(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    done: int
    total: int | None  # None while still counting files


@dataclass
class _Op:
    kind: Literal["deleted", "moved", "folder", "pending"]
    src: Path
    dest: Path | None = None
    is_dir: bool = False


def inbox_files(root: Path) -> list[Path]:
    # Part by part (as Paths compare on POSIX; the order only has to be stable), by a key made once
    # per file: sorting the Paths themselves was 55,000 Path comparisons for 5,000 files.
    return sorted((p for p in tree_entries(root / INBOX, skip_hidden=True) if not is_ignored_name(p.name)), key=_PARTS)


_PARTS = attrgetter("parts")


class InboxWorker:
    def __init__(
        self,
        service: EvidenceService,
        *,
        quiet: float,
        max_delay: float,
        close_events: bool,
        rescan_interval: float,
        writing_timeout: float,
    ) -> None:
        self.service = service
        self.root = service.root
        self.quiet = quiet
        self.close_events = close_events
        self.rescan_interval = rescan_interval
        self.cond = threading.Condition()
        self.debouncer = Debouncer(quiet, max_delay, close_events, writing_timeout=writing_timeout)
        self.thread = WorkerThread("juzheng-evidence", self.cond)
        self._ops: list[_Op] = []
        self._gone: dict[Path, float] = {}  # deleted paths, forgotten once their quiet period is over
        self._rescan_requested = False
        self._retry_pending = False
        self._next_rescan = 0.0
        self.paused = False
        self.indexing: IndexProgress | None = None
        self.last_rescan_at: datetime | None = None

    # -- what the service asks ----------------------------------------------------------------------
    def start(self) -> None:
        self._rescan_requested = True  # index the tree and sort what is already in the inbox
        self.thread.start(self._run)

    def stop(self, timeout: float) -> None:
        self.thread.stop(timeout)

    def pause(self) -> None:
        with self.cond:
            self.paused = True

    def resume(self) -> None:
        with self.cond:
            self.paused = False
            self._rescan_requested = True  # what arrived meanwhile
            self.cond.notify_all()

    def rescan(self) -> None:
        with self.cond:
            self._rescan_requested = True
            self.cond.notify_all()

    def retry_pending(self) -> None:
        with self.cond:
            self._retry_pending = True
            self.cond.notify_all()

    def recheck(self, path: Path, state: FileState) -> None:
        with self.cond:
            self.debouncer.hint(path, "recheck", monotonic(), state, quiet=0.05)
            self.cond.notify_all()

    def waiting(self) -> int:
        with self.cond:
            return len(self.debouncer)

    # -- watcher sink (watchdog thread) ---------------------------------------------------------------
    def hint(self, path: Path, kind: Hint) -> None:
        if self.service.mover.echoes.consume(path, kind):
            return
        with self.cond:
            self.debouncer.hint(path, kind, monotonic())
            self.cond.notify_all()

    def deleted(self, path: Path, is_dir: bool) -> None:
        if self.service.mover.echoes.consume(path, "deleted"):
            return
        with self.cond:
            self.debouncer.forget(path)
            # Acted on after a quiet period: a delete may be the first half of a move inotify
            # could not pair, whose file shows up elsewhere meanwhile and keeps its record.
            self._gone[path] = monotonic() + self.quiet
            self.cond.notify_all()

    def moved(self, src: Path, dest: Path, is_dir: bool) -> None:
        with self.cond:
            self.debouncer.forget(src)
            self._ops.append(_Op("moved", src, dest, is_dir=is_dir))
            self.cond.notify_all()

    def folder_appeared(self, path: Path) -> None:
        with self.cond:
            self._ops.append(_Op("folder", path, is_dir=True))
            self.cond.notify_all()

    # -- the loop -------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.thread.stopping:
                    now = monotonic()
                    if self._ops or self._rescan_requested or self._retry_pending or self.debouncer.flooded:
                        break
                    if now >= self._next_rescan and self._next_rescan:
                        self._rescan_requested = True
                        break
                    due = min((t for t in (self.debouncer.next_due(), min(self._gone.values(), default=None)) if t is not None), default=None)
                    if due is not None and due <= now:
                        break
                    wake = [t for t in (due, self._next_rescan or None) if t is not None]
                    # Sleeps until an event or the next due time: no polling while idle.
                    self.cond.wait(max(0.0, min(wake) - now) if wake else None)
                if self.thread.stopping:
                    return
                ops, self._ops = self._ops, []
                rescan = self._rescan_requested or self.debouncer.take_flood()
                self._rescan_requested = False
                retry, self._retry_pending = self._retry_pending, False
                now = monotonic()
                due_paths = self.debouncer.pop_due(now)
                gone = [p for p, t in self._gone.items() if t <= now]
                for path in gone:
                    del self._gone[path]
                ops = [*ops, *(_Op("deleted", p) for p in gone)]
                paused = self.paused
            try:
                self._work(ops, due_paths, rescan, retry, paused)
            except Exception:  # the worker must survive anything a file throws at it
                log.exception("evidence worker round failed")
                with self.cond:
                    self._next_rescan = monotonic() + min(self.rescan_interval, 30.0)

    def _work(self, ops: list[_Op], due_paths: list[tuple[Path, FileState | None]], rescan: bool, retry: bool, paused: bool) -> None:
        svc = self.service
        rulebook = svc.rulebook_provider()
        layout = Layout(self.root, rulebook)
        for op in ops:
            _guarded(self._apply_op, op, layout)
        if rescan:
            svc.mover.echoes.clear()
            self._rescan(layout)
            with self.cond:
                self._next_rescan = monotonic() + self.rescan_interval
        batch = new_batch("sort")
        ready: list[Path] = []
        for path, previous in due_paths:
            if self._in_inbox(path):
                if not paused and _guarded(self._complete, path, previous):
                    ready.append(path)
            else:
                _guarded(self._index_one, layout, path)
        if ready:
            self._sort_ready(ready, svc.sorter.context(rulebook), batch)
        if (retry or rescan) and not paused:
            targets = inbox_files(self.root) if rescan else [self.root / p.path for p in svc.store.list_pending()]
            found: list[Path] = []
            for path in targets:
                with self.cond:
                    tracked = path in self.debouncer
                if not tracked and os.path.lexists(path) and _guarded(self._complete, path, None, from_scan=True):
                    found.append(path)
            # Every case change asks for a retry: with nothing waiting, the context (all cases) is never loaded.
            if found:
                self._sort_ready(found, svc.sorter.context(rulebook), batch)

    def _sort_ready(self, paths: list[Path], ctx: SortContext, batch: str) -> None:
        """The files found complete in this round, moved in journaled batches (:meth:`Sorter.sort_many`)
        as ``juzheng sort`` does: a phone export of 200 photos is 2 batches' transactions, not 800.

        Batches are small (:data:`WATCH_BATCH`): the helper hashes each file after its link, inside the
        sorter lock, and an upload waits for the lock; the first file's "done" waits for its batch. A
        batch that fails (an error none of the files' own checks catch) is retried file by file, so
        one bad file cannot hold back the others."""
        sorter = self.service.sorter
        try:
            sorter.sort_many(paths, ctx, batch, per_batch=WATCH_BATCH)
        except StateUnavailable as exc:  # each file would meet the same refusal: retried when it is over
            log.warning("evidence: %d files wait, the state directory refuses writes (%s)", len(paths), exc.code)
        except Exception:
            log.exception("evidence: sorting %d files together failed, sorting them one by one", len(paths))
            for path in paths:
                if os.path.lexists(path):
                    _guarded(sorter.sort_file, path, ctx, batch)

    def _in_inbox(self, path: Path) -> bool:
        try:
            return path.relative_to(self.root).parts[:1] == (INBOX,)
        except ValueError:
            return False

    def _index_one(self, layout: Layout, path: Path) -> None:
        with self.service.lock:
            self.service.indexer.index_file(layout, path)

    def _complete(self, path: Path, previous: FileState | None, from_scan: bool = False) -> bool:
        """Whether the file is complete and may be sorted now; if not, it is checked again later."""
        try:
            state = FileState.of(path)
        except OSError:
            return False
        if from_scan and previous is None and time.time() - state.mtime_ns / 1e9 >= self.quiet:
            previous = state  # found by a scan and untouched for a quiet period: complete
        if previous is not None or not self.close_events or from_scan:
            # No close event (or found by a scan): complete once size and mtime held still for a
            # quiet period — checked twice, a quiet period apart.
            if previous != state:
                with self.cond:
                    self.debouncer.hint(path, "recheck", monotonic(), state)
                    self.cond.notify_all()
                return False
        return True

    def _apply_op(self, op: _Op, layout: Layout) -> None:
        svc = self.service
        with svc.lock:
            if op.kind == "deleted":
                if os.path.lexists(op.src):
                    return  # back again (an editor's save: delete, then write): its hints handle it
                try:
                    relpath = rel(self.root, op.src)
                except ValueError:
                    return
                svc.indexer.forget(relpath)
                if relpath.startswith(INBOX + "/"):
                    self._forget_pending_under(relpath)
                    unhold(svc.store, op.src)
            elif op.kind == "moved" and op.dest is not None:
                try:
                    src_rel = rel(self.root, op.src)
                except ValueError:
                    src_rel = None
                svc.indexer.moved(layout, op.src, op.dest)
                if src_rel and src_rel.startswith(INBOX + "/"):
                    self._forget_pending_under(src_rel)
                    unhold(svc.store, op.src)
                self._hint_tree(op.dest, "moved_in", layout)
                if not op.is_dir:
                    resort_renamed(svc, layout, op.dest)  # renamed in 待分类 to a name that says its kind
            elif op.kind == "folder":
                # A new folder may be mkdir + files still being written (a phone export, an unzip):
                # its files count as complete only once size and mtime hold still, as after a scan.
                self._hint_tree(op.src, "recheck", layout, quiet=NEW_FOLDER_QUIET)

    def _forget_pending_under(self, relpath: str) -> None:
        for pending in self.service.store.list_pending():
            if pending.path == relpath or pending.path.startswith(relpath + "/"):
                self.service.sorter.forget_pending(pending.path)

    def _hint_tree(self, path: Path, kind: Hint, layout: Layout, quiet: float | None = None) -> None:
        """A file or folder appeared by a move: index it (order folders) or queue it (inbox)."""
        files = tree_entries(path)  # links are entries of their own, never followed
        now = monotonic()  # one arrival: its files fall due together and are moved in one batch
        for file in files:
            if is_ignored_name(file.name):
                continue
            if self._in_inbox(file):
                try:
                    state = FileState.of(file) if kind == "recheck" else None
                except OSError:
                    continue
                with self.cond:
                    self.debouncer.hint(file, kind, now, state, quiet=quiet)
            else:
                self.service.indexer.index_file(layout, file)

    def _rescan(self, layout: Layout) -> None:
        def progress(done: int, total: int | None) -> None:
            self.indexing = IndexProgress(done=done, total=total)

        # Not under the sorter lock: a 100k-file walk takes seconds and uploads must not wait.
        # Safe without it: rows are inserted with INSERT OR IGNORE and a record is only dropped
        # when its file is missing from the walk and still missing from the store's view.
        try:
            self.service.indexer.reconcile(layout, progress)
        finally:
            self.indexing = None
            self.last_rescan_at = utcnow()


def _guarded(fn: Callable[..., T], *args, **kwargs) -> T | None:
    # One file that cannot be handled (permissions, a path outside the root) must not stop the
    # others in the same round; the rescan backstop tries it again later.
    try:
        return fn(*args, **kwargs)
    except StateUnavailable as exc:
        # Said once by the store, shown in the API, tray and status; retried when it is over.
        log.warning("evidence: %s waits, the state directory refuses writes (%s)", getattr(fn, "__name__", fn), exc.code)
    except Exception:
        log.exception("evidence: %s failed for %r", getattr(fn, "__name__", fn), args[:1])
    return None
