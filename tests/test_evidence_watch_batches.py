"""The helper's inbox worker moves the files it finds complete together in journaled batches
(``Sorter.sort_many``), as ``juzheng sort`` does, with the real watcher on real temp folders:
several moves on record before the first link, every move finished, every file placed once."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from fixtures.evidence import PDD_ORDER, files_under, wait_for
from juzheng.evidence.inbox_worker import WATCH_BATCH

pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")

RED_DIR = f"拼多多/{PDD_ORDER}/快递红章证明"


def _planned_at_each_link(ev, monkeypatch) -> list[int]:
    seen: list[int] = []
    real_link = os.link

    def spy(src, dest, *args, **kwargs):
        seen.append(len(ev.store.moves_in_state("planned")))
        return real_link(src, dest, *args, **kwargs)

    monkeypatch.setattr(os, "link", spy)
    return seen


def _started(ev):
    svc = ev.service()
    svc.start()
    wait_for(lambda: svc.status().last_rescan_at is not None)
    return svc


def test_files_waiting_at_start_are_moved_in_journaled_batches(ev, monkeypatch):
    count = WATCH_BATCH + 5
    old = time.time() - 60  # untouched for longer than a quiet period: complete when the first scan finds them
    for n in range(count):
        path = ev.drop(f"{PDD_ORDER} 红章证明 {n}.jpg", b"photo" * (n + 1))  # sizes differ: none can be a twin
        os.utime(path, (old, old))
    planned = _planned_at_each_link(ev, monkeypatch)
    _started(ev)
    wait_for(lambda: len(files_under(ev.root / RED_DIR)) == count and not any(ev.inbox.iterdir()))
    wait_for(lambda: len(ev.store.moves_in_state("done")) == count)
    # One file at a time, each link saw only its own move planned: [1, 1, …].
    assert planned[0] == WATCH_BATCH
    assert max(planned) <= WATCH_BATCH  # bounded: the sorter lock is held for one batch at a time
    assert ev.store.moves_in_state("planned") == []
    assert sorted(p.read_bytes() for p in files_under(ev.root / RED_DIR)) == sorted(b"photo" * (n + 1) for n in range(count))
    assert len(ev.store.evidence_for_order("pinduoduo", PDD_ORDER)) == count


def test_a_folder_dropped_in_is_moved_together(ev, tmp_path, monkeypatch):
    _started(ev)
    planned = _planned_at_each_link(ev, monkeypatch)
    outside = tmp_path / "phone export"
    outside.mkdir()
    for n in range(8):
        (outside / f"{PDD_ORDER} 红章证明 {n}.jpg").write_bytes(b"x" * (n + 1))
    shutil.move(str(outside), str(ev.inbox / "phone export"))
    wait_for(lambda: len(files_under(ev.root / RED_DIR)) == 8)
    wait_for(lambda: len(ev.store.moves_in_state("done")) == 8)
    # Its files count as complete together (one quiet period for the folder): at least one link
    # found others of the folder journaled with it.
    assert max(planned) > 1
    assert ev.store.moves_in_state("planned") == []


def test_a_twin_among_files_ready_together_goes_to_duplicates(ev):
    ev.drop(f"{PDD_ORDER} 红章证明 a.jpg", b"same bytes")
    ev.drop(f"{PDD_ORDER} 红章证明 b.jpg", b"same bytes")
    ev.drop(f"{PDD_ORDER} 红章证明 c.jpg", b"other size")
    _started(ev)
    wait_for(lambda: not any(p.is_file() for p in ev.inbox.rglob("*")))
    assert sorted(p.name for p in files_under(ev.root / RED_DIR)) == [f"{PDD_ORDER} 红章证明 a.jpg", f"{PDD_ORDER} 红章证明 c.jpg"]
    assert [p.read_bytes() for p in files_under(ev.root / ".重复")] == [b"same bytes"]
