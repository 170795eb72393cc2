"""End to end in real Chromium with the real helper: what a seller does with one case.

Pairing through the options page, correcting the scenario, a file dropped into the inbox turning
its item done without a reload, drag-drop upload, ticking field checks, thumbnails and the file
viewer, attaching files to the page's own upload box (seen by the page's change handler, within
the platform's limit), copying the explanation, the popup and badge, the warn notification, and
the helper being stopped and started again (the overlay says so, then reconnects by itself).

The tests of this module run in order on one browser and one helper: each builds on the last.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import io
import re
import signal
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from playwright.sync_api import expect

from fixtures.browser import Overlay, overlay_of, pair_through_options, pairing_code

pytestmark = pytest.mark.browser

ORDER = "230102-234567890123456"
AFTERSALE = "88776655443"
URL = "https://mms.pinduoduo.com/aftersales-ssr/detail"
OPEN_URL = f"{URL}?id={AFTERSALE}&orderSn={ORDER}"


def png(color: tuple[int, int, int], size: tuple[int, int] = (320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@contextlib.contextmanager
def other_program():
    """Some other local web server, as a seller may have on the helper's port."""
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body = b'{"hello": "not the helper"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def drop_files(overlay: Overlay, target, files: list[tuple[str, bytes]]) -> None:
    """A real drop event carrying real File objects, as the browser dispatches it (made in the
    overlay's frame, where the drop lands)."""
    payload = [[name, base64.b64encode(data).decode()] for name, data in files]
    dt = overlay.frame.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const [name, b64] of files) {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], name, { type: "image/png" }));
            }
            return dt;
        }""",
        payload,
    )
    target.dispatch_event("dragenter", {"dataTransfer": dt})
    target.dispatch_event("dragover", {"dataTransfer": dt})
    target.dispatch_event("drop", {"dataTransfer": dt})


@pytest.fixture(scope="module")
def browser(e2e_helper, extension_browser):  # the helper first: it outlives the browser
    extension_browser.serve(URL, "pinduoduo_detail.html", ORDER_ID=ORDER, AFTERSALE_ID=AFTERSALE)
    return extension_browser


@pytest.fixture(scope="module")
def case_page(browser, e2e_helper):
    """The Pinduoduo case page, opened after pairing (test_pairing_through_options_page)."""
    if not browser.storage().get("token"):
        pair_through_options(browser, e2e_helper).close()
    e2e_helper.token = browser.storage()["token"]
    page = browser.new_page()
    page.goto(OPEN_URL)
    expect(page.locator("juzheng-overlay")).to_have_attribute("data-state", "case")
    yield page
    page.close()


@pytest.fixture
def overlay(case_page) -> Overlay:
    return overlay_of(case_page)


def item(overlay, kind: str, option: int | None = None):
    scope = overlay.locator(f'[data-role="option"][data-option="{option}"]') if option is not None else overlay
    return scope.locator(f'[data-role="item"][data-kind="{kind}"]').first


def test_pairing_through_options_page(browser, e2e_helper):
    page = browser.welcome_page  # a fresh install shows how to pair by itself
    assert page is not None, "a fresh install opens the options page"
    status = page.locator("#status")
    port = page.locator('input[name="port"]')
    # Another program on the port is told apart from the helper (it sends no X-Juzheng-Version).
    with other_program() as other_port:
        port.fill(str(other_port))
        port.dispatch_event("change")
        expect(status).to_have_attribute("data-state", "foreign")
        expect(status).to_have_text("未连接：端口上不是举证助手")
    port.fill(str(e2e_helper.port))
    port.dispatch_event("change")
    expect(status).to_have_text("未配对")

    page.locator('input[name="pairing-code"]').fill("000000" if pairing_code(e2e_helper) != "000000" else "111111")
    page.locator('#pair-form button[type="submit"]').click()
    expect(page.locator("#pair-result")).to_contain_text("配对码不正确")
    expect(status).to_have_text("未配对")

    page.locator('input[name="pairing-code"]').fill(pairing_code(e2e_helper))
    page.locator('#pair-form button[type="submit"]').click()
    expect(page.locator("#pair-result")).to_have_text("配对成功。")
    expect(status).to_have_text("已连接")
    expect(status).to_have_attribute("data-state", "online")
    browser.screenshot(page, "options-paired")
    assert e2e_helper.request("GET", "/api/health").json()["paired"] is True
    page.close()


def test_scenario_correction_is_stored_on_the_case(case_page, overlay, e2e_helper):
    expect(overlay.host).to_have_attribute("data-scenario", "pinduoduo.not_received")
    case_id = int(overlay.case_id())
    overlay.locator('select[data-role="scenario"]').select_option("pinduoduo.return_not_received")
    expect(overlay.host).to_have_attribute("data-scenario", "pinduoduo.return_not_received")
    expect(overlay.root).to_have_attribute("data-scenario", "pinduoduo.return_not_received")
    expect(overlay.locator('[data-role="status"]')).to_contain_text("场景已更正")
    stored = e2e_helper.request("GET", f"/api/cases/{case_id}").json()
    assert (stored["scenario"], stored["scenario_source"]) == ("pinduoduo.return_not_received", "seller")

    case_page.reload()  # the page still reads as 未收到商品: the seller's choice stands
    overlay = overlay_of(case_page)
    expect(overlay.host).to_have_attribute("data-state", "case")
    expect(overlay.host).to_have_attribute("data-scenario", "pinduoduo.return_not_received")
    overlay.locator('select[data-role="scenario"]').select_option("pinduoduo.not_received")
    expect(overlay.host).to_have_attribute("data-scenario", "pinduoduo.not_received")


def test_file_dropped_into_the_inbox_turns_its_item_done(overlay, e2e_helper):
    red = item(overlay, "red_stamp_proof", 0)
    expect(red).to_have_attribute("data-state", "missing")
    inbox = e2e_helper.root / "收件箱"
    inbox.mkdir(parents=True, exist_ok=True)
    tmp = inbox.parent / "incoming.tmp"
    tmp.write_bytes(png((200, 30, 30)))
    tmp.replace(inbox / f"{ORDER} 快递红章证明.png")  # as a download lands: one rename
    expect(red).to_have_attribute("data-state", "done", timeout=15_000)
    # The folder holds it: a thumbnail of the real file, and the field checks to tick.
    thumb = red.locator('[data-role="file"] img')
    expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    expect(thumb).to_have_js_property("naturalWidth", 320)
    expect(red.locator('[data-role="fields"] input[type="checkbox"]').first).to_be_visible()


def test_unsorted_file_of_the_order_is_shown(overlay, e2e_helper):
    """A file that names the order but no kind lands in the order's 待分类 folder: the overlay says so."""
    (e2e_helper.root / "收件箱" / f"{ORDER} 随手拍.png").write_bytes(png((120, 120, 120)))
    unsorted = overlay.locator('[data-role="unsorted"]')
    expect(unsorted).to_contain_text("1 个文件尚未分类", timeout=15_000)
    expect(unsorted.locator('[data-role="file"]')).to_contain_text("随手拍")

def test_field_check_is_confirmed_on_the_helper(overlay, e2e_helper):
    box = item(overlay, "red_stamp_proof", 0).locator('[data-role="fields"] input[type="checkbox"]').first
    field = box.get_attribute("data-field")
    box.check()
    case_id = overlay.case_id()

    def confirmed() -> bool:
        view = e2e_helper.request("GET", f"/api/cases/{case_id}").json()
        for option in view["checklist"]["options"]:
            for it in option["items"]:
                if it["kind"] == "red_stamp_proof":
                    return any(f["id"] == field and f["confirmed"] for f in it["fields"])
        return False

    deadline = time.monotonic() + 10
    while not confirmed():
        assert time.monotonic() < deadline, "the tick never reached the helper"
        time.sleep(0.1)
    expect(item(overlay, "red_stamp_proof", 0).locator(f'input[data-field="{field}"]')).to_be_checked()


def test_drag_drop_upload(overlay, e2e_helper):
    slip = item(overlay, "shipping_slip", 0)
    expect(slip).to_have_attribute("data-state", "missing")
    drop_files(overlay, slip, [("底单照片.png", png((30, 120, 200)))])
    expect(item(overlay, "shipping_slip", 0)).to_have_attribute("data-state", "done")
    expect(overlay.locator('[data-role="option"][data-option="0"]')).to_have_attribute("data-complete", "true")
    stored = list(e2e_helper.root.rglob("底单照片*.png"))
    assert len(stored) == 1 and stored[0].read_bytes() == png((30, 120, 200))


def test_attach_fills_the_pages_own_upload_box(case_page, overlay, browser):
    overlay.locator('[data-role="option"][data-option="0"] [data-role="attach"]').click()
    overlay.locator('[data-role="confirm-attach"]').click()  # Pinduoduo takes one submission: confirm first
    expect(case_page.locator("#chosen li")).to_have_count(2)
    chosen = case_page.evaluate("window.__chosen")
    assert {c["name"] for c in chosen} == {f"{ORDER} 快递红章证明.png", "底单照片.png"}
    assert all(c["png"] and c["type"] == "image/png" and c["size"] > 0 for c in chosen)
    expect(overlay.locator('[data-role="status"]')).to_contain_text("已把 2 个文件放进页面的上传框")
    browser.screenshot(case_page, "overlay-pinduoduo-attached")


def test_attach_respects_the_platform_limit(case_page, overlay):
    """Pinduoduo takes at most 3 images: four chat screenshots, three attached."""
    chat = item(overlay, "chat_screenshot", 1)
    drop_files(overlay, chat, [(f"聊天记录截图{i}.png", png((10 * i, 200, 90))) for i in range(1, 5)])
    expect(item(overlay, "chat_screenshot", 1).locator('[data-role="file"]')).to_have_count(4)
    overlay.locator('[data-role="option"][data-option="1"] [data-role="attach"]').click()
    expect(overlay.locator('[data-role="packet-cautions"]')).to_contain_text("没有放入：上传框最多 3 个文件")
    overlay.locator('[data-role="confirm-attach"]').click()
    expect(case_page.locator("#chosen li")).to_have_count(3)


def test_file_opens_in_the_viewer(overlay, browser):
    with browser.context.expect_page() as opened:
        item(overlay, "shipping_slip", 0).locator('[data-role="file"]').first.click()
    viewer = opened.value
    expect(viewer.locator("#content img")).to_have_js_property("naturalWidth", 320)
    expect(viewer.locator("#name")).to_have_text("底单照片.png")
    viewer.close()


def test_copy_explanation(case_page, overlay, browser):
    browser.context.grant_permissions(["clipboard-read", "clipboard-write"], origin="https://mms.pinduoduo.com")
    overlay.locator('[data-role="tracking-number"]').fill("YT1234567890123")  # asked for: never copied as a blank
    overlay.locator('[data-role="explanation-ask"] button[type="submit"]').click()
    expect(overlay.locator('[data-role="explanation-ask"]')).to_have_count(0)
    overlay.locator('[data-role="copy"]').click()
    expect(overlay.locator('[data-role="status"]')).to_contain_text("已复制")
    text = case_page.evaluate("navigator.clipboard.readText()")
    assert ORDER in text and "红章证明" in text


def test_popup_badge_and_warn_notification(browser, case_page, e2e_helper):
    """A case with 10 hours left is at warn: one notification, counted on the badge, first in the popup."""
    browser.serve(
        "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3", "douyin_detail.html",
        ORDER_ID="4937820156111111111", AFTERSALE_ID="7301111111111", SECONDS_LEFT=10 * 3600,
        NEXT_ORDER_ID="4937820156222222222", NEXT_AFTERSALE_ID="7302222222222", NEXT_SECONDS_LEFT=3600,
    )
    page = browser.new_page()
    page.goto("https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301111111111")
    expect(overlay_of(page).locator("[data-role='countdown']")).to_have_attribute("data-level", "warn")
    expect(page.locator("juzheng-overlay")).to_have_attribute("data-level", "warn")

    def notifications() -> dict:
        return browser.sw("() => chrome.notifications.getAll()")

    deadline = time.monotonic() + 10
    while not any(k.endswith(":warn") for k in notifications()):
        assert time.monotonic() < deadline, "no warn notification"
        time.sleep(0.1)
    assert browser.storage()["notified"]  # once: remembered
    assert browser.sw("() => chrome.action.getBadgeText({})") == "1"

    # 「下一条」 has 1 hour left: urgent, its own notification; the badge counts both.
    page.get_by_role("button", name="下一条").click()
    expect(overlay_of(page).locator("[data-role='countdown']")).to_have_attribute("data-level", "urgent")
    deadline = time.monotonic() + 10
    while not any(k.endswith(":urgent") for k in notifications()):
        assert time.monotonic() < deadline, "no urgent notification"
        time.sleep(0.1)
    assert browser.sw("() => chrome.action.getBadgeText({})") == "2"

    popup = browser.new_page()
    popup.goto(browser.url("popup/popup.html"))
    rows = popup.locator('[data-role="cases"] li')
    expect(rows).to_have_count(3)
    assert [rows.nth(i).get_attribute("data-level") for i in range(3)] == ["urgent", "warn", "ok"]
    expect(rows.first.locator(".countdown")).to_have_text(re.compile(r"^00:5\d:\d\d$"))
    expect(rows.first).to_contain_text("空包")
    browser.screenshot(popup, "popup")
    with browser.context.expect_page() as opened:  # a click opens the case's own page
        rows.first.click()
    expect(opened.value).to_have_url("https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7302222222222")
    opened.value.close()
    if not popup.is_closed():
        popup.close()
    page.close()


def test_warnings_for_a_rejected_kind_and_an_expired_code(browser, case_page, overlay, e2e_helper):
    """Courier-site tracking is refused as proof of receipt on Pinduoduo; a 旺旺举证号 older than its
    15 days is expired. Both arrive live (inbox file, another client) and are shown as warnings."""
    (e2e_helper.root / "收件箱" / f"{ORDER} 快递官网物流记录.png").write_bytes(png((10, 90, 10)))
    rejected = overlay.locator('[data-role="rejected"] [data-kind="tracking_record"]')
    expect(rejected).to_have_attribute("data-state", "rejected", timeout=15_000)
    expect(overlay.locator('[data-role="warnings"] [data-code="rejected_kind"]')).to_be_visible()
    rejected.scroll_into_view_if_needed()
    browser.screenshot(case_page, "overlay-pinduoduo-rejected-kind")

    qn = {"ORDER_ID": "2911112222333344445", "AFTERSALE_ID": "209999888877", "HOURS_LEFT": 30}
    browser.serve("https://myseller.taobao.com/home.htm/refund-detail", "qianniu_refund.html", **qn)
    page = browser.new_page()
    page.goto("https://myseller.taobao.com/home.htm/refund-detail#/detail")
    tb = overlay_of(page)
    expect(tb.host).to_have_attribute("data-scenario", "taobao.late_shipment.agreed_time")
    code_item = tb.locator('[data-role="item"][data-kind="wangwang_evidence_number"]').first
    expect(code_item).to_have_attribute("data-state", "missing")
    # Pasted in the overlay: done.
    code_item.locator('input[data-role="text-value"]').fill("JZ20261123ABCDEF")
    code_item.locator('button[type="submit"]').click()
    done_item = tb.locator('[data-role="item"][data-kind="wangwang_evidence_number"]').first
    expect(done_item).to_have_attribute("data-state", "done")
    expect(done_item.locator('[data-role="value"]')).to_have_text("JZ20261123ABCDEF")
    # A code generated 20 days ago, added by another client (the CLI, the tray): expired, live.
    case_id = tb.case_id()
    for record in e2e_helper.request("GET", f"/api/cases/{case_id}").json()["evidence"]:
        if record["kind"] == "wangwang_evidence_number":
            assert e2e_helper.request("DELETE", f"/api/cases/{case_id}/evidence/{record['id']}").status == 200
    old = (datetime.now(timezone.utc) - timedelta(days=20)).isoformat()
    added = e2e_helper.request("POST", f"/api/cases/{case_id}/evidence", json_body={"kind": "wangwang_evidence_number", "value": "JZ20261103OLD", "generated_at": old})
    assert added.status == 201, added.body
    expect(tb.locator('[data-role="item"][data-kind="wangwang_evidence_number"]').first).to_have_attribute("data-state", "rejected", timeout=15_000)
    expect(tb.locator('[data-role="warnings"] [data-code="expired"]')).to_contain_text("过期")
    browser.screenshot(page, "overlay-taobao-expired-code")
    page.close()


def test_countdown_turns_warn_in_the_page_and_an_alarm_notifies(browser, case_page):
    """Twelve hours and a few seconds left: ok now, warn moments later, computed in the page from the
    absolute deadline; the service worker's alarm (not a live worker timer) brings the notification."""
    browser.serve(
        "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3", "douyin_detail.html",
        ORDER_ID="4937820156333333333", AFTERSALE_ID="7303333333333", SECONDS_LEFT=12 * 3600 + 6,
        NEXT_ORDER_ID="4937820156444444444", NEXT_AFTERSALE_ID="7304444444444", NEXT_SECONDS_LEFT=3600,
    )
    page = browser.new_page()
    page.goto("https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7303333333333")
    overlay = overlay_of(page)
    countdown = overlay.locator('[data-role="countdown"]')
    expect(countdown).to_have_attribute("data-level", "ok")
    case_id = overlay.case_id()
    alarms = browser.sw("() => chrome.alarms.getAll().then(a => a.map(x => x.name))")
    assert f"level:{case_id}:warn" in alarms and f"level:{case_id}:urgent" in alarms
    assert f"case:{case_id}:warn" not in browser.sw("() => chrome.notifications.getAll()")
    expect(countdown).to_have_attribute("data-level", "warn", timeout=15_000)
    expect(overlay.host).to_have_attribute("data-level", "warn", timeout=5_000)  # the host's hook ticks too
    deadline = time.monotonic() + 15
    while f"case:{case_id}:warn" not in browser.sw("() => chrome.notifications.getAll()"):
        assert time.monotonic() < deadline, "the warn alarm brought no notification"
        time.sleep(0.2)
    page.close()


def test_helper_stopped_and_restarted(case_page, overlay, e2e_helper, browser):
    expect(overlay.host).to_have_attribute("data-state", "case")
    # Killed outright (crash, sleep, task manager): no goodbye on the socket.
    e2e_helper.stop(signal.SIGKILL)
    expect(overlay.host).to_have_attribute("data-state", "offline", timeout=15_000)
    expect(overlay.locator('[data-role="problem"]')).to_contain_text("本地助手未运行")
    expect(overlay.locator('[data-role="problem"]')).to_contain_text("scripts/run")
    # The last checklist and countdown of this case stay, marked 离线, and cannot be acted on.
    expect(overlay.locator('[data-role="offline"]')).to_contain_text("离线")
    expect(item(overlay, "shipping_slip", 0)).to_have_attribute("data-state", "done")
    expect(overlay.locator('[data-role="countdown"]')).to_have_attribute("data-deadline", re.compile(r"^\d{4}-"))
    expect(overlay.host).to_have_attribute("data-deadline", re.compile(r"^\d{4}-"))
    expect(overlay.locator('[data-role="option"][data-option="0"] [data-role="attach"]')).to_be_disabled()
    expect(overlay.locator('[data-role="retry"]')).to_be_enabled()
    browser.screenshot(case_page, "overlay-helper-offline")
    fresh = browser.new_page()  # a case page opened while the helper is down: the same, from the cache
    fresh.goto(OPEN_URL)
    fresh_overlay = overlay_of(fresh)
    expect(fresh_overlay.host).to_have_attribute("data-state", "offline")
    expect(fresh_overlay.locator('[data-role="offline"]')).to_be_visible()
    expect(item(fresh_overlay, "shipping_slip", 0)).to_have_attribute("data-state", "done")

    e2e_helper.start()  # same port, same state: the token still holds
    expect(overlay.host).to_have_attribute("data-state", "case", timeout=20_000)
    expect(overlay.host).to_have_attribute("data-scenario", "pinduoduo.not_received")
    expect(item(overlay, "shipping_slip", 0)).to_have_attribute("data-state", "done")
    expect(fresh.locator("juzheng-overlay")).to_have_attribute("data-state", "case", timeout=20_000)
    expect(fresh_overlay.locator('[data-role="offline"]')).to_have_count(0)
    fresh.close()

    # Live updates flow again without a reload: another inbox file turns an item done.
    (e2e_helper.root / "收件箱" / f"{ORDER} 快递红章证明 第二张.png").write_bytes(png((90, 10, 10)))
    expect(item(overlay, "red_stamp_proof", 0).locator('[data-role="file"]')).to_have_count(2, timeout=15_000)


def test_revoked_pairing_says_how_to_fix_it_and_recovers(case_page, e2e_helper, browser):
    done = e2e_helper.cli("pair", "--revoke", "--state-dir", str(e2e_helper.state_dir))
    assert done.returncode == 0, done.stderr
    case_page.reload()
    overlay = overlay_of(case_page)
    expect(overlay.host).to_have_attribute("data-state", "unpaired")
    expect(overlay.locator('[data-role="problem"]')).to_contain_text("开始配对")  # no terminal command for a seller
    browser.screenshot(case_page, "overlay-unpaired")

    pair_through_options(browser, e2e_helper).close()
    e2e_helper.token = browser.storage()["token"]
    expect(overlay.host).to_have_attribute("data-state", "case", timeout=15_000)
