"""Deadline notifications: once per case and level, remembered across restarts, real dunst on D-Bus."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from juzheng.cases import CaseService
from juzheng.events import CASE_CHANGED, LEVEL_CHANGED, EventBus
from juzheng.notify import DesktopSender, LevelNotifier, Notice, level_notice
from juzheng.rules import load_rulebook
from juzheng.store import CaseKey, open_store
from fixtures.clock import Clock

START = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def book():
    return load_rulebook()


@pytest.fixture
def world(tmp_path, book):
    """A store with one open 拼多多 case due 20 h after START, its CaseService and bus."""
    store = open_store(tmp_path / "state")
    bus = EventBus(store)
    clock = Clock(START)
    cases = CaseService(store, lambda: book, bus, clock=clock)
    case, _ = store.upsert_case(
        CaseKey(platform="pinduoduo", order_id="230101-123456789012345"),
        scenario="pinduoduo.not_received",
        request_at=START - timedelta(hours=28),
        deadline_at=START + timedelta(hours=20),
    )
    yield store, bus, cases, clock, case
    cases.close()
    store.close()


class Recorder:
    def __init__(self, result: bool = True) -> None:
        self.sent: list[Notice] = []
        self.result = result

    def __call__(self, notice: Notice) -> bool:
        self.sent.append(notice)
        return self.result


def test_once_per_case_and_level_across_restarts(world):
    store, bus, cases, clock, case = world
    sender = Recorder()
    notifier = LevelNotifier(store, cases.view, send=sender, clock=clock)
    unsubscribe = bus.subscribe(notifier.on_event)

    assert cases.check_levels() == []  # 20 h left: ok, nothing to say
    clock.now = START + timedelta(hours=10)  # 10 h left: warn
    assert [c["level"] for c in cases.check_levels()] == ["warn"]
    bus.publish(LEVEL_CHANGED, {"case_id": case.id, "level": "warn", "previous": "ok"}, case.id)  # a repeat
    bus.publish(CASE_CHANGED, {"case_id": case.id}, case.id)  # not a level event
    assert notifier.drain()
    clock.now = START + timedelta(hours=19)  # 1 h left: urgent
    assert [c["level"] for c in cases.check_levels()] == ["urgent"]
    assert notifier.drain()
    assert [(n.case_id, n.level) for n in sender.sent] == [(case.id, "warn"), (case.id, "urgent")]
    unsubscribe()
    notifier.close()

    # A restart: a new notifier over the same store says nothing already said.
    again = Recorder()
    restarted = LevelNotifier(store, cases.view, send=again, clock=clock)
    for level in ("warn", "urgent"):
        restarted.on_event(bus.publish(LEVEL_CHANGED, {"case_id": case.id, "level": level, "previous": None}, case.id))
    assert restarted.drain()
    assert again.sent == []
    assert restarted.sent() == {str(case.id): ["warn", "urgent"]}
    restarted.close()


def test_only_warn_and_urgent_are_notified(world):
    store, bus, cases, clock, case = world
    sender = Recorder()
    notifier = LevelNotifier(store, cases.view, send=sender, clock=clock)
    for level in ("ok", "overdue"):
        notifier.on_event(bus.publish(LEVEL_CHANGED, {"case_id": case.id, "level": level, "previous": None}, case.id))
    assert notifier.drain()
    assert sender.sent == []
    notifier.close()


def test_closed_cases_are_not_notified(world):
    store, bus, cases, clock, case = world
    store.update_case(case.id, status="submitted")
    sender = Recorder()
    notifier = LevelNotifier(store, cases.view, send=sender, clock=clock)
    assert notifier.notify_level(case.id, "urgent")
    assert notifier.drain()
    assert sender.sent == []
    notifier.close()


def test_notice_text(world):
    store, bus, cases, clock, case = world
    clock.now = START + timedelta(hours=18, minutes=30)
    notice = level_notice(cases.view(case.id), "urgent", clock.now)
    assert notice.title == "举证紧急：快到截止时间了"
    assert notice.body.startswith("拼多多 订单 230101-123456789012345；买家反馈未收到商品；剩余 1小时30分；还缺 ")
    assert notice.urgent and notice.case_id == case.id


def test_fallback_when_the_desktop_refuses(world, caplog):
    store, bus, cases, clock, case = world
    balloons: list[Notice] = []
    notifier = LevelNotifier(store, cases.view, send=Recorder(result=False), fallback=lambda n: balloons.append(n) or True, clock=clock)
    notifier.notify_level(case.id, "warn")
    assert notifier.drain()
    assert [n.level for n in balloons] == ["warn"]

    logged = LevelNotifier(store, cases.view, send=Recorder(result=False), clock=clock)
    with caplog.at_level(logging.WARNING, logger="juzheng.notify"):
        logged.notify_level(case.id, "urgent")
        assert logged.drain()
    assert any("举证紧急" in r.getMessage() and "230101-123456789012345" in r.getMessage() for r in caplog.records)
    assert logged.sent()[str(case.id)] == ["warn", "urgent"]  # told once, even if only in the log
    notifier.close()
    logged.close()


def test_no_session_bus_falls_back(world, monkeypatch):
    """desktop-notifier hits InvalidAddressError without a bus: the sender reports failure."""
    store, bus, cases, clock, case = world
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(store.path.parent))  # no bus socket there either
    sender = DesktopSender()
    assert sender(Notice(title="t", body="b")) is False
    balloons: list[Notice] = []
    notifier = LevelNotifier(store, cases.view, send=sender, fallback=lambda n: balloons.append(n) or True, clock=clock)
    notifier.notify_level(case.id, "warn")
    assert notifier.drain()
    assert [n.case_id for n in balloons] == [case.id]
    notifier.close()


def test_real_notifications_reach_dunst_once(world, notification_daemon, monkeypatch):
    store, bus, cases, clock, case = world
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", notification_daemon.address)
    monkeypatch.setenv("DISPLAY", notification_daemon.xvfb.display)
    notifier = LevelNotifier(store, cases.view, send=DesktopSender(), clock=clock)
    unsubscribe = bus.subscribe(notifier.on_event)

    clock.now = START + timedelta(hours=9)
    cases.check_levels()  # warn
    cases.check_levels()  # same level: no event
    bus.publish(LEVEL_CHANGED, {"case_id": case.id, "level": "warn", "previous": "ok"}, case.id)
    assert notifier.drain()
    clock.now = START + timedelta(hours=19)
    cases.check_levels()  # urgent
    assert notifier.drain()
    unsubscribe()
    notifier.close()

    # And after a "restart", the same level again is not repeated.
    restarted = LevelNotifier(store, cases.view, send=DesktopSender(), clock=clock)
    restarted.on_event(bus.publish(LEVEL_CHANGED, {"case_id": case.id, "level": "urgent", "previous": "warn"}, case.id))
    assert restarted.drain()
    restarted.close()

    mine = [n for n in notification_daemon.history() if n["appname"] == "举证助手"]
    assert [n["summary"] for n in mine] == ["举证即将截止", "举证紧急：快到截止时间了"]
    assert all("230101-123456789012345" in n["body"] for n in mine)
    assert store.notified_levels() == {case.id: ["warn", "urgent"]}


def test_the_memory_keeps_every_case(world):
    """A table, not a settings blob capped at 2,000 cases: nothing is forgotten to stay small."""
    store, bus, cases, clock, case = world
    notifier = LevelNotifier(store, cases.view, send=Recorder(), clock=clock)
    for case_id in (7, 3, 12, 5):
        notifier._remember(case_id, "warn")
    notifier._remember(7, "warn")  # remembered once
    assert sorted(notifier.sent(), key=int) == ["3", "5", "7", "12"] and notifier.sent()["7"] == ["warn"]
