"""The in-process event bus: every change is journaled in the store, then pushed to subscribers.

Publishers may run on any thread (the watcher's, the server's loop); subscribers are called on the
publisher's thread and must hand work to their own loop themselves (``loop.call_soon_threadsafe``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .store import Event, SqliteStore

log = logging.getLogger(__name__)
Subscriber = Callable[[Event], None]

# Event types, as the extension and the tray see them.
CASE_CHANGED = "case"          # payload: {"case_id": int}
EVIDENCE_CHANGED = "evidence"  # payload: {"platform", "order_id", "kind", "evidence_id", "action"}
PENDING_CHANGED = "pending"    # payload: {"path", "reason"} (reason None: no longer pending)
LEVEL_CHANGED = "level"        # payload: {"case_id", "level", "previous"}
RULES_CHANGED = "rules"        # payload: {"digest", "error"}


class EventBus:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, type: str, payload: dict, case_id: int | None = None) -> Event:
        event = self._store.append_event(type, payload, case_id)
        self._deliver([event], self._listening())
        return event

    def publish_many(self, items: list[tuple[str, dict, int | None]]) -> None:
        """Journal all in one transaction, then deliver in order (bulk changes such as a first index).

        With nobody subscribed (``juzheng sort``) they are only journaled: no event objects are built
        (one per sorted file)."""
        if not items:
            return
        subscribers = self._listening()
        if not subscribers:
            self._store.append_events(items, returning=False)
            return
        self._deliver(self._store.append_events(items), subscribers)

    def _listening(self) -> list[Subscriber]:
        with self._lock:
            return list(self._subscribers)

    @staticmethod
    def _deliver(events: list[Event], subscribers: list[Subscriber]) -> None:
        for event in events:
            for subscriber in subscribers:
                try:
                    subscriber(event)
                except Exception:  # one broken listener must not stop the others or the publisher
                    log.exception("event subscriber failed for %s", event.type)
