"""``start_tray(runtime)``: the tray, its menu actions and the level notifier, built from a Runtime.

This is the only tray module that knows the runtime's parts (cases, evidence, auth, store); it
reaches them through the Runtime's typed attributes, so the tray never imports server internals.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import desktop
from ..notify import LevelNotifier
from ..paths import INBOX
from ..store import utcnow
from ..store.health import PROBLEM_LABELS
from .app import TrayActions, TrayController
from .state import CaseDeadline, PairAskEntry, PairedBrowserEntry, TrayInputs

if TYPE_CHECKING:  # the runtime imports every part of the helper; the tray needs only its type
    from ..evidence import EvidenceService
    from ..pairing.asks import PairingAsk
    from ..runtime import Runtime

log = logging.getLogger(__name__)

# The seller's 暂停整理 outlives a restart, and `juzheng status` reads it from the store.
PAUSED_SETTING = "sorting_paused"


def runtime_inputs(runtime: Runtime, *, helper_running: bool = True, clock: Callable[[], datetime] = utcnow) -> TrayInputs:
    """The tray's inputs from a live runtime: open cases' levels (CaseService), inbox, pause, rules."""
    cases = [
        CaseDeadline(
            case_id=s.id, level=s.level, deadline_at=s.deadline_at,
            estimate=s.deadline_source == "estimate", conflict=s.deadline_conflict,
        )
        for s in runtime.cases.summaries("open")
    ]
    evidence = runtime.evidence
    if evidence is not None:
        status = evidence.status()
        paused, pending = status.paused, len(status.pending)
        reader = status.reader
        reading = reader.queued + (1 if reader.reading else 0) if reader is not None else 0
    else:
        paused, pending = False, len(runtime.store.list_pending())
        reading = 0
    return TrayInputs(
        now=clock(),
        cases=cases,
        pending=pending,
        paused=paused,
        rules_error=runtime.rules.error,
        helper_running=helper_running,
        sorter_available=evidence is not None,
        can_undo=evidence is not None and bool(runtime.store.last_batches(1)),
        root_exists=runtime.root.is_dir(),
        problems=[PROBLEM_LABELS.get(p.code, p.message) for p in runtime.store.problems()],
        paired_browsers=[
            PairedBrowserEntry(id=b.id, name=b.name, paired_at=b.paired_at) for b in runtime.paired_browsers()
        ],
        pair_asks=[PairAskEntry(id=a.id, question=a.question, browser_name=a.browser_name) for a in runtime.asks.pending()],
        reading=reading,
    )


def runtime_actions(runtime: Runtime, quit: Callable[[], None] | None = None) -> TrayActions:
    """The menu's callbacks over a runtime. ``quit`` defaults to SIGINT to this process, which
    ``juzheng serve`` already handles as a clean stop on every OS."""

    def open_root() -> None:
        desktop.open_folder(runtime.root)

    def open_inbox() -> None:
        desktop.open_folder(runtime.root / INBOX)

    def show_pairing_code() -> str:
        issued = runtime.auth.new_code()
        return f"配对码：{issued.code}（10 分钟内有效，只能使用一次）。请在浏览器扩展的「选项」页面输入这 6 位数字。"

    def open_status() -> str | None:
        page = runtime.status_page
        if page is None:
            return show_pairing_code()  # no status page: the code path still pairs
        desktop.open_url(page.one_time_url())
        return None

    def revoke_browser(browser_id: str) -> str:
        names = {b.id: b.name for b in runtime.paired_browsers()}
        if not runtime.revoke_browser(browser_id):
            return "这个浏览器已经撤销过了。"
        return f"已撤销「{names.get(browser_id, '浏览器')}」：它需要重新配对才能连接本机助手。"

    def answer_ask(ask_id: str, allow: bool) -> str:
        ask = runtime.asks.answer(ask_id, allow)
        who = f"{ask.extension_label}（{ask.browser_name}）"
        return f"已允许 {who} 连接本机助手。" if allow else f"已拒绝 {who} 的配对请求。"

    def pause() -> str:
        _require_sorter(runtime).pause()
        runtime.store.set_setting(PAUSED_SETTING, "1")
        return "已暂停整理：收件箱里的新文件会留在原处，直到恢复整理。"

    def resume() -> str:
        _require_sorter(runtime).resume()
        runtime.store.set_setting(PAUSED_SETTING, "0")
        return "已恢复整理：收件箱中等待的文件马上开始归档。"

    def undo() -> str:
        items = _require_sorter(runtime).undo(1)
        if not items:
            return "没有可撤销的整理。"
        done = sum(1 for i in items if i.status == "undone")
        text = f"已撤销上次整理：{done} 个文件已放回原处。"
        problems = len(items) - done
        if problems:
            text += f"{problems} 个文件未能放回（已不在原位置或被占用），详见日志。"
        return text

    return TrayActions(
        open_root=open_root,
        open_inbox=open_inbox,
        show_pairing_code=show_pairing_code,
        pause=pause,
        resume=resume,
        undo=undo,
        quit=quit or (lambda: signal.raise_signal(signal.SIGINT)),
        open_status=open_status,
        revoke_browser=revoke_browser,
        answer_ask=answer_ask,
    )


def on_pairing_ask(runtime: Runtime, controller: TrayController, *, open_url: Callable[[str], Any] | None = None) -> Callable[[PairingAsk], None]:
    """A new pairing ask: say so (notification / balloon), refresh the menu, and open the status
    page where 允许/拒绝 are, unless one is already open and will show it by itself."""

    def listener(ask: PairingAsk) -> None:
        controller.refresh()
        if ask.state != "pending":
            return
        controller.message("举证助手：配对请求", f"{ask.question}（{ask.browser_name}）请在弹出的页面或托盘菜单「配对请求」中选择允许或拒绝。")
        page = runtime.status_page
        if page is not None and controller.show_icon and not page.recently_viewed():
            try:
                (open_url or desktop.open_url)(page.one_time_url())
            except desktop.DesktopError:
                log.warning("无法打开本机状态页", exc_info=True)

    return listener


def _require_sorter(runtime: Runtime) -> EvidenceService:
    if runtime.evidence is None:
        raise RuntimeError("证据文件夹整理服务未启用")
    return runtime.evidence


def start_tray(
    runtime: Runtime,
    *,
    show_icon: bool = True,
    quit: Callable[[], None] | None = None,
    refresh_seconds: float = 30.0,
    notifier: LevelNotifier | None = None,
    notify: bool = True,
) -> TrayController:
    """Start the tray for a started runtime and subscribe it to the runtime's event bus.

    Returns the controller; call ``stop()`` on it before stopping the runtime. Headless (no display,
    no tray host, macOS, ``show_icon=False``) it still keeps the state and sends notifications.
    """
    if runtime.evidence is not None and runtime.store.get_setting(PAUSED_SETTING) == "1":
        runtime.evidence.pause()
        log.info("证据整理处于暂停状态（托盘菜单「恢复整理」可恢复）")
    # The runtime owns the one deadline notifier (it runs without a tray too); the tray only
    # supplies its balloon as the fallback. A notifier passed in (tests) is driven by the tray.
    owned = notifier is None
    if owned and notify:
        runtime.enable_notifications()
    controller = TrayController(
        lambda: runtime_inputs(runtime),
        runtime_actions(runtime, quit),
        notifier=notifier,
        show_icon=show_icon,
        refresh_seconds=refresh_seconds,
    )
    if owned and runtime.notifier is not None and runtime.notifier.fallback is None:
        runtime.notifier.fallback = controller.balloon
        controller.cleanups.append(lambda: setattr(runtime.notifier, "fallback", None))
    controller.cleanups.append(runtime.bus.subscribe(controller.on_event))
    controller.cleanups.append(runtime.asks.subscribe(on_pairing_ask(runtime, controller)))
    controller.start()
    # The helper's first level check may have published before this subscription existed; the
    # notifier's memory makes telling about current levels again harmless.
    if notifier is not None and not owned:
        threading.Thread(
            target=lambda: notifier.catch_up((s.id, s.level) for s in runtime.cases.summaries("open")),
            name="juzheng-notify-catch-up",
            daemon=True,
        ).start()
    return controller

