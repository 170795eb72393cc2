"""``/api/events``: tickets, Origin, pushes from any thread, replay, level changes; rules hot reload."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta

import aiohttp
import pytest

from juzheng.events import EVIDENCE_CHANGED, LEVEL_CHANGED, RULES_CHANGED
from juzheng.store import utcnow

ORDER = "201123-123456789012345"
NOT_RECEIVED = "买家反馈未收到商品"


async def next_event(ws, type_: str, timeout: float = 10.0) -> dict:
    """The next event of ``type_`` (others are skipped)."""
    async def wait():
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            if data["type"] == type_:
                return data

    return await asyncio.wait_for(wait(), timeout)


async def connect(helper_app, query: str = "", headers: dict | None = None):
    ticket = await helper_app.ticket()
    return await helper_app.client.ws_connect(f"/api/events?ticket={ticket}{query}", headers=headers or {})


async def test_case_changes_are_pushed(helper_app):
    async with await connect(helper_app) as ws:
        view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
        event = await next_event(ws, "case")
        assert event["case_id"] == view["id"] and event["payload"]["created"] is True
        assert set(event) == {"id", "type", "case_id", "payload", "at"}
        await helper_app.post(f"/api/cases/{view['id']}/confirm", json={"kind": "red_stamp_proof", "field": "tracking_number"})
        assert (await next_event(ws, "case"))["payload"]["confirmed"] == ["red_stamp_proof", "tracking_number", True]


async def test_events_published_on_another_thread_arrive(helper_app):
    async with await connect(helper_app) as ws:
        payload = {"platform": "pinduoduo", "order_id": ORDER, "kind": "red_stamp_proof", "evidence_id": 1, "action": "added"}
        thread = threading.Thread(target=helper_app.runtime.bus.publish, args=(EVIDENCE_CHANGED, payload, 7))
        thread.start()
        thread.join()
        event = await next_event(ws, "evidence")
        assert event["payload"] == payload and event["case_id"] == 7


async def test_every_client_gets_every_event(helper_app):
    sockets = [await connect(helper_app) for _ in range(5)]
    try:
        view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
        for ws in sockets:
            assert (await next_event(ws, "case"))["case_id"] == view["id"]
    finally:
        for ws in sockets:
            await ws.close()


async def test_the_handshake_carries_the_common_headers(helper_app):
    """The WebSocket handler prepares its own response, before the middleware sees it: it stamps it."""
    from juzheng import __version__

    async with await connect(helper_app) as ws:
        headers = ws._response.headers
        assert headers["X-Juzheng-Version"] == __version__
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "no-store"


async def test_ticket_is_single_use_on_the_socket(helper_app):
    ticket = await helper_app.ticket()
    ws = await helper_app.client.ws_connect(f"/api/events?ticket={ticket}")
    await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await helper_app.client.ws_connect(f"/api/events?ticket={ticket}")
    assert info.value.status == 401


async def test_socket_without_ticket_or_with_the_token_is_refused(helper_app):
    for query in ("", f"?ticket={helper_app.token}", "?token=" + helper_app.token):
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await helper_app.client.ws_connect(f"/api/events{query}")
        assert info.value.status == 401


async def test_socket_from_a_web_origin_is_403(helper_app):
    ticket = await helper_app.ticket()
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await helper_app.client.ws_connect(f"/api/events?ticket={ticket}", headers={"Origin": "https://evil.example"})
    assert info.value.status == 403


async def test_socket_from_the_paired_extension_is_accepted(helper_app):
    async with await connect(helper_app, headers={"Origin": helper_app.origin}) as ws:
        view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
        assert (await next_event(ws, "case"))["case_id"] == view["id"]


async def test_since_replays_missed_events_without_duplicates(helper_app):
    first = await helper_app.detect(order_id="5000", request_text=NOT_RECEIVED)
    last_seen = helper_app.runtime.store.events_since(0)[-1].id
    missed = await helper_app.detect(order_id="5001", request_text=NOT_RECEIVED)
    async with await connect(helper_app, f"&since={last_seen}") as ws:
        replayed = await next_event(ws, "case")
        assert replayed["case_id"] == missed["id"] and replayed["id"] > last_seen
        live = await helper_app.detect(order_id="5002", request_text=NOT_RECEIVED)
        pushed = await next_event(ws, "case")
        assert pushed["case_id"] == live["id"]
    assert first["id"] != missed["id"]


async def test_bad_since_is_400(helper_app):
    ticket = await helper_app.ticket()
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await helper_app.client.ws_connect(f"/api/events?ticket={ticket}&since=abc")
    assert info.value.status == 400


@pytest.mark.helper_app_options(level_check_seconds=0.1)
async def test_periodic_check_pushes_a_level_change_when_the_deadline_passes(helper_app):
    async with await connect(helper_app) as ws:
        # The page says four seconds are left: urgent now, overdue a moment later, noticed by the periodic check.
        view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, remaining_text="剩余 00:00:04")
        urgent = await next_event(ws, "level")
        assert urgent["payload"] == {"case_id": view["id"], "level": "urgent", "previous": None}
        overdue = await next_event(ws, "level")
        assert overdue["payload"] == {"case_id": view["id"], "level": "overdue", "previous": "urgent"}


# -- rules hot reload ---------------------------------------------------------------------------
async def wait_for(predicate, timeout: float = 60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def health(helper_app) -> dict:
    return await (await helper_app.get("/api/health", auth=False)).json()


async def test_good_rule_edit_is_picked_up(helper_app):
    before = await health(helper_app)
    path = helper_app.rules_dir / "platforms" / "pinduoduo.yaml"
    text = path.read_text(encoding="utf-8")
    assert "买家反馈未收到商品" in text
    async with await connect(helper_app) as ws:
        path.write_text(text.replace("买家反馈未收到商品", "买家反馈未收到商品（新）", 1), encoding="utf-8")
        event = await next_event(ws, "rules")
        assert event["payload"]["error"] is None and event["payload"]["digest"] != before["rules_digest"]
    after = await health(helper_app)
    assert after["rules_digest"] != before["rules_digest"] and after["rules_error"] is None
    rules = await (await helper_app.get("/api/rules")).json()
    assert "买家反馈未收到商品（新）" in json.dumps(rules, ensure_ascii=False)


async def test_bad_rule_edit_keeps_the_last_good_rulebook_and_reports(helper_app):
    before = await health(helper_app)
    path = helper_app.rules_dir / "platforms" / "pinduoduo.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("evidence_window:", "evidence_windw:", 1), encoding="utf-8")

    async def errored():
        data = await health(helper_app)
        return data if data["rules_error"] else None

    broken = await wait_for(errored)
    assert "pinduoduo.yaml" in broken["rules_error"] and "evidence_windw" in broken["rules_error"]
    assert broken["rules_digest"] == before["rules_digest"]
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)  # still serving
    assert view["scenario"] == "pinduoduo.not_received"
    path.write_text(good, encoding="utf-8")

    async def healed():
        data = await health(helper_app)
        return data if data["rules_error"] is None else None

    assert (await wait_for(healed))["rules_digest"] == before["rules_digest"]


async def test_rules_event_type_is_the_bus_constant(helper_app):
    assert RULES_CHANGED == "rules" and LEVEL_CHANGED == "level"


# -- level tracking in the case service ---------------------------------------------------------
def test_level_changed_is_published_once_per_worsening_and_survives_restart(tmp_path, keyring_env, monkeypatch):
    from juzheng.runtime import Runtime

    monkeypatch.setenv("JUZHENG_KEYRING_SERVICE", "juzheng-test-levels")
    now = [utcnow()]
    runtime = Runtime.build(root=tmp_path / "root", state_dir=tmp_path / "state", rules_dir=_rules_copy(tmp_path), with_evidence=False)
    runtime.cases.clock = lambda: now[0]
    seen = []
    runtime.bus.subscribe(lambda e: seen.append(e.payload) if e.type == LEVEL_CHANGED else None)
    from juzheng.cases import DetectRequest

    view = runtime.cases.detect(DetectRequest(platform="pinduoduo", order_id=ORDER, request_text=NOT_RECEIVED, remaining_text="剩余 13 小时"))
    assert view.level == "ok" and seen == []
    now[0] += timedelta(hours=2)  # 11 h left: warn
    runtime.cases.check_levels()
    runtime.cases.check_levels()
    assert seen == [{"case_id": view.id, "level": "warn", "previous": "ok"}]
    runtime.stop()

    again = Runtime.build(root=tmp_path / "root", state_dir=tmp_path / "state", rules_dir=tmp_path / "rules", with_evidence=False)
    again.cases.clock = lambda: now[0]
    again.bus.subscribe(lambda e: seen.append(e.payload) if e.type == LEVEL_CHANGED else None)
    again.cases.check_levels()
    assert len(seen) == 1  # nothing new after a restart
    now[0] += timedelta(hours=12)
    again.cases.check_levels()
    assert seen[-1] == {"case_id": view.id, "level": "overdue", "previous": "warn"}
    # A closed case is no longer tracked.
    from juzheng.cases import CasePatch

    again.cases.patch(view.id, CasePatch(status="closed"))
    assert again.cases.check_levels() == []
    again.stop()


def _rules_copy(tmp_path):
    import shutil

    from juzheng.rules import DEFAULT_RULES_DIR

    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target
