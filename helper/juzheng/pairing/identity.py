"""Which browser extensions may ask to pair: our own id, and the ids the seller allowed.

Chromium derives an extension's id from the public key in its manifest, and the manifest carries a
fixed ``key``: every unpacked copy of this extension, in Chrome, Edge, 360 or QQ browser, has the id
below. Another id is another extension (or a store build listed under a different id) and may pair
only after the seller allowed it, by name, on the status page or with ``juzheng pair --allow``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable
from typing import Protocol

OWN_EXTENSION_ID = "onafckacbdnlfkogjgcdngfhobpgbpdp"
OWN_EXTENSION_NAME = "举证助手扩展"
# For developers and tests: extra ids, comma separated, allowed as if the seller had allowed them.
EXTRA_IDS_ENV = "JUZHENG_EXTENSION_IDS"

_ORIGIN = re.compile(r"^(chrome-extension|moz-extension)://([a-z0-9][a-z0-9._-]{0,127})$")
_CHROMIUM_ID = re.compile(r"^[a-p]{32}$")


def extension_id_from_key(key_b64: str) -> str:
    """The id Chromium gives an extension whose manifest ``key`` is ``key_b64``."""
    digest = hashlib.sha256(base64.b64decode(key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def origin_id(origin: str) -> str | None:
    match = _ORIGIN.match(origin or "")
    return match.group(2) if match else None


def valid_extension_id(value: str) -> bool:
    """A Chromium id (32 letters a–p) or a Firefox UUID-style host; nothing that could be a web host."""
    return bool(_CHROMIUM_ID.match(value)) or bool(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value))


class AllowedIds(Protocol):
    """Where the seller's list is kept (the store's ``allowed_extensions`` table)."""

    def allowed_extension_ids(self) -> list[str]: ...

    def set_allowed_extension_ids(self, ids: Iterable[str]) -> None: ...


class ExtensionPolicy:
    """``allows(origin)``: our own id, the ids in ``JUZHENG_EXTENSION_IDS``, the seller's list."""

    def __init__(self, kept: AllowedIds, env: dict[str, str] | None = None) -> None:
        self._kept = kept
        raw = (os.environ if env is None else env).get(EXTRA_IDS_ENV, "")
        self._extra = frozenset(i.strip() for i in raw.split(",") if valid_extension_id(i.strip()))

    def seller_allowed(self) -> list[str]:
        # Read at every pairing attempt: ``juzheng pair --allow`` writes while the helper runs.
        return [i for i in self._kept.allowed_extension_ids() if valid_extension_id(i)]

    def allowed_ids(self) -> frozenset[str]:
        return frozenset({OWN_EXTENSION_ID, *self._extra, *self.seller_allowed()})

    def allows(self, origin: str) -> bool:
        ext = origin_id(origin)
        return ext is not None and ext in self.allowed_ids()

    def allow(self, ids: Iterable[str]) -> list[str]:
        """Add ids the seller typed; returns the whole seller list. Raises ValueError on a bad id."""
        current = self.seller_allowed()
        for value in ids:
            value = value.strip()
            if not valid_extension_id(value):
                raise ValueError(f"扩展 ID 格式不对：{value[:40]!r}（应为 32 个 a–p 之间的小写字母，见浏览器的扩展管理页）")
            if value not in current and value != OWN_EXTENSION_ID:
                current.append(value)
        self._kept.set_allowed_extension_ids(current[:20])
        return current[:20]

    def disallow(self, ext_id: str) -> bool:
        current = self.seller_allowed()
        if ext_id not in current:
            return False
        self._kept.set_allowed_extension_ids(i for i in current if i != ext_id)
        return True

    @staticmethod
    def describe(origin: str) -> str:
        """How the seller sees an extension: our name for our own id, else only its id."""
        ext = origin_id(origin) or origin
        return OWN_EXTENSION_NAME if ext == OWN_EXTENSION_ID else f"其他扩展（ID {ext}）"
