"""One inbox file: plan where it goes (pure classification + the index), then move it.

Shared by the watcher (one file at a time), ``sort_once`` and ``juzheng sort`` (the whole inbox).
Planning reads only; executing journals, moves, records and publishes, under the sorter lock.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from ..events import EVIDENCE_CHANGED, PENDING_CHANGED, EventBus
from ..paths import INBOX
from ..rules import Rulebook
from ..store import EvidenceRecord, SqliteStore, StoredEvidence, utcnow
from ..focus import load_focus
from .arrival import arrival
from .duplicates import note_duplicate
from .classify import REASON_EMPTY, Focus, KnownCase, Placement, Unplaced, classify
from .indexer import Indexer
from .layout import Layout, numbered, rel, safe_name
from .mover import MAX_NUMBER, FileState, FileTooLarge, MoveResult, Mover, PlannedMove, sha256_file
from .osfacts import SorterLock

if TYPE_CHECKING:  # the OCR side is imported only when images are read (never by juzheng sort)
    from ..reader.service import ReaderService

log = logging.getLogger(__name__)

REASON_HELD = "已撤销整理，放回了收件箱，不会再自动整理：改个文件名即可重新整理"
REASON_LINK = "这是一个快捷方式（符号链接），不会跟着它去整理别处的文件：请把文件本身放进收件箱"
REASON_SPECIAL = "这不是普通文件（可能是管道或设备），不会整理：请把真正的文件放进收件箱"
REASON_TOO_LARGE = "文件太大，无法校验内容，没有整理：请确认是不是放错了文件"

# Moves journaled together by ``sort_many``: the sorter lock is held for one batch at a time (the
# helper's own moves wait at most that long), and a batch's four transactions are shared by this
# many files.
BATCH = 100

Action = Literal["move", "duplicate", "pending", "held", "skip"]
Status = Literal["planned", "done", "changed", "vanished", "busy", "stuck", "pending", "held", "skipped"]


class SortItem(BaseModel):
    """One line of a sort plan, and after execution what happened."""

    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    src: str  # relative to the root, '/' separated
    action: Action
    dest: str | None = None
    platform: str | None = None
    order_id: str | None = None
    kind: str | None = None
    reason: str | None = None  # zh-CN, for pending/held/skip/duplicate, or a note on the kind
    status: Status = "planned"
    evidence_id: int | None = None


@dataclass
class SortContext:
    """Everything classification needs, read once per round."""

    rulebook: Rulebook
    layout: Layout
    known: list[KnownCase]
    focus: Focus | None
    now: datetime
    pending: dict[str, str]
    pending_since: dict[str, datetime] = field(default_factory=dict)
    held: set[tuple[str, int, int]] = field(default_factory=set)
    # The seller named the case for these files (an accepted inbox offer): the focus placement is
    # theirs, not a guess, so it is not held back until the image has been read.
    seller_chose: bool = False


@dataclass
class _Planned:
    item: SortItem
    state: FileState | None = None
    sha256: str | None = None
    placement: Placement | None = None
    twin: str | None = None  # duplicate: the order's file with the same bytes


class Sorter:
    def __init__(self, root: Path, store: SqliteStore, bus: EventBus, mover: Mover, indexer: Indexer, lock: SorterLock) -> None:
        self.root = Path(root)
        self.store = store
        self.bus = bus
        self.mover = mover
        self.indexer = indexer
        self.lock = lock
        # False (``juzheng sort``): a file that cannot be a duplicate is moved without reading its
        # bytes and indexed unhashed, as the first index does; the duplicate check hashes it once
        # when a file of the same size arrives in its order. The helper hashes once after the link
        # (the reader keys what it reads by the hash).
        self.hash_moves = True
        self.reader: ReaderService | None = None  # when images are read

    # -- context --------------------------------------------------------------------------------
    def context(self, rulebook: Rulebook, now: datetime | None = None) -> SortContext:
        now = now or utcnow()
        known = [KnownCase(*key) for key in self.store.case_keys()]
        pending = self.store.list_pending()
        return SortContext(
            rulebook=rulebook, layout=Layout(self.root, rulebook), known=known, focus=self._focus(),
            now=now, pending={p.path: p.reason for p in pending}, pending_since={p.path: p.seen_at for p in pending},
            held=read_held(self.store),
        )

    def _focus(self) -> Focus | None:
        state = load_focus(self.store)
        if state is None:
            return None
        case = self.store.get_case(state.case_id)
        if case is None or state.ended_at is not None:  # the case's tab was closed
            return None
        at, since = (t if t.tzinfo else t.astimezone() for t in (state.at, state.since))  # naive: this machine's clock
        return Focus(KnownCase(case.platform, case.order_id, case.scenario), at, since)

    # -- planning (read only) ---------------------------------------------------------------------
    def plan(self, path: Path, ctx: SortContext, *, hash_files: bool = True) -> _Planned:
        relpath = rel(self.root, path)
        try:
            st = os.lstat(path)
        except OSError:
            return _Planned(SortItem(src=relpath, action="skip", reason="文件已不在", status="skipped"))
        # Never through a link (a linked folder renamed into the inbox would move its target's
        # files), never a FIFO or a device (opening one blocks or never ends).
        if stat.S_ISLNK(st.st_mode):
            return _Planned(SortItem(src=relpath, action="pending", reason=REASON_LINK))
        if not stat.S_ISREG(st.st_mode):
            return _Planned(SortItem(src=relpath, action="pending", reason=REASON_SPECIAL))
        state = FileState(st.st_size, st.st_mtime_ns)
        if (str(path), state.size, state.mtime_ns) in ctx.held:
            return _Planned(SortItem(src=relpath, action="held", reason=REASON_HELD), state)
        if state.size == 0:
            return _Planned(SortItem(src=relpath, action="pending", reason=REASON_EMPTY), state)
        inside_inbox = relpath[len(INBOX) + 1:]
        # The arrival only matters against a case in focus (a datetime per file otherwise).
        arrived = arrival(path, relpath, ctx.pending_since, st) if ctx.focus is not None else None
        result = classify(inside_inbox, ctx.rulebook, ctx.known, ctx.focus, ctx.now, arrived_at=arrived)
        if self.reader is not None and not ctx.seller_chose:  # an image its name cannot place is placed by what it reads
            result = self.reader.consider(path, inside_inbox, state.size, state.mtime_ns, result, ctx.rulebook)
        if isinstance(result, Unplaced):
            return _Planned(SortItem(src=relpath, action="pending", reason=result.reason), state)
        dest_dir = ctx.layout.kind_dir(result.platform, result.order_id, result.kind)
        # The values are the placement's and our own paths: nothing to validate (one per file).
        item = SortItem.model_construct(
            src=relpath, action="move", dest=rel(self.root, dest_dir / safe_name(path.name)),
            platform=result.platform, order_id=result.order_id, kind=result.kind, reason=result.note,
        )
        planned = _Planned(item, state, placement=result)
        if hash_files:
            self._hash_and_check(path, planned, ctx)
        return planned

    def find_duplicate(self, platform: str, order_id: str, sha256: str, size: int) -> EvidenceRecord | None:
        """A record of this order whose file has exactly these bytes (by hash, not size and mtime).

        Records indexed without a hash (first index, hand moves, ``juzheng sort``) are hashed here
        when their file has this size (only then can it hold these bytes), once: the hash is stored.
        """
        key = (platform, order_id)
        for record in self.store.evidence_for_order(platform, order_id):
            if record.path and record.sha256 is None:
                try:
                    same_size = os.stat(self.root / record.path).st_size == size
                except OSError:
                    continue
                if same_size:
                    self._verified_sha(record)
        for record in self.store.evidence_by_sha(sha256):
            if (record.platform, record.order_id) != key or record.path is None or record.size != size:
                continue
            if self._verified_sha(record) == sha256:
                return record
        return None

    def _verified_sha(self, record: StoredEvidence) -> str | None:
        """The record's hash, recomputed (and stored) when its file changed since it was recorded."""
        path = self.root / (record.path or "")
        try:
            state = FileState.of(path)
        except OSError:
            return None
        if record.sha256 is not None and (state.size, state.mtime_ns) == (record.size, record.mtime_ns):
            return record.sha256
        try:
            digest = sha256_file(path)
        except OSError:
            return None
        self.store.update_evidence(record.id, sha256=digest, size=state.size, mtime_ns=state.mtime_ns)
        return digest

    # -- executing ----------------------------------------------------------------------------------
    def sort_file(self, path: Path, ctx: SortContext, batch: str) -> SortItem:
        return self.sort_planned(path, self.plan(path, ctx, hash_files=False), ctx, batch)

    def sort_planned(self, path: Path, planned: _Planned, ctx: SortContext, batch: str) -> SortItem:
        if planned.item.action == "move":
            with self.lock:
                # The duplicate check, once, under the lock (another process may have filed a twin
                # just now). Identical bytes have identical sizes: only a file whose size matches a
                # filed file of its order (or one of unknown size) is hashed before the move; the
                # rest cannot be duplicates and are hashed once, by the mover, after the link.
                assert planned.state is not None and planned.item.platform and planned.item.order_id
                if self.store.order_has_size(planned.item.platform, planned.item.order_id, planned.state.size):
                    if not self._hash_and_check(path, planned, ctx):
                        return self._settle_pending(planned.item, ctx)
                return self._execute(path, planned, ctx, batch)
        return self._settle_pending(planned.item, ctx)

    def sort_many(self, paths: list[Path], ctx: SortContext, batch: str, per_batch: int | None = None) -> list[SortItem]:
        """:meth:`sort_file` of each path, in order, the moves done in batches of ``per_batch``
        journaled together (:meth:`Mover.move_many`): two transactions per batch for the journal and
        one each for the records and the events, instead of four per file.

        A file whose order already holds one of its size (it may be a duplicate, see ``sort_file``),
        or which could be the twin of one earlier in the same batch, ends the batch and is sorted on
        its own, so the duplicate check always sees every file moved before it."""
        per_batch = per_batch or BATCH
        items: list[SortItem | None] = [None] * len(paths)
        waiting: list[tuple[int, Path, _Planned, Path]] = []
        claimed: set[tuple[str, str, int]] = set()  # (platform, order, size) of the batch's moves
        names: set[Path] = set()  # destinations the batch has chosen

        def flush() -> None:
            if waiting:
                for i, item in self._execute_many(waiting, ctx, batch):
                    items[i] = item
                waiting.clear()
                claimed.clear()
                names.clear()

        for i, path in enumerate(paths):
            planned = self.plan(path, ctx, hash_files=False)
            item = planned.item
            if item.action != "move":
                items[i] = self._settle_pending(item, ctx)
                continue
            assert planned.state is not None and item.platform and item.order_id and item.dest is not None
            key = (item.platform, item.order_id, planned.state.size)
            if key in claimed:
                flush()
            dest = self._free_name(self.root / item.dest, names)
            if dest is None:  # every numbered name taken: the one-file path says so
                flush()
                items[i] = self.sort_planned(path, planned, ctx, batch)
                continue
            names.add(dest)
            claimed.add(key)
            waiting.append((i, path, planned, dest))
            if len(waiting) >= per_batch:
                flush()
        flush()
        return [item for item in items if item is not None]

    @staticmethod
    def _free_name(dest: Path, chosen: set[Path]) -> Path | None:
        """The first of ``dest``, ``dest (2)``… no other move of the batch has chosen. Not looked up
        on disk (a failed lookup per file, for a name almost always free): a name already taken
        fails its link, and that file is moved on its own, which numbers past what is there."""
        for n in range(1, MAX_NUMBER):
            candidate = dest if n == 1 else dest.with_name(numbered(dest.name, n))  # the name itself: no new path
            if candidate not in chosen:
                return candidate
        return None

    def _execute_many(self, waiting: list[tuple[int, Path, _Planned, Path]], ctx: SortContext, batch: str) -> list[tuple[int, SortItem]]:
        out: list[tuple[int, SortItem]] = []
        with self.lock:
            # Under the lock from the duplicate check to the records: another process's duplicate
            # check, and recovery, see the batch either not begun or complete. A file whose order
            # holds one of its size by now (another process filed it) may be a twin: it is sorted
            # on its own, after the batch (none of the batch can be its twin: their sizes differ).
            keys = [(p.item.platform or "", p.item.order_id or "", p.state.size) for _, _, p, _ in waiting]  # type: ignore[union-attr]
            sized = self.store.orders_having_sizes(keys)  # one query, not one per file
            twins = {w[0] for w, key in zip(waiting, keys, strict=True) if key in sized}
            alone = [w for w in waiting if w[0] in twins]
            batched = [w for w in waiting if w[0] not in twins]
            moves = [PlannedMove(path, dest, planned.state) for _, path, planned, dest in batched]  # type: ignore[arg-type]
            results = self.mover.move_many(moves, batch=batch, hash_after=self.hash_moves) if moves else []
            placed: list[tuple[int, Path, _Planned, MoveResult]] = []
            for (i, path, planned, dest), result in zip(batched, results, strict=True):
                item = planned.item
                if result is None:  # the name was taken meanwhile: the one-file path picks the next
                    out.append((i, self._execute(path, planned, ctx, batch)))
                elif isinstance(result, OSError):
                    log.warning("cannot place %s: %s", path, result)
                    folder = rel(self.root, dest.parent)
                    item.action, item.reason = "pending", refused_reason(result, folder)
                    out.append((i, self._settle_pending(item, ctx)))
                elif result.status != "moved":
                    item.status, item.reason = result.status, result.detail
                    out.append((i, item))
                else:
                    placed.append((i, path, planned, result))
            # The mover checked each new name against the planned size and mtime (a copy is given them).
            changes = self.indexer.index_sorted(ctx.layout, [
                (r.dest, r.sha256, (p.state.size, p.state.mtime_ns) if p.state else None) for _, _, p, r in placed  # type: ignore[misc]
            ])
            for i, path, planned, _dest in alone:
                out.append((i, self.sort_planned(path, planned, ctx, batch)))
        for (i, _path, planned, result), change in zip(placed, changes, strict=True):
            item = planned.item
            assert result.dest is not None
            planned.sha256 = result.sha256
            item.dest, item.status = rel(self.root, result.dest), "done"
            if change is not None:
                item.evidence_id = change.record.id
            if self.reader is not None and planned.placement is not None and planned.sha256 is not None:
                self.reader.placed(planned.sha256, planned.placement.platform, planned.placement.order_id, planned.placement.kind, result.dest)
            self._clear_pending(item.src, ctx)
            out.append((i, item))
        return out

    def _hash_and_check(self, path: Path, planned: _Planned, ctx: SortContext) -> bool:
        """Hash the file and mark it a duplicate when its order holds the same bytes; False: it stays."""
        item = planned.item
        assert planned.state is not None
        try:
            planned.sha256 = sha256_file(path)
        except FileTooLarge:
            item.action, item.dest, item.reason = "pending", None, REASON_TOO_LARGE
            return False
        except OSError:
            item.action, item.status, item.reason = "skip", "skipped", "文件暂时无法读取（可能正被占用），稍后再试"
            return False
        twin = self.find_duplicate(item.platform or "", item.order_id or "", planned.sha256, planned.state.size)
        if twin is not None:
            planned.twin = twin.path
            item.action = "duplicate"
            item.dest = rel(self.root, ctx.layout.duplicates / safe_name(path.name))
            item.reason = f"该订单中已有完全相同的文件：{twin.path}"
        return True

    def _execute(self, path: Path, planned: _Planned, ctx: SortContext, batch: str) -> SortItem:
        item = planned.item
        assert planned.state is not None and item.dest is not None
        dest = self.root / item.dest
        try:
            result = self.mover.move(path, dest.parent, dest.name, batch=batch, expect=planned.state, sha256=planned.sha256,
                                     hash_after=self.hash_moves)
        except OSError as exc:
            # The destination refused the file (disk full, no permission, read-only). The mover drops
            # a source only after a verified copy, so the file is still in the inbox: say why, and
            # let it wait there; the next rescan or case change tries again.
            log.warning("cannot place %s: %s", path, exc)
            item.action, item.reason = "pending", refused_reason(exc, rel(self.root, dest.parent))
            return self._settle_pending(item, ctx)
        if result.status != "moved":
            item.status = result.status
            item.reason = result.detail
            return item
        assert result.dest is not None
        planned.sha256 = result.sha256
        item.dest = rel(self.root, result.dest)
        item.status = "done"
        if item.action == "move":
            change = self.indexer.index_file(ctx.layout, result.dest, how="sorted", sha256=planned.sha256)
            if change is not None:
                item.evidence_id = change.record.id
            if self.reader is not None and planned.placement is not None and planned.sha256 is not None:
                self.reader.placed(planned.sha256, planned.placement.platform, planned.placement.order_id, planned.placement.kind, result.dest)
        elif planned.twin is not None:
            note_duplicate(self.store, item.platform or "", item.order_id or "", item.dest, planned.twin)
            self.bus.publish(EVIDENCE_CHANGED, {"platform": item.platform, "order_id": item.order_id, "kind": item.kind,
                                                "path": item.dest, "same_as": planned.twin, "action": "duplicate"})
        self._clear_pending(item.src, ctx)
        return item

    def _settle_pending(self, item: SortItem, ctx: SortContext) -> SortItem:
        if item.action in ("pending", "held"):
            item.status = item.action  # type: ignore[assignment]
            if ctx.pending.get(item.src) != item.reason and item.reason:
                self.store.set_pending(item.src, item.reason)
                ctx.pending[item.src] = item.reason
                self.bus.publish(PENDING_CHANGED, {"path": item.src, "reason": item.reason})
        return item

    def _clear_pending(self, relpath: str, ctx: SortContext | None = None) -> None:
        pending = ctx.pending if ctx is not None else {p.path: p.reason for p in self.store.list_pending()}
        if relpath in pending:
            self.store.clear_pending(relpath)
            pending.pop(relpath, None)
            self.bus.publish(PENDING_CHANGED, {"path": relpath, "reason": None})

    def forget_pending(self, relpath: str) -> None:
        """An inbox file left the inbox (moved or deleted by hand): it is no longer waiting."""
        self._clear_pending(relpath)


def refused_reason(exc: OSError, folder: str) -> str:
    """What the seller can do when the destination refuses a file (zh-CN, for the pending list)."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"磁盘空间不足，无法放入 {folder}：请清理磁盘空间；文件仍在收件箱中，之后会自动重试"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"没有写入 {folder} 的权限（或该文件夹只读）：请检查该文件夹的权限；文件仍在收件箱中，之后会自动重试"
    return f"无法放入 {folder}（{exc.strerror or exc}）：文件仍在收件箱中，之后会自动重试"


# -- files put back by undo: the sorter leaves them alone until they change ------------------------
def read_held(store: SqliteStore) -> set[tuple[str, int, int]]:
    return store.held_files()


def hold(store: SqliteStore, path: Path) -> None:
    held = {h for h in read_held(store) if _still_there(h)}
    state = FileState.of(path)
    held.add((str(path), state.size, state.mtime_ns))
    store.set_held_files(held)


def unhold(store: SqliteStore, path: Path) -> None:
    """The file (or a folder holding it) left the inbox by hand: a later return is sorted again."""
    held = read_held(store)
    keep = {h for h in held if h[0] != str(path) and not h[0].startswith(str(path) + os.sep)}
    if keep != held:
        store.set_held_files(keep)


def _still_there(entry: tuple[str, int, int]) -> bool:
    try:
        st = os.stat(entry[0])
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns) == (entry[1], entry[2])
