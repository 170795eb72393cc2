"""Tokens, pairing codes and WebSocket tickets.

- Extension token: ``ext.<nonce>.<hmac(key, "ext:" + nonce)>`` — nothing stored; rotating the key
  revokes all of them.
- Admin token (the CLI talking to its own helper): ``adm.<nonce>.<hmac(key, "adm:" + nonce)>``. The
  CLI mints it itself from the same secret store, so no extra credential file exists.
- Pairing code: 6 digits, valid 10 minutes, single use; 5 wrong tries lock pairing until
  ``juzheng pair`` issues a new code.
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
from typing import Literal

CODE_TTL = timedelta(minutes=10)
TICKET_TTL_SECONDS = 30.0
MAX_WRONG_CODES = 5
Scope = Literal["ext", "adm"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_token(key: bytes, scope: Scope) -> str:
    nonce = _b64(secrets.token_bytes(18))
    mac = _b64(hmac.new(key, f"{scope}:{nonce}".encode(), sha256).digest())
    return f"{scope}.{nonce}.{mac}"


def verify_token(key: bytes, token: str, scope: Scope) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 200:
        return False
    given_scope, nonce, mac = parts
    expected = _b64(hmac.new(key, f"{given_scope}:{nonce}".encode(), sha256).digest())
    # Compare the whole MAC in constant time first; the scope check after it leaks nothing useful.
    ok = hmac.compare_digest(expected.encode(), mac.encode())
    return ok and hmac.compare_digest(given_scope.encode(), scope.encode())


class PairingError(Exception):
    def __init__(self, status: int, message: str, attempts_left: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.attempts_left = attempts_left


@dataclass
class IssuedCode:
    code: str
    expires_at: datetime


class Auth:
    """In-memory pairing state over a key that lives in a :class:`SecretStore`."""

    def __init__(self, key: bytes, *, clock=time.monotonic) -> None:
        self._key = key
        self._clock = clock
        self._lock = threading.Lock()
        self._code: str | None = None
        self._code_expires: float = 0.0
        self._wrong = 0
        self._locked = False
        self._tickets: dict[str, float] = {}

    # -- tokens -------------------------------------------------------------------------------
    def issue_token(self) -> str:
        return mint_token(self._key, "ext")

    def check_token(self, token: str) -> bool:
        return verify_token(self._key, token, "ext")

    def check_admin(self, token: str) -> bool:
        return verify_token(self._key, token, "adm")

    def replace_key(self, key: bytes) -> None:
        """After ``--revoke``: every token issued so far stops working; open tickets too."""
        with self._lock:
            self._key = key
            self._tickets.clear()

    # -- pairing codes ------------------------------------------------------------------------
    def new_code(self) -> IssuedCode:
        with self._lock:
            self._code = f"{secrets.randbelow(1_000_000):06d}"
            self._code_expires = self._clock() + CODE_TTL.total_seconds()
            self._wrong = 0
            self._locked = False
            return IssuedCode(self._code, datetime.now(timezone.utc) + CODE_TTL)

    def redeem(self, code: str) -> str:
        """Exchange a code for a token, or raise :class:`PairingError` saying what to do."""
        with self._lock:
            if self._locked:
                raise PairingError(429, "配对码错误次数过多，配对已锁定。请在电脑上重新运行 juzheng pair 获取新的配对码。")
            if self._code is None:
                raise PairingError(403, "没有有效的配对码。请在电脑上运行 juzheng pair 获取配对码。")
            if self._clock() > self._code_expires:
                self._code = None
                raise PairingError(403, "配对码已过期（有效期 10 分钟）。请重新运行 juzheng pair。")
            if not hmac.compare_digest(self._code.encode(), code.strip().encode()):
                self._wrong += 1
                left = MAX_WRONG_CODES - self._wrong
                if left <= 0:
                    self._locked = True
                    self._code = None
                    raise PairingError(429, "配对码错误次数过多，配对已锁定。请在电脑上重新运行 juzheng pair 获取新的配对码。", 0)
                raise PairingError(403, f"配对码不正确，还可以再试 {left} 次。", left)
            self._code = None  # single use
            self._wrong = 0
        return self.issue_token()

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
