"""Migration 8: the paired browsers, the allowed extension ids, the duplicate notes and the undo
journal become tables, and a database written by an older helper keeps what those blobs said."""

from __future__ import annotations

import json

from fixtures.cli import run_cli
from fixtures.old_database import database_before
from juzheng.evidence.duplicates import duplicates_for, note_duplicate
from juzheng.instance import INFO_NAME
from juzheng.pairing.auth import mint_token
from juzheng.pairing.browsers import LEGACY_NAME, BrowserRegistry
from juzheng.pairing.identity import OWN_EXTENSION_ID, ExtensionPolicy
from juzheng.pairing import Auth, FileSecretStore
from juzheng.store import open_store
from juzheng.store.records import UndoIntent

OWN = f"chrome-extension://{OWN_EXTENSION_ID}"
A, B = "a" * 32, "b" * 32


def _old_database(state, settings: dict[str, str]) -> None:
    """A database as the helper before migration 8 left it, with a case, its evidence and a move."""
    db = database_before(state, 8)
    db.execute("INSERT INTO cases (platform, order_id, created_at, updated_at) VALUES ('pinduoduo', '1-2', ?, ?)", ("2026-11-30T08:00:00+00:00",) * 2)
    db.execute(
        "INSERT INTO evidence (platform, order_id, kind, path, how, added_at)"
        " VALUES ('pinduoduo', '1-2', 'return_photo', '拼多多/1-2/退回商品与面单合照/a.jpg', 'sorted', '2026-11-30T08:00:00+00:00')"
    )
    db.execute(
        "INSERT INTO moves (batch, src, dest, sha256, size, state, created_at)"
        " VALUES ('b1', '收件箱/a.jpg', '拼多多/1-2/a.jpg', 'ab', 3, 'done', '2026-11-30T08:00:00+00:00')"
    )
    db.executemany("INSERT INTO settings VALUES (?, ?)", list(settings.items()))
    db.commit()
    db.close()


def test_old_blobs_move_to_their_tables(tmp_path):
    state = tmp_path / "state"
    # Each value exactly as the old code wrote it (json.dumps of model_dump, ids joined by commas).
    browsers = [
        {"id": "n1", "name": "Chrome · Windows", "origin": OWN, "paired_at": "2026-11-30T08:00:00Z"},
        {"id": "n2", "name": "Edge · Windows", "origin": OWN, "paired_at": "2026-11-30T09:00:00Z"},
        {"id": "n3", "name": "损坏的", "origin": OWN},  # no paired_at: skipped
    ]
    duplicates = [
        {"platform": "pinduoduo", "order_id": "1-2", "path": "拼多多/1-2/.重复/a.jpg", "same_as": "拼多多/1-2/退回商品与面单合照/a.jpg",
         "at": "2026-11-30T08:00:00+00:00"},
        {"platform": "pinduoduo", "order_id": "9-9", "path": "拼多多/9-9/.重复/b.jpg", "same_as": "拼多多/9-9/b.jpg",
         "at": "2026-11-30T08:01:00+00:00"},
        {"platform": "pinduoduo", "order_id": "1-2", "path": "拼多多/1-2/.重复/c.jpg", "same_as": "拼多多/1-2/c.jpg",
         "at": "2026-11-30T08:02:00+00:00"},
        "not a note",
    ]
    _old_database(state, {
        "paired_browsers": json.dumps(browsers, ensure_ascii=False),
        "paired_origin": OWN,
        "allowed_extensions": f"{A},{B}",
        "evidence.duplicates": json.dumps(duplicates, ensure_ascii=False),
        "evidence.undo_journal": json.dumps([{"move": 1, "batch": "u1"}, {"move": "x", "batch": "u2"}]),
        "sorting_paused": "1",
    })

    store = open_store(state)
    try:
        assert store.schema_version >= 8
        assert [c.order_id for c in store.list_cases()] == ["1-2"] and store.get_move(1) is not None  # the rest is kept
        registry = BrowserRegistry(store, legacy_origin=OWN)
        assert [(b.id, b.name) for b in registry.list()] == [("n1", "Chrome · Windows"), ("n2", "Edge · Windows")]
        assert registry.knows("n2") and not registry.knows("n3")
        assert not registry.knows("stranger")  # the list was written once: no more adopting
        assert ExtensionPolicy(store, env={}).seller_allowed() == [A, B]
        assert ExtensionPolicy(store, env={}).allows(f"chrome-extension://{B}")
        notes = duplicates_for(store, "pinduoduo", "1-2")
        assert [n.path for n in notes] == ["拼多多/1-2/.重复/c.jpg", "拼多多/1-2/.重复/a.jpg"]  # newest first
        assert notes[1].message == "已有相同文件：a.jpg"
        assert store.undo_intents() == [UndoIntent(move_id=1, batch="u1")]
        for key in ("paired_browsers", "allowed_extensions", "evidence.duplicates", "evidence.undo_journal"):
            assert store.get_setting(key) is None, key
        assert store.get_setting("sorting_paused") == "1" and store.get_setting("paired_origin") == OWN  # plain values stay
    finally:
        store.close()


def test_a_helper_that_never_listed_browsers_still_adopts_its_old_tokens(tmp_path):
    """Before the browser list existed there was no blob at all: those tokens must keep working."""
    state = tmp_path / "state"
    _old_database(state, {"paired_origin": OWN})
    store = open_store(state)
    try:
        assert store.paired_browsers() is None
        auth = Auth(b"k" * 32, browsers=BrowserRegistry(store, legacy_origin=OWN))
        assert auth.check_token(mint_token(b"k" * 32, "ext"))
        assert [b.name for b in BrowserRegistry(store).list()] == [LEGACY_NAME]  # adopted, and kept
    finally:
        store.close()


def test_an_emptied_or_unreadable_list_adopts_nobody(tmp_path):
    """``[]`` (everyone revoked) and a damaged blob both meant "listed": no token is adopted."""
    for value in ("[]", "{not json"):
        state = tmp_path / f"state{len(value)}"
        _old_database(state, {"paired_browsers": value, "paired_origin": OWN, "allowed_extensions": "",
                              "evidence.duplicates": "{not json", "evidence.undo_journal": "[1, 2"})
        store = open_store(state)
        try:
            assert store.get_move(1) is not None  # the same database, not one set aside
            assert store.paired_browsers() == []
            assert not BrowserRegistry(store, legacy_origin=OWN).knows("n1")
            assert store.allowed_extension_ids() == [] and store.undo_intents() == []
            assert duplicates_for(store, "pinduoduo", "1-2") == []
        finally:
            store.close()


def test_a_fresh_store_keeps_the_lists_in_tables(tmp_path):
    store = open_store(tmp_path / "state")
    try:
        policy = ExtensionPolicy(store, env={})
        assert policy.allow([B, A, B]) == [B, A]
        assert policy.disallow(B) and store.allowed_extension_ids() == [A]
        for i in range(3):
            note_duplicate(store, "douyin", "7", f"抖音/7/.重复/{i}.jpg", f"抖音/7/{i}.jpg")
        assert [n.path for n in duplicates_for(store, "douyin", "7", limit=2)] == ["抖音/7/.重复/2.jpg", "抖音/7/.重复/1.jpg"]
        store.begin_undo(UndoIntent(move_id=4, batch="a"))
        store.begin_undo(UndoIntent(move_id=4, batch="b"))  # a second attempt replaces the first
        assert store.undo_intents() == [UndoIntent(move_id=4, batch="b")]
        store.end_undo(4)
        assert store.undo_intents() == []
        registry = BrowserRegistry(store)
        registry.add("n1", OWN, "Chrome")
        registry.clear()
        assert store.paired_browsers() == [] and not BrowserRegistry(store, legacy_origin=OWN).knows("n9")
    finally:
        store.close()


def test_the_cli_writes_the_tables_while_the_helper_is_stopped(tmp_path):
    """``juzheng pair --allow`` and the offline ``juzheng pair --revoke`` write the same tables the
    helper reads."""
    state = tmp_path / "state"
    state.mkdir()
    FileSecretStore(state).rotate()
    # A helper that stopped without cleaning up: helper.json names a port nothing listens on.
    (state / INFO_NAME).write_text(json.dumps({"port": 9, "secret_backend": "file"}), encoding="utf-8")
    store = open_store(state)
    BrowserRegistry(store).add("n1", OWN, "Chrome")
    store.close()

    assert run_cli("pair", "--allow", A, "--state-dir", str(state)).returncode == 0
    assert run_cli("pair", "--revoke", "--state-dir", str(state)).returncode == 0
    store = open_store(state)
    try:
        assert store.allowed_extension_ids() == [A]
        assert store.paired_browsers() == [] and not BrowserRegistry(store, legacy_origin=OWN).knows("n1")
    finally:
        store.close()
