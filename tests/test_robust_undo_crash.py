"""kill -9 during ``juzheng undo`` must not let the next start sort the undone files straight back.

Undo moves each file of the batch back into the inbox and then marks it held (the sorter leaves it
alone until the seller renames or changes it). A kill between those two steps left files in the inbox
that nothing marked held: the next start re-sorted them. The undo is journaled, so the next start
finishes its bookkeeping first.

The crash is placed exactly: a child process runs the real ``juzheng undo`` (``cli.main``) with one
step of the engine replaced by ``SIGKILL`` to itself, at each point of the undo where a crash changes
what is on disk or in the store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from fixtures.evidence import PDD_ORDER, files_under
from juzheng.paths import INBOX

pytestmark = [
    pytest.mark.subprocess,
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kill -9 needs a POSIX test machine"),
    pytest.mark.timeout(120),
]

NAMES = [f"{PDD_ORDER} 红章证明.jpg", f"{PDD_ORDER} 聊天截图.jpg", f"{PDD_ORDER} 发货底单.jpg"]

CRASH_POINTS = [
    "before_hold_of_the_third",  # the third file back in the inbox, its undo finished, not yet marked held
    "before_journal_finish_of_the_third",  # the third file placed, its undo move still 'planned'
    "before_marking_the_second_undone",  # the second file back, its original move still 'done'
]

CHILD = textwrap.dedent("""
    import os, signal, sys
    from juzheng.store.sqlite import SqliteStore
    from juzheng.cli.main import main

    point, root, state = sys.argv[1], sys.argv[2], sys.argv[3]
    calls = {"n": 0}
    if point == "before_hold_of_the_third":
        real_set = SqliteStore.set_held_files
        def set_held_files(self, held):  # the write that marks a file held
            calls["n"] += 1
            if calls["n"] == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_set(self, held)
        SqliteStore.set_held_files = set_held_files
    else:
        real = SqliteStore.finish_move
        wanted = 5 if point == "before_journal_finish_of_the_third" else 4
        def finish_move(self, move_id, state, error=None):
            if state == "undone":
                calls["n"] += 1
                if calls["n"] == wanted:
                    os.kill(os.getpid(), signal.SIGKILL)
            return real(self, move_id, state, error)
        SqliteStore.finish_move = finish_move
    sys.exit(main(["undo", "--root", root, "--state-dir", state]))
""")


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_9_during_undo_does_not_resort_undone_files(ev, point):
    svc = ev.service(watch=False)
    ev.case("pinduoduo", PDD_ORDER)
    for i, name in enumerate(NAMES):
        ev.drop(name, f"evidence {i}".encode())
    assert [i.status for i in svc.sort_once()] == ["done"] * 3
    assert not list(ev.inbox.iterdir())

    child = subprocess.run(
        [sys.executable, "-c", CHILD, point, str(ev.root), str(ev.state)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    back_before_restart = sorted(p.name for p in ev.inbox.iterdir())
    assert back_before_restart, "the kill came before any file was put back"

    # The next start: recovery, then the whole inbox sorted, as the helper does on start.
    restarted = ev.service(watch=False)
    items = restarted.sort_once()
    in_inbox = sorted(p.name for p in ev.inbox.iterdir())
    assert in_inbox == back_before_restart, f"undone files were sorted again: {items}"
    assert all(i.action == "held" for i in items), items
    pending = {p.path for p in ev.store.list_pending()}
    assert pending == {f"{INBOX}/{n}" for n in in_inbox}
    # every file exists exactly once
    names = sorted(p.name for p in files_under(ev.root) if not p.name.endswith(".lock"))
    assert sorted(names) == sorted(NAMES)
    # a second undo puts back what the killed one did not reach, and nothing twice
    again = restarted.undo(1)
    assert sorted(os.path.basename(u.to_path or "") for u in again) == sorted(set(NAMES) - set(in_inbox))
    assert sorted(p.name for p in ev.inbox.iterdir()) == sorted(NAMES)
    assert restarted.undo(1) == []  # nothing undone twice
