"""The API's recognition object: the detect fields plus candidates the overlay can offer in one tap."""

from __future__ import annotations

TAOBAO_ORDER = "3801223344556677889"
PDD_ORDER = "201123-123456789012345"


async def test_detect_returns_candidates_with_seller_labels(helper_app):
    view = await helper_app.detect(order_id=PDD_ORDER, request_text="售后类型：仅退款 ｜ 申请原因：收到空包")
    recognition = view["recognition"]
    assert recognition["scenario"] == "pinduoduo.empty_package" and recognition["matched"]
    assert 0.5 <= recognition["confidence"] <= 1
    first = recognition["candidates"][0]
    assert first["scenario"] == "pinduoduo.empty_package" and first["label"] == "买家反馈收到空包" and first["words"]
    assert view["checklist"]["complete"] is False and view["checklist"]["advice"] is None  # nothing to caution about yet
    assert view["checklist"]["source_label"] == "来源：拼多多售后举证说明"


async def test_unsure_detect_leaves_the_choice_but_offers_the_likely_ones(helper_app):
    text = "客服培训：买家说空包或者少件时先安抚，称重记录在快递后台能查"
    view = await helper_app.detect(order_id=PDD_ORDER, page_text=text)
    assert view["scenario"] is None and view["checklist"] is None
    recognition = view["recognition"]
    assert recognition["scenario"] is None and recognition["confidence"] == 0
    offered = [c["scenario"] for c in recognition["candidates"]]
    assert "pinduoduo.empty_package" in offered and "pinduoduo.missing_items" in offered
    choices = {c["id"] for c in view["scenarios_for_platform"]}
    assert set(offered) <= choices


async def test_a_tmall_case_read_on_a_taobao_host_becomes_a_tmall_case(helper_app):
    text = "千牛 退款详情 ｜ 店铺类型：天猫 ｜ 退款原因：未收到货 ｜ 小二介入"
    view = await helper_app.detect(platform="taobao", order_id=TAOBAO_ORDER, page_text=text)
    assert view["platform"] == "tmall" and view["scenario"] == "tmall.not_received"
    assert view["checklist"]["platform"] == "tmall"
    again = await helper_app.detect(platform="taobao", order_id=TAOBAO_ORDER, page_text=text)
    assert again["id"] == view["id"] and again["created"] is False
    plain = await helper_app.detect(platform="taobao", order_id="3801223344556677000", page_text="退款原因：未收到货 ｜ 小二介入")
    assert plain["platform"] == "taobao" and plain["scenario"] == "taobao.not_received"
