"""The extension's page reading in real Chromium, fixture by fixture: the order (address first, else the
main detail block, never another order's number that comes first; two with nothing to prefer → asked),
the countdown or deadline in every form the platforms use, the case state, the tracking number and the
request time in the history. The canonical countdown text extract.js sends is read back with the
helper's own parser, so both ends are checked together.

HELD_OUT names fixtures written after the finder was tuned on the others and never used to tune it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from collections.abc import Callable

import pytest

from fixtures.page_reader import page_html
from juzheng.rules.deadline_text import parse_deadline_text
from juzheng.rules.request_time import request_time_in

pytestmark = pytest.mark.browser
BEIJING = timezone(timedelta(hours=8))
FW = str.maketrans("0123456789", "０１２３４５６７８９")

PDD_ORDER, PDD_OTHER = "230101-123456789012345", "230101-999999999999999"
DY_ORDER, DY_OTHER = "4937820156123456789", "4937820156987654321"
TB_ORDER, TB_OTHER = "3456789012345678901", "3999999999999999999"


def bj(at: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(BEIJING).strftime(fmt)


def split(seconds: int) -> dict[str, str]:
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return {"D": str(d), "H": f"{h:02d}", "M": f"{m:02d}", "S": f"{s:02d}", "HH": f"{d * 24 + h:02d}"}


@dataclass
class Reading:
    name: str
    url: str
    page: str
    values: Callable[[datetime], dict[str, Any]]
    order_id: str | None = None
    aftersale_id: str = ""
    deadline: Callable[[datetime], datetime] | None = None
    state: str | None = None
    tracking: str | None = None
    candidates: list[str] | None = None
    no_case: bool = False
    request_at: Callable[[datetime], datetime] | None = None
    marketplace: str | None = None
    click: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def left(seconds: int) -> Callable[[datetime], datetime]:
    return lambda now: now + timedelta(seconds=seconds)


def minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def DL(hours: float) -> Callable[[datetime], datetime]:  # noqa: N802
    return lambda now: minute(now + timedelta(hours=hours))


REQ_AGO = timedelta(hours=40)


def req(now: datetime) -> datetime:
    return minute(now - REQ_AGO)


READINGS = [
    Reading(
        "pdd_ssr_split_digits",
        "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432101&orderSn=" + PDD_ORDER,
        "reading/pdd_ssr_split_digits.html",
        lambda now: {**split(2 * 86400 + 12 * 3600), "ORDER_ID": PDD_ORDER, "OTHER_ORDER": PDD_OTHER, "AFTERSALE_ID": "98765432101",
                     "TRACKING": "78512345678901", "REQ": bj(req(now))},
        order_id=PDD_ORDER, aftersale_id="98765432101", deadline=left(2 * 86400 + 12 * 3600), state="requested",
        tracking="78512345678901", request_at=req,
    ),
    Reading(
        # No orderSn: the order from the main block, not the chat panel's quoted order that comes first.
        "pdd_tododetail_sentence",
        "https://mms.pinduoduo.com/aftersales/work_order/tododetail?id=5550001",
        "reading/pdd_tododetail_sentence.html",
        lambda now: {**split(10 * 3600 + 22 * 60 + 5), "ORDER_ID": PDD_ORDER, "OTHER_ORDER": PDD_OTHER, "AFTERSALE_ID": "5550001"},
        order_id=PDD_ORDER, aftersale_id="5550001", deadline=left(10 * 3600 + 22 * 60 + 5), state="requested",
    ),
    Reading(
        "pdd_fullwidth_nbsp",
        "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432102&orderSn=" + PDD_ORDER,
        "reading/pdd_fullwidth_nbsp.html",
        lambda now: {f"FW_{k}": v.translate(FW) for k, v in split(86400 + 23 * 3600 + 59 * 60 + 59).items()}
        | {"ORDER_ID": PDD_ORDER, "AFTERSALE_ID": "98765432102"},
        order_id=PDD_ORDER, aftersale_id="98765432102", deadline=left(86400 + 23 * 3600 + 59 * 60 + 59), state="requested",
    ),
    Reading(
        "pdd_closed",
        "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432103&orderSn=" + PDD_ORDER,
        "reading/pdd_closed.html",
        lambda now: {"ORDER_ID": PDD_ORDER, "AFTERSALE_ID": "98765432103"},
        order_id=PDD_ORDER, aftersale_id="98765432103", state="closed",
    ),
    Reading("pdd_list", "https://mms.pinduoduo.com/aftersales-ssr/list", "reading/pdd_list.html", lambda now: {}, no_case=True),
    Reading(
        "douyin_v2_em_units",
        "https://fxg.jinritemai.com/ffa/morder/aftersale/detail-v2",
        "reading/douyin_v2_em_units.html",
        lambda now: {**split(3600 + 19 * 60 + 51), "D": "0", "ORDER_ID": DY_ORDER, "AFTERSALE_ID": "7301234567890", "REQ": bj(req(now))},
        order_id=DY_ORDER, aftersale_id="7301234567890", deadline=left(3600 + 19 * 60 + 51), state="requested", request_at=req,
    ),
    Reading(
        "douyin_request_sentence",
        "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234567891",
        "reading/douyin_request_sentence.html",
        lambda now: {"ORDER_ID": DY_ORDER, "AFTERSALE_ID": "7301234567891", "TRACKING": "JT3012345678901",
                     "DL_MD": bj(now + timedelta(hours=20), "%m月%d日 %H:%M")},
        order_id=DY_ORDER, aftersale_id="7301234567891", deadline=DL(20), state="requested", tracking="JT3012345678901",
    ),
    Reading(
        "douyin_submitted",
        "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234567892",
        "reading/douyin_submitted.html",
        lambda now: {"ORDER_ID": DY_ORDER, "AFTERSALE_ID": "7301234567892"},
        order_id=DY_ORDER, aftersale_id="7301234567892", state="submitted",
    ),
    Reading(
        "douyin_two_orders",
        "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234567893",
        "reading/douyin_two_orders.html",
        lambda now: {**split(5 * 3600), "ORDER_ID": DY_ORDER, "OTHER_ORDER": DY_OTHER, "AFTERSALE_ID": "7301234567893"},
        order_id=None, aftersale_id="7301234567893", candidates=[DY_ORDER, DY_OTHER], deadline=left(5 * 3600), state="requested",
    ),
    Reading(
        "qn_refund_detail",
        "https://qn.taobao.com/home.htm/trade-platform/refund-list/detail?disputeId=201234567890&type=1",
        "reading/qn_refund_detail.html",
        lambda now: {"ORDER_ID": TB_ORDER, "AFTERSALE_ID": "201234567890", "DL": bj(now + timedelta(hours=30))},
        order_id=TB_ORDER, aftersale_id="201234567890", deadline=DL(30), state="requested", marketplace="tmall",
    ),
    Reading(
        "refund2_tmall",
        "https://refund2.tmall.com/dispute/detail.htm?bizOrderId=" + TB_ORDER + "&disputeType=1",
        "reading/refund2_tmall.html",
        lambda now: {"ORDER_ID": TB_ORDER, "OTHER_ORDER": TB_OTHER, "AFTERSALE_ID": "301234567890", "TRACKING": "SF1234567890123",
                     "DL": bj(now + timedelta(hours=7)), "REQ": bj(req(now))},
        order_id=TB_ORDER, aftersale_id="", deadline=DL(7), state="requested", tracking="SF1234567890123", request_at=req,
        extra={"platform": "tmall"},
    ),
    Reading(
        "taobao_won",
        "https://refund2.taobao.com/dispute/detail.htm?bizOrderId=" + TB_ORDER + "&disputeId=201234567899",
        "reading/taobao_won.html",
        lambda now: {"ORDER_ID": TB_ORDER, "AFTERSALE_ID": "201234567899"},
        order_id=TB_ORDER, aftersale_id="201234567899", state="won",
    ),
    Reading(
        "qn_clock_italic",
        "https://myseller.taobao.com/home.htm/refund-detail#/detail",
        "reading/qn_clock_italic.html",
        lambda now: {**split(3600 + 36 * 60 + 20), "ORDER_ID": TB_ORDER, "AFTERSALE_ID": "209876543210", "TRACKING": "JT5012345678901"},
        order_id=TB_ORDER, aftersale_id="209876543210", deadline=left(3600 + 36 * 60 + 20), state="requested", tracking="JT5012345678901",
    ),
]

def flip(seconds: int) -> dict[str, str]:
    parts = split(seconds)
    hh = parts["HH"]
    return {"HA": hh[0], "HB": hh[1], "MA": parts["M"][0], "MB": parts["M"][1], "SA": parts["S"][0], "SB": parts["S"][1]}


# Written after the finder was tuned on READINGS, run once, never used to tune it.
HELD_OUT = [
    Reading(
        "holdout_pdd_flip_clock",
        "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432301&orderSn=" + PDD_ORDER,
        "reading/holdout_pdd_flip_clock.html",
        lambda now: {**flip(9 * 3600 + 41 * 60 + 7), "ORDER_ID": PDD_ORDER, "AFTERSALE_ID": "98765432301"},
        order_id=PDD_ORDER, aftersale_id="98765432301", deadline=left(9 * 3600 + 41 * 60 + 7), state="requested",
    ),
    Reading(
        "holdout_douyin_log_table",
        "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234568001",
        "reading/holdout_douyin_log_table.html",
        lambda now: {"ORDER_ID": DY_ORDER, "AFTERSALE_ID": "7301234568001", "REQ": bj(req(now), "%Y-%m-%d %H:%M:%S"),
                     "DL_MD": bj(now + timedelta(hours=26), "%m月%d日 %H:%M")},
        order_id=DY_ORDER, aftersale_id="7301234568001", deadline=DL(26), state="requested", request_at=req,
    ),
    Reading(
        "holdout_refund2_taobao_tmall_shop",
        "https://refund2.taobao.com/dispute/detail.htm?bizOrderId=" + TB_ORDER + "&disputeId=201234568001",
        "reading/holdout_refund2_taobao_tmall_shop.html",
        lambda now: {"ORDER_ID": TB_ORDER, "AFTERSALE_ID": "201234568001", "D": "2", "HN": "3", "MN": "4"},
        order_id=TB_ORDER, aftersale_id="201234568001", deadline=left(2 * 86400 + 3 * 3600 + 4 * 60), state="requested",
        tracking="YT1234567890123", marketplace="tmall",
    ),
    Reading(
        "holdout_qn_revoked",
        "https://qn.taobao.com/home.htm/trade-platform/refund-list/detail?disputeId=201234568002&type=1",
        "reading/holdout_qn_revoked.html",
        lambda now: {"ORDER_ID": TB_ORDER, "AFTERSALE_ID": "201234568002"},
        order_id=TB_ORDER, aftersale_id="201234568002", state="closed",
    ),
    Reading(
        "holdout_pdd_order_history_table",
        "https://mms.pinduoduo.com/aftersales/work_order/tododetail?id=5550009",
        "reading/holdout_pdd_order_history_table.html",
        lambda now: {**split(30 * 3600 + 15 * 60), "ORDER_ID": PDD_ORDER, "AFTERSALE_ID": "5550009"},
        order_id=PDD_ORDER, aftersale_id="5550009", deadline=lambda now: now + timedelta(hours=30, minutes=15), state="requested",
    ),
]


def check(reading: Reading, found: dict[str, Any] | None, now: datetime) -> None:
    if reading.no_case:
        assert found is None, f"{reading.name}: no case expected, got {found}"
        return
    assert found is not None and not found.get("no_adapter"), f"{reading.name}: nothing read"
    meta = found["_meta"]
    assert found["order_id"] == reading.order_id, (reading.name, found["order_id"], meta)
    if reading.candidates:
        assert sorted(meta["order_candidates"]) == sorted(reading.candidates)
    else:
        assert meta["order_candidates"] is None
    assert found["aftersale_id"] == reading.aftersale_id
    assert found["page_state"] == reading.state, (reading.name, found["page_state"], meta["status"])
    assert found["tracking_number"] == reading.tracking
    assert meta["marketplace"] == reading.marketplace
    if "platform" in reading.extra:
        assert found["platform"] == reading.extra["platform"]
    text = found["remaining_text"] or found["deadline_text"]
    if reading.deadline is None:
        assert text is None or reading.state in ("closed", "won", "lost", "submitted"), (reading.name, text)
    else:
        assert text, f"{reading.name}: no countdown read"
        got = parse_deadline_text(text, now)
        assert got is not None and abs(got - reading.deadline(now)) <= timedelta(minutes=1), (reading.name, text, got)
    if reading.request_at is not None:
        assert request_time_in(found["history_text"], now) == reading.request_at(now)


def _read(page_reader, reading: Reading):
    now = datetime.now(timezone.utc)
    page_reader.open(reading.url, page_html(reading.page, **reading.values(now)))
    return page_reader.extract(now.timestamp() * 1000), now


@pytest.mark.parametrize("reading", READINGS, ids=[r.name for r in READINGS])
def test_fixture_page_is_read(page_reader, reading: Reading):
    found, now = _read(page_reader, reading)
    check(reading, found, now)


@pytest.mark.parametrize("reading", HELD_OUT, ids=[r.name for r in HELD_OUT])
def test_held_out_page_is_read(page_reader, reading: Reading):
    found, now = _read(page_reader, reading)
    check(reading, found, now)


def _poll(fn: Callable[[], Any], timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_late_hydrated_countdown_is_read_once_it_appears(page_reader):
    now = datetime.now(timezone.utc)
    values = {"ORDER_ID": PDD_ORDER, "AFTERSALE_ID": "98765432104", "SECONDS_LEFT": 9 * 3600, "HYDRATE_MS": 1200}
    page_reader.open("https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432104&orderSn=" + PDD_ORDER,
                     page_html("reading/pdd_late_hydration.html", **values))
    first = page_reader.extract()
    assert first["order_id"] == PDD_ORDER and first["remaining_text"] is None  # the placeholder is no countdown
    later = _poll(lambda: (page_reader.extract() or {}).get("remaining_text"))
    assert later, "the hydrated countdown is read"
    got = parse_deadline_text(later, datetime.now(timezone.utc))
    assert abs(got - (now + timedelta(hours=9))) <= timedelta(minutes=1)


def test_countdown_shown_only_in_the_upload_drawer(page_reader):
    now = datetime.now(timezone.utc)
    values = {**split(6 * 3600 + 5 * 60), "ORDER_ID": DY_ORDER, "AFTERSALE_ID": "7301234567894"}
    page = page_reader.open("https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234567894",
                            page_html("reading/douyin_drawer.html", **values))
    first = page_reader.extract()
    assert first["order_id"] == DY_ORDER and first["aftersale_id"] == "7301234567894"
    assert first["remaining_text"] is None and first["deadline_text"] is None
    page.get_by_role("button", name="上传凭证").click()
    later = _poll(lambda: (page_reader.extract() or {}).get("remaining_text"))
    assert later
    got = parse_deadline_text(later, datetime.now(timezone.utc))
    assert abs(got - (now + timedelta(hours=6, minutes=5))) <= timedelta(minutes=1)
