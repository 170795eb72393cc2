"""Collection held off during bulk work comes back, whatever happens in it."""

from __future__ import annotations

import gc
import threading

import pytest

from juzheng.gc_pause import gc_paused


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_off_inside_and_on_after_even_when_the_job_fails():
    with pytest.raises(RuntimeError):
        with gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("the walk failed")
    assert gc.isenabled()


def test_overlapping_holders_on_two_threads_leave_it_on_only_when_both_are_done():
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with gc_paused():
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other holder is still working
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_collector_switched_off_by_someone_else_stays_off():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_reconcile_holds_it_off_and_gives_it_back(tmp_path):
    from juzheng.evidence.indexer import Indexer
    from juzheng.evidence.layout import Layout
    from juzheng.rules import load_rulebook
    from juzheng.store import open_store

    seen: list[bool] = []
    book = load_rulebook()
    root = tmp_path / "证据"
    (root / "拼多多" / "240101-123456789012345" / "发货底单").mkdir(parents=True)
    (root / "拼多多" / "240101-123456789012345" / "发货底单" / "1.jpg").write_bytes(b"x")
    store = open_store(tmp_path / "state")
    try:
        indexer = Indexer(store, None)
        layout = Layout(root, book)
        original = indexer._reconcile

        def spy(*args, **kwargs):
            seen.append(gc.isenabled())
            return original(*args, **kwargs)

        indexer._reconcile = spy  # type: ignore[method-assign]
        assert indexer.reconcile(layout).added == 1
    finally:
        store.close()
    assert seen == [False] and gc.isenabled()
