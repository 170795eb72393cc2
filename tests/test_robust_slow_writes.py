"""Files written slowly over seconds into the real helper's inbox, several at once.

tests/test_evidence_watch.py checks one slow writer against the bare EvidenceService. Here the real
``juzheng serve`` faces the shapes sellers' tools produce, side by side: one handle with pauses longer
than the quiet period, a browser download (``.crdownload`` written slowly, renamed at the end), a phone
export into a folder created mid-way, a large video in 1 MB chunks, and a file without an order id.
Every writer checks after each chunk that its file is still where it writes it (never moved while
being written); at the end each file exists exactly once, complete, with its sha256.

A file written into a folder created a moment before: inotify watches the new folder only after its
first write, so that write's event is lost and the file looks like one moved in whole. Files found in a
just-appeared folder therefore wait NEW_FOLDER_QUIET (3 s) instead of the 0.5 s quiet period, long enough
for the writer's next chunk to show through the now active watch. Known limit: a writer that pauses
longer than that between its first and second chunk in a brand-new folder is still taken as done.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from fixtures.evidence import SYNC_DIR, settle
from juzheng.paths import INBOX
from juzheng.store import open_store

ORDER = "240305-000000000000305"
ORDER_2 = "240306-000000000000306"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
HELPER_QUIET = 0.5  # juzheng serve's quiet period where there are close events (Linux)


class Writer(threading.Thread):
    """Writes at least ``chunks`` chunks with ``gap`` seconds between them through one open handle,
    and goes on until ``release`` is set (set from the start unless the test holds it)."""

    def __init__(self, path: Path, chunks: int, gap: float, size: int, final: Path | None = None) -> None:
        super().__init__()
        self.path, self.chunks, self.gap, self.size, self.final = path, chunks, gap, size, final
        self.data = b""
        self.moved_early: list[int] = []
        self.error: BaseException | None = None
        self.release = threading.Event()
        self.release.set()
        self.written = threading.Event()  # two chunks are on disk: the helper has something to see

    def run(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "wb") as fh:
                i = 0
                while i < self.chunks or not self.release.is_set():
                    chunk = os.urandom(self.size) + f"chunk {i}".encode()
                    fh.write(chunk)
                    fh.flush()
                    self.data += chunk
                    if not self.path.exists():
                        self.moved_early.append(i)
                    if i == 1:
                        self.written.set()
                    i += 1
                    time.sleep(self.gap)
            if self.final is not None:
                os.replace(self.path, self.final)  # the download finished: renamed to its real name
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _disk(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_relative_to(root / SYNC_DIR):
            found.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), []).append(path.relative_to(root).as_posix())
    return found


def test_slow_writers_are_sorted_only_when_complete(running_helper):
    root = running_helper.root
    inbox = root / INBOX
    (inbox / "手机导出 0305").mkdir(parents=True, exist_ok=True)  # a folder that was there already
    store = open_store(running_helper.state_dir)
    indexed = lambda path: store.evidence_by_path(path) is not None  # noqa: E731
    settle(root, indexed, HELPER_QUIET)  # the folder is watched from here on
    writers = {
        # Pauses (0.7 s) longer than the quiet period: only the missing close event keeps it in place.
        "one_handle": Writer(inbox / f"{ORDER} 聊天记录截图.png", chunks=6, gap=0.7, size=40_000),
        "download": Writer(inbox / f"{ORDER} 快递红章证明.jpg.crdownload", chunks=8, gap=0.4, size=60_000,
                           final=inbox / f"{ORDER} 快递红章证明.jpg"),
        "subfolder": Writer(inbox / "手机导出 0305" / f"{ORDER_2} 发货底单.jpg", chunks=5, gap=0.6, size=30_000),
        "video": Writer(inbox / f"{ORDER_2} 拆包验货视频.mp4", chunks=12, gap=0.3, size=1_000_000),
        "no_order": Writer(inbox / "IMG_20240305_101500.jpg", chunks=4, gap=0.8, size=20_000),
    }
    for w in writers.values():
        w.release.clear()  # each goes on writing until the helper has provably seen it all
        w.start()
    for w in writers.values():
        assert w.written.wait(30), w.error
    settle(root, indexed, HELPER_QUIET)
    # Mid-way: nothing has left the inbox, no order folder holds a partial file.
    early = [p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.is_file() and not p.is_relative_to(inbox) and not p.is_relative_to(root / SYNC_DIR)]
    assert not early, f"sorted while still being written: {early}"
    for w in writers.values():
        w.release.set()
    for w in writers.values():
        w.join(timeout=30)
        assert w.error is None, w.error
        assert not w.moved_early, f"{w.path.name} was moved while being written (after chunks {w.moved_early})"

    expected = {w.sha256: name for name, w in writers.items()}
    deadline = time.monotonic() + 20
    while True:
        disk = _disk(root)
        inbox_left = [p for paths in disk.values() for p in paths if p.startswith(INBOX + "/")]
        if inbox_left == [f"{INBOX}/IMG_20240305_101500.jpg"]:
            break
        assert time.monotonic() < deadline, f"still in the inbox: {inbox_left}"
        time.sleep(0.2)
    assert set(disk) == set(expected), {expected.get(s, "?"): p for s, p in disk.items()}
    assert all(len(paths) == 1 for paths in disk.values()), disk
    placed = {expected[sha]: paths[0] for sha, paths in disk.items()}
    assert placed["one_handle"] == f"拼多多/{ORDER}/聊天记录截图/{ORDER} 聊天记录截图.png"
    assert placed["download"] == f"拼多多/{ORDER}/快递红章证明/{ORDER} 快递红章证明.jpg"
    assert placed["subfolder"] == f"拼多多/{ORDER_2}/发货底单/{ORDER_2} 发货底单.jpg"
    assert placed["video"].startswith(f"拼多多/{ORDER_2}/")
    # The order-less file waits with a reason the seller can act on, once it is complete.
    try:
        pending = {p.path: p.reason for p in store.list_pending()}
        indexed = store.all_evidence_paths()
    finally:
        store.close()
    assert list(pending) == [f"{INBOX}/IMG_20240305_101500.jpg"] and pending[f"{INBOX}/IMG_20240305_101500.jpg"]
    for name in ("one_handle", "download", "subfolder", "video"):
        assert indexed[placed[name]][0] == len(writers[name].data)  # the index has the complete size


def test_slow_writer_in_a_folder_created_moments_before(running_helper):
    root = running_helper.root
    (root / INBOX).mkdir(parents=True, exist_ok=True)
    writers = [Writer(root / INBOX / f"手机导出 {n}" / f"{ORDER_2} 发货底单 {n}.jpg", chunks=3, gap=0.7, size=30_000) for n in range(2)]
    for w in writers:
        w.start()
        w.join(timeout=30)
        assert w.error is None, w.error
    assert not [w.path.name for w in writers if w.moved_early], "moved while being written"
