"""Pairing by confirmation (KeePassXC-browser's association model): the extension asks, the seller
allows or refuses at the helper, the extension collects its token.

Only the asking extension can collect: the ask's ``secret`` goes back to it alone and is needed to
poll. Only the seller can answer: :meth:`PairingAsks.answer` is called by the tray menu and the
local status page (a page of its own origin behind a one-time URL), never by an API route a
browser extension or web page can reach.

Limits: one open ask per origin (a new one replaces it), at most ``MAX_OPEN`` at once, at most
``ASKS_PER_MINUTE`` new asks per origin; asks expire after ``ASK_TTL_SECONDS``; an approved token
is handed out once, then forgotten.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

from .auth import Auth, PairRateLimited, PairRefused, PairUnknown
from .browsers import clean_name
from .identity import ExtensionPolicy, origin_id

ASK_TTL_SECONDS = 5 * 60.0
MAX_OPEN = 8
ASKS_PER_MINUTE = 3
AskState = Literal["pending", "approved", "denied", "expired"]


@dataclass
class PairingAsk:
    id: str
    secret: str = field(repr=False)
    origin: str
    extension_id: str
    extension_label: str
    browser_name: str
    created_at: datetime
    expires: float
    state: AskState = "pending"
    token: str | None = field(default=None, repr=False)

    @property
    def question(self) -> str:
        return f"允许 {self.extension_label} 连接本机助手？"


class PairingAsks:
    def __init__(self, auth: Auth, policy: ExtensionPolicy, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._auth = auth
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._asks: dict[str, PairingAsk] = {}
        self._recent: dict[str, list[float]] = {}
        self._listeners: list[Callable[[PairingAsk], None]] = []

    def subscribe(self, listener: Callable[[PairingAsk], None]) -> Callable[[], None]:
        """``listener(ask)`` after every new ask and answer (tray, status page); returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _tell(self, ask: PairingAsk) -> None:
        for listener in list(self._listeners):
            try:
                listener(ask)
            except Exception:  # a broken listener must not fail the extension's request
                import logging

                logging.getLogger(__name__).exception("pairing listener failed")

    # -- the extension's side -------------------------------------------------------------------
    def require_allowed(self, origin: str) -> None:
        """Raise the refusal (403, with what the seller can do) unless ``origin`` may pair."""
        if not self._policy.allows(origin):
            ext = origin_id(origin) or origin[:80]
            raise PairRefused(
                f"扩展 {ext} 不是举证助手扩展，助手不接受它的配对请求。"
                f"如果这确实是您自己安装的举证助手（例如从应用商店安装、ID 不同），请在助手的状态页「允许其他扩展」中加入这个 ID。",
            )

    def ask(self, origin: str, browser_name: str | None) -> PairingAsk:
        self.require_allowed(origin)
        now = self._clock()
        with self._lock:
            self._expire(now)
            recent = [t for t in self._recent.get(origin, []) if now - t < 60.0]
            if len(recent) >= ASKS_PER_MINUTE:
                raise PairRateLimited("配对请求太频繁，请一分钟后再试。")
            for old in [a for a in self._asks.values() if a.origin == origin and a.state == "pending"]:
                del self._asks[old.id]  # one open ask per extension: the newest wins
            if sum(1 for a in self._asks.values() if a.state == "pending") >= MAX_OPEN:
                raise PairRateLimited("等待确认的配对请求太多，请先在助手中处理，或稍后再试。")
            recent.append(now)
            self._recent[origin] = recent
            ext = origin_id(origin) or ""
            ask = PairingAsk(
                id=secrets.token_urlsafe(9),
                secret=secrets.token_urlsafe(24),
                origin=origin,
                extension_id=ext,
                extension_label=ExtensionPolicy.describe(origin),
                browser_name=clean_name(browser_name),
                created_at=datetime.now(timezone.utc),
                expires=now + ASK_TTL_SECONDS,
            )
            self._asks[ask.id] = ask
        self._tell(ask)
        return ask

    def collect(self, ask_id: str, secret: str, origin: str) -> PairingAsk:
        """The ask as its extension may see it; an approved token is handed out once."""
        with self._lock:
            self._expire(self._clock())
            ask = self._asks.get(ask_id)
            if ask is None or ask.origin != origin or not hmac.compare_digest(ask.secret.encode(), secret.encode()):
                raise PairUnknown("没有这个配对请求（可能已过期）。请在选项页重新点「开始配对」。")
            if ask.state != "pending":
                del self._asks[ask_id]  # answered: tell it once, then forget (the token with it)
            return ask

    # -- the seller's side (tray, status page) --------------------------------------------------
    def pending(self) -> list[PairingAsk]:
        with self._lock:
            self._expire(self._clock())
            return sorted((a for a in self._asks.values() if a.state == "pending"), key=lambda a: a.created_at)

    def answer(self, ask_id: str, allow: bool) -> PairingAsk:
        with self._lock:
            self._expire(self._clock())
            ask = self._asks.get(ask_id)
            if ask is None or ask.state != "pending":
                raise PairUnknown("这个配对请求已经处理过或已过期。")
            if allow:
                ask.token = self._auth.issue_token(ask.origin, ask.browser_name)
                ask.state = "approved"
            else:
                ask.state = "denied"
            # The extension has one more TTL to collect its answer.
            ask.expires = self._clock() + ASK_TTL_SECONDS
        self._tell(ask)
        return ask

    def _expire(self, now: float) -> None:
        for ask in list(self._asks.values()):
            if now > ask.expires:
                del self._asks[ask.id]
        for origin in [o for o, times in self._recent.items() if all(now - t >= 60.0 for t in times)]:
            del self._recent[origin]


def expires_at(ask: PairingAsk, clock: Callable[[], float] = time.monotonic) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=max(0.0, ask.expires - clock()))
