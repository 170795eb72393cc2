"""EvidenceService without the watcher: sort_once, duplicates, uploads, trash, undo, dry-run, odd names, CLI."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from fixtures.evidence import PDD_ORDER, PDD_ORDER_2, TB_ORDER, files_under, sha
from juzheng.cli.main import main as cli
from juzheng.errors import NotFound
from juzheng.evidence import EvidenceError
from juzheng.store import utcnow
from juzheng.store.seller_state import FocusRow

RED = "拼多多/" + PDD_ORDER + "/快递红章证明"


def test_sort_once_places_files_and_records_them(ev):
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"red")
    ev.drop(f"{PDD_ORDER} IMG_1.jpg", b"unknown kind")
    ev.drop("nothing.jpg", b"?")
    items = ev.service(watch=False).sort_once()
    by_src = {i.src.split("/")[-1]: i for i in items}
    assert by_src[f"{PDD_ORDER} 红章证明.jpg"].dest == f"{RED}/{PDD_ORDER} 红章证明.jpg"
    assert by_src[f"{PDD_ORDER} IMG_1.jpg"].dest == f"拼多多/{PDD_ORDER}/待分类/{PDD_ORDER} IMG_1.jpg"
    assert by_src["nothing.jpg"].action == "pending"
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明.jpg").read_bytes() == b"red"
    records = {r.path: r for r in ev.store.evidence_for_order("pinduoduo", PDD_ORDER)}
    assert records[f"{RED}/{PDD_ORDER} 红章证明.jpg"].kind == "red_stamp_proof"
    assert records[f"{RED}/{PDD_ORDER} 红章证明.jpg"].how == "sorted"
    assert records[f"拼多多/{PDD_ORDER}/待分类/{PDD_ORDER} IMG_1.jpg"].kind is None
    added = [p for p in ev.of_type("evidence") if p["action"] == "added"]
    assert {p["kind"] for p in added} == {"red_stamp_proof", None}
    assert all(p["evidence_id"] for p in added)


def test_pending_reason_is_stored_published_and_cleared(ev):
    ev.drop("IMG_0001.jpg", b"x")
    svc = ev.service(watch=False)
    svc.sort_once()
    (pending,) = ev.store.list_pending()
    assert pending.path == "收件箱/IMG_0001.jpg" and "订单号" in pending.reason
    assert ev.of_type("pending") == [{"path": "收件箱/IMG_0001.jpg", "reason": pending.reason}]
    assert svc.status().pending[0].reason == pending.reason
    # The seller opens the case in the browser: a file that waited before is not swept up by the
    # focus; it is offered, and filed on the seller's answer.
    case = ev.case("pinduoduo", PDD_ORDER)
    now = utcnow().isoformat()
    ev.store.set_focus(FocusRow(case.id, now, now, None))
    svc.sort_once()
    assert [p.path for p in ev.store.list_pending()] == ["收件箱/IMG_0001.jpg"]
    from juzheng.evidence.offer import answer, offer_for

    assert [f.name for f in offer_for(svc, case).files] == ["IMG_0001.jpg"]
    answer(svc, case, ["收件箱/IMG_0001.jpg"], accept=True)
    assert ev.store.list_pending() == []
    assert ev.of_type("pending")[-1] == {"path": "收件箱/IMG_0001.jpg", "reason": None}
    assert (ev.root / "拼多多" / PDD_ORDER / "待分类" / "IMG_0001.jpg").exists()


def test_stale_focus_is_ignored(ev):
    case = ev.case("pinduoduo", PDD_ORDER)
    then = (utcnow() - timedelta(minutes=15)).isoformat()
    ev.store.set_focus(FocusRow(case.id, then, then, None))
    ev.drop("IMG_0001.jpg", b"x")
    assert ev.service(watch=False).sort_once()[0].action == "pending"


def test_known_case_resolves_a_bare_number_and_video_kind(ev):
    ev.case("douyin", TB_ORDER, scenario="douyin.return_damaged")
    ev.drop(f"{TB_ORDER}.mp4", b"video bytes")
    (item,) = ev.service(watch=False).sort_once()
    assert (item.platform, item.kind) == ("douyin", "unpacking_video"), item
    assert item.dest.startswith("抖音小店/")


def test_identical_bytes_for_the_order_go_to_duplicates(ev):
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"same bytes")
    svc = ev.service(watch=False)
    svc.sort_once()
    ev.drop(f"{PDD_ORDER} 红章 again.jpg", b"same bytes")
    ev.drop(f"{PDD_ORDER} 聊天截图.jpg", b"same bytes")  # other name, other kind: still the same evidence
    ev.drop(f"{PDD_ORDER_2} 红章证明.jpg", b"same bytes")  # another order: filed normally
    items = {i.src.split("/")[-1]: i for i in svc.sort_once()}
    assert items[f"{PDD_ORDER} 红章 again.jpg"].action == "duplicate"
    assert items[f"{PDD_ORDER} 聊天截图.jpg"].action == "duplicate"
    assert items[f"{PDD_ORDER_2} 红章证明.jpg"].action == "move"
    dups = sorted(p.name for p in (ev.root / ".重复").iterdir())
    assert dups == [f"{PDD_ORDER} 红章 again.jpg", f"{PDD_ORDER} 聊天截图.jpg"]
    assert len(ev.store.evidence_for_order("pinduoduo", PDD_ORDER)) == 1


def test_same_size_different_bytes_is_no_duplicate(ev):
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"aaaa")
    svc = ev.service(watch=False)
    svc.sort_once()
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"bbbb")  # same name, same size, other bytes
    (item,) = svc.sort_once()
    assert item.action == "move" and item.dest.endswith("红章证明 (2).jpg")
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明.jpg").read_bytes() == b"aaaa"


def test_duplicate_check_hashes_files_indexed_without_a_hash(ev):
    folder = ev.root / RED
    folder.mkdir(parents=True)
    (folder / "hand.jpg").write_bytes(b"hand placed")
    svc = ev.service(watch=False)
    svc.sort_once()  # indexes hand.jpg (no hash: a first index of 100k files must not hash them all)
    assert ev.store.evidence_by_path(f"{RED}/hand.jpg").sha256 is None
    ev.drop(f"{PDD_ORDER} copy.jpg", b"hand placed")
    assert svc.sort_once()[0].action == "duplicate"


def test_dry_run_prints_the_plan_and_touches_nothing(ev, capsys):
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"red")
    ev.drop("IMG 1.jpg", b"x")
    before = {p: sha(p) for p in files_under(ev.root)}
    items = ev.service(watch=False).sort_once(dry_run=True)
    assert {i.action for i in items} == {"move", "pending"}
    assert {p: sha(p) for p in files_under(ev.root)} == before
    assert ev.store.list_pending() == [] and ev.store.moves_in_state("done") == []
    code = cli(["sort", "--root", str(ev.root), "--state-dir", str(ev.state), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0 and "整理计划" in out and "文件" in out and "去向" in out
    assert f"拼多多/{PDD_ORDER}/快递红章证明/{PDD_ORDER} 红章证明.jpg" in out and "待处理" in out
    assert {p: sha(p) for p in files_under(ev.root)} == before


def test_cli_sort_and_undo(ev, capsys):
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"red")
    assert cli(["sort", "--root", str(ev.root), "--state-dir", str(ev.state)]) == 0
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明.jpg").exists()
    assert cli(["undo", "--last", "1", "--root", str(ev.root), "--state-dir", str(ev.state)]) == 0
    assert "已放回" in capsys.readouterr().out
    assert (ev.inbox / f"{PDD_ORDER} 红章证明.jpg").read_bytes() == b"red"
    assert cli(["sort", "--root", str(ev.root), "--state-dir", str(ev.state), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["action"] == "held"  # undone files are not sorted straight back


def test_undo_puts_back_the_last_batches_only(ev):
    svc = ev.service(watch=False)
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"1")
    svc.sort_once()
    ev.drop(f"{PDD_ORDER} 聊天截图.jpg", b"2")
    ev.drop(f"{PDD_ORDER} 发货底单.jpg", b"3")
    svc.sort_once()
    undone = svc.undo(1)
    assert {os.path.basename(u.to_path) for u in undone} == {f"{PDD_ORDER} 聊天截图.jpg", f"{PDD_ORDER} 发货底单.jpg"}
    assert all(u.status == "undone" for u in undone)
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明.jpg").exists()
    assert {r.kind for r in ev.store.evidence_for_order("pinduoduo", PDD_ORDER)} == {"red_stamp_proof"}
    assert {p.path for p in ev.store.list_pending()} == {f"收件箱/{PDD_ORDER} 聊天截图.jpg", f"收件箱/{PDD_ORDER} 发货底单.jpg"}
    assert svc.sort_once()[0].action == "held"
    assert [u.to_path for u in svc.undo(1)] == [str(ev.inbox / f"{PDD_ORDER} 红章证明.jpg")]
    assert svc.undo(1) == []  # nothing left: undo does not flip back and forth


def test_undo_never_overwrites_a_file_that_took_the_old_name(ev):
    svc = ev.service(watch=False)
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"first")
    svc.sort_once()
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"a new one with the same name")
    (u,) = svc.undo(1)
    assert u.to_path.endswith("红章证明 (2).jpg")
    assert (ev.inbox / f"{PDD_ORDER} 红章证明.jpg").read_bytes() == b"a new one with the same name"


def test_import_upload_writes_records_and_publishes(ev):
    svc = ev.service(watch=False)
    case = ev.case("pinduoduo", PDD_ORDER)
    record = svc.import_upload(case, "shipping_slip", "C:\\Users\\卖家\\底单:1.jpg", b"slip")
    assert record.id and record.how == "uploaded" and record.kind == "shipping_slip"
    assert record.path == f"拼多多/{PDD_ORDER}/发货底单/底单：1.jpg"
    assert (ev.root / record.path).read_bytes() == b"slip" and record.sha256 == sha(ev.root / record.path)
    event = ev.of_type("evidence")[-1]
    assert event["action"] == "added" and event["evidence_id"] == record.id
    # Same name, other bytes: a new name, never an overwrite; same bytes again: the same record.
    second = svc.import_upload(case, "shipping_slip", "底单:1.jpg", b"other slip")
    assert second.path.endswith("底单：1 (2).jpg") and (ev.root / record.path).read_bytes() == b"slip"
    assert svc.import_upload(case, "shipping_slip", "again.jpg", b"slip").id == record.id


def test_import_upload_refuses_bad_input_with_a_reason(ev):
    svc = ev.service(watch=False)
    case = ev.case("pinduoduo", PDD_ORDER)
    with pytest.raises(EvidenceError, match="空的"):
        svc.import_upload(case, "shipping_slip", "a.jpg", b"")
    with pytest.raises(EvidenceError, match="未知的证据类型"):
        svc.import_upload(case, "no_such_kind", "a.jpg", b"x")
    with pytest.raises(EvidenceError, match="文字类"):
        svc.import_upload(case, "wangwang_evidence_number", "a.jpg", b"x")
    assert ev.store.evidence_count() == 0


def test_trash_moves_to_the_recycle_folder_and_undo_restores(ev):
    svc = ev.service(watch=False)
    case = ev.case("pinduoduo", PDD_ORDER)
    record = svc.import_upload(case, "red_stamp_proof", "红章.jpg", b"stamp")
    trashed = svc.trash(record.id)
    assert trashed.path == f".回收站/拼多多/{PDD_ORDER}/快递红章证明/红章.jpg"
    assert (ev.root / trashed.path).read_bytes() == b"stamp"
    assert not (ev.root / record.path).exists() and ev.store.get_evidence(record.id) is None
    assert ev.of_type("evidence")[-1]["action"] == "removed"
    with pytest.raises(NotFound):  # already trashed: nothing of that id is left
        svc.trash(record.id)
    (u,) = svc.undo(1)
    assert u.status == "undone" and (ev.root / record.path).read_bytes() == b"stamp"
    assert ev.store.evidence_by_path(record.path).kind == "red_stamp_proof"


def test_undo_of_an_upload_goes_to_the_recycle_folder(ev):
    svc = ev.service(watch=False)
    record = svc.import_upload(ev.case("pinduoduo", PDD_ORDER), "red_stamp_proof", "红章.jpg", b"stamp")
    (u,) = svc.undo(1)
    assert u.to_path == str(ev.root / ".回收站" / record.path)
    assert ev.store.evidence_count() == 0


ODD = [
    f"{PDD_ORDER} 红章证明 (扫描件) 第1页.jpg",
    f"{PDD_ORDER} 😀聊天截图🎉.png",
    # 200+ characters (as many bytes as ext4 allows; Windows allows 255 characters of any script)
    f"{PDD_ORDER} 发货底单 " + "说明" * 8 + "long-description-" * 9 + ".jpg",
    f"{PDD_ORDER} 转账截图 a:b*c?.png",  # Windows-forbidden characters (legal on Linux)
    f"  {PDD_ORDER}  退货合照  .jpg",
]


def test_odd_names_are_sorted_with_safe_names(ev):
    for i, name in enumerate(ODD):
        ev.drop(name, f"odd {i}".encode())
    items = ev.service(watch=False).sort_once()
    assert all(i.status == "done" for i in items), items
    placed = files_under(ev.root)
    assert len(placed) == len(ODD)
    assert sorted(p.read_bytes() for p in placed) == sorted(f"odd {i}".encode() for i in range(len(ODD)))
    assert {p.parent.name for p in placed} == {"快递红章证明", "聊天记录截图", "发货底单", "转账成功截图", "退回商品与面单合照"}
    for p in placed:
        assert not set('<>:"\\|?*') & set(p.name) and len(p.name.encode()) <= 230
        assert ev.store.evidence_by_path(p.relative_to(ev.root).as_posix()) is not None
