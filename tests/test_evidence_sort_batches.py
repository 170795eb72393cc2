"""`juzheng sort` (sort_once) moves files in batches: a batch is journaled in one transaction before its
first move, its completions, records and events in one transaction each after its last; the
duplicate check and the no-overwrite guarantee hold inside a batch as they do file by file."""

from __future__ import annotations

import os

from fixtures.evidence import PDD_ORDER
from juzheng.evidence import sorter as sorter_module
from juzheng.store.sqlite import SqliteStore

RED = "拼多多/" + PDD_ORDER + "/快递红章证明"


def test_a_batch_is_journaled_before_its_first_move(ev, monkeypatch):
    for n in range(5):
        ev.drop(f"{PDD_ORDER} 红章证明 {n}.jpg", b"photo" * (n + 1))
    planned_at_links: list[int] = []
    real_link = os.link

    def spy(src, dest, *args, **kwargs):
        planned_at_links.append(len(ev.store.moves_in_state("planned")))
        return real_link(src, dest, *args, **kwargs)

    monkeypatch.setattr(os, "link", spy)
    items = ev.service(watch=False).sort_once()
    assert [i.status for i in items] == ["done"] * 5
    # All five on record before the first link; each link leaves the rest planned until the end.
    assert planned_at_links == [5, 5, 5, 5, 5]
    assert ev.store.moves_in_state("planned") == []
    assert len(ev.store.moves_in_state("done")) == 5


def test_a_batch_shares_its_transactions(ev, monkeypatch):
    for n in range(40):
        ev.drop(f"{PDD_ORDER} 红章证明 {n}.jpg", b"x" * (n + 1))
    service = ev.service(watch=False)
    service.sort_once()  # recovery, index and folders of a first run
    for n in range(40, 80):
        ev.drop(f"{PDD_ORDER} 红章证明 {n}.jpg", b"x" * (n + 1))
    count = 0
    real = SqliteStore.transaction

    def counting(self):
        nonlocal count
        count += 1
        return real(self)

    monkeypatch.setattr(SqliteStore, "transaction", counting)
    items = service.sort_once()
    assert [i.status for i in items] == ["done"] * 40
    assert count <= 6  # journal, completions, records, events (file by file: 160)


def test_a_twin_inside_one_batch_is_still_caught(ev):
    ev.drop(f"{PDD_ORDER} 红章证明 a.jpg", b"same bytes")
    ev.drop(f"{PDD_ORDER} 红章证明 b.jpg", b"same bytes")
    ev.drop(f"{PDD_ORDER} 红章证明 c.jpg", b"same size!")  # same size, other bytes
    items = {i.src.rsplit("/", 1)[-1]: i for i in ev.service(watch=False).sort_once()}
    assert items[f"{PDD_ORDER} 红章证明 a.jpg"].action == "move"
    assert items[f"{PDD_ORDER} 红章证明 b.jpg"].action == "duplicate"
    assert items[f"{PDD_ORDER} 红章证明 c.jpg"].action == "move"
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明 c.jpg").read_bytes() == b"same size!"


def test_one_name_from_two_folders_gets_two_names_in_one_batch(ev):
    ev.drop(f"a/{PDD_ORDER} 红章证明.jpg", b"first")
    ev.drop(f"b/{PDD_ORDER} 红章证明.jpg", b"second file")
    items = ev.service(watch=False).sort_once()
    assert sorted(i.dest or "" for i in items) == [f"{RED}/{PDD_ORDER} 红章证明 (2).jpg", f"{RED}/{PDD_ORDER} 红章证明.jpg"]
    assert sorted((ev.root / RED).iterdir()) and {p.read_bytes() for p in (ev.root / RED).iterdir()} == {b"first", b"second file"}


def test_a_name_taken_after_planning_is_never_overwritten(ev, monkeypatch):
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"ours")
    ev.drop(f"{PDD_ORDER} 红章证明 2.jpg", b"ours too")
    real_link = os.link
    intruded: list[str] = []

    def someone_else_first(src, dest, *args, **kwargs):
        if not intruded:  # another program writes the very name the batch chose, just before our link
            with open(dest, "xb") as fh:
                fh.write(b"theirs")
            intruded.append(str(dest))
        return real_link(src, dest, *args, **kwargs)

    monkeypatch.setattr(os, "link", someone_else_first)
    items = ev.service(watch=False).sort_once()
    assert [i.status for i in items] == ["done", "done"]
    contents = sorted(p.read_bytes() for p in (ev.root / RED).iterdir())
    assert contents == sorted([b"theirs", b"ours", b"ours too"])
    assert open(intruded[0], "rb").read() == b"theirs"
    assert ev.store.moves_in_state("planned") == []


def test_batches_are_bounded(ev, monkeypatch):
    monkeypatch.setattr(sorter_module, "BATCH", 3)
    for n in range(7):
        ev.drop(f"{PDD_ORDER} 红章证明 {n}.jpg", b"y" * (n + 1))
    planned_at_links: list[int] = []
    real_link = os.link

    def spy(src, dest, *args, **kwargs):
        planned_at_links.append(len(ev.store.moves_in_state("planned")))
        return real_link(src, dest, *args, **kwargs)

    monkeypatch.setattr(os, "link", spy)
    service = ev.service(watch=False)
    items = service.sort_once()
    assert [i.status for i in items] == ["done"] * 7
    assert planned_at_links == [3, 3, 3, 3, 3, 3, 1]
