"""A large evidence tree must not flood the watcher.

Found by scripts/bench (idle CPU with 100,000 files): reading the tree — the helper's own first
index, a rescan, a backup tool, Explorer — opens every folder, and an inotify watch that asks for open
and close-without-write events gets four events per folder. Past ~4,000 folders the kernel queue
(16,384 events) overflows; watchdog then re-walks the whole tree to re-add its watches, which opens
every folder again: the helper spun a CPU core at 100 % for as long as it ran.

Behaviour checked here, with the real EvidenceService on a tree of 6,000 folders: reading the tree
(twice, as a backup tool would) causes no overflow, the helper is idle afterwards, and a file dropped
into the inbox is still sorted.
"""

from __future__ import annotations

import logging
import os
import time

import pytest

from fixtures.evidence import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120), pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")]

ORDERS = 3000  # x (order folder + kind folder) = 6,000 folders


def _tree(root) -> None:
    for n in range(ORDERS):
        kind = root / "拼多多" / f"2405{n % 28 + 1:02d}-{n:015d}" / "快递红章证明"
        kind.mkdir(parents=True)
        (kind / "IMG_1.jpg").write_bytes(b"x")


def _overflows(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "overflow" in r.getMessage().lower()]


def test_reading_a_large_tree_never_overflows_the_watch(ev, caplog):
    caplog.set_level(logging.WARNING)
    _tree(ev.root)
    svc = ev.service()
    svc.start()
    wait_for(lambda: svc.status().last_rescan_at is not None, timeout=60)
    assert ev.store.evidence_count() == ORDERS
    for _ in range(2):  # a backup tool or Explorer reading every folder
        for _folder, _dirs, _files in os.walk(ev.root):
            pass
    # Every event the walks caused has been read (an overflow would be among them) and handled.
    ev.settle(svc)
    assert not _overflows(caplog), _overflows(caplog)[:3]

    # Idle afterwards (the overflow loop kept a core busy), measured over a fixed window as the idle test does.
    cpu_before, wall_before = time.process_time(), time.monotonic()
    time.sleep(2.0)
    cpu = time.process_time() - cpu_before
    assert cpu < 0.1 * (time.monotonic() - wall_before), f"busy while idle: {cpu:.2f}s CPU in 2s"

    # And the watch still works.
    ev.drop("240501-000000000000001 红章证明.jpg", b"stamp")
    target = ev.root / "拼多多" / "240501-000000000000001" / "快递红章证明" / "240501-000000000000001 红章证明.jpg"
    wait_for(target.exists, timeout=15)
