"""Pairing without a terminal, end to end in real Chromium with the unpacked extension.

The options page finds the helper's port by itself, asks to pair; the seller answers on the
helper's local status page (opened through its one-time URL, as the tray does); deny, allow, and
revoking one of two paired browsers (two real browser profiles) while the other keeps working.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import urllib.request
from pathlib import Path

import pytest

from fixtures.browser import CHROMIUM, extension_origin, launch
from fixtures.helper_process import free_port, make_helper
from juzheng.pairing.identity import OWN_EXTENSION_ID

pytestmark = pytest.mark.browser

CANDIDATE_PORTS = (17817, 17818, 17819, 17820, 17821)


def _answers_as_helper(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as r:
            return r.headers.get("X-Juzheng-Version") is not None
    except OSError:
        return False


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture(scope="module")
def pairing_helper(secret_service, tmp_path_factory):
    """An unpaired helper on one of the ports the extension tries by itself, accepting only our own id."""
    port = next((p for p in CANDIDATE_PORTS if _free(p)), None)
    if port is None:
        pytest.skip("all of the extension's candidate ports are taken on this machine")
    if any(_answers_as_helper(p) for p in CANDIDATE_PORTS if p < port):
        pytest.skip("another juzheng helper runs on an earlier candidate port: the extension would find that one")
    helper = make_helper(
        tmp_path_factory.mktemp("pairing"), secret_service.env, port=port, origin=extension_origin(), env={"JUZHENG_EXTENSION_IDS": ""}
    )
    helper.start()
    try:
        yield helper
    finally:
        helper.stop()


@pytest.fixture(scope="module")
def browsers(pairing_helper):
    """Two real browser profiles with the extension (the seller's Chrome at the shop and at home)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    profiles = [Path(tempfile.mkdtemp(prefix="juzheng-pair-")) for _ in range(2)]
    opened = []
    try:
        for profile in profiles:
            opened.append(launch(playwright, profile))
        yield opened
    finally:
        for browser in opened:
            browser.context.close()
        playwright.stop()
        for profile in profiles:
            shutil.rmtree(profile, ignore_errors=True)


def status_page(helper, browser):
    """What the tray's 配对… does: mint the one-time URL and open it in the seller's browser."""
    done = helper.cli("pair", "--page", "--json", "--state-dir", str(helper.state_dir))
    assert done.returncode == 0, done.stderr
    page = browser.new_page()
    page.goto(json.loads(done.stdout)["url"])
    return page


def options_page(browser, *, dead_port: bool = False):
    from playwright.sync_api import expect

    if dead_port:
        # The saved port answers nothing: the page must look on the usual ports by itself.
        browser.sw("(port) => chrome.storage.local.set({ port })", free_port())
    page = browser.new_page()
    page.goto(browser.url("options/options.html"))
    expect(page.locator("#status")).not_to_have_text("正在检查…")
    return page


def start_pairing(page) -> None:
    from playwright.sync_api import expect

    page.locator('[data-role="pair-start"]').click()
    expect(page.locator('[data-role="pair-wait"]')).to_be_visible()
    expect(page.locator("#pair-question")).to_contain_text("允许 举证助手扩展 连接本机助手？")
    expect(page.locator("#pair-wait-how")).to_contain_text(OWN_EXTENSION_ID)


def test_options_page_finds_the_port_and_a_denied_ask_pairs_nothing(pairing_helper, browsers):
    from playwright.sync_api import expect

    first = browsers[0]
    page = options_page(first, dead_port=True)
    expect(page.locator("#status")).to_have_text("未配对")
    expect(page.locator('input[name="port"]')).to_have_value(str(pairing_helper.port))
    assert first.storage()["port"] == pairing_helper.port
    start_pairing(page)

    seller = status_page(pairing_helper, first)
    ask = seller.locator('[data-role="ask"]')
    expect(ask).to_have_count(1)
    expect(ask).to_contain_text("允许 举证助手扩展 连接本机助手？")
    expect(ask).to_contain_text(OWN_EXTENSION_ID)
    for shot, name in ((seller, "status-page-ask"), (page, "options-waiting")):
        shot.set_viewport_size({"width": 760, "height": 820})
        first.screenshot(shot, name)
    ask.locator('[data-role="deny"]').click()
    expect(seller.locator('[data-role="message"]')).to_contain_text("已拒绝")

    expect(page.locator("#pair-result")).to_contain_text("助手拒绝了这次配对")
    expect(page.locator('[data-role="pair-wait"]')).to_be_hidden()
    expect(page.locator("#status")).to_have_text("未配对")
    assert not first.storage().get("token")
    assert pairing_helper.request("GET", "/api/health", auth=False).json()["paired"] is False
    seller.close()
    page.close()


def test_allowed_ask_pairs_and_says_what_to_do_next(pairing_helper, browsers):
    from playwright.sync_api import expect

    first = browsers[0]
    page = options_page(first)
    start_pairing(page)
    seller = status_page(pairing_helper, first)
    seller.locator('[data-role="ask"] [data-role="allow"]').click()
    expect(seller.locator('[data-role="message"]')).to_contain_text("已允许 举证助手扩展")
    expect(seller.locator('[data-role="browser"]')).to_have_count(1)

    expect(page.locator("#pair-result")).to_have_text("配对成功。")
    expect(page.locator("#status")).to_have_text("已连接")
    expect(page.locator('[data-role="next-step"]')).to_be_visible()
    expect(page.locator('[data-role="next-step"]')).to_contain_text("售后页面")
    token = first.storage()["token"]
    pairing_helper.token = token
    assert pairing_helper.request("GET", "/api/cases").status == 200

    page.set_viewport_size({"width": 760, "height": 900})
    first.screenshot(page, "options-paired")
    seller.close()
    page.close()


def test_revoke_one_of_two_browsers(pairing_helper, browsers):
    from playwright.sync_api import expect

    first, second = browsers
    page = options_page(second, dead_port=True)
    start_pairing(page)
    seller = status_page(pairing_helper, first)
    seller.locator('[data-role="ask"] [data-role="allow"]').click()
    expect(page.locator("#status")).to_have_text("已连接")
    expect(seller.locator('[data-role="browser"]')).to_have_count(2)

    second_token = second.storage()["token"]
    first_token = first.storage()["token"]
    assert second_token != first_token
    row = seller.locator(f'[data-role="browser"][data-browser-id="{second_token.split(".")[1]}"]')
    row.locator('[data-role="revoke"]').click()
    expect(seller.locator('[data-role="message"]')).to_contain_text("已撤销")
    expect(seller.locator('[data-role="browser"]')).to_have_count(1)

    # The revoked browser learns it at its next call; the other one goes on as before.
    expect(page.locator("#status")).to_have_text("未配对", timeout=15_000)
    other = options_page(first)
    expect(other.locator("#status")).to_have_text("已连接")
    ok = pairing_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {first_token}"}, auth=False)
    gone = pairing_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {second_token}"}, auth=False)
    assert (ok.status, gone.status) == (200, 401)
    other.close()
    seller.close()
    page.close()
