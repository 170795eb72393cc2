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


def test_a_batchs_records_and_events_say_what_is_on_disk(ev):
    """The records take each file's size and mtime from the mover's check of the new name (no stat of
    their own), and the events are journaled for a helper in another process, though nobody in this
    one listens."""
    sizes = {f"{PDD_ORDER} 红章证明 {n}.jpg": n + 1 for n in range(4)}
    for name, size in sizes.items():
        ev.drop(name, b"z" * size)
    service = ev.service(watch=False)
    before = ev.store.events_since(0)
    last = before[-1].id if before else 0
    items = service.sort_once()
    assert [i.status for i in items] == ["done"] * 4
    records = {r.path: r for r in ev.store.evidence_for_order("pinduoduo", PDD_ORDER)}
    assert set(records) == {f"{RED}/{name}" for name in sizes}
    for path, record in records.items():
        st = os.stat(ev.root / path)
        assert (record.size, record.mtime_ns, record.how, record.kind) == (st.st_size, st.st_mtime_ns, "sorted", "red_stamp_proof")
        assert record.id == next(i.evidence_id for i in items if i.dest == path)
    added = [e for e in ev.store.events_since(last) if e.type == "evidence" and e.payload.get("action") == "added"]
    assert sorted(e.payload["path"] for e in added) == sorted(records)
    assert {e.payload["evidence_id"] for e in added} == {r.id for r in records.values()}


def test_a_listener_gets_each_event_of_a_bulk_publish_in_order(ev):
    from juzheng.events import EVIDENCE_CHANGED, EventBus

    bus = EventBus(ev.store)
    heard: list[tuple[int, str]] = []
    bus.publish_many([(EVIDENCE_CHANGED, {"path": "a"}, None)])  # nobody listens: journaled only
    unsubscribe = bus.subscribe(lambda e: heard.append((e.id, e.payload["path"])))
    bus.publish_many([(EVIDENCE_CHANGED, {"path": p}, None) for p in ("b", "c")])
    single = bus.publish(EVIDENCE_CHANGED, {"path": "d"})
    unsubscribe()
    journaled = [(e.id, e.payload["path"]) for e in ev.store.events_since(0) if e.type == EVIDENCE_CHANGED]
    assert [p for _, p in journaled][-4:] == ["a", "b", "c", "d"]
    assert heard == journaled[-3:] and heard[-1][0] == single.id


def test_a_name_already_on_disk_is_numbered_and_never_touched(ev):
    """The batch does not look its names up on disk: a name already there fails its link, and that
    file is moved on its own, past the names taken."""
    service = ev.service(watch=False)
    (ev.root / RED).mkdir(parents=True)
    (ev.root / RED / f"{PDD_ORDER} 红章证明.jpg").write_bytes(b"filed last week")
    (ev.root / RED / f"{PDD_ORDER} 红章证明 (2).jpg").write_bytes(b"and its copy")
    service.sort_once()  # indexes what is there
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"today's photo")
    ev.drop(f"{PDD_ORDER} 红章证明 b.jpg", b"another one")
    items = service.sort_once()
    assert [i.status for i in items] == ["done", "done"]
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明.jpg").read_bytes() == b"filed last week"
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明 (2).jpg").read_bytes() == b"and its copy"
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明 (3).jpg").read_bytes() == b"today's photo"
    assert (ev.root / RED / f"{PDD_ORDER} 红章证明 b.jpg").read_bytes() == b"another one"
    assert ev.store.moves_in_state("planned") == []
    assert {r.path for r in ev.store.evidence_for_order("pinduoduo", PDD_ORDER)} == {
        f"{RED}/{PDD_ORDER} 红章证明{n}.jpg" for n in ("", " (2)", " (3)", " b")
    }


def test_a_file_where_the_kind_folder_belongs_keeps_the_photo_in_the_inbox(ev):
    service = ev.service(watch=False)
    (ev.root / RED).parent.mkdir(parents=True)
    (ev.root / RED).write_bytes(b"a file named like the folder")
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"photo")
    ev.drop(f"{PDD_ORDER} 聊天截图.jpg", b"chat")
    items = {i.src.rsplit("/", 1)[-1]: i for i in service.sort_once()}
    red = items[f"{PDD_ORDER} 红章证明.jpg"]
    assert red.status == "pending" and "快递红章证明" in (red.reason or "") and "收件箱" in (red.reason or "")
    assert (ev.inbox / f"{PDD_ORDER} 红章证明.jpg").read_bytes() == b"photo"
    assert items[f"{PDD_ORDER} 聊天截图.jpg"].status == "done"  # the rest of the batch goes on
    assert (ev.root / RED).read_bytes() == b"a file named like the folder"
    assert ev.store.moves_in_state("planned") == []


def test_folders_are_made_with_their_parents_and_left_as_they_are(tmp_path):
    from juzheng.evidence.mover import ensure_folder

    deep = tmp_path / "拼多多" / PDD_ORDER / "快递红章证明"
    ensure_folder(deep)
    assert deep.is_dir()
    (deep / "kept.jpg").write_bytes(b"kept")
    ensure_folder(deep)  # already there: nothing changes
    ensure_folder(deep.parent / "聊天截图")
    assert (deep / "kept.jpg").read_bytes() == b"kept" and (deep.parent / "聊天截图").is_dir()
