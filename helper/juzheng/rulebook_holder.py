"""The current rulebook, reloaded when ``rules/`` changes; an invalid edit keeps the last good one.

Callers ask ``holder.get()`` each time they need rules (cheap: an attribute read), never keep a
reference: that is what makes hot reload safe without locks on the request path.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from .events import RULES_CHANGED, EventBus
from .rules import Rulebook, RulebookError, load_rulebook

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 0.3  # editors write a file in several steps (temp file, rename, chmod)


class RulebookHolder:
    def __init__(self, directory: Path, bus: EventBus | None = None) -> None:
        self.directory = Path(directory)
        self.bus = bus
        self._rulebook: Rulebook = load_rulebook(self.directory)  # invalid at start: the caller reports it
        self.error: str | None = None
        self._observer: BaseObserver | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def get(self) -> Rulebook:
        return self._rulebook

    __call__ = get  # the evidence service takes a ``Callable[[], Rulebook]``

    @property
    def digest(self) -> str:
        return self._rulebook.digest

    def reload(self) -> bool:
        """Load the rules again; True when the new rulebook is in use."""
        try:
            book = load_rulebook(self.directory)
        except RulebookError as exc:
            message = f"规则文件有 {len(exc.errors)} 处错误，继续使用上一版有效规则：\n" + str(exc)
            changed = message != self.error
            self.error = message
            log.error("%s", message)
            if changed and self.bus:
                self.bus.publish(RULES_CHANGED, {"digest": self._rulebook.digest, "error": message})
            return False
        except Exception as exc:  # an unreadable directory mid-edit: same treatment, never crash the helper
            self.error = f"无法读取规则目录：{exc}"
            log.exception("rules reload failed")
            return False
        old = self._rulebook.digest
        self._rulebook = book
        had_error, self.error = self.error, None
        if book.digest != old or had_error:
            log.info("规则已重新加载（%s）", book.digest[:12])
            if self.bus:
                self.bus.publish(RULES_CHANGED, {"digest": book.digest, "error": None})
        return True

    # -- watching -----------------------------------------------------------------------------
    def start(self) -> None:
        handler = _Handler(self._schedule)
        observer = Observer()
        observer.schedule(handler, str(self.directory), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def stop(self) -> None:
        with self._lock:
            if self._timer:
                self._timer.cancel()
                self._timer = None
        if self._observer:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def _schedule(self) -> None:
        with self._lock:
            if self._timer:
                self._timer.cancel()
            self._timer = threading.Timer(DEBOUNCE_SECONDS, self.reload)
            self._timer.daemon = True
            self._timer.start()


class _Handler(FileSystemEventHandler):
    def __init__(self, callback) -> None:
        self._callback = callback

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
        if event.is_directory or any(p.endswith((".yaml", ".yml")) for p in paths):
            self._callback()
