"""The streamed reconcile: the same records as a model per file gave, and memory that does not grow
with the tree (a first index of 100k files once held every path, location and change at once)."""

from __future__ import annotations

import os
import sqlite3
import tracemalloc
import unicodedata
from pathlib import Path

import pytest

from fixtures.evidence import PDD_ORDER, PDD_ORDER_2, TB_ORDER
from fixtures.old_database import database_before
from juzheng.evidence import indexer as indexer_mod
from juzheng.evidence.indexer import Indexer, walk_files
from juzheng.evidence.layout import Layout
from juzheng.store import EvidenceRecord, open_store, utcnow
from juzheng.store.schema import EVIDENCE_LOOKUPS, MIGRATIONS

ORDERS = [("拼多多", PDD_ORDER), ("拼多多", PDD_ORDER_2), ("淘宝", TB_ORDER)]
FOLDERS = ["快递红章证明", "发货底单", "聊天记录截图", "待分类"]
NAMES = [
    "照片 {i}.jpg", "聊天截图（{i}）.png", "café {i}.jpg",                      # CJK, full-width brackets, NFC é
    # NFD forms, named apart from the NFC ones (a normalising file system, HFS+, would merge them)
    unicodedata.normalize("NFD", "café {i} 分解.jpg"), unicodedata.normalize("NFD", "ガイド {i}.pdf"),
]
COLUMNS = "platform, order_id, kind, path, value, generated_at, covers_from, sha256, size, mtime_ns, how"


def _tree(root: Path, per_name: int) -> None:
    for platform, order in ORDERS:
        for folder in FOLDERS:
            d = root / platform / order / folder
            d.mkdir(parents=True, exist_ok=True)
            for i in range(per_name):
                for name in NAMES:
                    (d / name.format(i=i)).write_bytes(f"{order}{folder}{name}{i}".encode())
    (root / "拼多多" / PDD_ORDER / "散放.jpg").write_bytes(b"loose")  # the order known, the kind not
    for not_indexed in ["我的资料/a.jpg", ".重复/b.jpg", "收件箱/收到.jpg", f"拼多多/{PDD_ORDER}/发货底单/g.jpg.part",
                        f"拼多多/{PDD_ORDER}/快递红章证明/深/d.jpg"]:
        (root / not_indexed).parent.mkdir(parents=True, exist_ok=True)
        (root / not_indexed).write_bytes(b"x")


def _rows(store) -> set[tuple]:
    return {tuple(r) for r in store._db.execute(f"SELECT {COLUMNS} FROM evidence").fetchall()}


def _per_file_models(layout: Layout, store) -> None:
    """What the first index stored before it was streamed: an ``EvidenceRecord`` per order file."""
    now = utcnow()
    records = []
    for relpath, _abspath, st in walk_files(layout.root):
        loc = layout.locate(relpath)
        if loc.area == "order":
            records.append(EvidenceRecord(
                platform=loc.platform, order_id=loc.order_id, kind=loc.kind, path=relpath,  # type: ignore[arg-type]
                size=st.st_size, mtime_ns=st.st_mtime_ns, how="hand", added_at=now,
            ))
    store.add_evidence_many(records)


def test_streamed_first_index_stores_what_a_model_per_file_did(ev, tmp_path):
    _tree(ev.root, per_name=30)  # 1,801 files: past the per-file events and over a bulk chunk
    layout = Layout(ev.root, ev.book)
    report = Indexer(ev.store, ev.bus).reconcile(layout)
    reference = open_store(tmp_path / "reference")
    try:
        _per_file_models(layout, reference)
        assert _rows(ev.store) == _rows(reference)
    finally:
        reference.close()
    assert report.added == len(_rows(ev.store)) == 3 * 4 * 30 * len(NAMES) + 1
    cafes = [n for n in os.listdir(ev.root / "拼多多" / PDD_ORDER / "发货底单") if n.startswith("caf")]
    assert len(cafes) == 2 * 30  # NFC and NFD names side by side
    for name in cafes:  # each recorded under its name exactly as the file system gives it
        assert ev.store.evidence_by_path(f"拼多多/{PDD_ORDER}/发货底单/{name}") is not None


def test_a_later_reconcile_ends_where_a_first_index_of_the_changed_tree_does(ev, tmp_path):
    _tree(ev.root, per_name=3)
    layout = Layout(ev.root, ev.book)
    indexer = Indexer(ev.store, ev.bus)
    indexer.reconcile(layout)
    red = ev.root / "拼多多" / PDD_ORDER / "快递红章证明"
    kept_id = ev.store.evidence_by_path(f"拼多多/{PDD_ORDER}/快递红章证明/照片 0.jpg").id
    os.replace(red / "照片 0.jpg", ev.root / "拼多多" / PDD_ORDER / "照片 0.jpg")  # moved while off (out to the order)
    (red / unicodedata.normalize("NFD", "café 1 分解.jpg")).unlink()                           # vanished
    (red / "照片 2.jpg").write_bytes(b"rewritten by the seller, longer")                        # changed
    (red / "新 照片.jpg").write_bytes(b"new")                                                   # new
    report = indexer.reconcile(layout)
    assert (report.added, report.updated, report.moved, report.removed) == (1, 1, 1, 1)
    assert ev.store.evidence_by_path(f"拼多多/{PDD_ORDER}/照片 0.jpg").id == kept_id
    fresh = open_store(tmp_path / "fresh")
    try:
        Indexer(fresh, None).reconcile(layout)
        assert _rows(ev.store) == _rows(fresh)
    finally:
        fresh.close()


def test_a_reconcile_with_records_known_stores_what_a_first_index_does(ev, tmp_path):
    """The other branch (something known: new files kept for move pairing) gives the same rows."""
    _tree(ev.root, per_name=10)
    layout = Layout(ev.root, ev.book)
    Indexer(ev.store, None).reconcile(layout)
    seeded = open_store(tmp_path / "seeded")
    try:
        _per_file_models(layout, seeded)
        seeded._db.execute("DELETE FROM evidence WHERE id % 3 = 0")  # known: two thirds, one gone file too
        seeded.add_evidence_many([EvidenceRecord(platform="拼多多", order_id=PDD_ORDER, kind=None, path="拼多多/x/gone.jpg",
                                                 size=1, mtime_ns=1, how="hand", added_at=utcnow())])
        seeded._db.commit()
        report = Indexer(seeded, None).reconcile(layout)
        assert report.removed == 1 and report.added > 0
        assert _rows(seeded) == _rows(ev.store)
    finally:
        seeded.close()


def _peak_bytes(ev, tmp_path: Path, name: str, per_name: int) -> int:
    root = tmp_path / name
    _tree(root, per_name)
    store = open_store(tmp_path / f"{name}-state")
    try:
        layout = Layout(root, ev.book)
        layout.locate("拼多多/x/y/z")
        indexer = Indexer(store, ev.bus)
        tracemalloc.start()
        try:
            report = indexer.reconcile(layout)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert report.added == 3 * 4 * per_name * len(NAMES) + 1
        return peak
    finally:
        store.close()


def test_first_index_memory_does_not_grow_with_the_tree(ev, tmp_path, monkeypatch):
    """Python memory held while indexing 4,800 files is what 1,200 took (chunks of 100 rows): the
    walk's files are inserted as they come and changes are counted per order, not kept per file.
    Only the folder being listed grows (4x the files per folder here: ~+230 kB); before, every
    path with its location and every change stayed alive to the end as well (~+2.5 MB)."""
    monkeypatch.setattr(indexer_mod, "BULK", 100)
    small = _peak_bytes(ev, tmp_path, "small", per_name=20)   # 1,201 files
    large = _peak_bytes(ev, tmp_path, "large", per_name=80)   # 4,801 files
    assert large - small < 700_000, (small, large)


@pytest.mark.parametrize("count", [1, 150])
def test_a_few_new_files_are_still_published_one_by_one(ev, count):
    d = ev.root / "拼多多" / PDD_ORDER / "发货底单"
    d.mkdir(parents=True)
    for i in range(count):
        (d / f"底单 {i}.jpg").write_bytes(b"x")
    Indexer(ev.store, ev.bus).reconcile(Layout(ev.root, ev.book))
    events = ev.of_type("evidence")
    assert len(events) == count and {e["action"] for e in events} == {"added"}
    assert all(e["evidence_id"] and e["path"].startswith(f"拼多多/{PDD_ORDER}/发货底单/") for e in events)


def _lookup_indexes(store) -> dict[str, str]:
    return {name: sql for name, sql in store._db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='evidence' AND sql IS NOT NULL")}


def test_a_first_index_of_many_batches_ends_with_its_lookups_in_place(ev, monkeypatch):
    """More than one batch goes in with the lookup indexes dropped; they are back afterwards and
    the lookups by order and by hash use them again."""
    monkeypatch.setattr(indexer_mod, "BULK", 100)
    _tree(ev.root, per_name=10)  # 601 files: six batches
    dropped_during: list[set[str]] = []
    real_insert = Indexer._insert_rows

    def watching(self, batch, now, changes):
        dropped_during.append(set(EVIDENCE_LOOKUPS) - set(_lookup_indexes(ev.store)))
        return real_insert(self, batch, now, changes)

    monkeypatch.setattr(Indexer, "_insert_rows", watching)
    report = Indexer(ev.store, ev.bus).reconcile(Layout(ev.root, ev.book))
    assert report.added == 601
    assert set(EVIDENCE_LOOKUPS) in dropped_during  # the bulk did run without them
    assert set(EVIDENCE_LOOKUPS) <= set(_lookup_indexes(ev.store))
    plan = " ".join(str(r[-1]) for r in ev.store._db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM evidence WHERE sha256 = ?", ("ab",)))
    assert "evidence_sha" in plan
    plan = " ".join(str(r[-1]) for r in ev.store._db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM evidence WHERE platform = ? AND order_id = ?", ("拼多多", PDD_ORDER)))
    assert "evidence_order" in plan


def test_lookups_come_back_after_a_bulk_that_failed_or_was_cut_off(tmp_path):
    store = open_store(tmp_path / "state")
    try:
        with pytest.raises(RuntimeError, match="disk gone"):
            with store.evidence_bulk():
                assert not set(EVIDENCE_LOOKUPS) & set(_lookup_indexes(store))
                raise RuntimeError("disk gone")  # what failed inside is what the caller sees
        assert set(EVIDENCE_LOOKUPS) <= set(_lookup_indexes(store))
        for name in EVIDENCE_LOOKUPS:  # a helper killed mid-bulk leaves them dropped
            store._db.execute(f"DROP INDEX {name}")
        store._db.commit()
    finally:
        store.close()
    looking = open_store(tmp_path / "state", repair=False)  # `juzheng status`: never writes, maybe mid-bulk
    try:
        assert not set(EVIDENCE_LOOKUPS) & set(_lookup_indexes(looking))
    finally:
        looking.close()
    reopened = open_store(tmp_path / "state")
    try:
        assert set(EVIDENCE_LOOKUPS) <= set(_lookup_indexes(reopened))
    finally:
        reopened.close()


def test_a_bulk_whose_connection_broke_raises_what_broke_it(tmp_path):
    store = open_store(tmp_path / "state")
    try:
        with pytest.raises(RuntimeError, match="lost the disk"):
            with store.evidence_bulk():
                store._db.close()  # what a vanished state dir leaves: every later statement fails
                raise RuntimeError("lost the disk")
    finally:
        store._closed = True


def test_migration_9_makes_the_hash_lookup_cover_hashed_files_only(tmp_path):
    state = tmp_path / "state"
    db = database_before(state, 9)
    db.execute("INSERT INTO evidence (platform, order_id, kind, path, sha256, how, added_at)"
               " VALUES ('pinduoduo', '1-2', NULL, '拼多多/1-2/a.jpg', 'ab', 'hand', '2026-11-30T08:00:00+00:00')")
    db.commit()
    assert "WHERE" not in _lookup_indexes_of(db)["evidence_sha"]
    db.close()
    store = open_store(state)
    try:
        assert store.schema_version == len(MIGRATIONS)
        assert "WHERE sha256 IS NOT NULL" in _lookup_indexes(store)["evidence_sha"]
        assert [r.path for r in store.evidence_by_sha("ab")] == ["拼多多/1-2/a.jpg"]  # the row is kept
    finally:
        store.close()


def _lookup_indexes_of(db: sqlite3.Connection) -> dict[str, str]:
    return {name: sql for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL")}
