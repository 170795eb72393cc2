"""The bench's environment, built from the test fixtures' own code (no twins):

- a real Secret Service (dbus-daemon + gnome-keyring-daemon with known PIDs, temp HOME), from
  ``tests/fixtures/keyring.py``;
- real helpers (``juzheng serve`` subprocesses on free ports, temp root and state), from
  ``tests/fixtures/helper_process.py``;
- real Chromium with the unpacked extension, from ``tests/fixtures/browser.py``.

Everything started here is stopped by :meth:`Session.close`, by its own handle.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO / "tests", REPO / "helper"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from fixtures.helper_process import RunningHelper, make_helper  # noqa: E402
from fixtures.keyring import stop_process  # noqa: E402


class _TempFactory:
    """What the keyring fixture asks of pytest's tmp_path_factory."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def mktemp(self, name: str, numbered: bool = True) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.base))


class Session:
    def __init__(self, workdir: Path | None = None, keep: bool = False) -> None:
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="juzheng-bench-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self._secret_gen: Any = None
        self._secret: Any = None
        self._helpers: list[RunningHelper] = []
        self._procs: list[subprocess.Popen] = []
        self._playwright: Any = None
        self._browser: Any = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- Secret Service -------------------------------------------------------------------------
    @property
    def secret_env(self) -> dict[str, str]:
        if self._secret is None:
            from fixtures.keyring import secret_service

            # The fixture's generator itself: the same daemons, PIDs and clean-up as in the tests.
            self._secret_gen = secret_service.__wrapped__(_TempFactory(self.workdir))
            self._secret = next(self._secret_gen)
        return self._secret.env

    # -- helpers --------------------------------------------------------------------------------
    def helper(self, name: str, pair: bool = True, **options: Any) -> RunningHelper:
        """A started (and by default paired) ``juzheng serve``; options as ``make_helper`` takes."""
        helper = make_helper(self.workdir / name, self.secret_env, **options)
        self._helpers.append(helper)
        helper.start()
        if pair:
            helper.pair()
        return helper

    def prepare_helper(self, name: str, **options: Any) -> RunningHelper:
        """A helper that is set up but not started (the caller starts and times it)."""
        helper = make_helper(self.workdir / name, self.secret_env, **options)
        self._helpers.append(helper)
        return helper

    def track(self, proc: subprocess.Popen) -> subprocess.Popen:
        self._procs.append(proc)
        return proc

    # -- Chromium -------------------------------------------------------------------------------
    def browser(self, helper: RunningHelper) -> Any:
        """Chromium with the extension, paired with ``helper`` through the options page."""
        if self._browser is None:
            from fixtures.browser import CHROMIUM, launch, pair_through_options
            from playwright.sync_api import sync_playwright

            if not CHROMIUM.exists():
                raise RuntimeError(f"{CHROMIUM} is missing (scripts/bench installs chromium)")
            self._playwright = sync_playwright().start()
            self._browser = launch(self._playwright, Path(tempfile.mkdtemp(prefix="chromium-", dir=self.workdir)))
            pair_through_options(self._browser, helper).close()
            helper.token = self._browser.storage()["token"]
        return self._browser

    # -- clean-up -------------------------------------------------------------------------------
    def close(self) -> None:
        if self._browser is not None:
            try:
                self._browser.context.close()
            except Exception:
                pass
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
        for proc in self._procs:
            stop_process(proc, timeout=10)
        self._procs.clear()
        for helper in self._helpers:
            helper.stop()
        self._helpers.clear()
        if self._secret_gen is not None:
            next(self._secret_gen, None)  # runs the fixture's finally: both daemons stopped
            self._secret_gen = None
            self._secret = None
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
