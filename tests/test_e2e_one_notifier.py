"""One notifier, seen from real Chromium: when the helper tells the seller about a deadline itself
(GET /api/health ``notifies``), the extension raises no chrome.notifications of its own for that
level change; when the helper does not notify, the extension does.

The helper notifies through a real notification daemon (dunst on a private D-Bus session), so its
``notifies`` is what a seller's helper would say after showing a notice, not a stub.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone

import pytest

from fixtures.browser import ExtensionBrowser, extension_origin, pair_through_options
from fixtures.evidence import wait_for
from fixtures.helper_process import RunningHelper, make_helper
from juzheng.store import CaseKey, open_store

pytestmark = pytest.mark.browser

ORDER = "230101-123456789012345"
APP_NAME = "举证助手"  # the helper's notifications in dunst's history


@dataclass
class NotifyingHelper(RunningHelper):
    """``juzheng serve --no-tray``, with its deadline notifications on unless ``notify`` is False."""

    notify: bool = True

    def command(self) -> list[str]:
        return [a for a in super().command() if a != "--no-notify" or not self.notify]


def _helper_notices(daemon) -> list[dict[str, str]]:
    return [n for n in daemon.history() if n["appname"] == APP_NAME]


def _chrome_notifications(browser: ExtensionBrowser) -> list[str]:
    return sorted(browser.sw("() => chrome.notifications.getAll().then((all) => Object.keys(all))"))


def _extension_refresh(browser: ExtensionBrowser) -> dict:
    """What the extension's one-minute tick does: GET /api/cases, then notify what is due. Returns
    the extension's memory of the level changes it has decided on (``notified``)."""
    done = browser.sw("() => Juzheng.alerts.refreshCases().then((r) => r.ok)")
    assert done, "the extension could not read the case list from the helper"
    return browser.storage().get("notified") or {}


def test_chrome_stays_silent_while_the_helper_notifies(extension_browser, notification_daemon, tmp_path):
    env = {"JUZHENG_LEVEL_CHECK_SECONDS": "0.5"}
    base = make_helper(tmp_path / "helper", notification_daemon.env, origin=extension_origin(), args=["--insecure-file-secret"], env=env)
    helper = NotifyingHelper(**{f.name: getattr(base, f.name) for f in fields(RunningHelper)})
    store = open_store(helper.state_dir)  # an open case due in 90 minutes: urgent from the start
    case, _ = store.upsert_case(
        CaseKey(platform="pinduoduo", order_id=ORDER),
        scenario="pinduoduo.not_received",
        deadline_at=datetime.now(timezone.utc) + timedelta(minutes=90),
    )
    store.close()
    key = f"{case.id}:urgent"

    helper.start()
    try:
        # The helper tells the seller itself, and says so.
        notices = wait_for(lambda: _helper_notices(notification_daemon), timeout=60, interval=0.2)  # each look runs dunstctl
        assert [n["summary"] for n in notices] == ["举证紧急：快到截止时间了"] and ORDER in notices[0]["body"]
        assert helper.request("GET", "/api/health", auth=False).json()["notifies"] is True
        pair_through_options(extension_browser, helper).close()

        notified = _extension_refresh(extension_browser)
        assert key in notified  # the extension saw the case turn urgent and decided on it ...
        assert _chrome_notifications(extension_browser) == []  # ... and left the telling to the helper
        assert len(_helper_notices(notification_daemon)) == 1  # one notification for one level change

        # The same helper without notifications (juzheng serve --no-notify): Chrome tells the seller.
        helper.stop()
        helper.notify = False
        helper.start()
        assert helper.request("GET", "/api/health", auth=False).json()["notifies"] is False
        extension_browser.sw("() => chrome.storage.local.remove('notified')")  # the level change seen afresh
        assert key in _extension_refresh(extension_browser)
        assert _chrome_notifications(extension_browser) == [f"case:{case.id}:urgent"]
    finally:
        extension_browser.sw("() => chrome.notifications.getAll().then((all) => Object.keys(all).forEach((id) => chrome.notifications.clear(id)))")
        code = helper.stop()
    assert code == 0, helper.output()
    assert len(_helper_notices(notification_daemon)) == 1  # the helper without notifications sent none
