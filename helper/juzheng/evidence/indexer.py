"""The index of sorted files: what is in the order folders, kept in step with the disk.

- The first start on an existing tree (100k files) walks it once and inserts in bulk, reporting
  progress; files are not hashed then (hashing 100k photos would take hours) — a hash is computed
  when it is first needed (duplicate check, image warnings).
- A file the seller moves by hand into a kind folder is indexed as that kind (``how='hand'``);
  renames and deletions by hand update or remove its record.
- A later rescan (backstop for missed events) touches only paths whose size or mtime changed, and
  reads a file that vanished from one place and appeared in another with the same name, size and
  mtime as a move, so its record keeps its id.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from datetime import datetime
from pathlib import Path

from ..events import EVIDENCE_CHANGED, EventBus
from ..gc_pause import gc_paused
from ..paths import INBOX
from ..store import EvidenceRecord, SqliteStore, StoredEvidence, utcnow
from ..store.records import SortedFile
from .layout import Layout, Location, is_ignored_name, rel
from .links import forget_links, is_link, is_link_entry, is_link_stat, link_paths, record_link

Progress = Callable[[int, int | None], None]  # (done, total or None while counting)
BULK = 10_000  # rows per transaction of a bulk insert: ~4 ms of commit and checkpoint each
PER_FILE_EVENTS = 200  # above this many changes in one reconcile, one event per order instead
_ORDER_OF_ROW = itemgetter(0, 1)  # (platform, order_id) of a bulk row
_NAME = attrgetter("name")


@dataclass
class Change:
    action: str  # added | moved | removed | renamed
    record: EvidenceRecord


@dataclass
class ReconcileReport:
    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    inbox: list[Path] = field(default_factory=list)


class _Changes:
    """The changes of one reconcile, to publish at its end: each one while there are at most
    ``PER_FILE_EVENTS``, past that only a count per (platform, order, action), folded as they come
    (a first index of 100k files must not hold 100k change objects until its end)."""

    def __init__(self) -> None:
        self.each: list[Change] = []
        self.grouped: dict[tuple[str, str, str], int] | None = None
        self.count = 0

    def per_file(self, more: int) -> bool:
        """Whether ``more`` changes would still be published one by one."""
        return self.count + more <= PER_FILE_EVENTS

    def add(self, action: str, record: EvidenceRecord) -> None:
        self.count += 1
        if self.grouped is None and self.count <= PER_FILE_EVENTS:
            self.each.append(Change(action, record))
            return
        self._fold()
        self._count(record.platform, record.order_id, action)

    def add_group(self, action: str, platform: str, order_id: str, count: int) -> None:
        """``count`` changes of one order at once, counted from now on (callers check per_file first)."""
        self.count += count
        self._fold()
        self._count(platform, order_id, action, count)

    def _fold(self) -> None:
        if self.grouped is None:
            self.grouped = {}
            for change in self.each:
                self._count(change.record.platform, change.record.order_id, change.action)
            self.each = []

    def _count(self, platform: str, order_id: str, action: str, count: int = 1) -> None:
        assert self.grouped is not None
        key = (platform, order_id, action)
        self.grouped[key] = self.grouped.get(key, 0) + count


def walk_files(root: Path, links: list[tuple[str, str]] | None = None) -> Iterator[tuple[str, str, os.stat_result]]:
    """(root-relative '/' path, absolute path, stat) of every regular file under ``root``.

    Hidden folders (.重复, .回收站) and ignored names are skipped. Strings, not Path objects: a
    100k-file tree is walked in a fraction of the time pathlib would take. Links (symlinks, Windows
    junctions and other reparse points) are never followed nor yielded; given ``links``, their
    (relative, absolute) paths are appended to it.
    """
    for prefix, entries in walk_folders(root, links):
        for entry in entries:
            try:
                yield prefix + entry.name, entry.path, entry.stat(follow_symlinks=False)
            except OSError:
                continue


def walk_folders(root: Path, links: list[tuple[str, str]] | None = None) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """(root-relative '/' prefix of a folder, its plain file entries) of every folder under ``root``:
    what :func:`walk_files` yields, a folder at a time and not yet stat'ed (a folder's place tells
    whether its files are indexed at all; on Windows a DirEntry's stat is free, elsewhere it is
    one lstat each)."""
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            # In name order, folders too (pushed in reverse): paths then come out nearly sorted,
            # and a bulk insert into the unique path index appends instead of splitting pages
            # all over it (100k files: 0.14 s less).
            entries = sorted(os.scandir(folder), key=_NAME)
        except OSError:
            continue  # removed meanwhile or unreadable: the next rescan sees it again
        files = []
        folders = []
        for entry in entries:
            try:
                if is_link_entry(entry):  # before is_dir: a junction passes is_dir(follow_symlinks=False)
                    if links is not None and not is_ignored_name(entry.name):
                        links.append((prefix + entry.name, entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("."):
                        folders.append((entry.path, prefix + entry.name + "/"))
                elif entry.is_file(follow_symlinks=False) and not is_ignored_name(entry.name):
                    files.append(entry)
            except OSError:
                continue
        stack.extend(reversed(folders))
        yield prefix, files


class Indexer:
    def __init__(self, store: SqliteStore, bus: EventBus | None) -> None:
        self.store = store
        self.bus = bus

    # -- single paths (watcher events) ------------------------------------------------------------
    def index_file(self, layout: Layout, path: Path, how: str = "hand", sha256: str | None = None) -> Change | None:
        """Add or refresh the record of one file in an order folder; None when nothing changed."""
        try:
            relpath = rel(layout.root, path)
        except ValueError:
            return None  # not under the root (a link's target, another volume's alias)
        loc = layout.locate(relpath)
        if loc.area != "order" or is_ignored_name(path.name):
            return None
        assert loc.platform is not None and loc.order_id is not None  # an order folder names both
        try:
            st = os.lstat(path)
        except OSError:
            self._forget_links(relpath)
            return self.forget(relpath)[0] if self.store.evidence_by_path(relpath) else None
        if is_link_stat(st, path.name):
            # A link is never evidence (see links.py): recorded as a link, so the case view says
            # it was not read; an evidence record at this path (a file replaced by a link) goes.
            removed = self.forget(relpath)[0] if self.store.evidence_by_path(relpath) else None
            if record_link(self.store, relpath, loc):
                self._publish_link(loc.platform, loc.order_id, "link_added", relpath)
            return removed
        self._forget_links(relpath)  # a link replaced by the file itself
        if not stat.S_ISREG(st.st_mode):
            # A FIFO or device is never evidence: opening it blocks (a FIFO) or never ends.
            return self.forget(relpath)[0] if self.store.evidence_by_path(relpath) else None
        existing = self.store.evidence_by_path(relpath)
        if existing is not None:
            same_place = (existing.platform, existing.order_id, existing.kind) == (loc.platform, loc.order_id, loc.kind)
            same_bytes = (existing.size, existing.mtime_ns) == (st.st_size, st.st_mtime_ns)
            if same_place and same_bytes:
                return None
            fields: dict = {"platform": loc.platform, "order_id": loc.order_id, "kind": loc.kind}
            if not same_bytes:
                fields.update(size=st.st_size, mtime_ns=st.st_mtime_ns, sha256=sha256)
            self.store.update_evidence(existing.id, **fields)
            record = existing.model_copy(update=fields)
            # New bytes under the same name count as evidence added again (the checklist re-checks it).
            return self._publish(Change("moved" if not same_place else "added", record))
        orphan = self._orphan(layout, loc, path.name, st) if how != "sorted" else None
        if orphan is not None:
            # The same file left its old place moments ago (a move whose two halves inotify could
            # not pair, e.g. into a folder created just before): keep its record and id.
            fields = {"path": relpath, "platform": loc.platform, "order_id": loc.order_id, "kind": loc.kind}
            self.store.update_evidence(orphan.id, **fields)
            same_folder = (orphan.path or "").rsplit("/", 1)[0] == relpath.rsplit("/", 1)[0]
            return self._publish(Change("renamed" if same_folder else "moved", orphan.model_copy(update=fields)))
        new = EvidenceRecord(
            platform=loc.platform, order_id=loc.order_id, kind=loc.kind, path=relpath, sha256=sha256,
            size=st.st_size, mtime_ns=st.st_mtime_ns, how=how, added_at=utcnow(),  # type: ignore[arg-type]
        )
        record = self.store.add_evidence(new)
        return self._publish(Change("added", record))

    def index_sorted(self, layout: Layout, placed: list[tuple[Path, str | None, tuple[int, int] | None]]) -> list[Change | None]:
        """:meth:`index_file` (``how='sorted'``) of files the sorter has just moved in, (path, sha256,
        (size, mtime_ns) or None) each: their records inserted in one transaction and their events
        published in one.

        The size and mtime are the mover's, checked on the new name just now (None: stat it here).
        Their names were free a moment ago, so almost always nothing is recorded at them; a path that
        is (a stale record, a link row) or that is not a plain file by now takes :meth:`index_file`."""
        out: list[Change | None] = [None] * len(placed)
        fresh: list[tuple[int, SortedFile]] = []
        any_links = self.store._one("SELECT 1 FROM evidence_links LIMIT 1") is not None
        relpaths: list[str | None] = []
        for path, _sha, _state in placed:
            try:
                relpaths.append(rel(layout.root, path))
            except ValueError:
                relpaths.append(None)
        recorded = self.store.paths_recorded(r for r in relpaths if r is not None)  # one query, not one per file
        for i, ((path, sha256, state), relpath) in enumerate(zip(placed, relpaths, strict=True)):
            if state is None and relpath is not None:
                try:
                    st = os.lstat(path)
                    state = (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None
                except OSError:
                    state = None
            if relpath is None or state is None:
                out[i] = self.index_file(layout, path, how="sorted", sha256=sha256)
                continue
            loc = layout.locate(relpath)
            if any_links or loc.area != "order" or is_ignored_name(path.name) or relpath in recorded:
                out[i] = self.index_file(layout, path, how="sorted", sha256=sha256)
                continue
            assert loc.platform is not None and loc.order_id is not None  # an order's place has both
            fresh.append((i, SortedFile(loc.platform, loc.order_id, loc.kind, relpath, sha256, *state)))
        if not fresh:
            return out
        stored = self.store.add_evidence_each([f for _, f in fresh], "sorted", utcnow())
        for (i, _), record in zip(fresh, stored, strict=True):
            out[i] = Change("added", record)
        if self.bus is not None:
            self.bus.publish_many([(EVIDENCE_CHANGED, payload(record, "added"), None) for record in stored])
        return out

    def _orphan(self, layout: Layout, loc: Location, name: str, st: os.stat_result) -> StoredEvidence | None:
        """A record of this order with this size and mtime (to the nanosecond) whose file is gone.

        Events in a folder created a moment earlier can be lost before inotify watches it (a rename
        then shows up as a new file only); the same bytes with the same mtime are the same file.
        A record with the same name is preferred.
        """
        found = None
        for record in self.store.evidence_for_order(loc.platform or "", loc.order_id or ""):
            if (
                record.path
                and (record.size, record.mtime_ns) == (st.st_size, st.st_mtime_ns)
                and not (layout.root / record.path).exists()
            ):
                if record.path.rsplit("/", 1)[-1] == name:
                    return record
                found = found or record
        return found

    def _forget_links(self, relpath: str) -> None:
        for platform, order_id, path in forget_links(self.store, relpath):
            self._publish_link(platform, order_id, "link_removed", path)

    def _publish_link(self, platform: str, order_id: str, action: str, path: str) -> None:
        # Evidence of the order changed as far as its views go (they list the links).
        if self.bus is not None:
            self.bus.publish(EVIDENCE_CHANGED, {
                "platform": platform, "order_id": order_id, "kind": None, "evidence_id": None,
                "action": action, "path": path,
            })

    def forget(self, relpath: str) -> list[Change]:
        """The file (or folder) at ``relpath`` is gone: remove its records."""
        self._forget_links(relpath)
        changes = []
        for record in self.store.evidence_under(relpath):
            self.store.remove_evidence(record.id)
            changes.append(self._publish(Change("removed", record)))
        return changes

    def moved(self, layout: Layout, src: Path, dest: Path) -> list[Change]:
        """A file or folder renamed/moved inside the root by hand: carry its records along."""
        try:
            src_rel, dest_rel = rel(layout.root, src), rel(layout.root, dest)
        except ValueError:
            return []
        # Link rows under the old place go; the new place is indexed entry by entry by the caller
        # (links are entries of their own there), which records them again where they now are.
        self._forget_links(src_rel)
        changes = []
        for record in self.store.evidence_under(src_rel):
            assert record.path is not None  # found by its path
            new_rel = dest_rel + record.path[len(src_rel):]
            loc = layout.locate(new_rel)
            if loc.area != "order" or is_ignored_name(new_rel.rsplit("/", 1)[-1]):
                self.store.remove_evidence(record.id)
                changes.append(self._publish(Change("removed", record)))
                continue
            clash = self.store.evidence_by_path(new_rel)
            if clash is not None and clash.id != record.id:
                self.store.remove_evidence(clash.id)  # a stale record of a file no longer there
            fields = {"path": new_rel, "platform": loc.platform, "order_id": loc.order_id, "kind": loc.kind}
            same_folder = new_rel.rsplit("/", 1)[0] == record.path.rsplit("/", 1)[0]
            self.store.update_evidence(record.id, **fields)
            changes.append(self._publish(Change("renamed" if same_folder else "moved", record.model_copy(update=fields))))
        return changes

    # -- the whole tree (start, rescan backstop) -------------------------------------------------
    def reconcile(self, layout: Layout, progress: Progress | None = None) -> ReconcileReport:
        """Bring the index in line with the disk; returns counts and the files waiting in the inbox.

        Streamed: a file whose record is already right costs nothing past the walk, and on a first
        index (nothing known, so nothing can have moved) new files are inserted ``BULK`` at a time
        as the walk finds them, as plain rows. Holding 100k paths, locations and models at once
        left ~80 MB of freed arenas in the process for good.
        """
        with gc_paused():  # a row tuple per file: see gc_pause
            return self._reconcile(layout, progress)

    def _reconcile(self, layout: Layout, progress: Progress | None = None) -> ReconcileReport:
        unseen = self.store.all_evidence_paths()  # known paths the walk has not met (yet)
        if not unseen:
            return self._first_index(layout, progress)
        report = ReconcileReport()
        known_count = len(unseen)
        changed: list[tuple[str, int, int]] = []  # known paths whose size or mtime differ
        new: dict[str, tuple[int, int, Location]] = {}  # kept for move pairing
        batch: list[tuple[str, str, str | None, str, int, int]] = []
        changes = _Changes()
        links: list[tuple[str, str]] = []
        now = utcnow()
        on_disk = 0
        for prefix, loc, entries in self._order_folders(layout, progress, report, links):
            for entry in entries:
                name = entry.name
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # gone since the folder was listed
                relpath = prefix + name
                if is_link_stat(st, name):  # a .lnk shortcut (or replaced by a link meanwhile)
                    links.append((relpath, entry.path))
                    continue
                on_disk += 1
                size, mtime = st.st_size, st.st_mtime_ns
                was = unseen.pop(relpath, None)
                if was is None:
                    new[relpath] = (size, mtime, loc)
                elif was != (size, mtime):
                    changed.append((relpath, size, mtime))
        link_rels = self._reconcile_links(layout, links)
        total = on_disk + known_count
        done = 0
        gone = list(unseen)
        del unseen
        # A file that left one place and appeared in another with the same name, size and mtime
        # was moved by hand while we were not watching: keep its record (and id).
        by_signature: dict[tuple[str, int, int], list[str]] = {}
        for p, (size, mtime, _) in new.items() if gone else ():
            by_signature.setdefault((p.rsplit("/", 1)[-1], size, mtime), []).append(p)
        for old in gone:
            record = self.store.evidence_by_path(old)
            done += 1
            if record is None or (old not in link_rels and os.path.lexists(layout.root / old)):
                continue  # gone from the store meanwhile, or written after the walk passed by
            candidates = by_signature.get((old.rsplit("/", 1)[-1], record.size or -1, record.mtime_ns or -1))
            if candidates:
                target = candidates.pop(0)
                size, mtime, loc = new.pop(target)
                fields = {"path": target, "platform": loc.platform, "order_id": loc.order_id, "kind": loc.kind}
                self.store.update_evidence(record.id, **fields)
                changes.add("moved", record.model_copy(update=fields))
                report.moved += 1
            else:
                self.store.remove_evidence(record.id)
                changes.add("removed", record)
                report.removed += 1
            if progress and done % 1000 == 0:
                progress(done, total)
        for p, size, mtime in changed:
            record = self.store.evidence_by_path(p)
            if record is not None:
                self.store.update_evidence(record.id, size=size, mtime_ns=mtime, sha256=None)
                report.updated += 1
        for p, (size, mtime, loc) in new.items():
            batch.append((loc.platform or "", loc.order_id or "", loc.kind, p, size, mtime))
            if len(batch) >= BULK:
                report.added += self._insert_rows(batch, now, changes)
                done += len(batch)
                batch = []
                if progress:
                    progress(done, total)
        if batch:
            report.added += self._insert_rows(batch, now, changes)
        if progress:
            progress(total, total)
        self._publish_many(changes)
        return report

    def _first_index(self, layout: Layout, progress: Progress | None) -> ReconcileReport:
        """A reconcile with nothing known (nothing can be gone or moved): rows inserted as the walk
        finds them, a folder's files in one tight loop, the lookup indexes dropped while more than
        one batch goes in and built once after."""
        report = ReconcileReport()
        changes = _Changes()
        links: list[tuple[str, str]] = []
        batch: list[tuple[str, str, str | None, str, int, int]] = []
        now = utcnow()
        found = 0
        bulk_open = False
        with ExitStack() as bulk:
            for prefix, loc, entries in self._order_folders(layout, progress, report, links):
                platform, order_id, kind = loc.platform or "", loc.order_id or "", loc.kind
                before = len(batch)
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue  # gone since the folder was listed
                    if is_link_stat(st, entry.name):  # a .lnk shortcut (or replaced by a link meanwhile)
                        links.append((prefix + entry.name, entry.path))
                        continue
                    batch.append((platform, order_id, kind, prefix + entry.name, st.st_size, st.st_mtime_ns))
                found += len(batch) - before
                if len(batch) >= BULK:
                    if not bulk_open:
                        bulk.enter_context(self.store.evidence_bulk())
                        bulk_open = True
                    report.added += self._insert_rows(batch, now, changes)
                    batch = []
            if batch:
                report.added += self._insert_rows(batch, now, changes)
        self._reconcile_links(layout, links)
        if progress:
            progress(found, found)
        self._publish_many(changes)
        return report

    def _order_folders(self, layout: Layout, progress: Progress | None, report: ReconcileReport,
                       links: list[tuple[str, str]]) -> Iterator[tuple[str, Location, list[os.DirEntry[str]]]]:
        """(prefix, place, file entries) of each order folder the walk meets, progress reported a
        folder at a time; the inbox's files go to ``report.inbox``, links to ``links``."""
        seen = 0
        for prefix, entries in walk_folders(layout.root, links):
            if not entries:
                continue
            if prefix.startswith(INBOX + "/"):
                report.inbox.extend(Path(entry.path) for entry in entries)
            else:
                loc = layout.locate(prefix + "_")  # a folder's place is its files' place
                if loc.area == "order":
                    yield prefix, loc, entries
            seen = self._progress_walk(progress, seen, len(entries))

    @staticmethod
    def _progress_walk(progress: Progress | None, seen: int, more: int) -> int:
        """``more`` files walked past that are not indexed here (the inbox, the seller's folders)."""
        if progress and (seen + more) // 1000 > seen // 1000:
            progress((seen + more) // 1000 * 1000, None)
        return seen + more

    def _reconcile_links(self, layout: Layout, found: list[tuple[str, str]]) -> set[str]:
        """Link rows in line with the links the walk found in order folders; their paths."""
        in_orders: dict[str, Location] = {}
        for relpath, _abspath in found:
            loc = layout.locate(relpath)
            if loc.area == "order" and loc.platform and loc.order_id:
                in_orders[relpath] = loc
        for relpath in link_paths(self.store) - set(in_orders):
            if not is_link(layout.root / relpath):  # gone, or the file itself now (a link made after the walk stays)
                self._forget_links(relpath)
        for relpath, loc in in_orders.items():
            if record_link(self.store, relpath, loc):
                self._publish_link(loc.platform or "", loc.order_id or "", "link_added", relpath)
        return set(in_orders)

    def _insert_rows(self, batch: list[tuple[str, str, str | None, str, int, int]], now: datetime,
                     changes: _Changes) -> int:
        count = self.store.add_evidence_rows(batch, "hand", now)
        if not changes.per_file(len(batch)):
            # One count per order, not an object per file (counted in C, in the order first met).
            for (platform, order_id), n in Counter(map(_ORDER_OF_ROW, batch)).items():
                changes.add_group("added", platform, order_id, n)
            return count
        for row in batch:
            stored = self.store.evidence_by_path(row[3])
            if stored is not None:
                changes.add("added", stored)
        return count

    # -- events -------------------------------------------------------------------------------------
    def _publish(self, change: Change) -> Change:
        if self.bus is not None:
            self.bus.publish(EVIDENCE_CHANGED, payload(change.record, change.action))
        return change

    def _publish_many(self, changes: _Changes) -> None:
        if self.bus is None:
            return
        if changes.grouped is None:
            for change in changes.each:
                self._publish(change)
            return
        # A first index of 100k files: one event per order and action, not 100k events.
        self.bus.publish_many([
            (EVIDENCE_CHANGED, {
                "platform": platform, "order_id": order_id, "kind": None, "evidence_id": None,
                "action": action, "count": count,
            }, None)
            for (platform, order_id, action), count in changes.grouped.items()
        ])


def payload(record: EvidenceRecord, action: str) -> dict:
    return {
        "platform": record.platform, "order_id": record.order_id, "kind": record.kind,
        "evidence_id": record.id, "action": action, "path": record.path,
    }
