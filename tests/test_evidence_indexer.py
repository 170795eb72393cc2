"""The index of an existing tree: first index with progress and bulk inserts, and changes made while off."""

from __future__ import annotations

import os

from fixtures.evidence import PDD_ORDER, PDD_ORDER_2, TB_ORDER
from juzheng.evidence.indexer import Indexer
from juzheng.evidence.layout import Layout

KIND_FOLDERS = {"快递红章证明": "red_stamp_proof", "发货底单": "shipping_slip", "聊天记录截图": "chat_screenshot", "待分类": None}


def _tree(ev, per_folder: int) -> dict[str, str | None]:
    expected = {}
    for platform, order in [("拼多多", PDD_ORDER), ("拼多多", PDD_ORDER_2), ("淘宝", TB_ORDER)]:
        for folder, kind in KIND_FOLDERS.items():
            d = ev.root / platform / order / folder
            d.mkdir(parents=True, exist_ok=True)
            for i in range(per_folder):
                (d / f"照片 {i}.jpg").write_bytes(f"{order}{folder}{i}".encode())
                expected[f"{platform}/{order}/{folder}/照片 {i}.jpg"] = kind
    (ev.root / "拼多多" / PDD_ORDER / "loose.jpg").write_bytes(b"loose")  # order known, kind not
    expected[f"拼多多/{PDD_ORDER}/loose.jpg"] = None
    for not_indexed in ["我的资料/a.jpg", ".重复/b.jpg", ".回收站/拼多多/c.jpg", f"拼多多/{PDD_ORDER}/快递红章证明/深/d.jpg",
                        f"拼多多/{PDD_ORDER}/自己的文件夹/e.jpg", "收件箱/f.jpg", f"拼多多/{PDD_ORDER}/发货底单/g.jpg.part"]:
        (ev.root / not_indexed).parent.mkdir(parents=True, exist_ok=True)
        (ev.root / not_indexed).write_bytes(b"x")
    return expected


def test_first_index_of_an_existing_tree(ev):
    expected = _tree(ev, per_folder=300)  # 3,601 files
    progress: list[tuple[int, int | None]] = []
    report = Indexer(ev.store, ev.bus).reconcile(Layout(ev.root, ev.book), lambda d, t: progress.append((d, t)))
    assert report.added == len(expected) and [p.name for p in report.inbox] == ["f.jpg"]
    indexed = ev.store.all_evidence_paths()
    assert set(indexed) == set(expected)
    for path, kind in list(expected.items())[::97]:
        record = ev.store.evidence_by_path(path)
        assert record.kind == kind and record.how == "hand" and record.sha256 is None
    # Progress: counting first (total unknown), then done/total rising to the end.
    assert progress[0][1] is None and progress[-1] == (len(expected), len(expected))
    totals = [d for d, t in progress if t is not None]
    assert totals == sorted(totals)
    # Thousands of changes: one event per order and action, not one per file.
    events = ev.of_type("evidence")
    assert len(events) == 3 and sum(e["count"] for e in events) == len(expected)
    # A second pass changes nothing.
    again = Indexer(ev.store, ev.bus).reconcile(Layout(ev.root, ev.book))
    assert (again.added, again.updated, again.moved, again.removed) == (0, 0, 0, 0)


def test_changes_made_while_the_helper_was_off(ev):
    _tree(ev, per_folder=2)
    indexer = Indexer(ev.store, ev.bus)
    layout = Layout(ev.root, ev.book)
    indexer.reconcile(layout)
    red = ev.root / "拼多多" / PDD_ORDER / "快递红章证明"
    moved_id = ev.store.evidence_by_path(f"拼多多/{PDD_ORDER}/快递红章证明/照片 0.jpg").id
    os.replace(red / "照片 0.jpg", ev.root / "拼多多" / PDD_ORDER / "聊天记录截图" / "照片 0 moved.jpg")
    (red / "照片 1.jpg").unlink()
    slip = ev.root / "拼多多" / PDD_ORDER / "发货底单" / "照片 0.jpg"
    slip.write_bytes(b"rewritten by the seller")
    (red / "new.jpg").write_bytes(b"new")
    ev.events.clear()
    report = indexer.reconcile(layout)
    assert (report.added, report.updated, report.removed) == (2, 1, 2)  # moved-and-renamed reads as remove + add
    assert ev.store.evidence_by_path(f"拼多多/{PDD_ORDER}/快递红章证明/照片 1.jpg") is None
    assert ev.store.evidence_by_path(f"拼多多/{PDD_ORDER}/快递红章证明/new.jpg").kind == "red_stamp_proof"
    assert ev.store.evidence_by_path(f"拼多多/{PDD_ORDER}/聊天记录截图/照片 0 moved.jpg").kind == "chat_screenshot"
    assert ev.store.get_evidence(moved_id) is None
    rewritten = ev.store.evidence_by_path(f"拼多多/{PDD_ORDER}/发货底单/照片 0.jpg")
    assert rewritten.size == len(b"rewritten by the seller") and rewritten.sha256 is None
    assert {e["action"] for e in ev.of_type("evidence")} == {"added", "removed"}


def test_a_file_moved_while_off_keeps_its_record(ev):
    _tree(ev, per_folder=1)
    indexer = Indexer(ev.store, ev.bus)
    layout = Layout(ev.root, ev.book)
    indexer.reconcile(layout)
    record = ev.store.evidence_by_path(f"拼多多/{PDD_ORDER}/待分类/照片 0.jpg")
    target = ev.root / "拼多多" / PDD_ORDER / "退回商品与面单合照"
    target.mkdir()
    os.replace(ev.root / record.path, target / "照片 0.jpg")  # same name, size and mtime, other folder
    report = indexer.reconcile(layout)
    moved = ev.store.get_evidence(record.id)
    assert moved is not None and moved.path == f"拼多多/{PDD_ORDER}/退回商品与面单合照/照片 0.jpg"
    assert moved.kind == "return_photo" and report.moved == 1 and report.added == 0
