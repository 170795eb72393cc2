"""The paired browsers: one entry per browser profile that holds a token, so one can be revoked alone.

A token is ``ext.<nonce>.<hmac(key, "ext:" + nonce)>``; the nonce is the browser's id here. A token
is valid while its MAC is right (the key still the same) *and* its nonce is in this list: removing
one entry logs out that browser only, rotating the key logs out all.

Helpers from before this list existed issued tokens nobody recorded. Until the list is first
written, a valid token is adopted on first use as 「早先配对的浏览器」, so an update does not log
every seller out.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from pydantic import BaseModel, Field, ValidationError

log = logging.getLogger(__name__)

SETTING = "paired_browsers"
MAX_BROWSERS = 20
NAME_LIMIT = 60
LEGACY_NAME = "早先配对的浏览器"


class PairedBrowser(BaseModel):
    id: str = Field(description="令牌中的随机编号（不是令牌本身）")
    name: str = Field(description="扩展报告的浏览器名称，例如 Chrome · Windows")
    origin: str
    paired_at: datetime


def clean_name(name: str | None) -> str:
    """A browser name from the extension, safe to show: printable, one line, short."""
    text = "".join(ch for ch in (name or "") if ch.isprintable()).strip()
    return text[:NAME_LIMIT] or "浏览器"


class BrowserRegistry:
    def __init__(self, load: Callable[[], str | None], save: Callable[[str], None], *, legacy_origin: str | None = None) -> None:
        self._load = load
        self._save = save
        self._lock = threading.Lock()
        raw = load()
        self._adopting = raw is None  # never written: tokens of older helpers are adopted once
        self._legacy_origin = legacy_origin
        self._items: dict[str, PairedBrowser] = {}
        if raw:
            try:
                for item in json.loads(raw):
                    browser = PairedBrowser.model_validate(item)
                    self._items[browser.id] = browser
            except (ValueError, TypeError, ValidationError):
                # A damaged list logs everyone out rather than letting anyone in.
                log.warning("已配对浏览器列表损坏，所有浏览器需要重新配对")

    def _write(self) -> None:
        self._adopting = False
        items = sorted(self._items.values(), key=lambda b: b.paired_at)
        self._save(json.dumps([b.model_dump(mode="json") for b in items], ensure_ascii=False))

    def list(self) -> list[PairedBrowser]:
        with self._lock:
            return sorted(self._items.values(), key=lambda b: b.paired_at)

    def origins(self) -> frozenset[str]:
        with self._lock:
            found = {b.origin for b in self._items.values()}
            if self._adopting and self._legacy_origin:
                found.add(self._legacy_origin)
            return frozenset(found)

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
