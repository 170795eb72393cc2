"""Desktop notifications when a case turns ``warn`` or ``urgent``: once per case and level, ever.

- :class:`LevelNotifier` subscribes to the event bus (``bus.subscribe(notifier.on_event)``) and reacts
  to ``LEVEL_CHANGED``. What it has sent is remembered in the store (the
  ``notified_levels`` table), so a restart never repeats a notification.
- Delivery runs on the notifier's own thread, never on the publisher's (the level check, a request).
- :class:`DesktopSender` is desktop-notifier on a private event loop. Without a notification
  service (no session bus: desktop-notifier logs ``InvalidAddressError``; macOS outside an app
  bundle) it reports failure and the notifier falls back to the tray balloon, else the log.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .events import LEVEL_CHANGED
from .rules.deadlines import Level
from .store import Event, SqliteStore, utcnow
from .tray.state import format_remaining

if TYPE_CHECKING:  # the cases build on this module's notices
    from .cases.models import CaseView

log = logging.getLogger(__name__)

APP_LABEL = "举证助手"
NOTIFY_LEVELS: frozenset[str] = frozenset({"warn", "urgent"})
TITLES: dict[str, str] = {"warn": "举证即将截止", "urgent": "举证紧急：快到截止时间了", "overdue": "举证已超时"}


class Notice(BaseModel):
    """One message for the seller."""

    title: str
    body: str
    case_id: int | None = None
    level: Level | None = None
    url: str | None = None  # the case's page in the seller back office, opened on click
    urgent: bool = False


def level_notice(view: CaseView, level: Level, now: datetime) -> Notice:
    """The notification for a case view that reached ``level``. Pure."""
    parts = [f"{view.platform_label} 订单 {view.order_id}"]
    if view.scenario_label:
        parts.append(view.scenario_label)
    if view.deadline_at is not None:
        parts.append(f"剩余 {format_remaining(view.deadline_at - now)}".replace("剩余 已超时", "已超时"))
    checklist = view.checklist
    if checklist is not None:
        if checklist.complete:
            parts.append("凭证已齐，请尽快提交")
        else:
            missing = min((len(o.missing) for o in checklist.options), default=0)
            parts.append(f"还缺 {missing} 项凭证" if missing else "请核对凭证后提交")
    else:
        parts.append("请在页面上选择售后场景")
    return Notice(
        title=TITLES.get(level, "举证提醒"),
        body="；".join(parts),
        case_id=view.id,
        level=level,
        url=view.url,
        urgent=level in ("urgent", "overdue"),
    )


Sender = Callable[[Notice], bool]  # True when the OS notification service accepted it


class DesktopSender:
    """desktop-notifier, on its own thread with one event loop for its whole life.

    One loop because desktop-notifier's D-Bus connection is bound to the loop it was made on, and
    notification clicks arrive on it. ``on_click(url)`` is called when a notice with a URL is clicked.
    """

    def __init__(
        self,
        app_name: str = APP_LABEL,
        *,
        icon_path: Path | None = None,
        on_click: Callable[[str], None] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.app_name = app_name
        self.icon_path = icon_path
        self.on_click = on_click
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._notifier: Any = None
        self._lock = threading.Lock()
        self.available = _backend_available()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="juzheng-notify-loop", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def __call__(self, notice: Notice) -> bool:
        if not self.available:
            return False
        loop = self._ensure_loop()
        try:
            return asyncio.run_coroutine_threadsafe(self._send(notice), loop).result(self.timeout)
        except Exception:  # a hung or broken notification service must never hurt the helper
            log.warning("桌面通知发送失败", exc_info=True)
            return False

    async def _send(self, notice: Notice) -> bool:
        from desktop_notifier import DesktopNotifier, Icon, Urgency

        if self._notifier is None:
            icon = Icon(path=self.icon_path) if self.icon_path else None
            self._notifier = DesktopNotifier(app_name=self.app_name, app_icon=icon)
        dispatched: list[bool] = []
        on_clicked = None
        if notice.url and self.on_click:
            url, click = notice.url, self.on_click
            on_clicked = lambda: click(url)  # noqa: E731
        # desktop-notifier logs and swallows delivery errors; on_dispatched fires only on success.
        await self._notifier.send(
            notice.title,
            notice.body,
            urgency=Urgency.Critical if notice.urgent else Urgency.Normal,
            on_dispatched=lambda: dispatched.append(True),
            on_clicked=on_clicked,
        )
        return bool(dispatched)

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(5)
            loop.close()


def _backend_available() -> bool:
    try:
        from desktop_notifier.backends.dummy import DummyNotificationCenter
        from desktop_notifier.main import get_backend_class

        return get_backend_class() is not DummyNotificationCenter
    except Exception:  # no desktop-notifier, or its platform backend cannot load (missing winrt)
        log.info("桌面通知不可用", exc_info=True)
        return False


class LevelNotifier:
    """Notify once per (case, level) in ``levels``; see the module docstring.

    ``case_view(case_id)`` returns the case view (``CaseService.view``); ``send`` delivers a
    :class:`Notice` (default :class:`DesktopSender`); ``fallback`` shows it some other way when
    ``send`` fails (the tray passes its balloon); without one it is logged.
    """

    def __init__(
        self,
        store: SqliteStore,
        case_view: Callable[[int], Any],
        *,
        send: Sender | None = None,
        fallback: Callable[[Notice], bool] | None = None,
        clock: Callable[[], datetime] = utcnow,
        levels: Collection[str] = NOTIFY_LEVELS,
    ) -> None:
        self.store = store
        self.case_view = case_view
        self.send: Sender = send if send is not None else DesktopSender()
        self.fallback = fallback
        self.clock = clock
        self.levels = frozenset(levels)
        self._queue: queue.Queue[tuple[int, Level] | None] = queue.Queue()
        self._in_flight: set[tuple[int, str]] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        # Whether the last notification reached the seller (desktop or fallback); None before the
        # first. The extension notifies itself only when the helper cannot (GET /api/health).
        self.last_shown: bool | None = None

    # -- input --------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Bus subscriber: called on the publisher's thread, so it only queues."""
        if event.type != LEVEL_CHANGED:
            return
        case_id = event.payload.get("case_id", event.case_id)
        level = event.payload.get("level")
        if isinstance(case_id, int) and level in self.levels:
            self.notify_level(case_id, level)

    def notify_level(self, case_id: int, level: Level) -> bool:
        """Queue a notification unless this (case, level) was sent before; True when queued."""
        key = (case_id, level)
        with self._lock:
            if self._closed or key in self._in_flight or level in self.sent().get(str(case_id), []):
                return False
            self._in_flight.add(key)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="juzheng-notifier", daemon=True)
                self._thread.start()
        self._queue.put(key)
        return True

    def catch_up(self, levels: Iterable[tuple[int, Level | None]]) -> int:
        """Queue what was never said about the cases' current levels (e.g. at start-up, when the
        first level check may have run before anyone listened). Returns how many were queued."""
        return sum(1 for case_id, level in levels if level in self.levels and self.notify_level(case_id, level))

    def sent(self) -> dict[str, list[str]]:
        """case id → levels already notified, as remembered in the store."""
        return {str(case_id): levels for case_id, levels in self.store.notified_levels().items()}

    # -- delivery -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(*item)
            except Exception:
                log.exception("notification for case %s failed", item)
            finally:
                if item is not None:
                    with self._lock:
                        self._in_flight.discard(item)
                self._queue.task_done()

    def _deliver(self, case_id: int, level: Level) -> None:
        try:
            view = self.case_view(case_id)
        except Exception:  # the case was deleted or cannot be computed: nothing to tell
            log.info("case %s has no view; no notification", case_id, exc_info=True)
            return
        if view.status != "open":
            return
        notice = level_notice(view, level, self.clock())
        shown = self.send(notice)
        if not shown and self.fallback is not None:
            try:
                shown = bool(self.fallback(notice))
            except Exception:
                log.exception("notification fallback failed")
        self.last_shown = shown
        if not shown:
            log.warning("%s：%s", notice.title, notice.body)  # the log is the last place a seller can look
        # Marked after the attempt either way: a desktop without a notification service would
        # otherwise get the same fallback message every level check.
        self._remember(case_id, level)

    def _remember(self, case_id: int, level: str) -> None:
        with self._lock:
            self.store.add_notified_level(case_id, level)

    # -- lifecycle ----------------------------------------------------------------------------
    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notification was handled; False on timeout."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
        closer = getattr(self.send, "close", None)
        if closer is not None:
            closer()
