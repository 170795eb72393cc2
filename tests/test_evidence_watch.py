"""The real watchdog watcher on real temp folders: arrivals, slow writers, hand changes, floods, idle CPU."""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

from fixtures.evidence import PDD_ORDER, PDD_ORDER_2, TB_ORDER, files_under, wait_for
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
    # A move is link, verify, unlink: the source is gone a moment after the target appears.
    wait_for(lambda: target.exists() and not (ev.inbox / target.name).exists())
    assert target.read_bytes() == b"stamp"
    wait_for(lambda: any(p["action"] == "added" for p in ev.of_type("evidence")))


def test_files_already_in_the_inbox_at_start_are_sorted(ev):
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"stamp")
    ev.drop("IMG_1.jpg", b"x")
    started(ev)
    wait_for(lambda: (ev.root / RED_DIR / f"{PDD_ORDER} 红章证明.jpg").exists())
    wait_for(lambda: [p.path for p in ev.store.list_pending()] == ["收件箱/IMG_1.jpg"])


class SlowWriter(threading.Thread):
    """Writes 50 kB chunks through one open handle, ``gap`` seconds apart, until told to finish.

    ``pause_after``: stop writing after that many chunks (the handle stays open) until ``finish``.
    After each chunk it checks that the file is still where it writes it.
    """

    def __init__(self, path, gap: float, pause_after: int | None = None) -> None:
        super().__init__()
        self.path, self.gap, self.pause_after = path, gap, pause_after
        self.finish = threading.Event()
        self.paused = threading.Event()
        self.chunks = 0
        self.data = b""
        self.moved_early: list[int] = []

    def run(self) -> None:
        with open(self.path, "wb") as fh:
            while True:
                self._chunk(fh)
                if self.chunks == self.pause_after:
                    self.paused.set()
                    self.finish.wait(60)
                    self._chunk(fh)  # one more after the pause, then the close
                    return
                if self.finish.is_set() and self.chunks >= 2:
                    return
                time.sleep(self.gap)

    def _chunk(self, fh) -> None:
        chunk = os.urandom(50_000) + f"chunk {self.chunks}".encode()
        fh.write(chunk)
        fh.flush()
        self.data += chunk
        if not self.path.exists():
            self.moved_early.append(self.chunks)
        self.chunks += 1


@pytest.mark.parametrize("mode", ["close_event", "size_mtime_stable"])
def test_a_slowly_written_file_is_moved_only_when_complete(ev, mode):
    """Linux: wait for the close, even across a pause longer than the quiet period.
    Windows/macOS (no close event, simulated here): wait until size and mtime hold still."""
    if mode == "close_event":
        svc = started(ev, close_events=True, quiet=0.3)
        writer = SlowWriter(ev.inbox / f"{PDD_ORDER} 聊天截图.png", gap=0.1, pause_after=3)
    else:
        svc = started(ev, close_events=False, quiet=1.0)
        writer = SlowWriter(ev.inbox / f"{PDD_ORDER} 聊天截图.png", gap=0.25)  # writes keep it changing
    src = writer.path
    writer.start()
    if mode == "close_event":
        assert writer.paused.wait(10)  # open, written, and quiet for longer than the quiet period
    ev.settle(svc)
    assert src.exists() and not (ev.root / CHAT_DIR).exists()  # still being written: untouched
    if mode == "close_event":
        assert svc.status().waiting == 1  # seen, and held back until its close
    writer.finish.set()
    writer.join()
    target = ev.root / CHAT_DIR / src.name
    wait_for(lambda: target.exists() and not src.exists())
    assert target.read_bytes() == writer.data
    assert not writer.moved_early and len(files_under(ev.root)) == 1


def test_partial_download_names_wait_until_renamed(ev):
    svc = started(ev)
    part = ev.inbox / f"{PDD_ORDER} 红章证明.jpg.crdownload"
    part.write_bytes(b"downloading")
    (ev.inbox / "~$报告.docx").write_bytes(b"office lock")
    ev.settle(svc)
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
    ev.settle(svc)
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
    svc.worker.debouncer.flood_limit = 20
    for i in range(300):
        ev.drop(f"{PDD_ORDER} 红章证明 {i:03d}.jpg", f"flood {i}".encode())
    # Both halves of every move (the link, then the inbox name's unlink) are what this waits for.
    wait_for(lambda: (ev.root / RED_DIR).exists() and len(list((ev.root / RED_DIR).glob("*.jpg"))) == 300 and not list(ev.inbox.iterdir()), timeout=60)


def test_the_sorters_own_moves_cause_no_extra_work(ev):
    svc = started(ev)
    for i in range(20):
        ev.drop(f"{PDD_ORDER} 红章证明 {i}.jpg", f"{i}".encode())
    wait_for(lambda: ev.store.evidence_count() == 20)
    ev.settle(svc)  # the echoes of our own moves have arrived and been handled
    added = [p for p in ev.of_type("evidence") if p["action"] == "added"]
    assert len(added) == 20 and len({p["evidence_id"] for p in added}) == 20
    assert not [p for p in ev.of_type("evidence") if p["action"] != "added"]


def test_idle_watcher_uses_no_cpu(ev):
    svc = started(ev)
    for i in range(5):
        ev.drop(f"{PDD_ORDER} 红章证明 {i}.jpg", f"{i}".encode())
    wait_for(lambda: ev.store.evidence_count() == 5)
    ev.settle(svc)  # idle from here on: measured over a fixed window
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
