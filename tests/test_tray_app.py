"""The tray controller (with a stand-in pystray) and start_tray over a real Runtime."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import pytest

from juzheng.events import CASE_CHANGED, LEVEL_CHANGED
from juzheng.notify import LevelNotifier, Notice
from juzheng.rules import DEFAULT_RULES_DIR
from juzheng.store import Event
from juzheng.tray import app as tray_app
from juzheng.tray.app import TrayActions, TrayController
from juzheng.tray.icon import RGB
from juzheng.tray.state import CaseDeadline, TrayInputs

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.01)
    return value


# -- a stand-in for pystray with the same surface the controller uses ---------------------------
class FakeMenuItem:
    def __init__(self, text, action, enabled=True, default=False, visible=True):
        self._text, self._action, self._enabled, self.default, self._visible = text, action, enabled, default, visible

    @property
    def visible(self):
        return self._visible(self) if callable(self._visible) else self._visible

    @property
    def submenu(self):
        return self._action if isinstance(self._action, FakeMenu) else None

    @property
    def text(self):
        return self._text(self) if callable(self._text) else self._text

    @property
    def enabled(self):
        return self._enabled(self) if callable(self._enabled) else self._enabled

    def click(self, icon):
        self._action(icon, self)


class FakeMenu:
    SEPARATOR = object()

    def __init__(self, *items):
        self._items = items

    @property
    def items(self):
        # pystray takes either items or one callable that yields them (a menu rebuilt on each open).
        items = list(self._items[0]()) if len(self._items) == 1 and callable(self._items[0]) else self._items
        return [i for i in items if i is not FakeMenu.SEPARATOR and i.visible]


class FakeIcon:
    HAS_NOTIFICATION = True
    instances: ClassVar[list[FakeIcon]] = []

    def __init__(self, name, icon, title, menu):
        self.name, self.icon, self.title, self.menu = name, icon, title, menu
        self.visible = False
        self.menu_updates = 0
        self.notifications: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None
        FakeIcon.instances.append(self)

    def run(self, setup):
        self.thread = threading.current_thread()
        setup(self)
        self._stop.wait()

    def stop(self):
        self._stop.set()

    def update_menu(self):
        self.menu_updates += 1

    def notify(self, message, title=None):
        self.notifications.append((title, message))

    def colour_at_centre_ring(self):
        # A pixel of the disc away from the white mark.
        return self.icon.convert("RGB").getpixel((8, 32))


class FakePystray:
    Icon = FakeIcon
    Menu = FakeMenu
    MenuItem = FakeMenuItem


@pytest.fixture
def fake_pystray(monkeypatch):
    FakeIcon.instances.clear()
    monkeypatch.setattr(tray_app, "load_pystray", lambda: (FakePystray, None))
    monkeypatch.setattr(tray_app, "tray_needs_main_thread", lambda: False)
    return FakePystray


class Provider:
    def __init__(self, **kw):
        self.inputs = TrayInputs(now=NOW, **kw)
        self.calls = 0

    def set(self, **kw):
        self.inputs = self.inputs.model_copy(update=kw)

    def __call__(self) -> TrayInputs:
        self.calls += 1
        return self.inputs


class Actions:
    def __init__(self):
        self.called: list[str] = []
        self.done = threading.Event()

    def make(self, result=None, fail=None) -> TrayActions:
        def cb(name):
            def run():
                self.called.append(name)
                self.done.set()
                if fail == name:
                    raise RuntimeError("磁盘已满")
                return result(name) if callable(result) else result

            return run

        return TrayActions(**{n: cb(n) for n in ("open_root", "open_inbox", "show_pairing_code", "pause", "resume", "undo", "quit")})


def close(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(colour, expected, strict=True))


def started(provider, actions, **kw) -> TrayController:
    controller = TrayController(provider, actions, coalesce_seconds=0.01, **kw)
    controller.start()
    return controller


def test_icon_follows_the_state(fake_pystray):
    provider = Provider(cases=[CaseDeadline(case_id=1, level="warn", deadline_at=NOW + timedelta(hours=5))], pending=2)
    controller = started(provider, Actions().make())
    try:
        assert controller.wait_icon()
        icon = FakeIcon.instances[0]
        assert icon.visible and icon.thread is not threading.main_thread()
        assert close(icon.colour_at_centre_ring(), RGB["amber"])
        assert icon.title == "1 个待举证 · 最近截止 5小时0分 · 2 个文件待分类"

        provider.set(cases=[CaseDeadline(case_id=1, level="urgent", deadline_at=NOW + timedelta(hours=1))])
        controller.refresh_now()
        assert close(icon.colour_at_centre_ring(), RGB["red"])
        provider.set(paused=True)
        updates = icon.menu_updates
        controller.refresh_now()
        assert close(icon.colour_at_centre_ring(), RGB["grey"])
        assert icon.title.endswith("整理已暂停")
        assert icon.menu_updates == updates + 1  # 暂停整理 became 恢复整理
        controller.refresh_now()
        assert icon.menu_updates == updates + 1  # nothing changed: the backend is left alone
    finally:
        controller.stop()
    assert not icon.thread.is_alive()


def test_menu_reflects_the_state(fake_pystray):
    provider = Provider(can_undo=False)
    controller = started(provider, Actions().make())
    try:
        assert controller.wait_icon()
        items = FakeIcon.instances[0].menu.items
        assert [i.text for i in items] == ["打开证据文件夹", "打开收件箱", "配对…", "显示配对码", "已配对的浏览器", "暂停整理", "撤销上次整理", "退出"]
        assert [i.enabled for i in items] == [True, True, True, True, True, True, False, True]
        assert [i.default for i in items] == [True, False, False, False, False, False, False, False]
        provider.set(paused=True, can_undo=True)
        controller.refresh_now()
        assert items[5].text == "恢复整理" and items[6].enabled
    finally:
        controller.stop()


def test_clicks_run_the_actions_and_show_their_message(fake_pystray):
    provider = Provider(can_undo=True)
    actions = Actions()
    controller = started(provider, actions.make(result=lambda name: f"{name} 完成"))
    try:
        assert controller.wait_icon()
        icon = FakeIcon.instances[0]
        items = {i.text: i for i in icon.menu.items}
        items["撤销上次整理"].click(icon)
        wait_for(lambda: icon.notifications)
        assert actions.called == ["undo"]
        assert icon.notifications == [("举证助手", "undo 完成")]

        items["暂停整理"].click(icon)
        wait_for(lambda: len(icon.notifications) == 2)
        provider.set(paused=True)
        controller.refresh_now()
        assert icon.menu.items[5].text == "恢复整理"
        icon.menu.items[5].click(icon)
        wait_for(lambda: len(icon.notifications) == 3)
        assert actions.called == ["undo", "pause", "resume"]
    finally:
        controller.stop()


def test_disabled_entries_do_nothing(fake_pystray):
    actions = Actions()
    controller = started(Provider(can_undo=False), actions.make())
    try:
        assert controller.trigger("undo") is None
        thread = controller.trigger("open_root")
        thread.join(5)
        assert actions.called == ["open_root"]
    finally:
        controller.stop()


def test_a_failing_action_is_reported_not_raised(fake_pystray):
    actions = Actions()
    controller = started(Provider(), actions.make(fail="open_inbox"))
    try:
        assert controller.wait_icon()
        controller.trigger("open_inbox").join(5)
        assert FakeIcon.instances[0].notifications == [("举证助手", "操作失败：磁盘已满")]
    finally:
        controller.stop()


def test_events_refresh_and_reach_the_notifier(fake_pystray):
    class Spy:
        fallback = None

        def __init__(self):
            self.events: list[Event] = []
            self.closed = False

        def on_event(self, event):
            self.events.append(event)

        def send(self, notice):
            return False

        def close(self):
            self.closed = True

    spy = Spy()
    provider = Provider()
    controller = TrayController(provider, Actions().make(), notifier=spy, coalesce_seconds=0.05, refresh_seconds=3600)
    controller.start()
    try:
        assert controller.wait_icon()
        assert spy.fallback == controller.balloon  # failed deliveries go to the balloon
        before = provider.calls
        for i in range(20):  # a burst collapses into few recomputes
            controller.on_event(Event(id=i, at=NOW, type=CASE_CHANGED, payload={"case_id": 1}))
        controller.on_event(Event(id=99, at=NOW, type=LEVEL_CHANGED, payload={"case_id": 1, "level": "warn"}))
        wait_for(lambda: provider.calls > before)
        time.sleep(0.2)
        assert provider.calls - before < 10
        assert len(spy.events) == 21
    finally:
        controller.stop()
    assert spy.closed


def test_headless_says_so_once_and_keeps_working(monkeypatch, caplog):
    monkeypatch.setattr(tray_app, "load_pystray", lambda: (None, "DisplayNameError: Bad display name ''"))
    monkeypatch.setattr(tray_app, "_headless_said", False)
    actions = Actions()
    with caplog.at_level(logging.WARNING, logger="juzheng.tray.app"):
        controllers = [started(Provider(pending=3), actions.make(result="好")) for _ in range(2)]
        for c in controllers:
            c.wait_icon(5)
        said = [r for r in caplog.records if "没有可用的托盘" in r.getMessage()]
        assert len(said) == 1 and "DisplayNameError" in said[0].getMessage()
        assert all(not c.icon_running and c.state.pending == 3 for c in controllers)
        controllers[0].trigger("open_root").join(5)
        assert any("举证助手：好" in r.getMessage() for r in caplog.records)  # the log is the last resort
    for c in controllers:
        c.stop()


def test_no_tray_means_no_icon_at_all(fake_pystray):
    controller = started(Provider(), Actions().make(), show_icon=False)
    try:
        assert controller.wait_icon(0.3) is False
        assert FakeIcon.instances == [] and controller.state is not None
    finally:
        controller.stop()


def test_stop_is_idempotent_and_runs_cleanups(fake_pystray):
    ran: list[str] = []
    controller = started(Provider(), Actions().make())
    controller.cleanups.append(lambda: ran.append("unsubscribe"))
    controller.stop()
    controller.stop()
    assert ran == ["unsubscribe"]


# -- start_tray over a real Runtime -------------------------------------------------------------
@pytest.fixture
def runtime(tmp_path):
    from juzheng.runtime import Runtime

    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    rt = Runtime.build(root=tmp_path / "举证助手", state_dir=tmp_path / "state", rules_dir=rules, secret_backend="file")
    rt.start()
    yield rt
    rt.stop()


def test_start_tray_over_a_runtime(runtime, fake_pystray):
    from juzheng.cases import DetectRequest
    from juzheng.tray import start_tray
    from juzheng.tray.runtime_glue import PAUSED_SETTING

    sent: list[Notice] = []
    notifier = LevelNotifier(runtime.store, runtime.cases.view, send=lambda n: sent.append(n) or True)
    quit_called = threading.Event()
    controller = start_tray(runtime, notifier=notifier, quit=quit_called.set)
    try:
        assert controller.wait_icon()
        state = controller.state
        assert state.colour == "green" and state.open_cases == 0 and not state.entry("undo").enabled

        # A case 1 h from its deadline: the bus event refreshes the tray and notifies once.
        view = runtime.cases.detect(
            DetectRequest(platform="pinduoduo", order_id="230101-123456789012345", scenario="pinduoduo.not_received", remaining_text="剩余 1小时0分")
        )
        assert view.level == "urgent"
        wait_for(lambda: controller.state.colour == "red")
        assert notifier.drain()
        assert [(n.case_id, n.level) for n in sent] == [(view.id, "urgent")]

        # A file the sorter can place: afterwards there is something to undo.
        inbox = runtime.root / "收件箱"
        (inbox / "230101-123456789012345 快递红章证明.jpg").write_bytes(b"\xff\xd8\xff" + b"x" * 100)
        wait_for(lambda: controller.refresh_now().entry("undo").enabled)

        # Pause: the sorter pauses, the choice is stored, the icon turns grey.
        controller.trigger("toggle_pause").join(5)
        assert runtime.evidence.status().paused and runtime.store.get_setting(PAUSED_SETTING) == "1"
        assert controller.refresh_now().colour == "grey"
        assert controller.state.entry("toggle_pause").label == "恢复整理"
        controller.trigger("toggle_pause").join(5)
        assert not runtime.evidence.status().paused and runtime.store.get_setting(PAUSED_SETTING) == "0"

        # Undo puts the file back into the inbox.
        controller.trigger("undo").join(10)
        assert (inbox / "230101-123456789012345 快递红章证明.jpg").exists()
        # Messages go out as desktop notifications (the notifier's sender), like the deadline ones.
        assert any("已撤销上次整理：1 个文件已放回原处" in n.body for n in sent)

        # The pairing code shown is one the helper accepts.
        controller.trigger("show_pairing_code").join(5)
        message = next(n.body for n in sent if n.body.startswith("配对码："))
        code = message.removeprefix("配对码：")[:6]
        assert runtime.auth.check_token(runtime.auth.redeem(code))

        controller.trigger("quit").join(5)
        assert quit_called.is_set()
    finally:
        controller.stop()
    assert notifier._closed


def test_a_stored_pause_survives_a_restart(runtime, fake_pystray):
    from juzheng.tray import start_tray
    from juzheng.tray.runtime_glue import PAUSED_SETTING

    runtime.store.set_setting(PAUSED_SETTING, "1")
    controller = start_tray(runtime, show_icon=False, notifier=LevelNotifier(runtime.store, runtime.cases.view, send=lambda n: True))
    try:
        assert runtime.evidence.status().paused
        assert controller.state.colour == "grey"
    finally:
        controller.stop()


@pytest.mark.subprocess
def test_default_quit_stops_a_serving_loop_from_another_thread(tmp_path):
    """What 退出 does in `juzheng serve`: SIGINT to itself, handled by the loop like Ctrl-C."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import asyncio, signal, threading
        from juzheng.tray.runtime_glue import runtime_actions

        async def main():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            try:
                loop.add_signal_handler(signal.SIGINT, stop.set)
            except NotImplementedError:
                signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(stop.set))
            quit = runtime_actions(object()).quit
            threading.Timer(0.1, quit).start()  # the tray calls it on an action thread
            await asyncio.wait_for(stop.wait(), 10)
            print("stopped cleanly")

        asyncio.run(main())
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "helper")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stopped cleanly"


# -- pairing from the tray: asks, paired browsers, the status page ------------------------------
def test_pairing_ask_and_browsers_from_the_tray_menu(runtime, fake_pystray):
    """A pairing ask shows up in the menu (允许 / 拒绝) and opens the status page; 已配对的浏览器
    lists each browser with its own 撤销, which logs out that one only."""
    from juzheng.tray import start_tray
    from juzheng.tray import runtime_glue

    opened: list[str] = []
    runtime.status_page = type("Page", (), {"one_time_url": lambda self: "http://127.0.0.1:1/open?t=x", "recently_viewed": lambda self: False})()
    sent: list[Notice] = []
    notifier = LevelNotifier(runtime.store, runtime.cases.view, send=lambda n: sent.append(n) or True)
    real_open = runtime_glue.desktop.open_url
    runtime_glue.desktop.open_url = lambda url, **kw: opened.append(url)
    controller = start_tray(runtime, notifier=notifier, quit=lambda: None)
    try:
        assert controller.wait_icon()
        icon = FakeIcon.instances[0]
        origin = "chrome-extension://" + "onafckacbdnlfkogjgcdngfhobpgbpdp"
        kept = runtime.auth.issue_token(origin, "Edge · Windows")
        ask = runtime.asks.ask(origin, "Chrome · Windows")
        wait_for(lambda: controller.state.asks)
        assert opened == ["http://127.0.0.1:1/open?t=x"]
        assert any("允许 举证助手扩展 连接本机助手？" in n.body for n in sent)
        menu = {i.text: i for i in icon.menu.items}
        asks = {i.text: i for i in menu["配对请求"].submenu.items}
        allow = next(i for t, i in asks.items() if t.startswith("允许："))
        assert "Chrome · Windows" in allow.text
        allow.click(icon)
        wait_for(lambda: not controller.state.asks and len(controller.state.browsers) == 2)
        assert runtime.asks.collect(ask.id, ask.secret, origin).state == "approved"
        assert "配对请求" not in {i.text for i in icon.menu.items}  # nothing waits any more

        browsers = {i.text: i for i in {i.text: i for i in icon.menu.items}["已配对的浏览器"].submenu.items}
        revoke = next(i for t, i in browsers.items() if "Chrome · Windows" in t)
        assert revoke.text.startswith("撤销「Chrome · Windows」")
        revoke.click(icon)
        wait_for(lambda: len(controller.state.browsers) == 1)
        assert runtime.auth.check_token(kept)
        assert any("已撤销「Chrome · Windows」" in n.body for n in sent)
    finally:
        runtime_glue.desktop.open_url = real_open
        controller.stop()


def test_without_a_menu_a_click_opens_the_status_page(fake_pystray, monkeypatch):
    """pystray's X11 backend has no menu and runs the default item on a click: the status page."""
    monkeypatch.setattr(FakeIcon, "__module__", "pystray._xorg")
    opened = threading.Event()
    actions = Actions().make()
    actions.open_status = lambda: opened.set()
    controller = started(Provider(), actions)
    try:
        assert controller.wait_icon()
        items = FakeIcon.instances[0].menu.items
        default = [i for i in items if i.default]
        assert [i.text for i in default] == ["打开本机状态页"]
        default[0].click(FakeIcon.instances[0])
        assert opened.wait(5)
    finally:
        controller.stop()
