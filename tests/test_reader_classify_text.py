"""Pure deciding from read text: carriers' numbers, platforms' orders, kinds, placement rules."""

from __future__ import annotations

import pytest

from juzheng.evidence.classify_text import CaseRef, decide, normalise
from juzheng.reader.protocol import Signals, TextLine
from juzheng.rules import load_rulebook

BOOK = load_rulebook()
PHOTO = Signals(camera="Xiaomi Redmi K60", width=3000, height=4000)
SHOT = Signals(screenshot=True, width=1080, height=2340, flat=0.8)


def lines(*texts: str, score: float = 0.98) -> list[TextLine]:
    return [TextLine(text=t, score=score, y=i * 50.0, h=40.0) for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("text", "number", "carrier"),
    [
        ("运单号：SF1403512345678", "SF1403512345678", "顺丰速运"),
        ("YT7512345678901", "YT7512345678901", "圆通速递"),
        ("极兔 JT5123456789012", "JT5123456789012", "极兔速递"),
        ("京东 JDV012345678901", "JDV012345678901", "京东物流"),
        ("中通快递 78123456789012", "78123456789012", "中通快递"),
        ("申通快递 773123456789012", "773123456789012", "申通快递"),
        ("快递单号：4312345678901", "4312345678901", "韵达快递"),
        ("EMS EA123456789CN", "EA123456789CN", "EMS"),
        ("运单号 SF 1403 5123 4567 8", "SF14035123456788"[:15], "顺丰速运"),
    ],
)
def test_tracking_numbers_per_carrier(text: str, number: str, carrier: str) -> None:
    got = decide(lines(text), PHOTO, "IMG_1.jpg", BOOK).tracking_numbers
    assert [(t.number, t.carrier) for t in got] == [(number, carrier)]


def test_bare_digits_need_a_label_or_a_carrier_name() -> None:
    assert decide(lines("合计 4312345678901 件"), PHOTO, "IMG_1.jpg", BOOK).tracking_numbers == []


def test_full_width_digits_and_dash_look_alikes_are_normalised() -> None:
    assert normalise("订单号：２４０３１２一123456789012345") == "订单号:240312-123456789012345"


def test_a_known_tracking_number_places_the_file_under_its_case() -> None:
    case = CaseRef("pinduoduo", "240312-123456789012345", "SF1403512345678", 1)
    d = decide(lines("快递签收证明", "快递单号：SF1403512345678", "派件人：李四", "特此证明"), PHOTO.model_copy(update={"red_circles": 1}), "IMG_1.jpg", BOOK, [case])
    assert (d.platform, d.order_id, d.order_by) == ("pinduoduo", "240312-123456789012345", "read_tracking")
    assert d.kind == "red_stamp_proof"
    assert d.auto_checks == ["tracking_number"]


def test_a_tracking_number_of_no_case_stays_in_the_inbox_with_what_was_read() -> None:
    d = decide(lines("快递签收证明", "快递单号：SF1403512345678", "特此证明"), PHOTO, "IMG_1.jpg", BOOK)
    assert d.order_id is None and "SF1403512345678" in (d.reason or "")


def test_a_bare_long_order_number_needs_its_platform() -> None:
    text = lines("订单号：3865123456789012345", "亲，您好")
    assert decide(text, SHOT, "Screenshot_1.jpg", BOOK).order_id is None
    qianniu = decide(text, SHOT, "Screenshot_2024-11-03-10-15-22-123_com.taobao.qianniu.jpg", BOOK)
    assert (qianniu.platform, qianniu.order_id) == ("taobao", "3865123456789012345")
    by_case = decide(text, SHOT, "mmexport1699012345678.jpg", BOOK, [CaseRef("douyin", "3865123456789012345")])
    assert by_case.platform == "douyin"


def test_two_orders_in_one_image_place_nothing() -> None:
    d = decide(lines("订单号 240312-123456789012345", "订单号 240313-123456789012346"), SHOT, "x.png", BOOK)
    assert d.order_id is None and "多个订单号" in (d.reason or "")


def test_order_and_tracking_of_different_cases_place_nothing() -> None:
    cases = [CaseRef("pinduoduo", "240312-123456789012345", None), CaseRef("pinduoduo", "240101-000000000000001", "SF1403512345678")]
    d = decide(lines("订单号 240312-123456789012345", "运单号 SF1403512345678"), SHOT, "x.png", BOOK, cases)
    assert d.order_id is None and "不一致" in (d.reason or "")


def test_finance_stamp_is_warned_as_the_rejected_kind() -> None:
    d = decide(lines("签收证明", "快递单号：SF1403512345678", "特此证明", "财务专用章"), PHOTO.model_copy(update={"red_circles": 1}), "IMG_1.jpg", BOOK)
    assert d.kind is None and d.suggested_kind == "red_stamp_proof"
    assert d.rejected is not None and "财务章" in d.rejected.reason


def test_search_engine_page_is_not_a_tracking_record() -> None:
    d = decide(lines("百度", "SF1403512345678 快递查询", "百度一下", "网页 资讯 视频", "已签收", "相关搜索"), SHOT, "x.png", BOOK)
    assert d.kind is None and d.rejected is not None and "官网" in d.rejected.reason


def test_unsure_kind_is_suggested_not_taken() -> None:
    d = decide(lines("物流详情", "派送中", "运单号", "订单号 240312-123456789012345"), SHOT, "x.png", BOOK)
    assert d.kind is None and d.suggested_kind == "tracking_record"
    assert d.order_id == "240312-123456789012345"


def test_kind_cues_are_validated_as_rule_data(tmp_path) -> None:
    import shutil

    from juzheng.rules import RulebookError, load_rulebook as load

    rules = tmp_path / "rules"
    shutil.copytree(BOOK_DIR, rules)
    kinds = rules / "kinds.yaml"
    kinds.write_text(kinds.read_text(encoding="utf-8").replace("signals: {red_stamp: 4,", "signals: {stamp: 4,", 1), encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        load(rules)
    assert "read_cues" in str(info.value)


from juzheng.rules.loader import DEFAULT_RULES_DIR as BOOK_DIR  # noqa: E402
