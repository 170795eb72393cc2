"""Crash test: kill -9 the sorter during 2,000-file bursts, restart, and every file is there exactly once.

A subprocess runs the real EvidenceService (watcher + worker) on a temp root; each round writes a
burst of files into the inbox and kills the sorter with SIGKILL at a random moment while it moves
them. After the rounds `juzheng sort` (recovery + index + one pass) finishes the job. Then every
file written must exist exactly once, anywhere under the root, with its original sha256; nothing
may be left half-moved in the journal, and the index must match the disk.

JUZHENG_CRASH_ROUNDS / JUZHENG_CRASH_SEED extend or replay it (the benchmark runs 20 rounds).
kill -9 is POSIX-only here; the code under test has no POSIX-only calls.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.evidence import files_by_sha, start_burst
from juzheng.store import DB_NAME, open_store

pytestmark = [
    pytest.mark.slow,
    pytest.mark.subprocess,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kill -9 needs a POSIX test machine"),
    pytest.mark.timeout(240),
]

HELPER = Path(__file__).resolve().parents[1] / "helper"
ROUNDS = int(os.environ.get("JUZHENG_CRASH_ROUNDS", "3"))
SEED = int(os.environ.get("JUZHENG_CRASH_SEED", str(random.randrange(1 << 30))))
BURST = 2000
KILLS_PER_ROUND = 3
ORDERS = [f"2401{d:02d}-{d:015d}" for d in range(10, 30)]

RUNNER = r"""
import sys, time
from pathlib import Path
from juzheng.events import EventBus
from juzheng.evidence import EvidenceService
from juzheng.rules import load_rulebook
from juzheng.store import DB_NAME, open_store
import os
root, state, links = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "links"
# A slow disk: widen the window between link and unlink, so kills land inside moves more often.
_link = os.link
def slow_link(a, b):
    _link(a, b)
    time.sleep(0.003)
os.link = slow_link
store = open_store(state)
book = load_rulebook()
service = EvidenceService(root, store, lambda: book, EventBus(store), use_links=links, quiet=0.2)
service.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def _name(i: int, round_no: int, rng: random.Random) -> str:
    order = rng.choice(ORDERS)
    shape = i % 5
    if shape == 0:
        return f"r{round_no}/c{i}/{order} 聊天截图.png"  # same dest name from many folders: (2), (3)…
    if shape == 1:
        return f"r{round_no}/{order} 红章证明 {i}.jpg"
    if shape == 2:
        return f"r{round_no}/{order} IMG_{i}.jpg"  # 待分类
    if shape == 3:
        return f"r{round_no}/IMG_{i}.jpg"  # no order: stays in the inbox, pending
    return f"r{round_no}/{order} 发货底单 😀 {i}.jpg"


def _content(i: int, round_no: int, rng: random.Random) -> bytes:
    size = rng.choice([200, 1500, 20_000]) if i % 97 else 1_500_000  # a few large ones: kills land mid-copy
    head = f"round {round_no} file {i}\n".encode()
    return head + rng.randbytes(size)


def _start(root: Path, state: Path, links: bool) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(HELPER)}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(root), str(state), "links" if links else "copy"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )
    assert proc.stdout.readline().strip() == b"ready"
    return proc


@pytest.mark.parametrize("links", [True, False], ids=["hardlink", "copy"])
def test_kill_9_during_bursts_loses_and_duplicates_nothing(tmp_path, links):
    rng = random.Random(SEED)
    root, state = tmp_path / "root", tmp_path / "state"
    (root / "收件箱").mkdir(parents=True)
    expected: dict[str, str] = {}
    rounds = ROUNDS if links else 1
    kills = 0
    for round_no in range(rounds):
        writer = None
        for _kill_no in range(KILLS_PER_ROUND if links else 2):
            proc = _start(root, state, links)
            if writer is None:
                writer = start_burst(root / "收件箱", [(_name(i, round_no, rng), _content(i, round_no, rng)) for i in range(BURST)], expected)
            time.sleep(rng.uniform(0.2, 1.2))  # while the burst is written and sorted
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        writer.join()

    # Restart: the one-shot sorter recovers, re-indexes and finishes what the kills interrupted.
    env = {**os.environ, "PYTHONPATH": str(HELPER)}
    done = subprocess.run(
        [sys.executable, "-m", "juzheng", "sort", "--root", str(root), "--state-dir", str(state), "--json"],
        capture_output=True, env=env, timeout=180,
    )
    assert done.returncode == 0, done.stderr.decode()

    disk = files_by_sha(root)
    lost = [sha for sha in expected if sha not in disk]
    doubled = {sha: paths for sha, paths in disk.items() if len(paths) > 1}
    extra = [paths for sha, paths in disk.items() if sha not in expected]
    context = f"seed={SEED} rounds={rounds} links={links}"
    assert not lost, f"{len(lost)} files lost ({context})"
    assert not doubled, f"files present more than once: {list(doubled.values())[:3]} ({context})"
    assert not extra, f"unexpected files (partial copies?): {extra[:3]} ({context})"
    assert sum(len(p) for p in disk.values()) == len(expected) == BURST * rounds

    store = open_store(state)
    try:
        assert store.moves_in_state("planned") == [], context
        recovered = [m for m in store.moves_in_state("rolled_back") + store.moves_in_state("done") if (m.error or "").startswith("中断后恢复")]
        print(f"{context}: {len(recovered)} moves were found unfinished after a kill and resolved")
        indexed = store.all_evidence_paths()
        in_orders = {p for paths in disk.values() for p in paths
                     if not p.startswith(("收件箱/", ".重复/", ".回收站/"))}
        assert set(indexed) == in_orders, context
        inbox_left = {p for paths in disk.values() for p in paths
                      if p.startswith("收件箱/")}
        assert inbox_left == {p.path for p in store.list_pending()}, context
        assert all("/IMG_" in p and " " not in p.rsplit("/", 1)[-1] for p in inbox_left), context
    finally:
        store.close()
    assert kills == rounds * (KILLS_PER_ROUND if links else 2)


SORT_RUNNER = r"""
import errno, os, sys, time
_link = os.link
def slow_link(a, b):  # a slow disk: kills land between a batch's journal and its completions
    _link(a, b)
    time.sleep(0.002)
def no_link(a, b):  # a destination without hard links (FAT, shares): every move is a verified copy
    raise OSError(errno.EXDEV, "no links here")
os.link = slow_link if sys.argv[1] == "links" else no_link
from juzheng.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _last_move_id(db: Path) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM moves").fetchone()[0])


def _wait_for_new_planned_moves(db: Path, before: int, proc: subprocess.Popen, timeout: float = 120.0) -> bool:
    """True once this sorter run has journaled a batch of its own; False if it ended first.

    Moves a killed run left planned are there before the next run recovers them: only a move
    journaled after the run started says it is inside a batch.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if db.exists():
            try:
                with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=0.05)) as conn:
                    if conn.execute("SELECT 1 FROM moves WHERE state='planned' AND id>? LIMIT 1", (before,)).fetchone():
                        return True
            except sqlite3.OperationalError:
                pass  # schema not made yet, or the writer holds a lock: look again
        time.sleep(0.002)
    raise AssertionError("the sorter journaled no batch within 120 s")


@pytest.mark.parametrize("links", [True, False], ids=["hardlink", "copy"])
def test_kill_9_of_juzheng_sort_inside_its_batches_loses_and_duplicates_nothing(tmp_path, links):
    # `juzheng sort` journals a batch of moves in one transaction before the first happens and their
    # completions after the last; killed anywhere in between, the next run finishes or rolls back each.
    rng = random.Random(SEED)
    root, state = tmp_path / "root", tmp_path / "state"
    inbox = root / "收件箱"
    expected: dict[str, str] = {}
    count = 1500 if links else 400
    for i in range(count):
        path = inbox / _name(i, 0, rng)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Sizes all different (as photos' are): no file can be another's twin, so the sorter
        # batches them all instead of checking one by one.
        data = f"file {i}\n".encode() + rng.randbytes(1000 + 7 * i if i % 97 else 1_500_000 + i)
        path.write_bytes(data)
        expected[hashlib.sha256(data).hexdigest()] = path.name
    env = {**os.environ, "PYTHONPATH": str(HELPER)}
    argv = ["sort", "--root", str(root), "--state-dir", str(state), "--json"]
    kills = 0
    for _ in range(4):
        before = _last_move_id(state / DB_NAME)
        proc = subprocess.Popen([sys.executable, "-c", SORT_RUNNER, "links" if links else "copy", *argv],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        # Kill inside a batch: once the journal holds planned moves (a batch is under way), a
        # random few milliseconds later. A run that finds nothing left to sort ends unkilled.
        if _wait_for_new_planned_moves(state / DB_NAME, before, proc):
            time.sleep(rng.uniform(0, 0.08))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
        proc.wait()
    done = subprocess.run([sys.executable, "-m", "juzheng", *argv], capture_output=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr.decode()

    disk = files_by_sha(root)
    context = f"seed={SEED} links={links} kills={kills}"
    assert not [sha for sha in expected if sha not in disk], f"files lost ({context})"
    assert not {sha: p for sha, p in disk.items() if len(p) > 1}, f"files present twice ({context})"
    assert not [p for sha, p in disk.items() if sha not in expected], f"unexpected files ({context})"
    store = open_store(state)
    try:
        assert store.moves_in_state("planned") == [], context
        recovered = [m for m in store.moves_in_state("rolled_back") + store.moves_in_state("done") if (m.error or "").startswith("中断后恢复")]
        print(f"{context}: {len(recovered)} moves were found unfinished after a kill and resolved")
        in_orders = {p for paths in disk.values() for p in paths if not p.startswith(("收件箱/", ".重复/", ".回收站/"))}
        assert set(store.all_evidence_paths()) == in_orders, context
        assert {p for paths in disk.values() for p in paths if p.startswith("收件箱/")} == {p.path for p in store.list_pending()}, context
    finally:
        store.close()
    assert kills >= 1, context
