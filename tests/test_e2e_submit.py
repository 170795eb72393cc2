"""End to end in real Chromium with the real helper: from a file on the seller's disk to the
platform's upload box.

A red-stamp proof scanned to PDF and an iPhone HEIC shipping slip on a Pinduoduo case go into the
page's box as JPEGs (within 3) after the confirm step; an 8-megapixel photo on a Taobao case goes
in recompressed under 500 KB; files that waited in the inbox are offered, not moved, on opening a
case (declined, then accepted on another case; a 淘宝 file never offered to Pinduoduo); the focus is
renewed while the tab is visible and ends when it closes; a 待分类 file is filed by the 「归为…」
menu and by drag; the explanation asks for the tracking number before 「复制说明」 copies, and is
filled with the number the page shows; the packet is exported. Throughout, every original's sha256 stays under the evidence root.

The tests of this module run in order on one browser and one helper.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from fixtures.browser import PAGES_DIR, Overlay, fill, overlay_of, pair_through_options
from fixtures.evidence import account_with_conversions
from fixtures.submit_files import iphone_heic, phone_photo, scanned_pdf, screenshot_png

pytestmark = pytest.mark.browser

PDD_URL = "https://mms.pinduoduo.com/aftersales-ssr/detail"
ORDER = "231201-556677889900112"
AFTERSALE = "66554433221"
ORDER_2 = "231202-112233445566778"
AFTERSALE_2 = "66554433222"
TB_URL = "https://refund2.taobao.com/dispute/detail.htm"
TB_ORDER = "3987654321098765432"
TB_AFTERSALE = "123456789012"

ORIGINALS: dict[str, bytes] = {}  # name -> bytes of every file the seller gave: checked at the end


@pytest.fixture(scope="module")
def browser(e2e_helper, extension_browser):  # the helper first: it outlives the browser
    extension_browser.serve(PDD_URL, "pinduoduo_detail.html", ORDER_ID=ORDER, AFTERSALE_ID=AFTERSALE)
    if not extension_browser.storage().get("token"):
        pair_through_options(extension_browser, e2e_helper).close()
    e2e_helper.token = extension_browser.storage()["token"]
    return extension_browser


def open_case(browser, url: str) -> tuple[object, Overlay]:
    page = browser.new_page()
    page.goto(url)
    expect(page.locator("juzheng-overlay")).to_have_attribute("data-state", "case", timeout=20_000)
    return page, overlay_of(page)


def drop(overlay: Overlay, target, files: list[tuple[str, str, bytes]]) -> None:
    """A real drop of File objects (name, MIME type as the OS reports it, bytes) onto ``target``."""
    for name, _, data in files:
        ORIGINALS[name] = data
    payload = [[name, mime, base64.b64encode(data).decode()] for name, mime, data in files]
    dt = overlay.frame.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const [name, mime, b64] of files) {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], name, { type: mime }));
            }
            return dt;
        }""",
        payload,
    )
    for event in ("dragenter", "dragover", "drop"):
        target.dispatch_event(event, {"dataTransfer": dt})


def item(overlay: Overlay, kind: str, option: int):
    return overlay.locator(f'[data-role="option"][data-option="{option}"] [data-role="item"][data-kind="{kind}"]').first


def case_id(overlay: Overlay) -> int:
    return int(overlay.locator('[data-role="countdown"]').evaluate("() => document.documentElement.dataset.caseId"))


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_pdd_pdf_and_heic_attached_as_jpegs_after_the_confirm_step(browser, e2e_helper):
    page, overlay = open_case(browser, f"{PDD_URL}?id={AFTERSALE}&orderSn={ORDER}")
    drop(overlay, item(overlay, "red_stamp_proof", 0), [("红章证明.pdf", "application/pdf", scanned_pdf())])
    expect(item(overlay, "red_stamp_proof", 0)).to_have_attribute("data-state", "done")
    drop(overlay, item(overlay, "shipping_slip", 0), [("发货底单.HEIC", "image/heic", iphone_heic())])
    expect(item(overlay, "shipping_slip", 0)).to_have_attribute("data-state", "done")
    option = overlay.locator('[data-role="option"][data-option="0"]')
    expect(option.locator('[data-role="packet"]')).to_have_attribute("data-ready", "true")
    expect(option.locator('[data-role="packet"]')).to_contain_text("将先转换")

    option.locator('[data-role="attach"]').click()
    dialog = overlay.locator('[data-role="confirm-packet"]')
    expect(dialog).to_be_visible(timeout=30_000)
    expect(dialog.locator('[data-role="final-note"]')).to_contain_text("不能补充或修改")
    files = dialog.locator('[data-role="packet-file"]')
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_contain_text("红章证明（第1页）.jpg")
    expect(files.nth(0)).to_contain_text("由 红章证明.pdf 转换")
    expect(files.nth(1)).to_contain_text("发货底单（转JPEG）.jpg")
    expect(dialog.locator('[data-role="packet-cautions"]')).to_contain_text("财务章")
    expect(page.locator("#chosen li")).to_have_count(0)  # nothing goes in before the seller confirms
    browser.screenshot(page, "submit-confirm-packet")
    dialog.locator('[data-role="confirm-attach"]').click()
    expect(page.locator("#chosen li")).to_have_count(2)
    chosen = page.evaluate("window.__chosen")
    assert [c["name"] for c in chosen] == ["红章证明（第1页）.jpg", "发货底单（转JPEG）.jpg"]
    assert all(c["type"] == "image/jpeg" and c["size"] > 0 for c in chosen) and len(chosen) <= 3
    expect(overlay.locator('[data-role="status"]')).to_contain_text("已把 2 个文件放进页面的上传框")
    order_dir = e2e_helper.root / "拼多多" / ORDER
    assert sorted(p.name for p in (order_dir / "快递红章证明").iterdir()) == ["红章证明.pdf", "红章证明（第1页）.jpg"]
    assert sorted(p.name for p in (order_dir / "发货底单").iterdir()) == ["发货底单.HEIC", "发货底单（转JPEG）.jpg"]
    page.close()


def test_explanation_asks_for_the_tracking_number_before_copying(browser):
    page, overlay = open_case(browser, f"{PDD_URL}?id={AFTERSALE}&orderSn={ORDER}")
    browser.context.grant_permissions(["clipboard-read", "clipboard-write"], origin="https://mms.pinduoduo.com")
    page.evaluate("navigator.clipboard.writeText('剪贴板原来的内容')")
    ask = overlay.locator('[data-role="explanation-ask"]')
    expect(ask).to_contain_text("快递单号")
    overlay.locator('[data-role="copy"]').click()
    expect(overlay.locator('[data-role="status"]')).to_contain_text("说明里还缺“快递单号”")
    assert page.evaluate("navigator.clipboard.readText()") == "剪贴板原来的内容"  # no blank was copied
    ask.locator('[data-role="tracking-number"]').fill("YT8899001122334")
    ask.locator('button[type="submit"]').click()
    expect(ask).to_have_count(0)
    overlay.locator('[data-role="copy"]').click()
    expect(overlay.locator('[data-role="status"]')).to_contain_text("已复制")
    text = page.evaluate("navigator.clipboard.readText()")
    assert "YT8899001122334" in text and ORDER in text and "待填" not in text
    page.close()


def test_pack_button_exports_the_packet(browser, e2e_helper):
    page, overlay = open_case(browser, f"{PDD_URL}?id={AFTERSALE}&orderSn={ORDER}")
    overlay.locator('[data-role="pack"]').click()
    expect(overlay.locator('[data-role="status"]')).to_contain_text("已导出到：", timeout=30_000)
    folder = Path(overlay.locator('[data-role="status"]').inner_text().split("已导出到：", 1)[1].strip())
    assert folder.parent == e2e_helper.root / "导出"
    names = sorted(p.name for p in folder.iterdir())
    assert names[:2] == ["00_总览.jpg", "01_快递红章证明_红章证明（第1页）.jpg"] and "举证说明.txt" in names
    assert "YT8899001122334" in (folder / "举证说明.txt").read_text(encoding="utf-8")
    page.close()


def test_explanation_filled_with_the_pages_tracking_number(browser, e2e_helper):
    order, aftersale, tracking = "231203-998877665544331", "66554433223", "YT3141592653589"
    html = fill((PAGES_DIR / "pinduoduo_detail.html").read_text(encoding="utf-8"), {"ORDER_ID": order, "AFTERSALE_ID": aftersale})
    row = f'<div class="rw_k2"><span class="lb_7c">快递单号</span><span class="vl_3">{tracking}</span></div>'
    html = html.replace('<div class="rw_k2"><span class="lb_7c">售后信息</span>', row + '<div class="rw_k2"><span class="lb_7c">售后信息</span>', 1)
    browser.pages[PDD_URL] = html
    page, overlay = open_case(browser, f"{PDD_URL}?id={aftersale}&orderSn={order}")
    expect(overlay.locator('[data-role="copy"]')).to_be_visible()
    expect(overlay.locator('[data-role="explanation-ask"]')).to_have_count(0)  # nothing to ask: the page said it
    [case] = [c for c in e2e_helper.request("GET", "/api/cases").json() if c["order_id"] == order]
    assert e2e_helper.request("GET", f"/api/cases/{case['id']}").json()["tracking_number"] == tracking
    browser.context.grant_permissions(["clipboard-read", "clipboard-write"], origin="https://mms.pinduoduo.com")
    overlay.locator('[data-role="copy"]').click()
    expect(overlay.locator('[data-role="status"]')).to_contain_text("已复制")
    text = page.evaluate("navigator.clipboard.readText()")
    assert tracking in text and order in text and "待填" not in text
    page.close()
    browser.serve(PDD_URL, "pinduoduo_detail.html", ORDER_ID=ORDER, AFTERSALE_ID=AFTERSALE)


def test_taobao_oversized_photo_recompressed_under_the_limit(browser, e2e_helper):
    browser.serve(TB_URL, "taobao_dispute.html", ORDER_ID=TB_ORDER, AFTERSALE_ID=TB_AFTERSALE, DEADLINE="2099-01-01 12:00:00")
    page, overlay = open_case(browser, f"{TB_URL}?disputeId={TB_AFTERSALE}")
    select = overlay.locator('select[data-role="scenario"]')
    select.select_option("taobao.late_shipment.agreed_time")
    expect(page.locator("juzheng-overlay")).to_have_attribute("data-scenario", "taobao.late_shipment.agreed_time")
    photo = phone_photo()
    drop(overlay, item(overlay, "chat_screenshot", 1), [("旺旺聊天截图.jpg", "image/jpeg", photo)])
    expect(item(overlay, "chat_screenshot", 1)).to_have_attribute("data-state", "done", timeout=30_000)
    expect(overlay.locator('[data-role="option"][data-option="1"] [data-role="packet"]')).to_have_attribute("data-ready", "true")
    page.evaluate("""() => {
        window.__picked = [];
        document.querySelector('input[type=file]').addEventListener('change', (e) => {
            window.__picked = Array.from(e.target.files).map((f) => ({ name: f.name, size: f.size, type: f.type }));
        });
    }""")
    overlay.locator('[data-role="option"][data-option="1"] [data-role="attach"]').click()  # Taobao: no one-shot confirm
    picked = wait_for(lambda: page.evaluate("window.__picked") or None, 60)
    assert picked == [{"name": "旺旺聊天截图（压缩）.jpg", "size": picked[0]["size"], "type": "image/jpeg"}]
    assert len(photo) > 2 * 1024 * 1024 and picked[0]["size"] <= 500 * 1024
    page.close()


def test_inbox_offer_on_opening_a_case_decline_then_accept_never_across_platforms(browser, e2e_helper):
    inbox = e2e_helper.root / "收件箱"
    early = {"签收照片.jpg": screenshot_png((250, 200, 200)), "快递内网截图.png": screenshot_png((200, 250, 200)),
             "淘宝 聊天截图.png": screenshot_png((200, 200, 250))}
    for name, data in early.items():
        (inbox / name).write_bytes(data)
        ORIGINALS[name] = data
    wait_for(lambda: len([p for p in e2e_helper.request("GET", "/api/cases/1").json()["pending"] if p["path"].startswith("收件箱/")]) >= 3)

    page, overlay = open_case(browser, f"{PDD_URL}?id={AFTERSALE}&orderSn={ORDER}")
    offer = overlay.locator('[data-role="inbox-offer"]')
    expect(offer).to_contain_text("把收件箱里的 2 个文件归到这个案子？")
    names = sorted(offer.locator('[data-role="offer-file"]').all_inner_texts())
    assert names == ["快递内网截图.png", "签收照片.jpg"]  # the 淘宝 file is never offered to Pinduoduo
    browser.screenshot(page, "submit-inbox-offer")
    offer.locator('[data-role="offer-decline"]').click()
    expect(offer).to_have_count(0)
    assert all((inbox / n).exists() for n in early)  # opening the case moved nothing
    page.reload()
    expect(page.locator("juzheng-overlay")).to_have_attribute("data-state", "case")
    overlay = overlay_of(page)
    expect(overlay.locator('[data-role="item"]').first).to_be_visible()
    expect(overlay.locator('[data-role="inbox-offer"]')).to_have_count(0)  # declined: not asked again

    # A file dropped while this case's tab is open and visible is filed to it (the focus).
    (inbox / "退件面单.jpg").write_bytes(ORIGINALS.setdefault("退件面单.jpg", screenshot_png((180, 180, 180))))
    # An unnamed photo is read first (the OCR worker may have to start), then filed to the focus.
    wait_for(lambda: (e2e_helper.root / "拼多多" / ORDER / "待分类" / "退件面单.jpg").exists(), 120)
    page.close()

    browser.serve(PDD_URL, "pinduoduo_detail.html", ORDER_ID=ORDER_2, AFTERSALE_ID=AFTERSALE_2)
    other, overlay2 = open_case(browser, f"{PDD_URL}?id={AFTERSALE_2}&orderSn={ORDER_2}")
    offer2 = overlay2.locator('[data-role="inbox-offer"]')
    expect(offer2).to_contain_text("把收件箱里的 2 个文件归到这个案子？")
    offer2.locator('[data-role="offer-accept"]').click()
    expect(overlay2.locator('[data-role="status"]')).to_contain_text("已把 2 个文件归到这个案子")
    order_dir = e2e_helper.root / "拼多多" / ORDER_2
    wait_for(lambda: (order_dir / "快递内网截图" / "快递内网截图.png").exists() and (order_dir / "待分类" / "签收照片.jpg").exists())
    assert (inbox / "淘宝 聊天截图.png").exists()
    other.close()


def test_focus_renewed_while_visible_and_ended_when_the_tab_closes(browser, e2e_helper):
    page, overlay = open_case(browser, f"{PDD_URL}?id={AFTERSALE_2}&orderSn={ORDER_2}")
    page.bring_to_front()
    overlay.locator('[data-role="ids"]').click()  # the seller works in the overlay: the focus begins
    this_case = case_id(overlay)
    first = wait_for(lambda: (f := e2e_helper.request("GET", "/api/focus").json())["case_id"] == this_case and f)
    browser.sw("() => Juzheng.submit.tick()")
    renewed = wait_for(lambda: (f := e2e_helper.request("GET", "/api/focus").json())["at"] != first["at"] and f)
    assert renewed["since"] == first["since"] and renewed["active"]  # the same look at the case goes on
    page.close()
    wait_for(lambda: e2e_helper.request("GET", "/api/focus").json()["case_id"] is None)
    # With the tab closed, a new order-less file waits in the inbox instead of going to the last case.
    inbox = e2e_helper.root / "收件箱"
    (inbox / "关标签之后.jpg").write_bytes(ORIGINALS.setdefault("关标签之后.jpg", screenshot_png((90, 90, 90))))
    wait_for(lambda: any(p["path"] == "收件箱/关标签之后.jpg" for p in e2e_helper.request("GET", "/api/cases/1").json()["pending"]), 120)


def test_unsorted_file_filed_by_menu_and_by_drag(browser, e2e_helper):
    unsorted = e2e_helper.root / "拼多多" / ORDER_2 / "待分类"
    extra = {"IMG_2041.jpg": screenshot_png((10, 120, 10)), "QQ截图20241105153012.png": screenshot_png((120, 10, 10))}
    for name, data in extra.items():
        (unsorted / name).write_bytes(data)
        ORIGINALS[name] = data
    page, overlay = open_case(browser, f"{PDD_URL}?id={AFTERSALE_2}&orderSn={ORDER_2}")
    menu = overlay.locator('[data-role="unsorted-file"]:has-text("IMG_2041.jpg") select[data-role="assign"]')
    overlay.locator('[data-role="unsorted"] summary').click()
    menu.select_option("red_stamp_proof")
    expect(overlay.locator('[data-role="status"]')).to_contain_text("已归为：快递红章证明")
    wait_for(lambda: (e2e_helper.root / "拼多多" / ORDER_2 / "快递红章证明" / "IMG_2041.jpg").exists())

    expect(overlay.locator('[data-role="unsorted-file"]:has-text("IMG_2041.jpg")')).to_have_count(0)
    if not overlay.locator('[data-role="unsorted"][open]').count():
        overlay.locator('[data-role="unsorted"] summary').click()
    source = overlay.locator('[data-role="unsorted-file"]:has-text("QQ截图20241105153012.png")')
    target = item(overlay, "shipping_slip", 0)
    # Playwright's mouse drag does not reach into the out-of-process extension frame: the same
    # events are dispatched there, on one DataTransfer that the source's dragstart fills itself.
    dt = overlay.frame.evaluate_handle("() => new DataTransfer()")
    source.dispatch_event("dragstart", {"dataTransfer": dt})
    assert overlay.frame.evaluate("(dt) => dt.types.includes('application/x-juzheng-evidence')", dt)
    for event in ("dragenter", "dragover", "drop"):
        target.dispatch_event(event, {"dataTransfer": dt})
    wait_for(lambda: (e2e_helper.root / "拼多多" / ORDER_2 / "发货底单" / "QQ截图20241105153012.png").exists())
    expect(item(overlay, "shipping_slip", 0)).to_have_attribute("data-state", "done")
    page.close()


def test_nothing_was_overwritten_or_deleted(e2e_helper):
    """Every file the seller gave is still there, byte for byte; conversions only added files, each
    beside its original."""
    converted = account_with_conversions(e2e_helper.root, ORIGINALS)
    assert sorted(p.rsplit("/", 1)[-1] for p in converted) == ["发货底单（转JPEG）.jpg", "旺旺聊天截图（压缩）.jpg", "红章证明（第1页）.jpg"]
