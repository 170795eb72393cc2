"""What sorting costs per file: each inbox file's bytes are read (hashed) once, a file is hashed before
its move only when its order already holds a file of the same size, and the duplicate guarantee holds."""

from __future__ import annotations

import pytest

from fixtures.evidence import PDD_ORDER, sha
from juzheng.evidence import mover as mover_module
from juzheng.evidence import sorter as sorter_module

RED = "拼多多/" + PDD_ORDER + "/快递红章证明"


@pytest.fixture
def hashed(monkeypatch):
    """The paths sha256_file read, in order (the real function runs: a spy, not a stand-in)."""
    seen: list[str] = []
    real = mover_module.sha256_file

    def spy(path, *args, **kwargs):
        seen.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(mover_module, "sha256_file", spy)
    monkeypatch.setattr(sorter_module, "sha256_file", spy)
    return seen


def test_each_file_is_hashed_once_and_its_hash_recorded(ev, hashed):
    for n in range(4):
        ev.drop(f"{PDD_ORDER} 红章证明 {n}.jpg", b"photo" * (n + 1))  # four sizes: none can be a twin
    items = ev.service(watch=False).sort_once()
    assert [i.status for i in items] == ["done"] * 4
    assert len(hashed) == 4
    for record in ev.store.evidence_for_order("pinduoduo", PDD_ORDER):
        assert record.sha256 == sha(ev.root / (record.path or ""))
    moves = ev.store.moves_in_batch(ev.store.last_batches(1)[0][0].batch)
    assert {m.sha256 for m in moves} == {r.sha256 for r in ev.store.evidence_for_order("pinduoduo", PDD_ORDER)}


def test_a_same_size_file_is_hashed_before_its_move_and_a_twin_is_caught(ev, hashed):
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"first")
    ev.service(watch=False).sort_once()
    hashed.clear()
    ev.drop(f"{PDD_ORDER} 红章证明 again.jpg", b"first")  # the same bytes
    ev.drop(f"{PDD_ORDER} 红章证明 other.jpg", b"other")  # the same size, other bytes
    ev.drop(f"{PDD_ORDER} 红章证明 longer.jpg", b"longer bytes")  # a size no filed file has
    items = {i.src.split("/")[-1]: i for i in ev.service(watch=False).sort_once()}
    assert items[f"{PDD_ORDER} 红章证明 again.jpg"].action == "duplicate"
    assert items[f"{PDD_ORDER} 红章证明 other.jpg"].action == "move"
    assert items[f"{PDD_ORDER} 红章证明 longer.jpg"].action == "move"
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明 other.jpg").read_bytes() == b"other"
    # same-size files: hashed before the move (and the filed file of that size, once, to compare);
    # the other: only by the mover, after its link
    inbox = [p for p in hashed if "收件箱" in p]
    assert sorted(p.split("/")[-1] for p in inbox) == sorted([f"{PDD_ORDER} 红章证明 again.jpg", f"{PDD_ORDER} 红章证明 other.jpg"])
    assert len(hashed) == len(set(hashed))  # nothing read twice


def test_the_sorter_lock_keeps_its_file_open_and_follows_a_replaced_file(tmp_path):
    from juzheng.evidence.osfacts import SorterLock

    path = tmp_path / "state" / "sorter.lock"
    lock, other = SorterLock(path), SorterLock(path)
    with lock:
        pass
    kept = lock._kept
    with lock:
        assert lock._kept == kept  # not reopened per file
    path.unlink()  # the state folder was cleaned meanwhile: lock the file every process opens now
    with lock:
        assert path.exists()
        with pytest.raises(sorter_module.LockTimeout if hasattr(sorter_module, "LockTimeout") else Exception):
            other.acquire(timeout=0.05)
    with other:
        pass
    lock.close()
    other.close()


def test_juzheng_sort_moves_unique_sizes_unread_and_still_catches_a_later_twin(ev, hashed):
    """``juzheng sort`` (defer_hashes): no byte of a file that cannot be a duplicate is read; a later
    file of the same size makes the filed one hashed, once, and its twin is still caught."""
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"first")
    ev.drop(f"{PDD_ORDER} 红章证明 2.jpg", b"second one")
    items = ev.service(watch=False).sort_once(defer_hashes=True)
    assert [i.status for i in items] == ["done", "done"] and hashed == []
    assert {r.sha256 for r in ev.store.evidence_for_order("pinduoduo", PDD_ORDER)} == {None}
    ev.drop(f"{PDD_ORDER} 红章证明 again.jpg", b"first")
    (item,) = ev.service(watch=False).sort_once(defer_hashes=True)
    assert item.action == "duplicate" and item.status == "done"
    # the newcomer before its move (and, being hashed, once more through its new name after the link,
    # the check that its bytes did not change within one mtime tick), the filed file once
    assert [p.split("/")[-2:] for p in hashed] == [
        ["收件箱", f"{PDD_ORDER} 红章证明 again.jpg"], ["快递红章证明", f"{PDD_ORDER} 红章证明.jpg"], [".重复", f"{PDD_ORDER} 红章证明 again.jpg"],
    ]
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明 2.jpg").read_bytes() == b"second one"
