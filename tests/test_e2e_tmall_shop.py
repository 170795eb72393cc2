"""A Tmall shop's cases on Taobao hosts (refund2.taobao.com, 千牛 qn.taobao.com) whose pages never say
天猫, in real Chromium with the real helper: the seller taps 按天猫店铺处理 once, the case becomes a
tmall.* case with its files moved along, the shop's next order opens as 天猫 at once, 改回淘宝 goes
back; a page that says 天猫 needs no choice; a hostile page cannot make the choice.
"""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from fixtures.browser import overlay_of

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

REFUND2 = "https://refund2.taobao.com/dispute/detail.htm"
QN = "https://qn.taobao.com/home.htm/trade-platform/refund-list/detail"
SHOP = "晨光家居旗舰店"
ORDER_A, ORDER_B = "3901234567890123401", "3901234567890123402"
ORDER_C, ORDER_D = "3901234567890123403", "3901234567890123404"
ASK = '[data-role="marketplace-choice"][data-marketplace="tmall"]'
BACK = '[data-role="marketplace-choice"][data-marketplace="taobao"]'


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(out, format="PNG")
    return out.getvalue()


def wait_until(what, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (got := what()):
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.1)
    return got


def view_of(helper, case_id: str) -> dict:
    return helper.request("GET", f"/api/cases/{case_id}").json()


def open_refund2(browser, order: str, aftersale: str, page_name: str = "refund2_taobao_shop.html", shop: str = SHOP):
    browser.serve(REFUND2, page_name, SHOP=shop, AFTERSALE_ID=aftersale)
    page = browser.new_page()
    page.goto(f"{REFUND2}?bizOrderId={order}&disputeId={aftersale}")
    overlay = overlay_of(page)
    expect(overlay.host).to_have_attribute("data-state", "case")
    return page, overlay


def test_the_seller_picks_tmall_once_per_shop_and_can_go_back(paired_browser, e2e_helper):
    page, overlay = open_refund2(paired_browser, ORDER_A, "880001")
    expect(overlay.host).to_have_attribute("data-scenario", "taobao.not_received")
    case_id = overlay.case_id()
    inbox = e2e_helper.root / "收件箱"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / f"{ORDER_A} 签收底单.png").write_bytes(png((30, 30, 200)))
    filed = e2e_helper.root / "淘宝" / ORDER_A / "签收底单" / f"{ORDER_A} 签收底单.png"
    wait_until(lambda: any(e["filename"] == filed.name for e in view_of(e2e_helper, case_id)["evidence"]))
    assert filed.is_file()

    line = overlay.locator('[data-role="marketplace"]')
    expect(line).to_contain_text("这是天猫店铺的售后？")
    overlay.locator(ASK).click()

    expect(overlay.host).to_have_attribute("data-scenario", "tmall.not_received")
    expect(line).to_contain_text("已按天猫店铺处理（本店以后的售后也是）")
    view = view_of(e2e_helper, case_id)
    assert (str(view["id"]), view["platform"]) == (case_id, "tmall")  # the same case, relabelled
    moved = e2e_helper.root / "天猫" / ORDER_A / "签收底单" / filed.name
    assert moved.is_file() and not filed.exists()
    assert [e["filename"] for e in view["evidence"]] == [filed.name]
    # Kept in the worker's own storage (content scripts and the page cannot read it).
    assert paired_browser.storage()["shopMarketplace"] == {f"shop:{SHOP}": "tmall"}

    # The same shop's next order, in 千牛 this time: 天猫 at once.
    paired_browser.serve(QN, "qn_refund_shop.html", SHOP=SHOP, ORDER_ID=ORDER_B, AFTERSALE_ID="880002")
    qn = paired_browser.new_page()
    qn.goto(f"{QN}?disputeId=880002&type=1")
    second = overlay_of(qn)
    expect(second.host).to_have_attribute("data-state", "case")
    expect(second.host).to_have_attribute("data-scenario", "tmall.not_received")
    expect(second.host).to_have_attribute("data-order-id", ORDER_B)
    assert view_of(e2e_helper, second.case_id())["platform"] == "tmall"

    # 改回淘宝: back, for this shop.
    second.locator(BACK).click()
    expect(second.host).to_have_attribute("data-scenario", "taobao.not_received")
    expect(second.locator('[data-role="marketplace"]')).to_contain_text("这是天猫店铺的售后？")
    assert paired_browser.storage()["shopMarketplace"] == {f"shop:{SHOP}": "taobao"}
    qn.close()
    page.close()


def test_a_page_that_says_tmall_needs_no_choice(paired_browser, e2e_helper):
    page, overlay = open_refund2(paired_browser, ORDER_C, "880003", "refund2_taobao_says_tmall.html", shop="远山数码专营店")
    expect(overlay.host).to_have_attribute("data-scenario", "tmall.not_received")
    expect(overlay.locator('[data-role="marketplace"]')).to_have_count(0)  # nothing to ask
    assert "shop:远山数码专营店" not in paired_browser.storage().get("shopMarketplace", {})
    page.close()


HOSTILE = r"""
<script>
(() => {
  const EXT = "{{EXT_ID}}";
  const tried = (window.__tried = []);
  const orders = [{ type: "overlay", action: "marketplace", marketplace: "tmall" }, { action: "marketplace", marketplace: "tmall" },
                  { type: "pageRead", platform: "tmall", shop: "坏店" }];
  window.__attack = (caseId) => {
    for (const o of orders) {
      const m = { ...o, caseId: Number(caseId) };
      window.postMessage(m, "*");
      for (let i = 0; i < window.frames.length; i++) { try { window.frames[i].postMessage(m, "*"); tried.push("frame"); } catch (e) { tried.push(e.name); } }
      try { chrome.runtime.sendMessage(EXT, m); tried.push("runtime"); } catch (e) { tried.push("runtime:" + e.name); }
    }
    for (const host of document.querySelectorAll("juzheng-overlay")) {
      host.dispatchEvent(new CustomEvent("marketplace", { detail: "tmall", bubbles: true }));
      host.click();
    }
    try { localStorage.setItem("shopMarketplace", JSON.stringify({ "shop:坏店": "tmall" })); } catch (e) { tried.push(e.name); }
    return tried.length;
  };
})();
</script>
"""


def test_a_hostile_page_cannot_make_the_choice(paired_browser, e2e_helper):
    from fixtures.browser import extension_id

    paired_browser.serve(REFUND2, "refund2_taobao_shop.html", SHOP="坏店", AFTERSALE_ID="880004")
    paired_browser.pages[REFUND2] = paired_browser.pages[REFUND2].replace("<head>", "<head>" + HOSTILE.replace("{{EXT_ID}}", extension_id()), 1)
    page = paired_browser.new_page()
    page.goto(f"{REFUND2}?bizOrderId={ORDER_D}&disputeId=880004")
    overlay = overlay_of(page)
    expect(overlay.host).to_have_attribute("data-scenario", "taobao.not_received")
    case_id = overlay.case_id()
    assert page.evaluate("(id) => window.__attack(id)", case_id) > 0

    # The seller's own tap behind a decoy the page painted over the overlay: refused as well.
    button = overlay.locator(ASK)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    overlay.host.evaluate("h => h.style.setProperty('opacity', '0.01', 'important')")
    page.mouse.click(x, y)
    expect(overlay.locator('[data-role="status"]')).to_contain_text("页面遮挡了举证助手", timeout=10_000)

    # The frame answered the one real tap (refused); every message of the page went nowhere.
    assert "shop:坏店" not in paired_browser.storage().get("shopMarketplace", {})
    assert view_of(e2e_helper, case_id)["platform"] == "taobao"
    expect(overlay.host).to_have_attribute("data-scenario", "taobao.not_received")
    page.close()
