"""The tray icon at run time: a pystray icon on its own thread, kept in step with the helper.

The controller knows nothing of the server or the store: it gets a ``state_provider`` (returns
:class:`TrayInputs`), :class:`TrayActions` (callbacks for the menu), and optionally a
:class:`~juzheng.notify.LevelNotifier`. ``juzheng.tray.start_tray(runtime)`` builds all three from
a :class:`~juzheng.runtime.Runtime`.

Threads: the icon runs on ``juzheng-tray`` (pystray's loop; on Windows the icon must live on the
thread that runs its message loop, so it is created there too); a ``juzheng-tray-refresh`` thread
recomputes the state when poked (``refresh()``) and at least every ``refresh_seconds`` (the
countdown in the tooltip moves); menu actions run on short-lived threads so a long undo never
freezes the icon. Without a display or a tray host the controller runs headless: it says so once
in the log and keeps computing the state, and messages go to desktop notifications or the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..desktop import tray_needs_main_thread
from ..events import CASE_CHANGED, EVIDENCE_CHANGED, LEVEL_CHANGED, PENDING_CHANGED, RULES_CHANGED
from ..store import Event
from .icon import draw_icon
from .state import MenuAction, TrayInputs, TrayState, tray_state

if TYPE_CHECKING:  # notify builds on the tray's formatting (format_remaining)
    from ..notify import Notice

log = logging.getLogger(__name__)

ICON_JOIN_SECONDS = 1.0
TOOLTIP_LIMIT = 120  # Windows keeps 127 UTF-16 units of a tray tooltip and raises beyond that
REFRESH_EVENTS = frozenset({CASE_CHANGED, EVIDENCE_CHANGED, PENDING_CHANGED, LEVEL_CHANGED, RULES_CHANGED})
_headless_said = False
_headless_lock = threading.Lock()

Message = Callable[[], "str | None"]


@dataclass
class TrayActions:
    """What the menu does. Each callback may return a message for the seller (zh-CN) or None.

    A callback that raises has its exception's text shown as 「操作失败：…」. ``quit`` must make the
    helper stop (the controller's ``stop()`` is then called by whoever stops the helper).
    """

    open_root: Message
    open_inbox: Message
    show_pairing_code: Message
    pause: Message
    resume: Message
    undo: Message
    quit: Callable[[], None]
    # Pairing without a terminal: the status page (confirm, list, revoke), one browser's revoke, an answer.
    open_status: Message | None = None
    revoke_browser: Callable[[str], str | None] | None = None
    answer_ask: Callable[[str, bool], str | None] | None = None


def load_pystray() -> tuple[Any | None, str | None]:
    """``(pystray, None)``, or ``(None, why)``: without a display its import raises Xlib errors."""
    try:
        import pystray

        return pystray, None
    except Exception as exc:  # DisplayNameError, ConnectionRefused, ImportError on odd platforms
        return None, f"{type(exc).__name__}: {exc}"


def _say_headless(reason: str) -> None:
    global _headless_said
    with _headless_lock:
        if _headless_said:
            return
        _headless_said = True
    log.warning("没有可用的托盘（%s）：以无界面方式运行；截止提醒会以桌面通知或日志发出。", reason)


class TrayNotifier(Protocol):
    """What the tray needs of the runtime's notifier (:class:`~juzheng.notify.LevelNotifier`)."""

    fallback: Callable[[Notice], bool] | None  # the tray fills it with its balloon when empty

    def send(self, notice: Notice) -> bool: ...

    def on_event(self, event: Event) -> None: ...

    def close(self) -> None: ...


class TrayController:
    """The integration point the helper's runtime uses. Thread-safe; every method returns quickly.

    ``TrayController(state_provider, actions, *, notifier=None, show_icon=True, refresh_seconds=30)``

    - ``state_provider() -> TrayInputs``: called on the refresh thread; must not block for long.
    - ``actions``: :class:`TrayActions`.
    - ``notifier``: a :class:`~juzheng.notify.LevelNotifier` (or anything with ``on_event``,
      ``send`` and ``close``). ``on_event`` forwards every bus event to it, and its failed
      deliveries fall back to this tray's balloon.
    - ``show_icon=False``: never try to draw (``--no-tray``); state and notifications still work.

    Lifecycle: ``start()`` once, after the runtime started (computes the first state, starts the
    threads; the icon appears when a tray host exists). ``on_event(event)`` is the
    :class:`~juzheng.events.EventBus` subscriber: it hands ``LEVEL_CHANGED`` (any event, in fact)
    to the notifier and schedules a refresh on case/evidence/pending/level/rules events; call
    ``refresh()`` after any other change (e.g. pause). ``stop()`` once at shutdown, before the
    runtime stops (idempotent; runs ``cleanups`` such as the bus unsubscribe first, stops the icon,
    waits at most ~1 s for it and ``timeout`` for the refresh thread, closes the notifier).
    ``state`` is the last :class:`TrayState`; ``message(title, body)`` tells the seller something
    (desktop notification, else balloon, else log); ``trigger(action)`` runs a menu action.
    """

    def __init__(
        self,
        state_provider: Callable[[], TrayInputs],
        actions: TrayActions,
        *,
        notifier: TrayNotifier | None = None,
        show_icon: bool = True,
        refresh_seconds: float = 30.0,
        coalesce_seconds: float = 0.25,
    ) -> None:
        self.state_provider = state_provider
        self.actions = actions
        self.notifier = notifier
        self.show_icon = show_icon
        self.refresh_seconds = refresh_seconds
        self.coalesce_seconds = coalesce_seconds
        self.state: TrayState | None = None
        self.headless_reason: str | None = None
        self.cleanups: list[Callable[[], None]] = []
        self._icon: Any = None  # set once the icon's loop runs
        self._created_icon: Any = None  # set as soon as it exists, so stop() can always reach it
        self._icon_ready = threading.Event()
        self._icon_thread: threading.Thread | None = None
        self._refresh_thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._apply_lock = threading.Lock()
        self._shown: tuple[str, str, tuple] | None = None
        self._x11 = False
        if notifier is not None and notifier.fallback is None:
            notifier.fallback = self.balloon

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._refresh_thread is not None:
            return
        try:
            self.refresh_now()
        except Exception:  # a broken provider must not keep the icon (and its menu) away
            log.exception("tray state failed")
        self._refresh_thread = threading.Thread(target=self._refresh_loop, name="juzheng-tray-refresh", daemon=True)
        self._refresh_thread.start()
        if not self.show_icon:
            self.headless_reason = "--no-tray"
            return
        if tray_needs_main_thread():
            self.headless_reason = "macOS 的托盘只能在主线程运行"
            _say_headless(self.headless_reason)
            return
        self._icon_thread = threading.Thread(target=self._icon_main, name="juzheng-tray", daemon=True)
        self._icon_thread.start()

    def wait_icon(self, timeout: float = 10.0) -> bool:
        """True once the icon's loop runs (False when headless or on timeout)."""
        return self._icon_ready.wait(timeout) and self._icon is not None

    @property
    def icon_running(self) -> bool:
        return self._icon is not None and self._icon_ready.is_set()

    def stop(self, timeout: float = 5.0) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake.set()
        while self.cleanups:  # first: no more events come in while the parts below shut down
            try:
                self.cleanups.pop()()
            except Exception:
                log.exception("tray cleanup failed")
        icon = self._icon or self._created_icon
        if icon is not None:
            # Some backends wait for their loop to run the stop (X11): if that loop already died,
            # the call would never return, so it gets its own daemon thread and a deadline.
            stopper = threading.Thread(target=_stop_icon, args=(icon,), name="juzheng-tray-stop", daemon=True)
            stopper.start()
            stopper.join(min(timeout, ICON_JOIN_SECONDS))
        for thread, wait in ((self._icon_thread, min(timeout, ICON_JOIN_SECONDS)), (self._refresh_thread, timeout)):
            if thread is not None and thread is not threading.current_thread():
                thread.join(wait)
                if thread.is_alive():
                    # Seen with pystray 0.19's X11 backend after an icon update: its loop misses
                    # its own window's destruction. The thread is a daemon; shutdown goes on.
                    log.debug("%s did not end within %.1fs", thread.name, wait)
        # Drop the icon now, while its display still exists: the X11 backend closes it in __del__.
        self._icon = self._created_icon = None
        if self.notifier is not None:
            try:
                self.notifier.close()
            except Exception:
                log.exception("closing the notifier failed")

    # -- state --------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """EventBus subscriber (any thread): notify on LEVEL_CHANGED, refresh on any change."""
        if self.notifier is not None:
            self.notifier.on_event(event)
        if event.type in REFRESH_EVENTS:
            self.refresh()

    def refresh(self) -> None:
        """Ask for a recompute soon (bursts of events collapse into one)."""
        self._wake.set()

    def refresh_now(self) -> TrayState:
        """Compute the state now and apply it to the icon; returns it."""
        state = tray_state(self.state_provider())
        with self._apply_lock:
            self.state = state
            self._apply(state)
        return state

    def _refresh_loop(self) -> None:
        while not self._stopping.is_set():
            poked = self._wake.wait(self.refresh_seconds)
            if self._stopping.is_set():
                return
            if poked:
                self._stopping.wait(self.coalesce_seconds)
            self._wake.clear()
            try:
                self.refresh_now()
            except Exception:
                log.exception("tray refresh failed")

    # -- the icon -----------------------------------------------------------------------------
    def _icon_main(self) -> None:
        pystray, why = load_pystray()
        if pystray is None:
            self.headless_reason = why
            _say_headless(why or "pystray")
            self._icon_ready.set()
            return
        # pystray's X11 (XEmbed) backend writes the title as the window's latin-1 WM_NAME, which
        # cannot hold Chinese (and XEmbed trays show no tooltip): there the title stays ASCII. It
        # also paints the icon without its alpha channel: there the icon is an opaque tile.
        self._x11 = str(getattr(pystray.Icon, "__module__", "")).endswith("._xorg")
        try:
            state = self.state or self.refresh_now()
            icon = pystray.Icon("juzheng", self._image(state), self._title(state), menu=self._menu(pystray))
        except Exception as exc:
            self.headless_reason = f"{type(exc).__name__}: {exc}"
            _say_headless(self.headless_reason)
            self._icon_ready.set()
            return
        self._created_icon = icon
        if self._stopping.is_set():
            return

        def setup(icon: Any) -> None:
            if self._stopping.is_set():  # stop() ran before the loop did: end it now
                icon.stop()
                return
            try:
                _show(icon)
                self._icon = icon
                with self._apply_lock:
                    self._shown = None
                    if self.state is not None:
                        self._apply(self.state)
            except Exception as exc:
                self.headless_reason = f"{type(exc).__name__}: {exc}"
                log.exception("showing the tray icon failed")
            finally:
                self._icon_ready.set()

        try:
            icon.run(setup=setup)
        except Exception as exc:
            self.headless_reason = f"{type(exc).__name__}: {exc}"
            _say_headless(self.headless_reason)
        finally:
            self._icon = None
            self._icon_ready.set()

    def _menu(self, pystray: Any) -> Any:
        item = pystray.MenuItem

        def entry(action: MenuAction, default: bool = False) -> Any:
            return item(
                lambda _item: self._label(action),
                lambda _icon, _item: self.trigger(action),
                enabled=lambda _item: self._enabled(action),
                default=default,
            )

        def asks() -> Any:
            for ask in self.state.asks if self.state else []:
                yield item(f"允许：{ask.question}（{ask.browser_name}）", self._click(self._answer, ask.id, True))
                yield item(f"拒绝 {ask.browser_name} 的配对请求", self._click(self._answer, ask.id, False))

        def browsers() -> Any:
            listed = self.state.browsers if self.state else []
            if not listed:
                yield item("（还没有配对的浏览器）", None, enabled=False)
            for b in listed:
                when = b.paired_at.astimezone().strftime("%m-%d %H:%M")
                yield item(f"撤销「{b.name}」（{when} 配对）", self._click(self._revoke, b.id))

        # A host without a menu (pystray's X11 backend) runs only the default item on a click:
        # there the default opens the status page, where every pairing action is too.
        status_default = self._x11 and self.actions.open_status is not None
        head = [item("打开本机状态页", self._click(self._status), default=True), entry("open_root")] if status_default else [entry("open_root", default=True)]
        return pystray.Menu(
            *head,
            entry("open_inbox"),
            pystray.Menu.SEPARATOR,
            item("配对请求", pystray.Menu(asks), visible=lambda _item: bool(self.state and self.state.asks)),
            entry("pair"),
            entry("show_pairing_code"),
            item("已配对的浏览器", pystray.Menu(browsers)),
            pystray.Menu.SEPARATOR,
            entry("toggle_pause"),
            entry("undo"),
            pystray.Menu.SEPARATOR,
            entry("quit"),
        )

    def _click(self, fn: Callable[..., Any], *args: Any) -> Callable[[Any, Any], None]:
        def run(_icon: Any, _item: Any) -> None:
            threading.Thread(target=self._run_callback, args=(fn, *args), name="juzheng-tray-pairing", daemon=True).start()

        return run

    def _run_callback(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            text = fn(*args)
        except Exception as exc:
            log.warning("tray pairing action failed", exc_info=True)
            text = f"操作失败：{exc}"
        if isinstance(text, str) and text:
            self.message("举证助手", text)
        self.refresh()

    def _status(self) -> str | None:
        return self.actions.open_status() if self.actions.open_status else None

    def _answer(self, ask_id: str, allow: bool) -> str | None:
        return self.actions.answer_ask(ask_id, allow) if self.actions.answer_ask else None

    def _revoke(self, browser_id: str) -> str | None:
        return self.actions.revoke_browser(browser_id) if self.actions.revoke_browser else None

    def _label(self, action: MenuAction) -> str:
        state = self.state
        return state.entry(action).label if state else action

    def _enabled(self, action: MenuAction) -> bool:
        state = self.state
        return bool(state and state.entry(action).enabled)

    def _apply(self, state: TrayState) -> None:
        icon = self._icon
        if icon is None:
            return
        shown = (
            state.colour,
            self._title(state),
            (tuple((e.label, e.enabled) for e in state.menu), tuple(b.id for b in state.browsers), tuple(a.id for a in state.asks)),
        )
        if shown == self._shown:
            return
        previous = self._shown
        try:
            if previous is None or previous[0] != shown[0]:
                icon.icon = self._image(state)
                log.info("托盘图标：%s", state.colour)
            if previous is None or previous[1] != shown[1]:
                icon.title = shown[1]
            if previous is None or previous[2] != shown[2]:
                icon.update_menu()
        except Exception:
            # Not remembered as shown: the next refresh tries again instead of taking the icon
            # for updated (under load the X11 backend's first calls can fail).
            log.exception("updating the tray icon failed")
            return
        self._shown = shown

    def _title(self, state: TrayState) -> str:
        return "juzheng" if self._x11 else _tooltip(state)

    def _image(self, state: TrayState) -> Any:
        return draw_icon(state.colour, opaque=self._x11)

    # -- actions and messages -----------------------------------------------------------------
    def trigger(self, action: MenuAction) -> threading.Thread | None:
        """Run a menu action on its own thread (what a click does); None when it is disabled."""
        if not self._enabled(action):
            return None
        thread = threading.Thread(target=self._run_action, args=(action,), name=f"juzheng-tray-{action}", daemon=True)
        thread.start()
        return thread

    def _run_action(self, action: MenuAction) -> None:
        paused = bool(self.state and self.state.paused)
        callback: Callable[[], Any] = {
            "open_root": self.actions.open_root,
            "open_inbox": self.actions.open_inbox,
            "pair": self.actions.open_status or self.actions.show_pairing_code,
            "show_pairing_code": self.actions.show_pairing_code,
            "toggle_pause": self.actions.resume if paused else self.actions.pause,
            "undo": self.actions.undo,
            "quit": self.actions.quit,
        }[action]
        try:
            text = callback()
        except Exception as exc:
            log.warning("tray action %s failed", action, exc_info=True)
            text = f"操作失败：{exc}"
        if action == "quit":
            return
        if isinstance(text, str) and text:
            self.message("举证助手", text)
        self.refresh()

    def message(self, title: str, body: str) -> bool:
        """Tell the seller something: desktop notification, else the tray balloon, else the log."""
        from ..notify import Notice

        notice = Notice(title=title, body=body)
        try:
            if self.notifier is not None and self.notifier.send(notice):
                return True
        except Exception:
            log.warning("desktop notification failed", exc_info=True)
        if self.balloon(notice):
            return True
        log.warning("%s：%s", title, body)
        return False

    def balloon(self, notice: Notice) -> bool:
        icon = self._icon
        if icon is None or not getattr(icon, "HAS_NOTIFICATION", False):
            return False
        try:
            icon.notify(notice.body, notice.title)
            return True
        except Exception:
            log.warning("tray balloon failed", exc_info=True)
            return False


def _stop_icon(icon: Any) -> None:
    try:
        icon.stop()
    except Exception:
        log.exception("stopping the tray icon failed")


def _show(icon: Any, timeout: float = 5.0) -> None:
    # pystray 0.19's X11 backend reports "ready" a moment before it records its loop thread, and
    # a cross-thread call in that moment raises AttributeError: retry briefly.
    deadline = time.monotonic() + timeout
    while True:
        try:
            icon.visible = True
            return
        except AttributeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _tooltip(state: TrayState) -> str:
    text = state.tooltip
    return text if len(text) <= TOOLTIP_LIMIT else text[: TOOLTIP_LIMIT - 1] + "…"
