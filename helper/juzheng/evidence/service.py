"""The evidence folder as one service: watcher, sorter, index, uploads, trash, undo, status.

``EvidenceService(root, store, rulebook_provider, bus)`` is what the helper's runtime, the server's
upload and trash routes, the tray menu and ``juzheng sort``/``juzheng undo`` call. One worker thread
does every file operation the watcher asks for; uploads and trash run on the caller's thread. Every
move in any process holds the sorter lock for that one file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, Literal

from pydantic import BaseModel

from ..events import CASE_CHANGED, EVIDENCE_CHANGED, RULES_CHANGED, EventBus
from ..paths import INBOX
from ..rules import Rulebook
from ..store import Case, Event, EvidenceRecord, PendingFile, SqliteStore, StateUnavailable, utcnow
from .assign import resort_renamed
from .images import ImageChecker, ImageWarning
from .indexer import Indexer, payload
from .layout import Layout, is_ignored_name, rel, safe_name
from .mover import UPLOAD_SRC, FileState, Mover, new_batch, sha256_bytes, sha256_file
from .osfacts import HAS_CLOSE_EVENTS, SorterLock
from . import undo_journal
from .recovery import recover
from .sorter import SortContext, SortItem, Sorter, unhold
from .watcher import NEW_FOLDER_QUIET, Debouncer, Hint, RootWatcher, monotonic, tree_entries

log = logging.getLogger(__name__)
LOCK_NAME = "evidence.lock"


class IndexProgress(BaseModel):
    done: int
    total: int | None  # None while still counting files


class EvidenceStatus(BaseModel):
    running: bool
    paused: bool
    root: str
    indexing: IndexProgress | None
    waiting: int  # files seen in the inbox, waiting for their writer to finish
    pending: list[PendingFile]  # files that cannot be placed, with what the seller can do
    last_rescan_at: datetime | None
    reader: Any = None  # juzheng.reader.service.ReaderStatus: reading unnamed images (or why not)


class UndoItem(BaseModel):
    move_id: int
    from_path: str  # where the file was (absolute)
    to_path: str | None  # where it is now (absolute); None when it could not be put back
    status: Literal["undone", "missing", "failed"]
    detail: str | None = None


class EvidenceError(ValueError):
    """Bad input from a caller (unknown kind, empty upload…): the message says what to fix (zh-CN)."""


@dataclass
class _Op:
    kind: Literal["deleted", "moved", "folder", "pending"]
    src: Path
    dest: Path | None = None
    is_dir: bool = False


class EvidenceService:
    def __init__(
        self,
        root: Path,
        store: SqliteStore,
        rulebook_provider: Callable[[], Rulebook],
        bus: EventBus,
        *,
        watch: bool = True,
        quiet: float | None = None,
        max_delay: float = 10.0,
        rescan_interval: float = 900.0,
        close_events: bool | None = None,
        use_links: bool = True,
        lock_path: Path | None = None,
        writing_timeout: float = 30.0,
        read_images: bool | None = None,
    ) -> None:
        self.root = Path(root).resolve()  # watchdog reports real paths (macOS: /private/var/…)
        self.store = store
        self.rulebook_provider = rulebook_provider
        self.bus = bus
        self.watch = watch
        self.close_events = HAS_CLOSE_EVENTS if close_events is None else close_events
        # Where a close event says "written", a short quiet period suffices; elsewhere it is the
        # time a file must stay unchanged before it counts as complete.
        self.quiet = quiet if quiet is not None else (0.5 if self.close_events else 2.0)
        self.rescan_interval = rescan_interval
        self.lock = SorterLock(lock_path or Path(store.path).parent / LOCK_NAME)
        self.mover = Mover(store, use_links=use_links)
        self.indexer = Indexer(store, bus)
        self.sorter = Sorter(self.root, store, bus, self.mover, self.indexer, self.lock)
        self.images = ImageChecker(self.root, store)
        self.reader = _reader(store) if (watch if read_images is None else read_images) else None
        if self.reader is not None:
            self.sorter.reader = self.reader
            self.reader.on_read = self.recheck
            self.reader.bus = bus
        self._cond = threading.Condition()
        self._debouncer = Debouncer(self.quiet, max_delay, self.close_events, writing_timeout=writing_timeout)
        self._ops: list[_Op] = []
        self._gone: dict[Path, float] = {}  # deleted paths, forgotten once their quiet period is over
        self._rescan_requested = False
        self._retry_pending = False
        self._next_rescan = 0.0
        self._stopping = False
        self._paused = False
        self._thread: threading.Thread | None = None
        self._watcher: RootWatcher | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._indexing: IndexProgress | None = None
        self._last_rescan_at: datetime | None = None
        store.on_writable(self.rescan)  # files that waited while the state dir was full or read-only

    # == lifecycle ====================================================================================
    def start(self) -> None:
        """Recover unfinished moves, then watch; the first index and inbox sort run on the worker."""
        if self._thread is not None:
            return
        self._ensure_folders()
        self._recover()
        self._stopping = False
        self._rescan_requested = True  # index the tree and sort what is already in the inbox
        if self.watch:
            self._watcher = RootWatcher(self.root, self)
            self._watcher.start()
        self._unsubscribe = self.bus.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="juzheng-evidence", daemon=True)
        self._thread.start()
        if self.reader is not None:
            self.reader.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.reader is not None:
            self.reader.stop()

    def pause(self) -> None:
        """Stop sorting the inbox (the tray's 暂停整理); the index still follows hand changes."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._rescan_requested = True  # what arrived meanwhile
            self._cond.notify_all()

    def rescan(self) -> None:
        """Walk the tree and sort the whole inbox again, now (not at the next periodic rescan)."""
        with self._cond:
            self._rescan_requested = True
            self._cond.notify_all()

    def retry_pending(self) -> None:
        """Classify the waiting inbox files again (call after the focus or the cases changed)."""
        with self._cond:
            self._retry_pending = True
            self._cond.notify_all()

    def recheck(self, path: Path) -> None:
        """Sort this one inbox file again shortly (its reading came in); a no-op once it is gone."""
        try:
            state = FileState.of(path)
        except OSError:
            return
        with self._cond:
            self._debouncer.hint(path, "recheck", monotonic(), state, quiet=0.05)
            self._cond.notify_all()

    def status(self) -> EvidenceStatus:
        with self._cond:
            waiting = len(self._debouncer)
        return EvidenceStatus(
            running=self._thread is not None and self._thread.is_alive(),
            paused=self._paused,
            root=str(self.root),
            indexing=self._indexing,
            waiting=waiting,
            pending=self.store.list_pending(),
            last_rescan_at=self._last_rescan_at,
            reader=self.reader.status() if self.reader is not None else None,
        )

    # == one-shot sorting (juzheng sort) =============================================================
    def sort_once(self, dry_run: bool = False, progress: Callable[[int, int | None], None] | None = None) -> list[SortItem]:
        """Sort the whole inbox once, without the watcher. ``dry_run``: plan only, touch nothing."""
        self._ensure_folders(create=not dry_run)
        rulebook = self.rulebook_provider()
        if not dry_run:
            self._recover()
            self.indexer.reconcile(Layout(self.root, rulebook), progress)
        ctx = self.sorter.context(rulebook)
        batch = new_batch("sort")
        items = []
        for path in self._inbox_files():
            if dry_run:
                planned = self.sorter.plan(path, ctx)
                items.append(planned.item)
            else:
                items.append(self.sorter.sort_file(path, ctx, batch))
        return items

    # == uploads, trash, undo ==========================================================================
    def import_upload(self, case: Case, kind: str | None, filename: str, data: bytes, how: str = "uploaded") -> EvidenceRecord:
        """Write uploaded bytes into ``<root>/<platform>/<order>/<kind>/`` (never overwriting), record, publish.

        The same bytes uploaded again for the same order and kind return the existing record.
        Raises :class:`EvidenceError` (a ``ValueError``) with a zh-CN message for bad input.
        """
        rulebook = self.rulebook_provider()
        if not data:
            raise EvidenceError("上传的文件是空的（0 字节）：请重新选择文件")
        if case.platform not in rulebook.platforms:
            raise EvidenceError(f"未知的平台 {case.platform!r}")
        if kind is not None:
            found = rulebook.kinds.get(kind)
            if found is None:
                raise EvidenceError(f"未知的证据类型 {kind!r}")
            if found.form != "file":
                raise EvidenceError(f"{found.label}是文字类凭证，不能上传文件")
        if how not in ("uploaded", "sorted", "hand", "converted"):
            raise EvidenceError(f"未知的来源 {how!r}")
        name = safe_name(PurePath(filename.replace("\\", "/")).name or "上传文件")
        layout = Layout(self.root, rulebook)
        sha = sha256_bytes(data)
        with self.lock:
            for known in self.store.evidence_for_order(case.platform, case.order_id):
                if known.kind == kind and known.sha256 == sha and known.path and (self.root / known.path).is_file():
                    return known
            dest_dir = layout.kind_dir(case.platform, case.order_id, kind)
            result = self.mover.write_new(data, dest_dir, name, batch=new_batch("upload"))
            assert result.dest is not None
            self.sorter.own_paths.add(str(result.dest))
            st = os.stat(result.dest)
            record = EvidenceRecord(
                platform=case.platform, order_id=case.order_id, kind=kind, path=rel(self.root, result.dest),
                sha256=sha, size=st.st_size, mtime_ns=st.st_mtime_ns, how=how, added_at=utcnow(),  # type: ignore[arg-type]
            )
            stale = self.store.evidence_by_path(record.path or "")
            if stale is not None:  # a record of a file that is no longer there
                self.store.remove_evidence(stale.id)
            record = self.store.add_evidence(record)
        self.bus.publish(EVIDENCE_CHANGED, payload(record, "added"), case.id)
        return record

    def trash(self, evidence_id: int) -> EvidenceRecord:
        """Move the file to ``<root>/.回收站/`` (keeping its folders), drop its record, publish.

        Never deletes. Returns the removed record with ``path`` set to where the file now is.
        Raises :class:`EvidenceError` if there is no such evidence.
        """
        record = self.store.get_evidence(evidence_id)
        if record is None:
            raise EvidenceError(f"没有编号为 {evidence_id} 的证据")
        layout = Layout(self.root, self.rulebook_provider())
        new_path = None
        with self.lock:
            if record.path:
                src = self.root / record.path
                try:
                    state = FileState.of(src)
                    sha = sha256_file(src)
                except FileNotFoundError:
                    state = None  # already gone by hand: only the record remains to drop
                if state is not None:
                    parts = record.path.split("/")
                    dest_dir = layout.trash.joinpath(*parts[:-1])
                    self.sorter.own_paths.add(str(src))
                    result = self.mover.move(src, dest_dir, parts[-1], batch=new_batch("trash"), expect=state, sha256=sha)
                    if result.status != "moved" or result.dest is None:
                        raise EvidenceError(f"无法移到回收站：{result.detail or result.status}")
                    new_path = rel(self.root, result.dest)
            self.store.remove_evidence(evidence_id)
        self.bus.publish(EVIDENCE_CHANGED, payload(record, "removed"))
        return record.model_copy(update={"path": new_path})

    def undo(self, last_n: int = 1) -> list[UndoItem]:
        """Put the files of the last ``last_n`` batches (sorts, uploads, trash) back where they came from.

        Files put back into the inbox are held there (not sorted again) until renamed or changed.
        An upload has no origin on disk: undoing it moves the file to .回收站.
        """
        if last_n < 1:
            raise EvidenceError("撤销的批次数必须至少为 1")
        rulebook = self.rulebook_provider()
        layout = Layout(self.root, rulebook)
        results: list[UndoItem] = []
        batch = new_batch("undo")
        for moves in self.store.last_batches(last_n):
            for move in moves:
                with self.lock:
                    undo_journal.begin(self.store, move.id, batch)
                    results.append(self._undo_one(move, layout, batch))
                    undo_journal.end(self.store, move.id)
        return results

    def _undo_one(self, move, layout: Layout, batch: str) -> UndoItem:
        here = Path(move.dest)
        try:
            state = FileState.of(here)
            sha = sha256_file(here)
        except FileNotFoundError:
            self.store.finish_move(move.id, "undone", "撤销时文件已不在")
            return UndoItem(move_id=move.id, from_path=move.dest, to_path=None, status="missing", detail="文件已不在原处")
        if move.src == UPLOAD_SRC:
            back = layout.trash.joinpath(*PurePath(os.path.relpath(here, self.root)).parts[:-1])
            target_dir, target_name = back, here.name
        else:
            target_dir, target_name = Path(move.src).parent, Path(move.src).name
        self.sorter.own_paths.update({str(here)})
        result = self.mover.move(here, target_dir, target_name, batch=batch, expect=state, sha256=sha, done_state="undone")
        if result.status != "moved" or result.dest is None:
            return UndoItem(move_id=move.id, from_path=move.dest, to_path=None, status="failed", detail=result.detail)
        self.store.finish_move(move.id, "undone")
        self.sorter.own_paths.add(str(result.dest))
        self._after_hand_move(layout, here, result.dest)
        undo_journal.mark_back_in_inbox(self.store, self.bus, self.root, result.dest)
        return UndoItem(move_id=move.id, from_path=move.dest, to_path=str(result.dest), status="undone")

    def _after_hand_move(self, layout: Layout, old: Path, new: Path) -> None:
        """Index bookkeeping when a file moved from ``old`` to ``new`` (undo, hand moves)."""
        try:
            old_rel = rel(self.root, old)
        except ValueError:
            old_rel = None
        if old_rel:
            self.indexer.forget(old_rel)
            if old_rel.startswith(INBOX + "/"):
                self.sorter.forget_pending(old_rel)
        try:
            rel(self.root, new)
        except ValueError:
            return
        if new.is_file():
            self.indexer.index_file(layout, new, how="sorted")

    # == image warnings ===============================================================================
    def warnings(self, evidence_id: int) -> list[ImageWarning]:
        """Never-blocking checks of an image (too small, blurred, duplicate); [] for other files."""
        record = self.store.get_evidence(evidence_id)
        return self.images.check(record) if record is not None else []

    # == internals ====================================================================================
    def _ensure_folders(self, create: bool = True) -> None:
        if create:
            (self.root / INBOX).mkdir(parents=True, exist_ok=True)

    def _recover(self) -> None:
        layout = Layout(self.root, self.rulebook_provider())
        with self.lock:
            for done in recover(self.store):
                if done.outcome == "done" and done.move.src != UPLOAD_SRC:
                    self._after_hand_move(layout, Path(done.move.src), Path(done.move.dest))
                elif done.outcome == "done":
                    self._after_hand_move(layout, Path(done.move.dest), Path(done.move.dest))
                if done.outcome != "rolled_back" or done.detail:
                    log.info("recovered move %s: %s %s", done.move.id, done.outcome, done.detail)
            undo_journal.complete(self.store, self.bus, self.root)

    def _inbox_files(self) -> list[Path]:
        return sorted(p for p in tree_entries(self.root / INBOX, skip_hidden=True) if not is_ignored_name(p.name))

    def _in_inbox(self, path: Path) -> bool:
        try:
            return path.relative_to(self.root).parts[:1] == (INBOX,)
        except ValueError:
            return False

    def _on_event(self, event: Event) -> None:
        if event.type in (CASE_CHANGED, RULES_CHANGED):
            self.retry_pending()  # a new case or new rules may place a waiting file

    # -- watcher sink (watchdog thread) ---------------------------------------------------------------
    def hint(self, path: Path, kind: Hint) -> None:
        if self._is_own(path, kind):
            return
        with self._cond:
            self._debouncer.hint(path, kind, monotonic())
            self._cond.notify_all()

    def deleted(self, path: Path, is_dir: bool) -> None:
        if self._is_own(path, "deleted"):
            return
        with self._cond:
            self._debouncer.forget(path)
            # Acted on after a quiet period: a delete may be the first half of a move inotify
            # could not pair, whose file shows up elsewhere meanwhile and keeps its record.
            self._gone[path] = monotonic() + self.quiet
            self._cond.notify_all()

    def moved(self, src: Path, dest: Path, is_dir: bool) -> None:
        with self._cond:
            self._debouncer.forget(src)
            self._ops.append(_Op("moved", src, dest, is_dir=is_dir))
            self._cond.notify_all()

    def folder_appeared(self, path: Path) -> None:
        with self._cond:
            self._ops.append(_Op("folder", path, is_dir=True))
            self._cond.notify_all()

    def _is_own(self, path: Path, kind: str) -> bool:
        # Our link creates dest and our unlink deletes src: those echoes need no work. Anything
        # else on those paths (a later edit) still counts; own_paths is only consulted once.
        key = str(path)
        if key in self.sorter.own_paths and kind in ("created", "deleted"):
            self.sorter.own_paths.discard(key)
            return True
        return False

    # -- worker ---------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    now = monotonic()
                    if self._ops or self._rescan_requested or self._retry_pending or self._debouncer.flooded:
                        break
                    if now >= self._next_rescan and self._next_rescan:
                        self._rescan_requested = True
                        break
                    due = min((t for t in (self._debouncer.next_due(), min(self._gone.values(), default=None)) if t is not None), default=None)
                    if due is not None and due <= now:
                        break
                    wake = [t for t in (due, self._next_rescan or None) if t is not None]
                    # Sleeps until an event or the next due time: no polling while idle.
                    self._cond.wait(max(0.0, min(wake) - now) if wake else None)
                if self._stopping:
                    return
                ops, self._ops = self._ops, []
                rescan = self._rescan_requested or self._debouncer.take_flood()
                self._rescan_requested = False
                retry, self._retry_pending = self._retry_pending, False
                now = monotonic()
                due_paths = self._debouncer.pop_due(now)
                gone = [p for p, t in self._gone.items() if t <= now]
                for path in gone:
                    del self._gone[path]
                ops = [*ops, *(_Op("deleted", p) for p in gone)]
                paused = self._paused
            try:
                self._work(ops, due_paths, rescan, retry, paused)
            except Exception:  # the worker must survive anything a file throws at it
                log.exception("evidence worker round failed")
                with self._cond:
                    self._next_rescan = monotonic() + min(self.rescan_interval, 30.0)

    def _work(self, ops: list[_Op], due_paths: list[tuple[Path, FileState | None]], rescan: bool, retry: bool, paused: bool) -> None:
        rulebook = self.rulebook_provider()
        layout = Layout(self.root, rulebook)
        for op in ops:
            self._guarded(self._apply_op, op, layout)
        if rescan:
            self.sorter.own_paths.clear()  # echoes that never came must not hide a later real event
            self._rescan(layout)
            with self._cond:
                self._next_rescan = monotonic() + self.rescan_interval
        ctx: SortContext | None = None
        batch = new_batch("sort")
        for path, previous in due_paths:
            if self._in_inbox(path):
                if paused:
                    continue
                ctx = ctx or self.sorter.context(rulebook)
                self._guarded(self._sort_when_complete, path, previous, ctx, batch)
            else:
                self._guarded(self._index_one, layout, path)
        if (retry or rescan) and not paused:
            targets = self._inbox_files() if rescan else [self.root / p.path for p in self.store.list_pending()]
            # Every case change asks for a retry: with nothing waiting, the context (all cases) is never loaded.
            retry_ctx = self.sorter.context(rulebook) if targets else None
            for path in targets:
                with self._cond:
                    tracked = path in self._debouncer
                if retry_ctx is not None and not tracked and os.path.lexists(path):
                    self._guarded(self._sort_when_complete, path, None, retry_ctx, batch, from_scan=True)

    def _index_one(self, layout: Layout, path: Path) -> None:
        with self.lock:
            self.indexer.index_file(layout, path)

    @staticmethod
    def _guarded(fn: Callable, *args, **kwargs) -> None:
        # One file that cannot be handled (permissions, a path outside the root) must not stop the
        # others in the same round; the rescan backstop tries it again later.
        try:
            fn(*args, **kwargs)
        except StateUnavailable as exc:
            # Said once by the store, shown in the API, tray and status; retried when it is over.
            log.warning("evidence: %s waits, the state directory refuses writes (%s)", getattr(fn, "__name__", fn), exc.code)
        except Exception:
            log.exception("evidence: %s failed for %r", getattr(fn, "__name__", fn), args[:1])

    def _sort_when_complete(self, path: Path, previous: FileState | None, ctx: SortContext, batch: str, from_scan: bool = False) -> None:
        try:
            state = FileState.of(path)
        except OSError:
            return
        if from_scan and previous is None and time.time() - state.mtime_ns / 1e9 >= self.quiet:
            previous = state  # found by a scan and untouched for a quiet period: complete
        if previous is not None or not self.close_events or from_scan:
            # No close event (or found by a scan): complete once size and mtime held still for a
            # quiet period — checked twice, a quiet period apart.
            if previous != state:
                with self._cond:
                    self._debouncer.hint(path, "recheck", monotonic(), state)
                    self._cond.notify_all()
                return
        self.sorter.sort_file(path, ctx, batch)

    def _apply_op(self, op: _Op, layout: Layout) -> None:
        with self.lock:
            if op.kind == "deleted":
                if os.path.lexists(op.src):
                    return  # back again (an editor's save: delete, then write): its hints handle it
                try:
                    relpath = rel(self.root, op.src)
                except ValueError:
                    return
                self.indexer.forget(relpath)
                if relpath.startswith(INBOX + "/"):
                    self._forget_pending_under(relpath)
                    unhold(self.store, op.src)
            elif op.kind == "moved" and op.dest is not None:
                try:
                    src_rel = rel(self.root, op.src)
                except ValueError:
                    src_rel = None
                self.indexer.moved(layout, op.src, op.dest)
                if src_rel and src_rel.startswith(INBOX + "/"):
                    self._forget_pending_under(src_rel)
                    unhold(self.store, op.src)
                self._hint_tree(op.dest, "moved_in", layout)
                if not op.is_dir:
                    resort_renamed(self, layout, op.dest)  # renamed in 待分类 to a name that says its kind
            elif op.kind == "folder":
                # A new folder may be mkdir + files still being written (a phone export, an unzip):
                # its files count as complete only once size and mtime hold still, as after a scan.
                self._hint_tree(op.src, "recheck", layout, quiet=NEW_FOLDER_QUIET)

    def _forget_pending_under(self, relpath: str) -> None:
        for pending in self.store.list_pending():
            if pending.path == relpath or pending.path.startswith(relpath + "/"):
                self.sorter.forget_pending(pending.path)

    def _hint_tree(self, path: Path, kind: Hint, layout: Layout, quiet: float | None = None) -> None:
        """A file or folder appeared by a move: index it (order folders) or queue it (inbox)."""
        files = tree_entries(path)  # links are entries of their own, never followed
        for file in files:
            if is_ignored_name(file.name):
                continue
            if self._in_inbox(file):
                try:
                    state = FileState.of(file) if kind == "recheck" else None
                except OSError:
                    continue
                with self._cond:
                    self._debouncer.hint(file, kind, monotonic(), state, quiet=quiet)
            else:
                self.indexer.index_file(layout, file)

    def _rescan(self, layout: Layout) -> None:
        def progress(done: int, total: int | None) -> None:
            self._indexing = IndexProgress(done=done, total=total)

        # Not under the sorter lock: a 100k-file walk takes seconds and uploads must not wait.
        # Safe without it: rows are inserted with INSERT OR IGNORE and a record is only dropped
        # when its file is missing from the walk and still missing from the store's view.
        try:
            self.indexer.reconcile(layout, progress)
        finally:
            self._indexing = None
            self._last_rescan_at = utcnow()


def _reader(store: SqliteStore) -> Any:
    from ..reader.service import ReaderService

    return ReaderService(store, Path(store.path).parent / "reader")
