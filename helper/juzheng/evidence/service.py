"""The evidence folder as one service: watcher, sorter, index, uploads, trash, undo, status.

``EvidenceService(root, store, rulebook_provider, bus)`` is what the helper's runtime, the server's
upload and trash routes, the tray menu and ``juzheng sort``/``juzheng undo`` call. What the watcher
reports is done by one worker thread (:mod:`.inbox_worker`); uploads and trash run on the caller's
thread. Every move in any process holds the sorter lock for that one file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from ..errors import Conflict, Invalid, NotFound
from ..events import CASE_CHANGED, EVIDENCE_CHANGED, RULES_CHANGED, EventBus
from ..paths import INBOX
from ..rules import Rulebook
from ..store import Case, Event, EvidenceRecord, PendingFile, SqliteStore, utcnow
from .images import ImageChecker, ImageWarning
from .inbox_worker import IndexProgress, InboxWorker, inbox_files
from .indexer import Indexer, payload
from .layout import Layout, rel, safe_name
from .mover import UPLOAD_SRC, FileState, Mover, new_batch, sha256_bytes, sha256_file
from .osfacts import HAS_CLOSE_EVENTS, SorterLock
from . import order_move, undo_journal
from .order_move import OrderMove
from .recovery import recover
from .sorter import SortItem, Sorter
from .reader_status import ReaderStatus

if TYPE_CHECKING:  # imported when images are read or the root watched: juzheng sort runs without either
    from ..reader.service import ReaderService
    from .observer import RootWatcher

log = logging.getLogger(__name__)
LOCK_NAME = "evidence.lock"


class EvidenceStatus(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    running: bool
    paused: bool
    root: str
    indexing: IndexProgress | None
    waiting: int  # files seen in the inbox, waiting for their writer to finish
    pending: list[PendingFile]  # files that cannot be placed, with what the seller can do
    last_rescan_at: datetime | None
    reader: ReaderStatus | None = None  # reading unnamed images (or why not); None when images are not read


class UndoItem(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    move_id: int
    from_path: str  # where the file was (absolute)
    to_path: str | None  # where it is now (absolute); None when it could not be put back
    status: Literal["undone", "missing", "failed"]
    detail: str | None = None


class EvidenceError(Invalid):
    """Bad input from a caller (unknown kind, empty upload…): the message says what to fix (zh-CN)."""


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
        self.reader: ReaderService | None = _reader(store) if (watch if read_images is None else read_images) else None
        if self.reader is not None:
            self.sorter.reader = self.reader
            self.reader.on_read = self.recheck
            self.reader.bus = bus
        self.worker = InboxWorker(
            self, quiet=self.quiet, max_delay=max_delay, close_events=self.close_events,
            rescan_interval=rescan_interval, writing_timeout=writing_timeout,
        )
        self._watcher: RootWatcher | None = None
        self._unsubscribe: Callable[[], None] | None = None
        store.on_writable(self.rescan)  # files that waited while the state dir was full or read-only

    # == lifecycle ====================================================================================
    def start(self) -> None:
        """Recover unfinished moves, then watch; the first index and inbox sort run on the worker."""
        if self.worker.thread.started:
            return
        self._ensure_folders()
        self._recover()
        if self.watch:
            from .observer import RootWatcher  # here: watchdog is not imported by what never watches (juzheng sort)

            self._watcher = RootWatcher(self.root, self.worker)
            self._watcher.start()
        self._unsubscribe = self.bus.subscribe(self._on_event)
        self.worker.start()  # the first index and inbox sort run on it
        if self.reader is not None:
            self.reader.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self.worker.stop(timeout)
        if self.reader is not None:
            self.reader.stop()

    def pause(self) -> None:
        """Stop sorting the inbox (the tray's 暂停整理); the index still follows hand changes."""
        self.worker.pause()

    def resume(self) -> None:
        self.worker.resume()

    def rescan(self) -> None:
        """Walk the tree and sort the whole inbox again, now (not at the next periodic rescan)."""
        self.worker.rescan()

    def retry_pending(self) -> None:
        """Classify the waiting inbox files again (call after the focus or the cases changed)."""
        self.worker.retry_pending()

    def recheck(self, path: Path) -> None:
        """Sort this one inbox file again shortly (its reading came in); a no-op once it is gone."""
        try:
            state = FileState.of(path)
        except OSError:
            return
        self.worker.recheck(path, state)

    def status(self) -> EvidenceStatus:
        worker = self.worker
        return EvidenceStatus(
            running=worker.thread.alive,
            paused=worker.paused,
            root=str(self.root),
            indexing=worker.indexing,
            waiting=worker.waiting(),
            pending=self.store.list_pending(),
            last_rescan_at=worker.last_rescan_at,
            reader=self.reader.status() if self.reader is not None else None,
        )

    # == one-shot sorting (juzheng sort) =============================================================
    def sort_once(
        self, dry_run: bool = False, progress: Callable[[int, int | None], None] | None = None, *, defer_hashes: bool = False,
    ) -> list[SortItem]:
        """Sort the whole inbox once, without the watcher. ``dry_run``: plan only, touch nothing.

        ``defer_hashes`` (``juzheng sort``): files that cannot be duplicates are moved without reading
        their bytes (see :attr:`Sorter.hash_moves`)."""
        self._ensure_folders(create=not dry_run)
        rulebook = self.rulebook_provider()
        if not dry_run:
            self._recover()
            self.indexer.reconcile(Layout(self.root, rulebook), progress)
        ctx = self.sorter.context(rulebook)
        batch = new_batch("sort")
        self.sorter.hash_moves = not defer_hashes
        items = []
        try:
            if dry_run:
                items = [self.sorter.plan(path, ctx).item for path in inbox_files(self.root)]
            else:
                items = self.sorter.sort_many(inbox_files(self.root), ctx, batch)
        finally:
            self.sorter.hash_moves = True
        return items

    # == uploads, trash, undo ==========================================================================
    def import_upload(self, case: Case, kind: str | None, filename: str, data: bytes, how: str = "uploaded") -> EvidenceRecord:
        """Write uploaded bytes into ``<root>/<platform>/<order>/<kind>/`` (never overwriting), record, publish.

        The same bytes uploaded again for the same order and kind return the existing record.
        Raises :class:`EvidenceError` (invalid input) with a zh-CN message that says what to fix.
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
        Raises ``NotFound`` if there is no such evidence, ``Conflict`` if the file could not be moved.
        """
        record = self.store.get_evidence(evidence_id)
        if record is None:
            raise NotFound(f"没有编号为 {evidence_id} 的证据")
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
                    result = self.mover.move(src, dest_dir, parts[-1], batch=new_batch("trash"), expect=state, sha256=sha)
                    if result.status != "moved" or result.dest is None:
                        raise Conflict(f"无法移到回收站：{result.detail or result.status}")
                    new_path = rel(self.root, result.dest)
            self.store.remove_evidence(evidence_id)
        self.bus.publish(EVIDENCE_CHANGED, payload(record, "removed"))
        return record.model_copy(update={"path": new_path})

    def move_order(self, old_platform: str, new_platform: str, order_id: str) -> OrderMove:
        """The order's folder follows its case to the other marketplace (see :mod:`.order_move`)."""
        return order_move.move_order(self, old_platform, new_platform, order_id)

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
        result = self.mover.move(here, target_dir, target_name, batch=batch, expect=state, sha256=sha, done_state="undone")
        if result.status != "moved" or result.dest is None:
            return UndoItem(move_id=move.id, from_path=move.dest, to_path=None, status="failed", detail=result.detail)
        self.store.finish_move(move.id, "undone")
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

    def _on_event(self, event: Event) -> None:
        if event.type in (CASE_CHANGED, RULES_CHANGED):
            self.retry_pending()  # a new case or new rules may place a waiting file


def _reader(store: SqliteStore) -> ReaderService:
    from ..reader.service import ReaderService

    return ReaderService(store, Path(store.path).parent / "reader")
