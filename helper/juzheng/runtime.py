"""Wires the helper's parts together: store, rulebook (hot reload), event bus, pairing, cases, evidence.

``Runtime.build`` does everything that can fail with a message for the seller (no keyring, broken
rules) before anything is started; ``start``/``stop`` run the background parts. The HTTP server
and the tray only ever receive a ``Runtime``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

from .cases import CaseService
from .events import EventBus
from .evidence import EvidenceService
from .notify import LevelNotifier, Sender
from .pairing import Auth, SecretBackend, SecretStore, secret_store
from .pairing.asks import PairingAsks
from .pairing.browsers import PAIRED_ORIGIN_SETTING, BrowserRegistry
from .pairing.identity import ExtensionPolicy
from .rulebook_holder import RulebookHolder
from .store import SqliteStore, open_store
from .store.records import PairedBrowser

if TYPE_CHECKING:
    from .pairing.status_page import StatusPage

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    root: Path
    state_dir: Path
    rules_dir: Path
    store: SqliteStore
    bus: EventBus
    rules: RulebookHolder
    secrets: SecretStore
    auth: Auth
    cases: CaseService
    policy: ExtensionPolicy
    asks: PairingAsks
    evidence: EvidenceService | None = None
    status_page: StatusPage | None = None  # the local status page, once serve started it
    notifier: LevelNotifier | None = None  # the one deadline notifier, once enable_notifications ran
    _paired_origin: str | None = field(default=None, repr=False)
    _started: list[RulebookHolder | EvidenceService] = field(default_factory=list, repr=False)  # stopped in reverse
    _unsubscribe_notifier: Callable[[], None] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        *,
        root: Path,
        state_dir: Path,
        rules_dir: Path,
        secret_backend: SecretBackend = "keyring",
        with_evidence: bool = True,
    ) -> Runtime:
        """Raises ``SecretUnavailable`` or ``RulebookError``; both carry a message for the seller."""
        state_dir = Path(state_dir)
        secrets = secret_store(secret_backend, state_dir)
        key = secrets.load_or_create()  # first: refusing to start must happen before anything is created
        holder = RulebookHolder(rules_dir)  # validates the rules before the store is opened
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        store = open_store(state_dir)
        bus = EventBus(store)
        holder.bus = bus  # events only once the store exists
        evidence = EvidenceService(root, store, holder.get, bus) if with_evidence else None
        cases = CaseService(store, holder.get, bus, evidence=evidence)
        browsers = BrowserRegistry(store, legacy_origin=store.get_setting(PAIRED_ORIGIN_SETTING) or None)
        auth = Auth(key, browsers=browsers)
        policy = ExtensionPolicy(store)
        runtime = cls(
            root=root,
            state_dir=state_dir,
            rules_dir=Path(rules_dir),
            store=store,
            bus=bus,
            rules=holder,
            secrets=secrets,
            auth=auth,
            cases=cases,
            evidence=evidence,
            policy=policy,
            asks=PairingAsks(auth, policy),
        )
        runtime._paired_origin = store.get_setting(PAIRED_ORIGIN_SETTING) or None
        return runtime

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self.rules.start()
        self._started.append(self.rules)
        if self.evidence is not None:
            self.evidence.start()
            self._started.append(self.evidence)

    def enable_notifications(self, send: Sender | None = None) -> LevelNotifier:
        """The helper's one deadline notifier: subscribed to the bus here, so it runs with or
        without a tray (which only supplies a fallback, its balloon). Idempotent."""
        if self.notifier is None:
            notifier = LevelNotifier(self.store, self.cases.view, send=send if send is not None else _desktop_sender())
            self._unsubscribe_notifier = self.bus.subscribe(notifier.on_event)
            self.notifier = notifier
            # The first level check may have published before this subscription existed; the
            # notifier's memory makes telling about current levels again harmless.
            threading.Thread(
                target=lambda: notifier.catch_up((s.id, s.level) for s in self.cases.summaries("open")),
                name="juzheng-notify-catch-up",
                daemon=True,
            ).start()
        return self.notifier

    @property
    def notifies(self) -> bool:
        """The helper tells the seller about deadlines itself (and the last notice was shown)."""
        return self.notifier is not None and self.notifier.last_shown is not False

    def stop(self) -> None:
        if self.notifier is not None:
            if self._unsubscribe_notifier is not None:
                self._unsubscribe_notifier()
            try:
                self.notifier.close()
            except Exception:
                log.exception("closing the notifier failed")
        while self._started:
            part = self._started.pop()
            try:
                part.stop()
            except Exception:  # stopping one part must not keep the others running
                log.exception("stopping %r failed", part)
        self.cases.close()
        self.store.close()

    # -- pairing state ------------------------------------------------------------------------
    @property
    def paired_origin(self) -> str | None:
        """The most recently paired extension origin (kept for older readers; see ``paired_origins``)."""
        return self._paired_origin

    @property
    def paired_origins(self) -> frozenset[str]:
        """Every origin some paired browser uses; CORS and the Origin check accept these."""
        browsers = self.auth.browsers
        if browsers is not None:
            return browsers.origins()
        return frozenset({self._paired_origin} if self._paired_origin else ())

    def paired_browsers(self) -> list[PairedBrowser]:
        """The browsers holding a token, oldest pairing first (what the tray and the status page list)."""
        browsers = self.auth.browsers
        return browsers.list() if browsers is not None else []

    def set_paired_origin(self, origin: str) -> None:
        self.store.set_setting(PAIRED_ORIGIN_SETTING, origin)
        self._paired_origin = origin

    def revoke_browser(self, browser_id: str) -> bool:
        """Log out one paired browser; the others keep working."""
        browsers = self.auth.browsers
        gone = browsers.remove(browser_id) if browsers is not None else None
        if gone is None:
            return False
        if not browsers.origins():  # type: ignore[union-attr]
            self.store.set_setting(PAIRED_ORIGIN_SETTING, "")
            self._paired_origin = None
        return True

    def revoke(self) -> None:
        """Invalidate every token: new key in the keyring, forget the paired origin."""
        key = self.secrets.rotate()
        self.auth.replace_key(key)
        self.store.set_setting(PAIRED_ORIGIN_SETTING, "")
        self._paired_origin = None


def _desktop_sender() -> Sender:
    from .notify import DesktopSender

    def open_url(url: str) -> None:
        import webbrowser

        if url.startswith(("https://", "http://")):
            webbrowser.open(url)

    return DesktopSender(on_click=open_url)
