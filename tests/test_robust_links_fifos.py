"""Links, FIFOs and devices in the evidence folder: never followed, never opened, never a hang.

- A linked folder renamed into the inbox: before, its target's files were moved into the order
  folders (the target emptied). A link in the inbox is never followed: it waits in the inbox with a
  reason, and its target is untouched.
- In an order folder, a FIFO named ``.jpg`` hung the whole helper (the image check opened it on the
  event loop; SIGTERM was then ignored) and a link to ``/dev/zero`` made the duplicate check hash
  forever (all sorting stopped). Only regular files are opened, with a size cap, off the event loop.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from fixtures.evidence import PDD_ORDER, sha, wait_for
from juzheng.evidence.mover import NotRegularFile, sha256_file
from juzheng.evidence.sorter import REASON_LINK, REASON_SPECIAL
from juzheng.paths import INBOX

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "mkfifo") or not hasattr(os, "symlink"), reason="FIFOs and symlinks (POSIX)"),
    pytest.mark.timeout(120),
]
SLIP = f"{PDD_ORDER} 发货底单.jpg"
CHAT = f"{PDD_ORDER} 聊天截图.jpg"


def _outside_folder(tmp_path: Path) -> dict[Path, str]:
    target = tmp_path / "别处的文件夹"
    target.mkdir()
    files = {}
    for name, data in ((SLIP, b"slip"), (CHAT, b"chat"), ("子目录/" + f"{PDD_ORDER} 红章证明.jpg", b"red")):
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[path] = sha(path)
    return files


def _order_files(root: Path) -> list[Path]:
    return [p for p in (root / "拼多多").rglob("*") if p.is_file()] if (root / "拼多多").exists() else []


def test_a_linked_folder_renamed_into_the_inbox_is_never_followed(ev, tmp_path):
    ev.case("pinduoduo", PDD_ORDER)
    files = _outside_folder(tmp_path)
    svc = ev.service()
    svc.start()
    wait_for(lambda: svc.status().last_rescan_at is not None)
    staging = ev.root / "暂存"
    staging.mkdir()
    os.symlink(tmp_path / "别处的文件夹", staging / "手机导出")
    os.rename(staging / "手机导出", ev.inbox / "手机导出")
    # Settled: the link has a reason in the pending list and nothing waits in the watcher any more
    # (files found in a just-appeared folder wait NEW_FOLDER_QUIET before they are sorted).
    ev.drop(f"{PDD_ORDER} 退货底单.jpg", b"a real file")
    wait_for(lambda: not (ev.inbox / f"{PDD_ORDER} 退货底单.jpg").exists(), timeout=15)
    link_pending = lambda: f"{INBOX}/手机导出" in {p.path for p in ev.store.list_pending()}  # noqa: E731
    wait_for(lambda: link_pending() or any(not p.exists() for p in files), timeout=20)
    wait_for(lambda: svc.status().waiting == 0, timeout=20)
    for path, digest in files.items():
        assert path.is_file() and sha(path) == digest, f"{path} was moved or changed through the link"
    assert all(p.name != SLIP and p.name != CHAT for p in _order_files(ev.root))
    assert os.path.islink(ev.inbox / "手机导出")
    reason = wait_for(lambda: {p.path: p.reason for p in ev.store.list_pending()}.get(f"{INBOX}/手机导出"), timeout=15)
    assert reason == REASON_LINK


def test_juzheng_sort_never_follows_links_in_the_inbox(ev, tmp_path):
    ev.case("pinduoduo", PDD_ORDER)
    files = _outside_folder(tmp_path)
    os.symlink(tmp_path / "别处的文件夹", ev.inbox / "链接文件夹")
    os.symlink(tmp_path / "别处的文件夹" / SLIP, ev.inbox / SLIP)
    os.mkfifo(ev.inbox / CHAT)
    items = {i.src: i for i in ev.service(watch=False).sort_once()}
    assert items[f"{INBOX}/{SLIP}"].action == "pending" and items[f"{INBOX}/{SLIP}"].reason == REASON_LINK
    assert items[f"{INBOX}/{CHAT}"].action == "pending" and items[f"{INBOX}/{CHAT}"].reason == REASON_SPECIAL
    assert items[f"{INBOX}/链接文件夹"].reason == REASON_LINK
    assert len(items) == 3, items  # nothing from inside the linked folder
    for path, digest in files.items():
        assert path.is_file() and sha(path) == digest
    assert _order_files(ev.root) == []


def test_links_and_fifos_in_order_folders_are_not_indexed_or_hashed(ev, tmp_path):
    ev.case("pinduoduo", PDD_ORDER)
    folder = ev.root / "拼多多" / PDD_ORDER / "发货底单"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "管道.jpg")
    os.symlink("/dev/zero", folder / "零.jpg")
    os.symlink(tmp_path, folder / "外面")
    svc = ev.service(watch=False)
    ev.drop(SLIP, b"slip bytes")
    (item,) = svc.sort_once()
    assert item.status == "done"
    assert {r.path.rsplit("/", 1)[-1] for r in ev.store.evidence_for_order("pinduoduo", PDD_ORDER)} == {SLIP}
    for name in ("管道.jpg", "零.jpg"):
        with pytest.raises(NotRegularFile):
            sha256_file(folder / name)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/zero and FIFOs as the seller's Linux box has them")
def test_fifo_and_dev_zero_in_an_order_folder_do_not_hang_the_real_helper(running_helper):
    helper = running_helper
    r = helper.request("POST", "/api/cases/detect", json_body={"platform": "pinduoduo", "order_id": PDD_ORDER, "request_text": "买家反馈未收到商品"})
    assert r.status in (200, 201), r.body[:300]
    case_id = r.json()["id"]
    folder = helper.root / "拼多多" / PDD_ORDER / "发货底单"
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / f"{PDD_ORDER} 管道.jpg")
    os.symlink("/dev/zero", folder / f"{PDD_ORDER} 零.jpg")
    inbox = helper.root / INBOX
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / SLIP).write_bytes(b"\xff\xd8 a real slip")
    placed = folder / SLIP
    wait_for(lambda: placed.exists() and not (inbox / SLIP).exists(), timeout=20)
    # the case view (image checks of everything in the order) answers, and keeps answering
    for _ in range(3):
        view = helper.request("GET", f"/api/cases/{case_id}", timeout=10)
        assert view.status == 200
    names = {e["path"].rsplit("/", 1)[-1] for e in view.json()["evidence"]}
    assert names == {SLIP}
    assert helper.request("GET", "/api/cases", timeout=10).status == 200
    started = time.monotonic()
    process = helper.process
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert time.monotonic() - started < 15
