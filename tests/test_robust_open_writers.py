"""A file still open for writing is never moved out from under its writer.

Shapes: the inbox on another filesystem (a USB stick, a network drive: here a real tmpfs mounted on
the inbox folder, so the mover copies and then removes the source) and on the same one (hard link,
then unlink). The writer keeps one handle open and pauses longer than the watcher's wait for a
close event (30 s in the helper, 1 s here), so the watcher hands the file over while it is open.
Before, on the copy path the source was unlinked after the copy and the writer's later bytes were
lost; on the link path the writer went on writing the moved file and the record's size was wrong.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fixtures.evidence import PDD_ORDER, files_under, wait_for
from juzheng.evidence.osfacts import WriterCheck

pytestmark = [pytest.mark.subprocess, pytest.mark.slow, pytest.mark.timeout(120)]
LINUX = sys.platform.startswith("linux")
SLIP_DIR = f"拼多多/{PDD_ORDER}/发货底单"
NAME = f"{PDD_ORDER} 发货底单.jpg"


def _mount_tmpfs(where: Path) -> bool:
    if not LINUX or os.geteuid() != 0:
        return False
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(where)], capture_output=True)
    return done.returncode == 0


@pytest.fixture(params=["other_filesystem", "same_filesystem"])
def inbox_fs(request, ev):
    if request.param == "other_filesystem":
        if not _mount_tmpfs(ev.inbox):
            pytest.skip("needs root to mount a tmpfs on the inbox (the copy path)")
        request.addfinalizer(lambda: subprocess.run(["umount", "-l", str(ev.inbox)], check=False))
        assert os.stat(ev.inbox).st_dev != os.stat(ev.root).st_dev
    return request.param


class PausingWriter(threading.Thread):
    """One handle; writes a chunk, pauses ``gap`` seconds, ``chunks`` times; closes at the end."""

    def __init__(self, path: Path, chunks: int, gap: float) -> None:
        super().__init__(daemon=True)
        self.path, self.chunks, self.gap = path, chunks, gap
        self.data = b""
        self.error: BaseException | None = None
        self.opened = threading.Event()

    def run(self) -> None:
        try:
            with open(self.path, "wb") as fh:
                self.opened.set()
                for i in range(self.chunks):
                    chunk = os.urandom(64 * 1024) + f"chunk {i}".encode()
                    fh.write(chunk)
                    fh.flush()
                    self.data += chunk
                    if i < self.chunks - 1:
                        time.sleep(self.gap)
        except BaseException as exc:
            self.error = exc
            self.opened.set()


@pytest.mark.skipif(not LINUX, reason="the watcher's close events and /proc are Linux's")
def test_a_writer_pausing_past_the_close_timeout_keeps_all_its_bytes(ev, inbox_fs):
    ev.case("pinduoduo", PDD_ORDER)
    svc = ev.service(writing_timeout=1.0)
    svc.start()
    wait_for(lambda: svc.status().indexing is None and svc.status().last_rescan_at is not None)
    writer = PausingWriter(ev.inbox / NAME, chunks=3, gap=2.5)
    writer.start()
    writer.join(timeout=60)
    assert writer.error is None, writer.error
    sorted_file = ev.root / SLIP_DIR / NAME
    wait_for(lambda: sorted_file.exists() and not (ev.inbox / NAME).exists(), timeout=30)
    assert sorted_file.read_bytes() == writer.data, "the writer's later bytes were lost or the file was taken early"
    assert [p for p in files_under(ev.root) if p.name == NAME] == [sorted_file]
    wait_for(lambda: ev.store.evidence_for_order("pinduoduo", PDD_ORDER), timeout=10)
    (record,) = ev.store.evidence_for_order("pinduoduo", PDD_ORDER)
    wait_for(lambda: ev.store.get_evidence(record.id).size == len(writer.data), timeout=10)
    assert ev.store.get_evidence(record.id).size == os.path.getsize(sorted_file)


def test_juzheng_sort_leaves_a_file_open_for_writing_and_takes_it_once_closed(ev, inbox_fs):
    if not LINUX:
        pytest.skip("Linux /proc branch; the Windows branch is tested with an injected opener below")
    ev.case("pinduoduo", PDD_ORDER)
    svc = ev.service(watch=False)
    path = ev.inbox / NAME
    with open(path, "wb") as fh:
        fh.write(b"first half ")
        fh.flush()
        (item,) = svc.sort_once()
        assert item.status == "busy" and "写入" in (item.reason or ""), item
        assert path.exists()
        fh.write(b"second half")
    (item,) = svc.sort_once()
    assert item.status == "done", item
    assert (ev.root / SLIP_DIR / NAME).read_bytes() == b"first half second half"
    assert not path.exists()


def test_a_reader_does_not_count_as_a_writer(ev, inbox_fs):
    if not LINUX:
        pytest.skip("Linux /proc branch")
    ev.case("pinduoduo", PDD_ORDER)
    path = ev.drop(NAME, b"done writing")
    with open(path, "rb"):  # a thumbnailer or a virus scanner reading it
        (item,) = ev.service(watch=False).sort_once()
    assert item.status == "done", item


@pytest.mark.skipif(not LINUX, reason="Linux lease and /proc branches")
@pytest.mark.parametrize("leases", [True, False], ids=["lease", "proc_scan"])
def test_writer_check_sees_another_process_holding_the_file(tmp_path, leases):
    path = tmp_path / "a.jpg"
    path.write_bytes(b"x")
    check = WriterCheck(ttl=0, leases=leases)
    assert not check.open_for_writing(path)
    child = subprocess.Popen([sys.executable, "-c", f"import sys,time; f=open({str(path)!r},'ab'); print('open', flush=True); time.sleep(60)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "open"
        assert check.open_for_writing(path)
    finally:
        child.kill()
        child.wait()
    assert not check.open_for_writing(path, fresh=True)


# -- the Windows branch, with an injected opener --------------------------------------------------
def _sharing_violation(path: str) -> None:
    exc = OSError(errno.EACCES, "The process cannot access the file because it is being used by another process", path)
    exc.winerror = 32  # type: ignore[attr-defined]
    raise exc


def test_windows_branch_reads_a_sharing_violation_as_open_for_writing(tmp_path):
    seen: list[str] = []

    def free(path: str) -> None:
        seen.append(path)

    path = tmp_path / "a.jpg"
    assert WriterCheck(platform="win32", opener=_sharing_violation).open_for_writing(path)
    assert not WriterCheck(platform="win32", opener=free).open_for_writing(path)
    assert seen == [str(path)]

    def gone(path: str) -> None:
        raise FileNotFoundError(path)

    assert not WriterCheck(platform="win32", opener=gone).open_for_writing(path)


def test_mover_leaves_a_file_windows_says_is_open_for_writing(ev):
    from juzheng.evidence.mover import FileState, Mover, new_batch, sha256_file

    src = ev.drop(NAME, b"being written")
    mover = Mover(ev.store, writers=WriterCheck(platform="win32", opener=_sharing_violation))
    result = mover.move(src, ev.root / SLIP_DIR, NAME, batch=new_batch(), expect=FileState.of(src), sha256=sha256_file(src))
    assert result.status == "busy" and src.read_bytes() == b"being written"
    assert not (ev.root / SLIP_DIR / NAME).exists()
    assert ev.store.moves_in_state("planned") == []
