"""The page-adapter engine (extension/content/extract.js) in real Chromium, on the shapes real
back-office markup takes: one text node, sibling elements, nested wrappers, table cells side by side,
a header row above a value row, dt/dd, values split over elements, hidden stale copies, ids from
the address and from a hash route. The adapters are the real ones from rules/, as /api/rules sends
them. No helper is needed: the engine is pure DOM in, fields out."""

from __future__ import annotations

import json

import pytest

from fixtures.browser import EXTENSION_DIR
from juzheng.rules import load_rulebook

pytestmark = pytest.mark.browser

RULES = json.loads(json.dumps(load_rulebook().to_json(), ensure_ascii=False))
ADAPTERS = {p["id"]: p["pages"][0] for p in RULES["platforms"]}
PDD = "230101-123456789012345"
TB = "3456789012345678901"


@pytest.fixture(scope="module")
def engine(extension_browser):
    page = extension_browser.new_page()
    page.goto("about:blank")
    yield page
    page.close()


def run(page, html: str, platform: str = "pinduoduo", url: str = "https://mms.pinduoduo.com/aftersales-ssr/detail") -> dict | None:
    page.set_content(f"<!doctype html><html><head><meta charset=utf-8></head><body>{html}</body></html>")
    page.add_script_tag(path=str(EXTENSION_DIR / "content" / "countdown.js"))
    page.add_script_tag(path=str(EXTENSION_DIR / "content" / "extract.js"))
    return page.evaluate(
        "([adapter, href]) => Juzheng.extract.extract(adapter, new URL(href))",
        [ADAPTERS[platform], url],
    )


MARKUPS = {
    "one text node, full-width colon": f"<p>订单编号：{PDD}</p><p>售后编号：12345678</p>",
    "one text node, ascii colon and spaces": f"<div>订单编号:   {PDD}  售后编号: 12345678</div>",
    "sibling spans": f"<div><span>订单编号</span><span>{PDD}</span></div><div><span>售后单号</span><span>12345678</span></div>",
    "nested label wrapper": f"<div><div><label><b>订单编号</b></label></div><div><span><a>{PDD}</a></span></div></div><p>退款编号 12345678</p>",
    "label text then value element": f"<div>订单编号：<em>{PDD}</em></div><div>售后编号：<em>12345678</em></div>",
    "table cells side by side": f"<table><tr><td>订单号</td><td>{PDD}</td></tr><tr><th>售后编号</th><td>12345678</td></tr></table>",
    "header row above values": f"<table><thead><tr><th>售后单号</th><th>订单编号</th><th>状态</th></tr></thead><tbody><tr><td>12345678</td><td>{PDD}</td><td>待处理</td></tr></tbody></table>",
    "dt/dd": f"<dl><dt>订单编号：</dt><dd>{PDD}</dd><dt>售后编号：</dt><dd>12345678</dd></dl>",
    "value split over elements": "<div><span>订单编号</span><span>230101-<i>123456789012345</i></span></div><div>售后编号 <b>1234</b><b>5678</b></div>",
}


@pytest.mark.parametrize("html", MARKUPS.values(), ids=MARKUPS.keys())
def test_ids_from_varied_markup(engine, html):
    found = run(engine, html)
    assert found is not None
    assert (found["order_id"], found["aftersale_id"]) == (PDD, "12345678")


# The countdown is sent in one canonical form the helper's parser reads (剩余 D天H小时M分S秒 / 截止 …).
REMAINING = {
    "days hours minutes in ems": ("<div><span>剩余处理时间</span><span><em>1</em>天<em>23</em>小时<em>59</em>分</span></div>", "剩余 1天23小时59分0秒"),
    "clock in a cell below": ("<table><tr><th>剩余举证时间</th></tr><tr><td>47:59:59</td></tr></table>", "剩余 1天23小时59分59秒"),
    "inside a sentence": ("<p>平台介入中，剩余 5 小时，请尽快处理</p>", "剩余 0天5小时0分0秒"),
    "longest label wins": ("<p>剩余库存 12 件</p><p>剩余举证时间：23:00:00</p>", "剩余 0天23小时0分0秒"),
}


@pytest.mark.parametrize("html,expected", REMAINING.values(), ids=REMAINING.keys())
def test_time_left(engine, html, expected):
    found = run(engine, f"<p>订单编号：{PDD}</p>{html}")
    assert found["remaining_text"] == expected


def test_absolute_deadline_and_request_text(engine):
    found = run(
        engine,
        f"<dl><dt>订单编号</dt><dd>{TB}</dd><dt>举证截止时间</dt><dd>2026-11-25 18:00</dd></dl>"
        "<div><strong>小二留言：</strong><p>请提供物流发货底单和揽件时间红章证明。</p></div><footer>版权所有</footer>",
        platform="taobao",
        url="https://refund2.taobao.com/dispute/detail.htm",
    )
    assert found["deadline_text"] == "截止 2026-11-25 18:00"
    assert "揽件时间红章证明" in found["request_text"]
    assert "版权所有" not in found["request_text"] and "版权所有" in found["page_text"]


def test_address_wins_and_hash_routes_count(engine):
    found = run(engine, f"<p>订单编号：{PDD}</p>", url="https://mms.pinduoduo.com/x?orderSn=230202-999999999999999&id=55555555")
    assert (found["order_id"], found["aftersale_id"]) == ("230202-999999999999999", "55555555")
    found = run(engine, "<p>售后详情</p>", platform="taobao", url=f"https://myseller.taobao.com/home.htm#/refund?bizOrderId={TB}&disputeId=7777777")
    assert (found["order_id"], found["aftersale_id"]) == (TB, "7777777")


def test_hidden_and_code_text_is_not_read(engine):
    html = (
        "<div hidden><p>订单编号：230101-000000000000000</p></div>"
        "<div style='display:none'><span>订单编号</span><span>230101-111111111111111</span></div>"
        "<script>var x = '订单编号：230101-222222222222222';</script>"
        f"<p>订单编号：{PDD}</p>"
    )
    assert run(engine, html)["order_id"] == PDD


def test_no_order_no_case(engine):
    assert run(engine, "<p>商品列表</p><p>订单编号：请选择</p>") is None
    # A value the helper would refuse (not an id) is not sent either.
    assert run(engine, "<p>订单号</p>", url="https://mms.pinduoduo.com/x?orderSn=<script>") is None


def test_adapter_choice_by_whole_host(engine):
    page = engine
    page.goto("about:blank")
    page.add_script_tag(path=str(EXTENSION_DIR / "content" / "countdown.js"))
    page.add_script_tag(path=str(EXTENSION_DIR / "content" / "extract.js"))
    pick = "([platforms, href]) => { const f = Juzheng.extract.pickAdapter(platforms, new URL(href)); return f && f.platform.id; }"
    platforms = RULES["platforms"]
    assert page.evaluate(pick, [platforms, "https://mms.pinduoduo.com/some/renamed/path"]) == "pinduoduo"
    assert page.evaluate(pick, [platforms, "https://fxg.jinritemai.com/ffa/morder/aftersale/detail-v2"]) == "douyin"
    assert page.evaluate(pick, [platforms, "https://refund2.taobao.com/dispute/detail.htm"]) == "taobao"
    assert page.evaluate(pick, [platforms, "https://myseller.taobao.com/home.htm"]) == "taobao"
    assert page.evaluate(pick, [platforms, "https://refund2.tmall.com/x"]) == "tmall"
    assert page.evaluate(pick, [platforms, "https://qn.taobao.com/home.htm/trade-platform/refund-list/detail"]) == "taobao"
    # Only the seller hosts: a buyer's sub-domain has no adapter (and gets no content script).
    assert page.evaluate(pick, [platforms, "https://buyertrade.taobao.com/trade/itemlist/list_bought_items.htm"]) is None
    assert page.evaluate(pick, [platforms, "https://aftersale.tmall.com/x"]) is None
    assert page.evaluate(pick, [platforms, "https://taobao.com.evil.example/x"]) is None
    assert page.evaluate(pick, [platforms, "https://example.com/?orderSn=1"]) is None
    needs = "([adapter, href]) => Juzheng.extract.needsRequest(adapter, new URL(href))"
    assert page.evaluate(needs, [ADAPTERS["pinduoduo"], "https://mms.pinduoduo.com/renamed/path"]) is False
    assert page.evaluate(needs, [ADAPTERS["taobao"], "https://refund2.taobao.com/anything"]) is False
    assert page.evaluate(needs, [ADAPTERS["taobao"], "https://trade.taobao.com/dispute/detail.htm"]) is False
    assert page.evaluate(needs, [ADAPTERS["taobao"], "https://buyertrade.taobao.com/trade/itemlist/list_bought_items.htm"]) is True
