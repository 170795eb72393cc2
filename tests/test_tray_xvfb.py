"""The real icon in a real tray host: ``juzheng serve`` under Xvfb + trayer + dunst.

With an urgent case the helper shows a red icon in trayer (screenshot: ``test-artifacts/tray.png``),
sends one notification to dunst, and ``juzheng status --json`` agrees; once the case is marked
submitted through the API the icon turns green (``test-artifacts/tray-green.png``).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image

from fixtures.helper_process import RunningHelper, make_helper
from juzheng.store import CaseKey, open_store
from juzheng.tray.icon import RGB

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Xvfb and trayer are X11 programs")

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


def pixels_like(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 30) -> int:
    raw = image.convert("RGB").tobytes()
    r0, g0, b0 = rgb
    return sum(
        1
        for i in range(0, len(raw), 3)
        if abs(raw[i] - r0) <= tolerance and abs(raw[i + 1] - g0) <= tolerance and abs(raw[i + 2] - b0) <= tolerance
    )


def shoot_until(host, path: Path, colour: str, timeout: float = 20.0) -> Image.Image:
    """Screenshot the tray until the icon shows ``colour`` (the host docks and paints asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        host.xvfb.screenshot(path, crop=host.crop)
        image = Image.open(path)
        image.load()
        if pixels_like(image, RGB[colour]) >= 80 or time.monotonic() > deadline:
            return image
        time.sleep(0.2)


def wait_until(predicate, timeout: float, message) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, message()
        time.sleep(0.1)


class TrayHelper(RunningHelper):
    """``juzheng serve`` exactly as a seller runs it: with the tray."""

    def command(self) -> list[str]:
        return [a for a in super().command() if a not in ("--no-tray", "--no-notify")]


def test_serve_shows_a_red_icon_and_notifies_once(tray_host, notification_daemon, tmp_path):
    env = {
        **notification_daemon.env,  # DISPLAY of the Xvfb that trayer and dunst use, the private bus
        "PYSTRAY_BACKEND": "xorg",
        "JUZHENG_LEVEL_CHECK_SECONDS": "0.5",
    }
    base = make_helper(tmp_path / "helper", env, args=["--insecure-file-secret"])
    helper = TrayHelper(**{f.name: getattr(base, f.name) for f in fields(RunningHelper)})

    # An open case due in 90 minutes (urgent), stored before the helper starts.
    store = open_store(helper.state_dir)
    store.upsert_case(
        CaseKey(platform="pinduoduo", order_id="230101-123456789012345"),
        scenario="pinduoduo.not_received",
        deadline_at=datetime.now(timezone.utc) + timedelta(minutes=90),
    )
    store.close()

    helper.start()
    try:
        # The helper says when it has handed the icon to the tray host; only then can the host's
        # painting be raced with a screenshot (under load the helper itself may take a while).
        wait_until(lambda: "托盘图标：red" in helper.output(), 60, lambda: f"the helper never showed a red icon\n{helper.output()}")
        image = shoot_until(tray_host, ARTIFACTS / "tray.png", "red")
        assert pixels_like(image, RGB["red"]) >= 80, f"no red icon in test-artifacts/tray.png\n{helper.output()}"
        for other in ("green", "amber", "grey"):
            assert pixels_like(image, RGB[other], tolerance=12) < 10

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            mine = [n for n in notification_daemon.history() if n["appname"] == "举证助手"]
            if mine:
                break
            time.sleep(0.2)
        assert [n["summary"] for n in mine] == ["举证紧急：快到截止时间了"]
        assert "230101-123456789012345" in mine[0]["body"]

        status = helper.cli("status", "--json", "--state-dir", str(helper.state_dir), "--rules", str(helper.rules_dir))
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        assert data["colour"] == "red" and data["level"] == "urgent" and data["helper"]["running"] is True
        assert all(e["enabled"] for e in data["menu"] if e["action"] != "undo")  # the helper runs

        # The seller submits: the case event refreshes the tray, nothing is pressing any more.
        helper.pair()
        case_id = data["cases"][0]["id"]
        response = helper.request("PATCH", f"/api/cases/{case_id}", json_body={"status": "submitted"}, headers={"Origin": helper.origin})
        assert response.status == 200, response.body
        green = shoot_until(tray_host, ARTIFACTS / "tray-green.png", "green")
        assert pixels_like(green, RGB["green"]) >= 80 and pixels_like(green, RGB["red"]) == 0
    finally:
        code = helper.stop()
    assert code == 0, helper.output()
    # The helper has exited, and each notification was a D-Bus call dunst had answered: the
    # history is final. Level checks ran every 0.5 s from the red icon to the green one.
    assert len([n for n in notification_daemon.history() if n["appname"] == "举证助手"]) == 1
    assert "Traceback" not in helper.output(), helper.output()


class NoIconHelper(RunningHelper):
    """``juzheng serve --no-tray``: no icon, but the deadline notifications still go out."""

    def command(self) -> list[str]:
        return [a for a in super().command() if a != "--no-notify"]


def test_no_tray_still_notifies(notification_daemon, tmp_path):
    env = {**notification_daemon.env, "JUZHENG_LEVEL_CHECK_SECONDS": "0.5"}
    base = make_helper(tmp_path / "helper", env, args=["--insecure-file-secret"])
    helper = NoIconHelper(**{f.name: getattr(base, f.name) for f in fields(RunningHelper)})
    store = open_store(helper.state_dir)
    store.upsert_case(
        CaseKey(platform="douyin", order_id="4912345678901234567"),
        scenario="douyin.not_received",
        deadline_at=datetime.now(timezone.utc) + timedelta(hours=6),
    )
    store.close()
    assert "--no-tray" in helper.command()
    helper.start()
    try:
        deadline = time.monotonic() + 15
        mine: list = []
        while time.monotonic() < deadline and not mine:
            mine = [n for n in notification_daemon.history() if n["appname"] == "举证助手"]
            time.sleep(0.2)
        assert len(mine) == 1 and "4912345678901234567" in mine[0]["body"], helper.output()
    finally:
        code = helper.stop()
    assert code == 0, helper.output()
