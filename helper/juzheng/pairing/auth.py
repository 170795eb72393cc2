"""Tokens, pairing codes and WebSocket tickets.

- Extension token: ``ext.<nonce>.<hmac(key, "ext:" + nonce)>`` — nothing stored; rotating the key
  revokes all of them.
- Admin token (the CLI talking to its own helper): ``adm.<nonce>.<hmac(key, "adm:" + nonce)>``. The
  CLI mints it itself from the same secret store, so no extra credential file exists.
- Pairing code: 6 digits, valid 10 minutes, single use. Wrong tries count per origin: after 5, that
  origin waits (1 minute, doubling to 15) while the code stays valid for everyone else, so another
  program sending wrong codes cannot lock the seller's own extension out.
- Ticket: random, valid 30 s, single use, for ``GET /api/events`` (browsers cannot set headers on
  WebSockets, and the long-lived token must never appear in a URL).

All comparisons are constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from hashlib import sha256
from typing import Any, Literal, Protocol

from ..errors import DomainError, NotFound, RateLimited, Refused
from .browsers import BrowserRegistry

CODE_TTL = timedelta(minutes=10)
TICKET_TTL_SECONDS = 30.0
MAX_WRONG_CODES = 5
LOCK_SECONDS = 60.0
MAX_LOCK_SECONDS = 15 * 60.0
MAX_TRACKED_ORIGINS = 256
Scope = Literal["ext", "adm"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_token(key: bytes, scope: Scope) -> str:
    nonce = _b64(secrets.token_bytes(18))
    return f"{scope}.{nonce}.{_expected_mac(key, scope, nonce)}"


def _expected_mac(key: bytes, scope: str, nonce: str) -> str:
    return _b64(hmac.new(key, f"{scope}:{nonce}".encode(), sha256).digest())


def _mac_matches(expected: str, mac: str, given_scope: str, scope: str) -> bool:
    # Compare the whole MAC in constant time first; the scope check after it leaks nothing useful.
    # surrogateescape: a header's non-UTF-8 bytes arrive as lone surrogates; they must compare as
    # unequal (401), not raise (500).
    ok = hmac.compare_digest(expected.encode(), mac.encode("utf-8", "surrogateescape"))
    return ok and hmac.compare_digest(given_scope.encode(), scope.encode("utf-8", "surrogateescape"))


class Connection(Protocol):
    """A client connection that remembers the token last verified on it (server/connections.py)."""

    verified_token: tuple[str, object, object] | None


class VerifiedMacs:
    """The expected MAC of each token already verified once under the current key.

    Every API request carries its token; recomputing the HMAC for each cost ~3 % of a cached
    ``GET /api/cases/{id}``. A hit still compares the presented MAC with ``compare_digest``, so a
    token with a known nonce and a wrong MAC fails in constant time as before. Only tokens that
    verified get in (a stranger's guesses cannot fill it), and the size is capped anyway. The key
    lives here with its MACs, so a new key is a new object: a check racing ``--revoke`` can only
    fill the discarded one, never put an old key's MAC next to the new key.
    """

    LIMIT = 256

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._macs: dict[tuple[str, str], str] = {}

    def verify(self, token: str, scope: Scope) -> bool:
        parts = token.split(".")
        if len(parts) != 3 or len(token) > 200:
            return False
        given_scope, nonce, mac = parts
        slot = (given_scope, nonce)
        expected = self._macs.get(slot)
        if expected is not None:
            return _mac_matches(expected, mac, given_scope, scope)
        expected = _expected_mac(self.key, given_scope, nonce)
        if not _mac_matches(expected, mac, given_scope, scope):
            return False
        if len(self._macs) >= self.LIMIT:
            self._macs.clear()
        self._macs[slot] = expected
        return True


class PairingError(DomainError):
    """A pairing refused; ``attempts_left`` says how many wrong codes remain before a lock."""

    def __init__(self, message: str, attempts_left: int | None = None) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left

    def extra(self) -> dict[str, Any]:
        return {"attempts_left": self.attempts_left}


class PairRefused(PairingError, Refused):
    default_code = "pair_refused"


class PairUnknown(PairingError, NotFound):
    default_code = "pair_unknown"


class PairRateLimited(PairingError, RateLimited):
    default_code = "pair_rate_limited"


@dataclass
class _Strikes:
    wrong: int = 0
    locks: int = 0
    until: float = 0.0


@dataclass
class IssuedCode:
    code: str
    expires_at: datetime


class Auth:
    """In-memory pairing state over a key that lives in a :class:`SecretStore`."""

    def __init__(self, key: bytes, *, clock=time.monotonic, browsers: BrowserRegistry | None = None) -> None:
        self._tokens = VerifiedMacs(key)
        self._clock = clock
        self._lock = threading.Lock()
        self._code: str | None = None
        self._code_expires: float = 0.0
        self._strikes: dict[str, _Strikes] = {}
        self._tickets: dict[str, float] = {}
        self.browsers = browsers

    # -- tokens -------------------------------------------------------------------------------
    def issue_token(self, origin: str = "", name: str | None = None) -> str:
        """A token for one browser; with a registry, that browser is listed (and can be revoked alone)."""
        token = mint_token(self._tokens.key, "ext")
        if self.browsers is not None:
            self.browsers.add(token.split(".")[1], origin, name)
        return token

    def check_token(self, token: str, connection: Connection | None = None) -> bool:
        """``connection``: where the request came in. A token that verified on it is taken again by
        plain equality while neither the key nor the browser list has changed since (a changed list
        means a browser may have been removed: removing one logs it out at once). Plain equality is
        safe there: only a request on this connection that held the token can have put it there, so
        its timing tells nothing a stranger could use."""
        tokens = self._tokens
        browsers = self.browsers
        stamp = browsers.stamp if browsers is not None else None
        if connection is not None:
            seen = connection.verified_token
            if seen is not None and seen[1] is tokens and seen[2] is stamp and seen[0] == token:
                return True
        if not tokens.verify(token, "ext"):
            return False
        if browsers is not None and not browsers.knows(token.split(".")[1]):
            return False
        if connection is not None:
            # The stamp read before knows(): a change in between leaves an outdated entry, which
            # only sends the next request through the full check.
            connection.verified_token = (token, tokens, stamp)
        return True

    def check_admin(self, token: str) -> bool:
        return self._tokens.verify(token, "adm")

    def replace_key(self, key: bytes) -> None:
        """After ``--revoke``: every token issued so far stops working; open tickets too."""
        with self._lock:
            self._tokens = VerifiedMacs(key)
            self._tickets.clear()
        if self.browsers is not None:
            self.browsers.clear()

    # -- pairing codes ------------------------------------------------------------------------
    def new_code(self) -> IssuedCode:
        with self._lock:
            self._code = f"{secrets.randbelow(1_000_000):06d}"
            self._code_expires = self._clock() + CODE_TTL.total_seconds()
            self._strikes.clear()  # the seller asked for a new code: everyone may try it again
            return IssuedCode(self._code, datetime.now(timezone.utc) + CODE_TTL)

    def current_code(self) -> IssuedCode | None:
        """The code still valid now (the status page shows it), or None."""
        with self._lock:
            left = self._code_expires - self._clock()
            if self._code is None or left <= 0:
                return None
            return IssuedCode(self._code, datetime.now(timezone.utc) + timedelta(seconds=left))

    def redeem(self, code: str, origin: str = "", name: str | None = None) -> str:
        """Exchange a code for a token, or raise :class:`PairingError` saying what to do."""
        with self._lock:
            now = self._clock()
            strikes = self._strikes.get(origin)
            if strikes is not None and now < strikes.until:
                wait = int(strikes.until - now) + 1
                raise PairRateLimited(f"配对码错误次数过多，请 {wait} 秒后再试（配对码仍然有效）。", 0)
            if self._code is None:
                raise PairRefused("没有有效的配对码。请在托盘菜单点「配对」获取配对码（助手窗口里也写着显示配对码的命令）。")
            if now > self._code_expires:
                self._code = None
                raise PairRefused("配对码已过期（有效期 10 分钟）。请在托盘菜单点「配对」获取新的配对码。")
            if not hmac.compare_digest(self._code.encode(), code.strip().encode()):
                strikes = self._strike(origin, now)
                left = MAX_WRONG_CODES - strikes.wrong
                if now < strikes.until:
                    raise PairRateLimited(f"配对码错误次数过多，请 {int(strikes.until - now) + 1} 秒后再试（配对码仍然有效）。", 0)
                raise PairRefused(f"配对码不正确，还可以再试 {left} 次。", left)
            self._code = None  # single use
            self._strikes.pop(origin, None)
        return self.issue_token(origin, name)

    def _strike(self, origin: str, now: float) -> _Strikes:
        strikes = self._strikes.get(origin)
        if strikes is None:
            if len(self._strikes) >= MAX_TRACKED_ORIGINS:  # forget the quietest origin first
                del self._strikes[min(self._strikes, key=lambda o: self._strikes[o].until)]
            strikes = self._strikes[origin] = _Strikes()
        strikes.wrong += 1
        if strikes.wrong >= MAX_WRONG_CODES:
            strikes.locks += 1
            strikes.until = now + min(LOCK_SECONDS * 2 ** (strikes.locks - 1), MAX_LOCK_SECONDS)
            strikes.wrong = 0
        return strikes

    # -- WebSocket tickets --------------------------------------------------------------------
    def new_ticket(self) -> tuple[str, float]:
        ticket = secrets.token_urlsafe(24)
        now = self._clock()
        with self._lock:
            # Drop expired tickets so a client that never connects cannot grow the table.
            for t, exp in list(self._tickets.items()):
                if exp < now:
                    del self._tickets[t]
            self._tickets[ticket] = now + TICKET_TTL_SECONDS
        return ticket, TICKET_TTL_SECONDS

    def use_ticket(self, ticket: str) -> bool:
        with self._lock:
            expires = self._tickets.pop(ticket, None) if len(ticket) < 100 else None
        return expires is not None and self._clock() <= expires
