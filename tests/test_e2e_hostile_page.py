"""A hostile page on a matched seller address, in real Chromium with the real helper: it names an
order, then tries everything a page can against the overlay, and gets nothing.

The page's own script runs first (in <head>, before the content script) and:
- reads what the overlay shows: every element, every shadow root it can reach (it even patches
  ``attachShadow`` to collect roots as they are made), every frame's document and address, the
  resource timing list, the host element's attributes: no evidence file name, no pending inbox name;
- fetches the thumbnails' ``blob:`` addresses (even handed the real ones): no bytes;
- clicks 附加到上传框, sets the overlay's file picker to plant a file, changes the scenario, through any
  element it can reach, through ``postMessage`` (it cannot even address the frame; the messages are
  then delivered into the frame as if it could), through events on the host, and through
  ``chrome.runtime`` with the extension's id: no file lands in its upload box, no planted evidence,
  no scenario change;
- embeds the overlay page itself by the extension's fixed address (the frame's own address is a
  per-session dynamic one the page never learns): it does not load;
- and having named the order, waits for order-less inbox files (截图 1.png) to be filed under it:
  they stay in the inbox until the seller works in the overlay (then they are: the check can fail).
"""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from fixtures.browser import OVERLAY_PATH, extension_id, overlay_of

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

URL = "https://mms.pinduoduo.com/aftersales-ssr/detail"
ORDER = "240701-000000000000701"
AFTERSALE = "96000000701"
SCENARIO = "pinduoduo.not_received"
OTHER_SCENARIO = "pinduoduo.return_not_received"
# A sorted evidence file and two order-less inbox files, named as sellers' phones and other buyers'
# chats name them: the names themselves are what a page must not read.
EVIDENCE_NAME = f"{ORDER} 张三13800138000 快递红章证明.png"
ORDERLESS = ["王五 13712345678 聊天.png", "截图 1.png"]
SECRETS = ["13800138000", "张三", "13712345678", "王五", "截图 1"]

ATTACK = r"""
<script>
(() => {
  const EXT = "{{EXT_ID}}";
  const loot = (window.__loot = { texts: [], blobs: [], frames: [], resources: [], tried: [], errors: [], replies: [] });
  const roots = [];
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    roots.push(root);
    return root;
  };
  window.addEventListener("message", (e) => loot.replies.push(String(e.origin)));
  const overlays = () => [...document.querySelectorAll("*")].filter((e) => e.localName.startsWith("juzheng-overlay"));
  const reachable = () => [...new Set([...roots, ...overlays().map((h) => h.shadowRoot).filter(Boolean)])];

  async function png() {
    const c = document.createElement("canvas");
    c.width = 320; c.height = 200;
    c.getContext("2d").fillRect(0, 0, 100, 100);
    return new Promise((resolve) => c.toBlob(resolve, "image/png"));
  }

  window.__read = () => {
    for (const root of reachable()) {
      loot.texts.push(root.textContent || "");
      for (const img of root.querySelectorAll("img")) loot.blobs.push(img.src);
      for (const el of root.querySelectorAll("[title]")) loot.texts.push(el.title);
    }
    for (const host of overlays()) loot.texts.push(host.outerHTML, host.textContent || "");
    loot.texts.push(document.documentElement.outerHTML, document.body.innerText);
    for (let i = 0; i < window.frames.length; i++) {
      try { loot.texts.push(window.frames[i].document.documentElement.outerHTML); } catch (e) { loot.frames.push("document:" + e.name); }
      try { loot.texts.push(String(window.frames[i].location.href)); } catch (e) { loot.frames.push("location:" + e.name); }
      try { loot.texts.push(String(window.frames[i].name)); } catch (e) { loot.frames.push("name:" + e.name); }
    }
    loot.resources = performance.getEntriesByType("resource").map((e) => e.name);
    loot.texts.push(...loot.resources);
    return loot;
  };

  window.__drive = async () => {
    const file = new File([await png()], "planted 快递红章证明.png", { type: "image/png" });
    for (const root of reachable()) {
      for (const button of root.querySelectorAll('[data-role="attach"]')) { button.disabled = false; button.click(); loot.tried.push("attach"); }
      for (const select of root.querySelectorAll('select[data-role="scenario"]')) {
        select.value = "pinduoduo.return_not_received";
        select.dispatchEvent(new Event("change", { bubbles: true }));
        loot.tried.push("scenario");
      }
      for (const picker of root.querySelectorAll('input[type="file"]')) {
        const dt = new DataTransfer();
        dt.items.add(file);
        picker.files = dt.files;
        picker.dispatchEvent(new Event("change", { bubbles: true }));
        loot.tried.push("plant");
      }
    }
    const commands = [
      { type: "overlay", action: "attach", option: 0 }, { type: "overlay", action: "attach", option: 1 },
      { type: "overlay", action: "scenario", scenario: "pinduoduo.return_not_received" },
      { type: "overlay", action: "focus" }, { type: "overlay", action: "thumb", fileId: 1 },
      { type: "fillUpload" }, { type: "uploadBox" }, { type: "collapse", collapsed: true },
      { type: "render", state: "case", view: { id: 1, order_id: "000000-000000000000000", checklist: null } },
      "attach", "scenario:pinduoduo.return_not_received",
    ];
    window.__commands = commands;
    loot.frameCount = window.frames.length;
    for (let i = 0; i < window.frames.length; i++) for (const c of commands) { window.frames[i].postMessage(c, "*"); loot.tried.push("postMessage"); }
    for (const host of overlays()) {
      host.click();
      for (const type of ["pointerdown", "mousedown", "mouseup", "click", "dragenter", "drop", "keydown"]) host.dispatchEvent(new Event(type, { bubbles: true, composed: true }));
      loot.tried.push("host-events");
    }
    try {
      chrome.runtime.sendMessage(EXT, { type: "overlay", action: "attach", option: 0 }, () => {});
      loot.tried.push("runtime");
    } catch (e) { loot.errors.push("runtime: " + e.message); }
    for (const src of [`chrome-extension://${EXT}/overlay/overlay.html`, ...loot.resources.filter((r) => r.startsWith("chrome-extension://"))]) {
      const f = document.createElement("iframe");
      f.src = src;
      f.className = "jz-copy";
      document.body.append(f);
      loot.tried.push("embed:" + src);
    }
    return loot;
  };

  window.__fetchBlobs = (urls) => Promise.all(urls.map(async (u) => {
    try { return (await (await fetch(u)).arrayBuffer()).byteLength; } catch (e) { return "blocked"; }
  }));
})();
</script>"""


def hostile_page() -> str:
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>售后详情</title>
{ATTACK.replace("{{EXT_ID}}", extension_id())}
</head><body><div id="app">
<h2>售后详情</h2>
<div><span>订单编号</span><span>{ORDER}</span></div>
<div><span>售后编号</span><span>{AFTERSALE}</span></div>
<div><span>售后信息</span><span>售后类型：仅退款 售后状态：平台处理中 待商家举证</span></div>
<div><span>剩余处理时间</span><span><em>1</em>天<em>23</em>小时<em>59</em>分</span></div>
<p>该订单顾客反馈未收到商品，现已申请平台介入，请在售后单内进行举证。举证时长48小时。
举证要求（1或者2）：1、请提供发货底单及快递签收红章证明；2、需上传客户确认的平台聊天截图。</p>
<label>上传凭证<input id="proof" type="file" accept="image/*" multiple></label>
<ul id="chosen"></ul>
<button type="button">提交举证</button>
</div>
<script>
  window.__chosen = [];
  document.getElementById("proof").addEventListener("change", (e) => {{
    for (const f of e.target.files) window.__chosen.push(f.name);
  }});
</script>
</body></html>"""


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), color).save(out, format="PNG")
    return out.getvalue()


def deep_text(page: Any) -> str:
    """What the tab renders anywhere, read with the test's own (privileged) reach into every frame and
    every open shadow root: the precondition that the secrets are really on screen."""
    script = """() => { const out = []; const walk = (root) => { out.push(root.textContent || '');
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot); }; walk(document.documentElement); return out.join('\\n'); }"""
    texts = []
    for frame in page.frames:
        try:
            texts.append(frame.evaluate(script))
        except Exception:  # a frame that navigated away meanwhile  # noqa: BLE001
            continue
    return "\n".join(texts)


def wait_until(check, what: str, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def thumbnail_urls(page: Any) -> list[str]:
    urls = []
    for frame in page.frames:
        try:
            urls += frame.evaluate("""() => { const out = []; const walk = (root) => { for (const img of root.querySelectorAll('img')) if (img.src.startsWith('blob:')) out.push(img.src);
              for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot); }; walk(document.documentElement); return out; }""")
        except Exception:  # noqa: BLE001
            continue
    return urls


def inbox_names(helper: Any) -> set[str]:
    return {p.name for p in (helper.root / "收件箱").iterdir() if p.is_file()}


def filed_under_order(helper: Any) -> list[str]:
    return [p.name for p in helper.root.rglob("*") if p.is_file() and ORDER in p.parts and "收件箱" not in p.parts]


def test_a_hostile_page_gets_nothing_through_the_overlay(paired_browser, e2e_helper):
    paired_browser.pages[URL] = hostile_page()
    page = paired_browser.new_page()
    page.goto(f"{URL}?orderSn={ORDER}&id={AFTERSALE}")
    host = page.locator("juzheng-overlay")
    expect(host).to_have_attribute("data-state", "case")
    expect(host).to_have_attribute("data-scenario", SCENARIO)
    [case] = [c for c in e2e_helper.request("GET", "/api/cases").json() if c["order_id"] == ORDER]
    case_id = case["id"]

    # The case's folder gets a piece of evidence, the inbox two order-less files, while the page is open.
    inbox = e2e_helper.root / "收件箱"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / EVIDENCE_NAME).write_bytes(png((200, 30, 30)))
    for n, name in enumerate(ORDERLESS):
        (inbox / name).write_bytes(png((20 * n, 90, 160)))

    def view() -> dict:
        return e2e_helper.request("GET", f"/api/cases/{case_id}").json()

    wait_until(lambda: any(e.get("filename") == EVIDENCE_NAME for e in view()["evidence"]), "the evidence was never sorted")
    wait_until(lambda: {p["path"].split("/")[-1] for p in view()["pending"]} >= set(ORDERLESS), "the order-less files never showed as pending")
    # The overlay really shows the secrets to the seller (names, pending list, a thumbnail).
    wait_until(lambda: EVIDENCE_NAME in deep_text(page) and "13712345678" in deep_text(page), "the overlay never showed the files")
    wait_until(lambda: bool(thumbnail_urls(page)), "no thumbnail was shown")
    evidence_before = [(e["id"], e.get("filename")) for e in view()["evidence"]]
    source_before = view()["scenario_source"]
    assert source_before != "seller"

    # 1. Reading: nothing of the files.
    loot = page.evaluate("() => window.__read()")
    seen = "\n".join(loot["texts"])
    for secret in SECRETS:
        assert secret not in seen, f"the page read {secret!r}"
    assert all(not r.startswith("blob:") for r in loot["resources"]), loot["resources"]
    assert set(host.evaluate("e => e.getAttributeNames()")) <= {"data-state", "data-scenario", "data-order-id", "data-deadline", "data-level", "data-deadline-source", "style"}

    # 2. Bytes: the thumbnails' blob: addresses, even the real ones, fetch nothing from the page.
    urls = sorted(set(loot["blobs"]) | set(thumbnail_urls(page)))
    assert urls
    assert page.evaluate("(urls) => window.__fetchBlobs(urls)", urls) == ["blocked"] * len(urls)

    # 3. Driving: attach, plant, scenario, postMessage, host events, chrome.runtime, embedding.
    driven = page.evaluate("() => window.__drive()")
    assert "host-events" in driven["tried"]
    # The frame sits in a closed shadow tree, so the page cannot even address it (window.frames
    # leaves it out). Were a reference to leak, this is what its postMessage would deliver:
    assert driven["frameCount"] == 0
    overlay = overlay_of(page)
    overlay.frame.evaluate(
        """(commands) => { for (const data of commands) window.dispatchEvent(new MessageEvent('message',
             { data, origin: 'https://mms.pinduoduo.com', source: window.parent })); }""",
        page.evaluate("() => window.__commands"),
    )

    # The seller's own click in the overlay goes through the same service worker after all of it;
    # once it has visibly taken effect, anything the page's attempts set off has had its turn.
    assert inbox_names(e2e_helper) >= set(ORDERLESS), "order-less files were filed to the page's order before the seller did anything"
    assert not [n for n in filed_under_order(e2e_helper) if any(o in n for o in ORDERLESS)]
    # The files waited in the inbox before the seller worked in this case's overlay, so they are filed
    # only on the seller's own answer: unfolding the pending list and 「把这些文件归到本订单」.
    overlay.locator('[data-role="pending"] summary').click()
    overlay.locator('[data-role="claim-pending"]').click()
    wait_until(lambda: not (inbox_names(e2e_helper) & set(ORDERLESS)), "the seller's click did not file the order-less files", 120)
    assert {n for n in filed_under_order(e2e_helper) if any(o.rsplit(".", 1)[0] in n for o in ORDERLESS)}, "filed, but not under the order"

    assert page.evaluate("() => window.__chosen") == [], "files reached the page's upload box without the seller"
    stored = view()
    assert (stored["scenario"], stored["scenario_source"]) == (SCENARIO, source_before), "the page changed the scenario"
    before_ids = {i for i, _ in evidence_before}
    added = [e.get("filename") or "" for e in stored["evidence"] if e["id"] not in before_ids]
    assert all(any(o.rsplit(".", 1)[0] in name for o in ORDERLESS) for name in added), f"evidence the seller never gave: {added}"
    assert not list(e2e_helper.root.rglob("planted*")), "the page planted a file"
    expect(host).to_have_attribute("data-scenario", SCENARIO)
    assert page.evaluate("() => window.__loot.replies") == [], "the overlay answered the page's postMessage"

    # The page's own copy of the overlay page (by the fixed id) does not load; no frame but the
    # content script's shows the case.
    showing = []
    for frame in page.frames:
        try:
            if frame.evaluate("() => !!document.querySelector('[data-role=\"order-id\"]')"):
                showing.append(frame.url)
        except Exception:  # noqa: BLE001
            continue
    assert len(showing) == 1 and OVERLAY_PATH in showing[0], showing
    assert f"embed:chrome-extension://{extension_id()}/overlay/overlay.html" in driven["tried"]
    assert any(f.url.startswith("chrome-error:") for f in page.frames), "the page's copy of the overlay page loaded"

    # The seller's own attach still works: the one deliberate hand-over, this case's files only.
    overlay.locator('[data-role="option"][data-option="0"] [data-role="attach"]').click()
    overlay.locator('[data-role="confirm-attach"]').click()  # one submission only: the seller confirms the packet
    wait_until(lambda: len(page.evaluate("() => window.__chosen")) > 0, "the seller's attach did not fill the upload box")
    assert set(page.evaluate("() => window.__chosen")) == {EVIDENCE_NAME}
    page.close()
