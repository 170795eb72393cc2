"""The shop a Taobao-host page names (extract.js ``_meta.shop``), read by its visible label from
markup varied the way the back offices vary it: the seller's 天猫/淘宝 choice is kept per shop. A
label that is another field (店铺类型, 店铺评分) or a header row's next label is never the name."""

from __future__ import annotations

import pytest

from fixtures.page_reader import page_html

pytestmark = pytest.mark.browser

URL = "https://refund2.taobao.com/dispute/detail.htm?bizOrderId=3901234567890123499&disputeId=990001"
SHOP = "晨光家居旗舰店"
REQUEST = "<p>小二留言：买家称未收到货，请商家上传快递签收底单（第一联）。</p>"


def body(inner: str) -> str:
    return f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head><body><div class="c_1x">{inner}{REQUEST}</div></body></html>'


@pytest.mark.parametrize(
    "markup, shop",
    [
        (f"<p>店铺名称：{SHOP}</p>", SHOP),
        (f"<div><span class='k_9'>店铺</span><span class='v_9'>{SHOP}</span></div>", SHOP),
        (f"<dl><dt>所属店铺</dt><dd>{SHOP}</dd></dl>", SHOP),
        (f"<table><tr><th>店铺名称</th><td>{SHOP}</td></tr></table>", SHOP),
        (f"<table><thead><tr><th>店铺名称</th><th>买家</th></tr></thead><tbody><tr><td>{SHOP}</td><td>t**8</td></tr></tbody></table>", SHOP),
        (f"<p>店铺名 {SHOP} 订单编号 3901234567890123499</p>", SHOP),
        ("<p>店铺类型：天猫</p><p>店铺评分 4.8</p>", None),
        ("<p>请联系店铺客服处理</p>", None),
    ],
)
def test_the_shop_name_by_its_label(page_reader, markup, shop):
    found = page_reader.read(URL, body(markup))
    assert found and found["order_id"] == "3901234567890123499"
    assert found["_meta"]["shop"] == shop


def test_the_e2e_fixtures_name_their_shop(page_reader):
    found = page_reader.read(URL, page_html("refund2_taobao_shop.html", SHOP=SHOP, AFTERSALE_ID="990001"))
    assert found["_meta"]["shop"] == SHOP and found["_meta"]["marketplace"] is None
    said = page_reader.read(URL, page_html("refund2_taobao_says_tmall.html", SHOP=SHOP, AFTERSALE_ID="990001"))
    assert said["_meta"]["shop"] == SHOP and said["_meta"]["marketplace"] == "tmall"
