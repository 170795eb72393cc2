"""The paired browsers: one entry per browser profile that holds a token, so one can be revoked alone.

A token is ``ext.<nonce>.<hmac(key, "ext:" + nonce)>``; the nonce is the browser's id here. A token
is valid while its MAC is right (the key still the same) *and* its nonce is in this list: removing
one entry logs out that browser only, rotating the key logs out all.

Helpers from before this list existed issued tokens nobody recorded. Until the list is first
written, a valid token is adopted on first use as 「早先配对的浏览器」, so an update does not log
every seller out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Protocol

from ..store.records import PairedBrowser

MAX_BROWSERS = 20
NAME_LIMIT = 60
LEGACY_NAME = "早先配对的浏览器"
# A plain value in settings: the most recently paired origin (the one older helpers knew).
PAIRED_ORIGIN_SETTING = "paired_origin"


class BrowserList(Protocol):
    """Where the list is kept (the store's ``paired_browsers`` table)."""

    def paired_browsers(self) -> list[PairedBrowser] | None: ...

    def set_paired_browsers(self, browsers: Iterable[PairedBrowser]) -> None: ...


def clean_name(name: str | None) -> str:
    """A browser name from the extension, safe to show: printable, one line, short."""
    text = "".join(ch for ch in (name or "") if ch.isprintable()).strip()
    return text[:NAME_LIMIT] or "浏览器"


class BrowserRegistry:
    def __init__(self, kept: BrowserList, *, legacy_origin: str | None = None) -> None:
        self._kept = kept
        self._lock = threading.Lock()
        stored = kept.paired_browsers()
        self._adopting = stored is None  # never written: tokens of older helpers are adopted once
        self._legacy_origin = legacy_origin
        # A damaged row was dropped by the store: that browser pairs again, nobody else is let in.
        self._items: dict[str, PairedBrowser] = {b.id: b for b in stored or []}
        # Replaced on every change: a token verified once on a connection stays good while this is
        # the same object (Auth.check_token), and the origins are computed once per change.
        self.stamp: object = object()
        self._origins: frozenset[str] | None = None

    def _write(self) -> None:
        self._adopting = False
        self._origins = None
        self.stamp = object()
        self._kept.set_paired_browsers(sorted(self._items.values(), key=lambda b: b.paired_at))

    def list(self) -> list[PairedBrowser]:
        with self._lock:
            return sorted(self._items.values(), key=lambda b: b.paired_at)

    def origins(self) -> frozenset[str]:
        """Asked twice per extension request (Origin check, CORS): computed once per change."""
        known = self._origins
        if known is not None:
            return known
        with self._lock:
            found = {b.origin for b in self._items.values()}
            if self._adopting and self._legacy_origin:
                found.add(self._legacy_origin)
            self._origins = frozenset(found)
            return self._origins

    def add(self, nonce: str, origin: str, name: str | None, *, now: datetime | None = None) -> PairedBrowser:
        browser = PairedBrowser(id=nonce, name=clean_name(name), origin=origin, paired_at=now or datetime.now(timezone.utc))
        with self._lock:
            self._items[nonce] = browser
            while len(self._items) > MAX_BROWSERS:  # the oldest pairing goes first
                oldest = min(self._items.values(), key=lambda b: b.paired_at)
                del self._items[oldest.id]
            self._write()
        return browser

    def knows(self, nonce: str) -> bool:
        with self._lock:
            if nonce in self._items:
                return True
            if self._adopting and self._legacy_origin:
                self._items[nonce] = PairedBrowser(
                    id=nonce, name=LEGACY_NAME, origin=self._legacy_origin, paired_at=datetime.now(timezone.utc)
                )
                self._write()
                return True
            return False

    def remove(self, nonce: str) -> PairedBrowser | None:
        with self._lock:
            gone = self._items.pop(nonce, None)
            if gone is not None:
                self._write()
            return gone

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._legacy_origin = None
            self._write()
