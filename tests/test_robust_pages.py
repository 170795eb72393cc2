"""Malformed and hostile after-sale pages against the page adapters and the overlay, in real Chromium
with the real helper.

Hostile: markup *as text* wherever the page puts a value (订单编号, 售后编号, the time left, the
platform's message, attributes), script-looking text, inbox file names and a pasted 举证号 that are
markup — every string that can travel page → helper → overlay, or folder → helper → overlay. None may
ever execute: each payload sets ``window.__jzPwned`` if it ever runs as markup (in the page or in the
overlay's frame), and the overlay's panel may contain only the elements the overlay makes itself (no
page element, no ``on*`` attribute, no image but its own blob: thumbnails). Also a page that defines
``<juzheng-overlay>`` itself.

Malformed: a huge page (several MB, 20,000 rows), a 1,000-deep tree, and broken markup (unclosed and
misnested tags, NUL and control characters, bidi overrides) — the overlay still finds the case.
"""

from __future__ import annotations

import html
import time

import pytest
from playwright.sync_api import expect

from fixtures.browser import Overlay

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(180)]

URL = "https://mms.pinduoduo.com/aftersales-ssr/detail"
TB_URL = "https://refund2.taobao.com/dispute/detail.htm"
FLAG = "window.__jzPwned=(window.__jzPwned||0)+1"
PAYLOADS = [
    f'<img class="jz-evil" src=x onerror="{FLAG}">',
    f"<script class=jz-evil>{FLAG}</script>",
    f'"><svg class=jz-evil onload="{FLAG}"></svg>',
    f"<iframe class=jz-evil srcdoc=\"<script>parent.{FLAG}</script>\"></iframe>",
    f"javascript:{FLAG}//",
    f"<b class=jz-evil onmouseover=\"{FLAG}\">加粗</b>",
]
EVIL = " ".join(PAYLOADS)
ESCAPED = html.escape(EVIL)  # in the page's source: text, as the platform would show a buyer's words

OVERLAY_TAGS = {
    "style", "div", "span", "b", "button", "select", "option", "p", "h3", "code", "small", "details",
    "summary", "ol", "ul", "li", "input", "label", "form", "img",
}

# Run in the overlay's frame: its panel is all the overlay shows.
INSPECT = """() => {
  const panel = document.querySelector('.panel');
  const els = [...panel.querySelectorAll('*')];
  const order = panel.querySelector('[data-role="order-id"]');
  return {
    order: order ? order.textContent : null,
    tags: [...new Set(els.map((e) => e.localName))],
    onAttrs: els.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => e.localName + '@' + a.name)),
    evil: els.filter((e) => e.matches('.jz-evil, script, iframe, object, embed, svg, math, link, meta, base, form[action]')).length,
    imgs: els.filter((e) => e.localName === 'img').map((e) => e.getAttribute('src') || ''),
    text: panel.textContent,
    pwned: window.__jzPwned === undefined ? null : window.__jzPwned,
  };
}"""

# Run in the page: the hosts it can see, and whether any shows it a way in.
PAGE_HOSTS = """() => [...document.querySelectorAll('*')].filter((e) => e.localName.startsWith('juzheng-overlay'))
  .map((e) => ({ name: e.localName, order: e.dataset.orderId || null, open: e.shadowRoot !== null, text: e.textContent }))"""


def pdd_page(order: str, aftersale: str, *, body_extra: str = "", order_cell: str | None = None, head_extra: str = "") -> str:
    order_cell = order_cell if order_cell is not None else order
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>售后详情</title>{head_extra}</head>
<body><div id="app">
<h2>售后详情</h2>
<div><span>订单编号</span><span>{order_cell}</span></div>
<div><span>售后编号</span><span>{aftersale}</span></div>
<div><span>售后信息</span><span>售后类型：仅退款 售后状态：平台处理中 待商家举证</span></div>
<div><span>剩余处理时间</span><span><em>1</em>天<em>23</em>小时<em>59</em>分</span></div>
<div><span>平台留言</span></div>
<p>该订单顾客反馈未收到商品，现已申请平台介入，请您联系快递核实签收情况，并在售后单内进行举证。举证时长48小时。
举证要求（1或者2）：1、请提供发货底单及快递签收红章证明；2、需上传客户确认的平台聊天截图。</p>
{body_extra}
<label>上传凭证<input type="file" accept="image/*" multiple style="display:none"></label>
<button type="button">提交举证</button>
</div></body></html>"""


def open_overlay(browser, url: str, order: str) -> tuple[object, Overlay]:
    page = browser.new_page()
    # A 5 MB page's load event can take longer than the fixture's default on a busy 2-core CI machine;
    # the overlay is what this waits for, so generous limits keep it a test of behaviour, not speed.
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    overlay = Overlay(page, timeout=45)
    expect(overlay.locator('[data-role="order-id"]')).to_have_text(order, timeout=45_000)
    return page, overlay


def assert_inert(page, overlay: Overlay, expect_text: list[str] = ()) -> dict:
    page.wait_for_timeout(600)  # an <img onerror> fires after its failed load: give it the chance
    assert page.evaluate("() => window.__jzPwned") is None, "page-supplied markup was executed"
    inside = overlay.frame.evaluate(INSPECT)
    assert inside["pwned"] is None, "page-supplied markup was executed in the overlay"
    assert set(inside["tags"]) <= OVERLAY_TAGS, f"foreign elements in the overlay: {set(inside['tags']) - OVERLAY_TAGS}"
    assert inside["onAttrs"] == [] and inside["evil"] == 0, inside
    assert all(src == "" or src.startswith("blob:chrome-extension://") for src in inside["imgs"]), inside["imgs"]
    for text in expect_text:
        assert text in inside["text"], f"{text!r} not shown as text"
    # The page sees a closed host and nothing of the case's files.
    for host in page.evaluate(PAGE_HOSTS):
        if host["order"]:
            assert not host["open"] and host["text"] == "", host
    return inside


def test_markup_in_every_value_is_never_executed(paired_browser, e2e_helper):
    order, aftersale = "240601-000000000000601", "96000000601"
    hostile = f"""
<div><span>订单号</span><span>{ESCAPED}</span></div>
<div><span>售后单号</span><span>{ESCAPED}12345678</span></div>
<div title="{html.escape(EVIL, quote=True)}"><span>举证截止时间</span><span>{ESCAPED} 2026-13-45 25:61</span></div>
<div><span>小二留言</span><span>{ESCAPED} 请提供 {ESCAPED}</span></div>
<template><img class="jz-evil" src=x onerror="{FLAG}"></template>
<noscript><img class="jz-evil" src=x onerror="{FLAG}"></noscript>
<textarea>{ESCAPED}</textarea>"""
    # The order label's value is markup around the real id: the adapter's pattern takes the id only.
    paired_browser.pages[URL] = pdd_page(order, aftersale, body_extra=hostile, order_cell=f"{ESCAPED}{order}{ESCAPED}")
    # Files named with markup: one waiting in the inbox (shown raw in the pending list), one sorted.
    inbox = e2e_helper.root / "收件箱"
    inbox.mkdir(parents=True, exist_ok=True)
    # Empty: waits in the inbox whatever the focus (a named file would go to the focused case).
    pending_name = f'<img class="jz-evil" src=x onerror="{FLAG}">.png'
    (inbox / pending_name).write_bytes(b"")
    (inbox / f'<b class="jz-evil" onmouseover="{FLAG}">截图.png').write_bytes(b"shot")  # offered to the case, then 待分类
    (inbox / f'{order} <svg onload="{FLAG}"> 红章证明.png').write_bytes(b"stamp")
    page, host = open_overlay(paired_browser, f"{URL}?orderSn={order}&id={aftersale}", order)
    expect(host.host).to_have_attribute("data-scenario", "pinduoduo.not_received")
    # The order-less screenshot waited before the case was opened: it is offered (its name shown as
    # text), and filed to this case's 待分类 on the seller's answer.
    offer = host.locator('[data-role="inbox-offer"]')
    expect(offer.locator('[data-role="offer-file"]')).to_have_text(['<b class="jz-evil" onmouseover="' + FLAG + '">截图.png'], timeout=15_000)
    assert_inert(page, host)
    offer.locator('[data-role="offer-accept"]').click()
    expect(host.locator('[data-role="item"][data-kind="red_stamp_proof"]').first).to_have_attribute("data-state", "done", timeout=15_000)
    expect(host.locator('[data-role="pending"]')).to_have_count(1, timeout=15_000)
    expect(host.locator('[data-role="unsorted"]')).to_have_count(1, timeout=15_000)
    host.locator('[data-role="pending"] summary').click()
    host.locator('[data-role="unsorted"] summary').click()
    overlay = assert_inert(page, host, expect_text=[pending_name, "＜b class=＂jz-evil＂"])
    assert overlay["order"] == order
    assert aftersale in overlay["text"] and "12345678" not in overlay["text"]  # the URL's id, not the page's junk
    # Hovering and clicking what the overlay shows runs no page-supplied handler either.
    host.locator('[data-role="item"][data-kind="red_stamp_proof"] [data-role="file"]').first.hover()
    assert_inert(page, host)
    page.close()


def test_an_order_label_holding_only_markup_gives_no_overlay(paired_browser):
    paired_browser.pages[URL] = pdd_page("", "", order_cell=ESCAPED)
    page = paired_browser.new_page()
    page.goto(URL)  # no orderSn in the address: the page's label is all there is
    page.wait_for_timeout(1500)
    assert page.locator("juzheng-overlay:not([hidden])").count() == 0
    assert page.evaluate("() => window.__jzPwned") is None
    page.close()


def test_a_pasted_evidence_number_that_is_markup_shows_as_text(paired_browser, e2e_helper):
    order, dispute = "3456789012345670601", "201234560601"
    deadline = time.strftime("%Y-%m-%d %H:%M", time.gmtime(time.time() + 8 * 3600 + 30 * 3600))
    paired_browser.serve(TB_URL, "taobao_dispute.html", ORDER_ID=order, AFTERSALE_ID=dispute, DEADLINE=deadline)
    page, host = open_overlay(paired_browser, f"{TB_URL}?bizOrderId={order}&disputeId={dispute}", order)
    case_id = int(host.case_id())
    # The seller corrects the scenario to one that takes a 旺旺举证号, then pastes "markup".
    host.locator('select[data-role="scenario"]').select_option("taobao.late_shipment.agreed_time")
    expect(host.host).to_have_attribute("data-scenario", "taobao.late_shipment.agreed_time")
    value = PAYLOADS[0]
    host.locator('[data-kind="wangwang_evidence_number"] input[data-role="text-value"]').first.fill(value)
    host.locator('[data-kind="wangwang_evidence_number"] form button[type="submit"]').first.click()
    expect(host.locator('[data-role="item"][data-kind="wangwang_evidence_number"]').first).to_have_attribute("data-state", "done")
    stored = e2e_helper.request("GET", f"/api/cases/{case_id}").json()
    assert value in [e.get("value") for e in stored["evidence"]]
    assert_inert(page, host, expect_text=[value])
    page.close()


def test_a_page_that_defines_juzheng_overlay_itself(paired_browser):
    """The page registers <juzheng-overlay> and shows a fake checklist in it: the real overlay still
    appears, with the real case, and nothing of the page's element gets into it."""
    order, aftersale = "240602-000000000000602", "96000000602"
    fake = """<script>
  customElements.define('juzheng-overlay', class extends HTMLElement {
    constructor() { super(); this.attachShadow({ mode: 'open' }).innerHTML =
      '<div data-role="order-id">000000-000000000000000</div><div class="jz-evil" data-role="item" data-state="done">全部齐全 ✓</div>'; }
  });
  document.addEventListener('DOMContentLoaded', () => document.body.append(document.createElement('juzheng-overlay')));
</script>"""
    paired_browser.pages[URL] = pdd_page(order, aftersale, head_extra=fake)
    page, overlay = open_overlay(paired_browser, f"{URL}?orderSn={order}&id={aftersale}", order)
    hosts = page.evaluate(PAGE_HOSTS)
    real = [h for h in hosts if h["order"] == order]
    assert len(real) == 1 and not real[0]["open"], hosts  # under a fresh name, closed
    inside = assert_inert(page, overlay)
    assert inside["order"] == order and "全部齐全" not in inside["text"]
    page.close()


def test_huge_page(paired_browser):
    order, aftersale = "240603-000000000000603", "96000000603"
    rows = "".join(f"<tr><td>2024-06-0{i % 9 + 1} 10:{i % 60:02d}</td><td>买家</td><td>聊天记录第 {i} 条：你好，我的快递到哪里了？{'很长的内容' * 20}</td></tr>"
                   for i in range(20_000))
    blob = "<p>" + ("无关文字" * 100_000) + "</p>"  # one text node of 400k characters
    paired_browser.pages[URL] = pdd_page(order, aftersale, body_extra=f"<table>{rows}</table>{blob}")
    assert len(paired_browser.pages[URL].encode()) > 5_000_000
    page, overlay = open_overlay(paired_browser, f"{URL}?orderSn={order}&id={aftersale}", order)
    expect(overlay.host).to_have_attribute("data-scenario", "pinduoduo.not_received")
    assert_inert(page, overlay)
    page.close()


def test_deeply_nested_page(paired_browser):
    """1,000 nested elements built by the page's own script (the HTML parser stops nesting at 512;
    Chromium's renderer itself crashes near 3,000, extension or not), labels at the bottom, no ids
    in the address."""
    order, aftersale = "240604-000000000000604", "96000000604"
    builder = f"""<script>
  let box = document.getElementById('deep');
  for (let i = 0; i < 1000; i++) {{ const d = document.createElement(i % 2 ? 'div' : 'section'); box.append(d); box = d; }}
  box.innerHTML = '<div><span>订单编号</span><span>{order}</span></div><div><span>售后编号</span><span>{aftersale}</span></div>'
    + '<div><span>剩余处理时间</span><span>1天2小时</span></div><p>买家反馈未收到商品，请提供发货底单及快递签收红章证明</p>';
</script>"""
    paired_browser.pages[URL] = f"""<!doctype html><html><head><meta charset="utf-8"></head><body><div id="deep"></div>{builder}</body></html>"""
    page, host = open_overlay(paired_browser, URL, order)
    expect(host.locator('[data-role="aftersale-id"]')).to_have_text(aftersale)
    assert page.evaluate("() => { let n = 0, e = document.getElementById('deep'); while (e.firstElementChild) { e = e.firstElementChild; n++; } return n; }") >= 1000
    assert_inert(page, host)
    page.close()


def test_malformed_markup(paired_browser):
    order, aftersale = "240605-000000000000605", "96000000605"
    broken = f"""<!doctype html><html><head><meta charset="utf-8"><title>售后详情</title junk="1"><body><body><div id=app><table><tr><td>订单编号<td>{order}<p>stray</td></tr></b></i>
<div><span>售后编号</span><span>\u202e{aftersale}\u202c</span>
<div><span>剩余处理时间\x00</span><span>1天\x0123小时</span>
<p>平台留言：买家反馈未收到商品<p>请提供发货底单及快递签收红章证明</div></span></span></table>
<ul><li>未闭合<li><div><li>嵌套错误</ul></div></div></div></div></div>
<select><option>订单编号 999999-999999999999999</select><style>订单编号 888888-888888888888888</style>
<!-- 订单编号 777777-777777777777777 --><![CDATA[ x ]]></html>"""
    paired_browser.pages[URL] = broken
    page, host = open_overlay(paired_browser, URL, order)  # the id from the broken table, not from <select>/<style>/comments
    expect(host.host).to_have_attribute("data-scenario", "pinduoduo.not_received")
    assert_inert(page, host)
    page.close()
