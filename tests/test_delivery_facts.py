"""Recipient and dates: read from the page report into the case, and matched (masks honestly) against
what an image reads, so the 收件人姓名 and 派件日期 checks are ticked only when the image shows them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from juzheng.cases.delivery_facts import delivery_fields, page_time, recipient_in
from juzheng.evidence.classify_text import CaseRef, decide
from juzheng.evidence.field_checks import date_shown, name_agreement, phone_shown, recipient_shown
from juzheng.reader.protocol import Signals, TextLine
from juzheng.rules import load_rulebook
from juzheng.rules.deadline_text import BEIJING

BOOK = load_rulebook()
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)
ORDER = "240312-123456789012345"
PROOF = Signals(camera="Xiaomi 13", red_circles=1)


def lines(*texts: str) -> list[TextLine]:
    return [TextLine(text=t, score=0.97) for t in texts]


@pytest.mark.parametrize(("text", "name", "phone"), [
    ("张** 138****5678 浙江省杭州市西湖区文三路", "张**", "138****5678"),
    ("王*明，13812345678，广东省深圳市", "王*明", "13812345678"),
    ("张＊＊ 138 **** 5678", "张**", "138****5678"),
    ("李四", "李四", None),
    ("*明 +86 139-****-0001", "*明", "139****0001"),
    ("与红章证明一致", None, None),  # a request sentence naming the field
    ("姓名、地址、电话", None, None),
    ("138****5678", None, "138****5678"),
    ("张** 1*********8", "张**", None),  # two digits shown: nothing to match on
])
def test_recipient_is_taken_apart_as_the_page_shows_it(text, name, phone) -> None:
    assert recipient_in(text) == (name, phone)


def test_page_times_are_past_beijing_times() -> None:
    assert page_time("2026-11-05 10:20:11", NOW) == datetime(2026, 11, 5, 10, 20, 11, tzinfo=BEIJING)
    assert page_time("2026年11月5日", NOW) == datetime(2026, 11, 5, tzinfo=BEIJING)
    # no year: the latest such date that is not in the future (December → last year's)
    assert page_time("12月25日 09:00", NOW) == datetime(2025, 12, 25, 9, 0, tzinfo=BEIJING)
    assert page_time("3-7", NOW) is None and page_time("签收时间以物流为准", NOW) is None
    assert page_time("1850-01-01 10:00", NOW) is None


def test_delivery_fields_leave_out_what_the_page_did_not_state() -> None:
    assert delivery_fields(None, None, None, NOW) == {}
    got = delivery_fields("王*明 138****5678", "2026-11-05 10:20", None, NOW)
    assert got == {"recipient_name": "王*明", "recipient_phone": "138****5678",
                   "signed_at": datetime(2026, 11, 5, 10, 20, tzinfo=BEIJING)}


@pytest.mark.parametrize(("a", "b", "agree"), [
    ("王*明", "王小明", 2), ("王小明", "王*明", 2), ("王*明", "王*明", 2), ("张三", "张三", 2),
    ("张**", "张三", 1), ("张**", "张小明", 1), ("张*", "张三", 1),  # only the surname in common
    ("张**", "李四", None), ("王*明", "王小华", None), ("王*明", "王府井明", None), ("张三", "张四", None),
    ("*明", "王明", 1), ("张三", "张三丰", None),
])
def test_masked_names_agree_only_on_what_both_show(a, b, agree) -> None:
    assert name_agreement(a, b) == agree


def test_recipient_needs_two_shown_characters_or_the_surname_and_the_phone() -> None:
    assert recipient_shown("王*明", None, "收件人姓名：王小明")
    assert recipient_shown("王小明", None, "收件人 王*明 杭州市")
    assert not recipient_shown("张**", None, "收件人：张三")  # 张 alone is half the country's 张s
    assert recipient_shown("张**", "138****5678", "收件人：张三 13812345678")
    assert recipient_shown("张**", "138****5678", "收件人 张* 电话 138 **** 5678")
    assert not recipient_shown("张**", "138****5678", "收件人：张三 13912345678")  # another phone
    assert not recipient_shown("张**", "138****5678", "收件人：李四 13812345678")  # another name
    assert not recipient_shown(None, "138****5678", "收件人：张三 13812345678")  # no name known
    assert phone_shown("138****5678", "电话：138-1234-5678")
    assert not phone_shown("138****5678", "138****0000")


def test_dates_in_the_forms_proofs_use() -> None:
    at = datetime(2024, 11, 5, 10, 20, tzinfo=BEIJING)
    for text in ("派件日期：2024-11-05", "2024年11月5日", "2024.11.05", "2024/11/5 10:20", "11月5日"):
        assert date_shown(at, text), text
    for text in ("2024-11-06", "2023-11-05", "11-05", "2024-1-15", "1105"):
        assert not date_shown(at, text), text
    # the Beijing date counts: 2024-11-04 20:00 UTC is the 5th in Beijing
    assert date_shown(datetime(2024, 11, 4, 20, 0, tzinfo=timezone.utc), "派件日期 2024-11-05")


def _proof(*extra: str) -> list[TextLine]:
    return lines("快递签收证明", "快递单号：SF1403512345678", *extra, "派件人姓名：赵六", "兹证明以上快件已派送并签收", "特此证明")


def test_a_proof_showing_the_cases_recipient_and_date_ticks_those_checks() -> None:
    case = CaseRef("pinduoduo", ORDER, "SF1403512345678", 1, "王*明", "138****5678", datetime(2024, 11, 5, 10, 20, tzinfo=BEIJING))
    d = decide(_proof("收件人姓名：王小明", "派件日期：2024年11月5日"), PROOF, "IMG_1.jpg", BOOK, [case])
    assert d.kind == "red_stamp_proof" and d.order_id == ORDER
    assert d.auto_checks == ["tracking_number", "recipient_name", "delivery_date"]
    assert d.case_checks == {1: ["tracking_number", "recipient_name", "delivery_date"]}


def test_what_the_case_does_not_know_is_never_ticked() -> None:
    known_nothing = CaseRef("pinduoduo", ORDER, "SF1403512345678", 1)
    d = decide(_proof("收件人姓名：王小明", "派件日期：2024-11-05"), PROOF, "IMG_1.jpg", BOOK, [known_nothing])
    assert d.auto_checks == ["tracking_number"]


def test_another_recipient_or_date_ticks_nothing_of_them() -> None:
    case = CaseRef("pinduoduo", ORDER, "SF1403512345678", 1, "王*明", None, datetime(2024, 11, 5, tzinfo=BEIJING))
    d = decide(_proof("收件人姓名：王小华", "派件日期：2024-11-06"), PROOF, "IMG_1.jpg", BOOK, [case])
    assert d.auto_checks == ["tracking_number"]


def test_two_cases_of_one_order_each_get_only_what_they_know() -> None:
    at = datetime(2024, 11, 5, tzinfo=BEIJING)
    first = CaseRef("pinduoduo", ORDER, "SF1403512345678", 1, "王*明", None, at)
    second = CaseRef("pinduoduo", ORDER, None, 2, None, None, at)
    d = decide(_proof("收件人姓名：王小明", "派件日期：2024-11-05"), PROOF, "IMG_1.jpg", BOOK, [first, second])
    assert d.case_checks == {1: ["tracking_number", "recipient_name", "delivery_date"], 2: ["delivery_date"]}


async def test_detect_stores_the_recipient_and_dates_and_keeps_them_when_a_page_omits_them(helper_app) -> None:
    signed = (datetime.now(BEIJING) - timedelta(days=3)).replace(microsecond=0, second=0)
    body = {"platform": "pinduoduo", "order_id": ORDER, "request_text": "买家反馈未收到商品，请上传快递签收底单",
            "recipient_text": "王*明 138****5678 浙江省杭州市", "signed_text": signed.strftime("%Y-%m-%d %H:%M"),
            "shipped_text": (signed - timedelta(days=2)).strftime("%Y年%m月%d日")}
    r = await helper_app.post("/api/cases/detect", json=body)
    assert r.status == 201
    case_id = (await r.json())["id"]
    case = helper_app.runtime.store.get_case(case_id)
    assert (case.recipient_name, case.recipient_phone, case.signed_at) == ("王*明", "138****5678", signed)
    assert case.shipped_at.date() == (signed - timedelta(days=2)).date()
    # a later page report without them keeps what was read
    r = await helper_app.post("/api/cases/detect", json={"platform": "pinduoduo", "order_id": ORDER})
    assert r.status == 200
    assert helper_app.runtime.store.get_case(case_id).recipient_name == "王*明"
    # too long a value is a clear 400, not a 500
    r = await helper_app.post("/api/cases/detect", json={**body, "recipient_text": "张" * 500})
    assert r.status == 400
