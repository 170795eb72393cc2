"""The real watchdog watcher on real temp folders: arrivals, slow writers, hand changes, floods, idle CPU."""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

from fixtures.evidence import PDD_ORDER, PDD_ORDER_2, TB_ORDER, files_under, sha, wait_for
from juzheng.events import CASE_CHANGED
from juzheng.evidence.watcher import Debouncer

# watchdog 7 warns from its own thread when a new folder re-enters its watch table; the service
# filters it, pytest resets filters per test.
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")

RED_DIR = f"拼多多/{PDD_ORDER}/快递红章证明"
CHAT_DIR = f"拼多多/{PDD_ORDER}/聊天记录截图"


def started(ev, **kw):
    svc = ev.service(**kw)
    svc.start()
    wait_for(lambda: svc.status().last_rescan_at is not None)  # first index and inbox pass done
    return svc


def test_a_dropped_file_is_sorted_and_published(ev):
    started(ev)
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"stamp")
    target = ev.root / RED_DIR / f"{PDD_ORDER} 红章证明.jpg"
    # The move is a link and then an unlink: both halves done is the state to wait for.
    wait_for(lambda: target.exists() and not (ev.inbox / target.name).exists())
    assert target.read_bytes() == b"stamp"
    wait_for(lambda: any(p["action"] == "added" for p in ev.of_type("evidence")))


def test_files_already_in_the_inbox_at_start_are_sorted(ev):
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"stamp")
    ev.drop("IMG_1.jpg", b"x")
    started(ev)
    wait_for(lambda: (ev.root / RED_DIR / f"{PDD_ORDER} 红章证明.jpg").exists())
    wait_for(lambda: [p.path for p in ev.store.list_pending()] == ["收件箱/IMG_1.jpg"])


def _slow_write(path, chunks: int, gap: float, data_out: list) -> threading.Thread:
    def run():
        data = b""
        with open(path, "wb") as fh:
            for i in range(chunks):
                chunk = os.urandom(50_000) + f"chunk {i}".encode()
                fh.write(chunk)
                fh.flush()
                data += chunk
                time.sleep(gap)
        data_out.append(data)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("mode", ["close_event", "size_mtime_stable"])
def test_a_slowly_written_file_is_moved_only_when_complete(ev, mode):
    """Chunks over ~2.5 s. Linux: wait for the close, even across pauses longer than the quiet period.
    Windows/macOS (no close event, simulated here): wait until size and mtime hold still."""
    if mode == "close_event":
        started(ev, close_events=True, quiet=0.3)
        gap = 0.5  # longer than the quiet period: only the missing close keeps the file in place
    else:
        started(ev, close_events=False, quiet=1.0)
        gap = 0.25
    src = ev.inbox / f"{PDD_ORDER} 聊天截图.png"
    out: list[bytes] = []
    writer = _slow_write(src, chunks=6, gap=gap, data_out=out)
    time.sleep(1.2)
    assert src.exists() and not (ev.root / CHAT_DIR).exists()  # still being written: untouched
    writer.join()
    target = ev.root / CHAT_DIR / src.name
    wait_for(lambda: target.exists() and not src.exists())  # both halves of the move (link, unlink)
    assert target.read_bytes() == out[0]
    assert len(files_under(ev.root)) == 1


def test_partial_download_names_wait_until_renamed(ev):
    started(ev)
    part = ev.inbox / f"{PDD_ORDER} 红章证明.jpg.crdownload"
    part.write_bytes(b"downloading")
    (ev.inbox / "~$报告.docx").write_bytes(b"office lock")
    time.sleep(1.0)
    assert part.exists() and ev.store.list_pending() == []
    final = ev.inbox / f"{PDD_ORDER} 红章证明.jpg"
    os.replace(part, final)
    wait_for(lambda: (ev.root / RED_DIR / final.name).exists())
    assert (ev.inbox / "~$报告.docx").exists()


def test_a_hand_move_into_a_kind_folder_is_indexed_as_that_kind(ev):
    started(ev)
    ev.drop("IMG_0001.jpg", b"photo")
    wait_for(lambda: ev.store.list_pending())
    folder = ev.root / RED_DIR
    folder.mkdir(parents=True)
    os.replace(ev.inbox / "IMG_0001.jpg", folder / "IMG_0001.jpg")
    record = wait_for(lambda: ev.store.evidence_by_path(f"{RED_DIR}/IMG_0001.jpg"))
    assert (record.kind, record.platform, record.order_id, record.how) == ("red_stamp_proof", "pinduoduo", PDD_ORDER, "hand")
    wait_for(lambda: ev.store.list_pending() == [])


def test_files_copied_into_a_kind_folder_are_indexed(ev):
    started(ev)
    folder = ev.root / f"拼多多/{PDD_ORDER_2}/发货底单"
    folder.mkdir(parents=True)
    (folder / "底单.jpg").write_bytes(b"slip")
    record = wait_for(lambda: ev.store.evidence_by_path(f"拼多多/{PDD_ORDER_2}/发货底单/底单.jpg"))
    assert record.kind == "shipping_slip" and record.order_id == PDD_ORDER_2


def test_hand_renames_moves_and_deletions_update_the_index(ev):
    started(ev)
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"stamp")
    path = ev.root / RED_DIR / f"{PDD_ORDER} 红章证明.jpg"
    record = wait_for(lambda: ev.store.evidence_by_path(f"{RED_DIR}/{path.name}"))
    wait_for(lambda: not (ev.inbox / path.name).exists())  # the sorter's move finished: now a hand rename
    renamed = path.with_name("红章 正面.jpg")
    os.replace(path, renamed)
    wait_for(lambda: ev.store.evidence_by_path(f"{RED_DIR}/红章 正面.jpg"))
    assert ev.store.get_evidence(record.id).path == f"{RED_DIR}/红章 正面.jpg"
    wait_for(lambda: any(p["action"] == "renamed" and p["evidence_id"] == record.id for p in ev.of_type("evidence")))
    (ev.root / CHAT_DIR).mkdir(parents=True)
    os.replace(renamed, ev.root / CHAT_DIR / renamed.name)  # the seller says it is a chat screenshot after all
    wait_for(lambda: ev.store.get_evidence(record.id).kind == "chat_screenshot")
    (ev.root / CHAT_DIR / renamed.name).unlink()
    wait_for(lambda: ev.store.get_evidence(record.id) is None)
    wait_for(lambda: any(p["action"] == "removed" and p["evidence_id"] == record.id for p in ev.of_type("evidence")))


def test_a_renamed_order_folder_carries_its_records(ev):
    started(ev)
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"stamp")
    record = wait_for(lambda: ev.store.evidence_by_path(f"{RED_DIR}/{PDD_ORDER} 红章证明.jpg"))
    os.rename(ev.root / "拼多多" / PDD_ORDER, ev.root / "拼多多" / PDD_ORDER_2)
    wait_for(lambda: (ev.store.get_evidence(record.id) or record).order_id == PDD_ORDER_2)


def test_a_folder_dropped_into_the_inbox_is_sorted(ev, tmp_path):
    started(ev)
    outside = tmp_path / "phone export" / PDD_ORDER
    outside.mkdir(parents=True)
    (outside / "红章证明.jpg").write_bytes(b"1")
    (outside / "IMG_2.jpg").write_bytes(b"2")
    shutil.move(str(tmp_path / "phone export"), str(ev.inbox / "phone export"))
    wait_for(lambda: (ev.root / RED_DIR / "红章证明.jpg").exists())
    wait_for(lambda: (ev.root / f"拼多多/{PDD_ORDER}/待分类/IMG_2.jpg").exists())


def test_a_new_case_places_a_waiting_file(ev):
    started(ev)
    ev.drop(f"{TB_ORDER} 聊天记录.png", b"chat")
    wait_for(lambda: ev.store.list_pending())
    case = ev.case("tmall", TB_ORDER)
    ev.bus.publish(CASE_CHANGED, {"case_id": case.id}, case.id)
    wait_for(lambda: (ev.root / f"天猫/{TB_ORDER}/聊天记录截图/{TB_ORDER} 聊天记录.png").exists())
    wait_for(lambda: ev.store.list_pending() == [])


def test_pause_and_resume(ev):
    svc = started(ev)
    svc.pause()
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"stamp")
    time.sleep(1.0)
    assert (ev.inbox / f"{PDD_ORDER} 红章证明.jpg").exists() and svc.status().paused
    svc.resume()
    wait_for(lambda: (ev.root / RED_DIR / f"{PDD_ORDER} 红章证明.jpg").exists())


def test_periodic_rescan_is_a_backstop_for_missed_events(ev):
    svc = ev.service(watch=False, rescan_interval=0.5, quiet=0.2)
    svc.start()
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"stamp")
    wait_for(lambda: (ev.root / RED_DIR / f"{PDD_ORDER} 红章证明.jpg").exists())


def test_a_flood_collapses_into_a_rescan(ev):
    svc = started(ev)
    svc._debouncer.flood_limit = 20
    for i in range(300):
        ev.drop(f"{PDD_ORDER} 红章证明 {i:03d}.jpg", f"flood {i}".encode())
    wait_for(lambda: len(list((ev.root / RED_DIR).glob("*.jpg"))) == 300 if (ev.root / RED_DIR).exists() else False, timeout=30)
    assert not list(ev.inbox.iterdir())


def test_the_sorters_own_moves_cause_no_extra_work(ev):
    started(ev)
    for i in range(20):
        ev.drop(f"{PDD_ORDER} 红章证明 {i}.jpg", f"{i}".encode())
    wait_for(lambda: ev.store.evidence_count() == 20)
    time.sleep(1.0)  # let the echoes of our own moves arrive
    added = [p for p in ev.of_type("evidence") if p["action"] == "added"]
    assert len(added) == 20 and len({p["evidence_id"] for p in added}) == 20
    assert not [p for p in ev.of_type("evidence") if p["action"] != "added"]


def test_idle_watcher_uses_no_cpu(ev):
    started(ev)
    for i in range(5):
        ev.drop(f"{PDD_ORDER} 红章证明 {i}.jpg", f"{i}".encode())
    wait_for(lambda: ev.store.evidence_count() == 5)
    time.sleep(0.5)
    cpu_before, wall_before = time.process_time(), time.monotonic()
    time.sleep(3.0)
    cpu = time.process_time() - cpu_before
    assert cpu < 0.05 * (time.monotonic() - wall_before), f"idle CPU {cpu:.3f}s"


def test_debouncer_rules():
    d = Debouncer(quiet=1.0, max_delay=5.0, close_events=True, writing_timeout=30.0, flood_limit=3)
    from pathlib import Path

    a, b, c = Path("a"), Path("b"), Path("c")
    d.hint(a, "created", 0.0)
    d.hint(b, "modified", 0.0)  # open for writing: waits for its close
    assert d.pop_due(0.5) == [] and [p for p, _ in d.pop_due(1.0)] == [a]
    assert d.pop_due(10.0) == []
    d.hint(b, "closed", 10.0)
    assert [p for p, _ in d.pop_due(10.3)] == [b]
    d.hint(c, "created", 20.0)
    for t in range(1, 10):
        d.hint(c, "created", 20.0 + t * 0.9)  # events keep coming: the maximum delay still fires
    assert [p for p, _ in d.pop_due(25.0)] == [c]
    for name in "wxyz":
        d.hint(Path(name), "created", 30.0)
    assert d.take_flood() and len(d) == 0


def test_a_waiting_file_deleted_by_hand_is_no_longer_pending(ev):
    started(ev)
    waiting = ev.drop("IMG_0002.jpg", b"x")
    wait_for(lambda: ev.store.list_pending())
    waiting.unlink()
    wait_for(lambda: ev.store.list_pending() == [])
    assert {"path": "收件箱/IMG_0002.jpg", "reason": None} in ev.of_type("pending")


def test_a_waiting_file_renamed_with_an_order_id_is_sorted(ev):
    started(ev)
    waiting = ev.drop("IMG_0003.jpg", b"x")
    wait_for(lambda: ev.store.list_pending())
    os.rename(waiting, ev.inbox / f"{PDD_ORDER} 红章证明.jpg")
    wait_for(lambda: (ev.root / RED_DIR / f"{PDD_ORDER} 红章证明.jpg").exists())
    wait_for(lambda: ev.store.list_pending() == [])
