"""Pairing's pure parts: asks (limits, expiry, who may collect), the browser list (revoke one,
adopting tokens of older helpers), the extension allow-list."""

from __future__ import annotations

import pytest

from juzheng.pairing import Auth, PairingError
from juzheng.pairing.asks import ASK_TTL_SECONDS, ASKS_PER_MINUTE, MAX_OPEN, PairingAsks
from juzheng.pairing.browsers import LEGACY_NAME, MAX_BROWSERS, BrowserRegistry, clean_name
from juzheng.pairing.identity import OWN_EXTENSION_ID, ExtensionPolicy
from juzheng.store import SqliteStore

OWN = f"chrome-extension://{OWN_EXTENSION_ID}"


def make(clock=None, legacy=None, env=None):
    store = SqliteStore(":memory:")  # the lists are the store's tables (migration 8)
    now = clock or [0.0]
    browsers = BrowserRegistry(store, legacy_origin=legacy)
    auth = Auth(b"k" * 32, clock=lambda: now[0], browsers=browsers)
    policy = ExtensionPolicy(store, env=env or {})
    return auth, PairingAsks(auth, policy, clock=lambda: now[0]), store, now


def test_an_ask_is_answered_once_and_only_its_extension_collects():
    auth, asks, _, _ = make()
    ask = asks.ask(OWN, "Chrome · Windows")
    assert ask.question == "允许 举证助手扩展 连接本机助手？"
    with pytest.raises(PairingError):
        asks.collect(ask.id, "wrong", OWN)
    assert asks.collect(ask.id, ask.secret, OWN).state == "pending"
    asks.answer(ask.id, True)
    with pytest.raises(PairingError):
        asks.answer(ask.id, False)  # answered already
    done = asks.collect(ask.id, ask.secret, OWN)
    assert done.state == "approved" and auth.check_token(done.token)
    with pytest.raises(PairingError):
        asks.collect(ask.id, ask.secret, OWN)  # the token is handed out once


def test_asks_expire_and_one_per_origin():
    _, asks, _, now = make(env={"JUZHENG_EXTENSION_IDS": "a" * 32})
    first = asks.ask(OWN, "x")
    second = asks.ask(OWN, "y")  # replaces the first
    assert [a.id for a in asks.pending()] == [second.id]
    with pytest.raises(PairingError):
        asks.collect(first.id, first.secret, OWN)
    now[0] += ASK_TTL_SECONDS + 1
    assert asks.pending() == []
    with pytest.raises(PairingError) as info:
        asks.answer(second.id, True)
    assert info.value.code == "pair_unknown"


def test_asks_per_minute_and_open_asks_are_capped():
    ids = [chr(ord("a") + i) * 32 for i in range(MAX_OPEN + 1)]
    _, asks, _, now = make(env={"JUZHENG_EXTENSION_IDS": ",".join(ids)})
    for _ in range(ASKS_PER_MINUTE):
        asks.ask(OWN, "x")
    with pytest.raises(PairingError) as info:
        asks.ask(OWN, "x")
    assert info.value.code == "pair_rate_limited"
    now[0] += 61
    asks.ask(OWN, "x")
    for ext in ids[: MAX_OPEN - 1]:
        asks.ask(f"chrome-extension://{ext}", "x")
    with pytest.raises(PairingError) as info:
        asks.ask(f"chrome-extension://{ids[MAX_OPEN - 1]}", "x")
    assert info.value.code == "pair_rate_limited" and len(asks.pending()) == MAX_OPEN


def test_a_web_page_or_unknown_extension_cannot_ask():
    _, asks, store, _ = make()
    for origin in ("https://evil.example", "chrome-extension://" + "b" * 32, "null", ""):
        with pytest.raises(PairingError) as info:
            asks.ask(origin, "x")
        assert info.value.code == "pair_refused"
    ExtensionPolicy(store, env={}).allow(["b" * 32])
    assert asks.ask("chrome-extension://" + "b" * 32, "x").extension_label == f"其他扩展（ID {'b' * 32}）"
    with pytest.raises(ValueError):
        ExtensionPolicy(store, env={}).allow(["evil.example"])


def test_revoking_one_browser_keeps_the_others():
    auth, _, store, _ = make()
    a = auth.issue_token(OWN, "Chrome · Windows")
    b = auth.issue_token(OWN, "Edge · Windows")
    assert auth.check_token(a) and auth.check_token(b)
    assert auth.browsers.remove(b.split(".")[1]).name == "Edge · Windows"
    assert auth.check_token(a) and not auth.check_token(b)
    assert [x.name for x in store.paired_browsers() or []] == ["Chrome · Windows"]
    assert [x.name for x in BrowserRegistry(store).list()] == ["Chrome · Windows"]  # as a restart reads it
    auth.replace_key(b"n" * 32)  # revoke all
    assert not auth.check_token(a) and auth.browsers.list() == []


def test_tokens_of_an_older_helper_are_adopted_once_then_listed():
    """An update must not log every seller out: a token from before the list existed still works."""
    from juzheng.pairing.auth import mint_token

    old = mint_token(b"k" * 32, "ext")
    auth, _, _, _ = make(legacy=OWN)
    assert OWN in auth.browsers.origins()
    assert auth.check_token(old)
    assert [(b.name, b.origin) for b in auth.browsers.list()] == [(LEGACY_NAME, OWN)]
    # Once the list is written, an unknown token is no longer adopted.
    stranger = mint_token(b"k" * 32, "ext")
    assert not auth.check_token(stranger)


def test_a_damaged_row_lets_nobody_in_and_the_list_is_bounded():
    store = SqliteStore(":memory:")
    with store.transaction() as db:  # a row written by hand, or half-salvaged from a damaged file
        db.execute("INSERT INTO paired_browsers VALUES ('x', 'Chrome', ?, 'not a time')", (OWN,))
    registry = BrowserRegistry(store, legacy_origin=OWN)
    assert registry.list() == [] and not registry.knows("x") and not registry.knows("y")
    for i in range(MAX_BROWSERS + 3):
        registry.add(f"n{i}", OWN, f"b{i}")
    assert len(registry.list()) == MAX_BROWSERS and not registry.knows("n0")


def test_browser_names_are_cleaned():
    assert clean_name("Chrome\n<script>\x00" + "x" * 100) == ("Chrome<script>" + "x" * 100)[:60]
    assert clean_name("  ") == "浏览器" and clean_name(None) == "浏览器"


def test_a_token_checked_before_is_still_refused_when_anything_about_it_is_wrong():
    """Verified MACs are remembered per nonce; every way a remembered token can go bad still refuses it."""
    auth, _, _, _ = make()
    good = auth.issue_token(OWN, "Chrome · Windows")
    scope, nonce, mac = good.split(".")
    assert auth.check_token(good) and auth.check_token(good)  # the second answered from the remembered MAC
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert not auth.check_token(f"{scope}.{nonce}.{flipped}")  # known nonce, wrong MAC
    assert not auth.check_token(f"{scope}.{nonce}.")
    assert not auth.check_admin(f"adm.{nonce}.{mac}")  # the extension's MAC is not an admin token
    assert not auth.check_token(good + ".x") and not auth.check_token(good.replace(".", "", 1))
    admin_auth = Auth(b"k" * 32)
    admin = admin_auth.check_admin  # an admin token minted by the CLI from the same key
    from juzheng.pairing.auth import mint_token

    cli = mint_token(b"k" * 32, "adm")
    assert admin(cli) and admin(cli) and not admin_auth.check_token(cli)
    auth.browsers.remove(nonce)
    assert not auth.check_token(good)  # one browser logged out: at once, remembered MAC or not
    again = auth.issue_token(OWN, "Chrome · Windows")
    assert auth.check_token(again)
    auth.replace_key(b"n" * 32)
    assert not auth.check_token(again)  # --revoke: the remembered MACs went with the old key


def test_remembered_macs_are_bounded_and_only_hold_tokens_that_verified():
    from juzheng.pairing.auth import VerifiedMacs, mint_token

    macs = VerifiedMacs(b"k" * 32)
    for i in range(5000):
        assert not macs.verify(f"ext.guess{i}.AAAA", "ext")
    assert macs._macs == {}
    tokens = [mint_token(b"k" * 32, "ext") for _ in range(VerifiedMacs.LIMIT * 2 + 3)]
    assert all(macs.verify(t, "ext") for t in tokens)
    assert 0 < len(macs._macs) <= VerifiedMacs.LIMIT
    assert all(macs.verify(t, "ext") for t in tokens)  # dropped ones are simply verified again
