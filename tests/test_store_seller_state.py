"""Migration 5: the settings blobs of focus, held files, declined offers and sent notifications
become tables, and a database written by an older helper keeps what those blobs said."""

from __future__ import annotations

import json

from fixtures.old_database import database_before
from juzheng.focus import load_focus
from juzheng.store import open_store


def test_old_blobs_move_to_their_tables(tmp_path):
    state = tmp_path / "state"
    db = database_before(state, 5)
    db.execute("INSERT INTO cases (platform, order_id, created_at, updated_at) VALUES ('pinduoduo', '1-2', 'x', 'x')")
    blobs = {
        "focus": {"case_id": 1, "at": "2026-11-30T08:00:00+00:00"},  # written before focus had "since"
        "evidence.held": [["/证据/收件箱/放回.jpg", 12, 1700000000000000000], "not a mark"],
        "evidence.offer_declined": {"1": [["收件箱/a.jpg", 3, 5], ["收件箱/b.jpg", 4, 6]], "2": "garbage"},
        "notified_levels": {"1": ["warn", "urgent"], "7": ["warn"], "8": "x"},
    }
    db.executemany("INSERT INTO settings VALUES (?, ?)", [(k, json.dumps(v, ensure_ascii=False)) for k, v in blobs.items()])
    db.execute("INSERT INTO settings VALUES ('sorting_paused', '1')")
    db.execute("INSERT INTO settings VALUES ('paired_origin', 'chrome-extension://abc')")  # not JSON at all
    db.commit()
    db.close()

    store = open_store(state)
    try:
        assert store.schema_version >= 5
        focus = load_focus(store)
        assert focus is not None and focus.case_id == 1 and focus.since == focus.at and focus.ended_at is None
        assert store.held_files() == {("/证据/收件箱/放回.jpg", 12, 1700000000000000000)}
        assert store.declined_offers(1) == {("收件箱/a.jpg", 3, 5), ("收件箱/b.jpg", 4, 6)} and store.declined_offers(2) == set()
        assert store.notified_levels() == {1: ["warn", "urgent"], 7: ["warn"]}
        for key in blobs:
            assert store.get_setting(key) is None, key
        assert store.get_setting("sorting_paused") == "1"  # plain values stay settings
    finally:
        store.close()


def test_a_fresh_store_remembers_in_tables(tmp_path):
    store = open_store(tmp_path / "state")
    try:
        assert load_focus(store) is None and store.held_files() == set() and store.notified_levels() == {}
        store.set_held_files([("/a", 1, 2), ("/b", 3, 4)])
        store.set_held_files([("/b", 3, 4)])
        assert store.held_files() == {("/b", 3, 4)}
        store.decline_offers(3, [("收件箱/x.jpg", 1, 1)])
        store.decline_offers(3, [("收件箱/x.jpg", 1, 1)])
        assert store.declined_offers(3) == {("收件箱/x.jpg", 1, 1)}
    finally:
        store.close()


def test_unreadable_blobs_are_dropped_not_fatal(tmp_path):
    """A blob that is not JSON must not fail the migration (which would set the database aside)."""
    state = tmp_path / "state"
    db = database_before(state, 5)
    db.executemany("INSERT INTO settings VALUES (?, ?)", [(k, "{broken") for k in ("focus", "evidence.held", "evidence.offer_declined", "notified_levels")])
    db.execute("INSERT INTO settings VALUES ('kept', 'yes')")
    db.commit()
    db.close()
    store = open_store(state)
    try:
        assert store.get_setting("kept") == "yes"  # the same database, not a fresh one
        assert load_focus(store) is None and store.held_files() == set() and store.notified_levels() == {}
    finally:
        store.close()


def test_a_pending_file_keeps_its_first_sighting_when_its_reason_changes(tmp_path, monkeypatch):
    """An unnamed photo waits as 'being read', then as 'no order': the focus files only files that
    arrived after the seller opened the case, so the second reason must not make it look new (a late
    OCR reading on a busy machine filed a file the seller had declined into the focused case)."""
    from datetime import datetime, timedelta, timezone

    import juzheng.store.sqlite as sqlite_module

    first = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    now = [first]
    monkeypatch.setattr(sqlite_module, "utcnow", lambda: now[0])
    store = open_store(tmp_path / "state")
    store.set_pending("收件箱/签收照片.jpg", "正在识别图片内容…")
    now[0] = first + timedelta(minutes=3)
    store.set_pending("收件箱/签收照片.jpg", "文件名和图片里都没有订单号")
    [pending] = store.list_pending()
    assert pending.reason == "文件名和图片里都没有订单号"
    seen = pending.seen_at if pending.seen_at.tzinfo else pending.seen_at.replace(tzinfo=timezone.utc)
    assert seen == first
    store.close()
