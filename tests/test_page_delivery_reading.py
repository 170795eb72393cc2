"""The recipient and the 签收/发货 times read from after-sale pages in real Chromium (extract.js), in the
layouts the back offices use (dt/dd, a header row above values, one text node with a full-width colon,
label and value spans, only a logistics track's 已签收 entry), never by class names; the values are
read back with the helper's own parser, so both ends are checked together."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fixtures.page_reader import page_html
from juzheng.cases.delivery_facts import delivery_fields
from juzheng.rules.deadline_text import BEIJING

pytestmark = pytest.mark.browser

PDD_ORDER, DY_ORDER, TB_ORDER = "230101-123456789012345", "4937820156123456789", "3456789012345678901"


def at(now: datetime, days: float) -> datetime:
    return (now - timedelta(days=days)).astimezone(BEIJING).replace(second=0, microsecond=0)


CASES = [
    # name, url, page, values(now) → template values, expected(now) → case fields
    ("pdd_dl_track", "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432111&orderSn=" + PDD_ORDER, "delivery/pdd_dl_track.html",
     lambda now: {"ORDER_ID": PDD_ORDER, "AFTERSALE_ID": "98765432111", "NAME": "张**", "PHONE": "138****5678",
                  "SHIPPED": at(now, 4).strftime("%Y-%m-%d %H:%M:%S"), "SIGNED": at(now, 2).strftime("%Y-%m-%d %H:%M:%S"),
                  "OUT": at(now, 2.2).strftime("%Y-%m-%d %H:%M:%S")},
     lambda now: {"recipient_name": "张**", "recipient_phone": "138****5678", "signed_at": at(now, 2), "shipped_at": at(now, 4)}),
    ("douyin_header_row", "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234567811", "delivery/douyin_header_row.html",
     lambda now: {"ORDER_ID": DY_ORDER, "AFTERSALE_ID": "7301234567811", "NAME": "王*明", "PHONE": "139****0001",
                  "SHIPPED": at(now, 5).strftime("%Y/%m/%d %H:%M"), "SIGNED": at(now, 3).strftime("%Y/%m/%d %H:%M")},
     lambda now: {"recipient_name": "王*明", "recipient_phone": "139****0001", "signed_at": at(now, 3), "shipped_at": at(now, 5)}),
    ("qn_inline_sentence_first", "https://qn.taobao.com/home.htm/trade-platform/refund-list/detail?disputeId=201234567811&type=1",
     "delivery/qn_inline_sentence_first.html",
     lambda now: {"ORDER_ID": TB_ORDER, "AFTERSALE_ID": "201234567811", "NAME": "李*华", "PHONE": "186****2233",
                  "SIGNED": at(now, 1).strftime("%Y年%m月%d日 %H:%M")},
     lambda now: {"recipient_name": "李*华", "recipient_phone": "186****2233", "signed_at": at(now, 1)}),
    ("refund2_nothing", "https://refund2.taobao.com/dispute/detail.htm?bizOrderId=" + TB_ORDER + "&disputeId=201234567812", "delivery/refund2_nothing.html",
     lambda now: {"ORDER_ID": TB_ORDER, "AFTERSALE_ID": "201234567812",
                  "OUT": at(now, 2).strftime("%Y-%m-%d %H:%M"), "SIGNED": at(now, 1).strftime("%Y-%m-%d %H:%M")},
     lambda now: {}),
]


# Written after the finders were tuned on CASES, run once, never used to tune them.
HELD_OUT = [
    ("holdout_douyin_dl_yearless", "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234567821",
     "delivery/holdout_douyin_dl_yearless.html",
     lambda now: {"ORDER_ID": DY_ORDER, "AFTERSALE_ID": "7301234567821", "NAME": "*明", "PHONE": "186****0000",
                  "SIGNED": at(now, 2).strftime("%m月%d日 %H:%M"), "LOG": at(now, 1).strftime("%Y-%m-%d %H:%M")},
     lambda now: {"recipient_name": "*明", "recipient_phone": "186****0000", "signed_at": at(now, 2)}),
    ("holdout_pdd_grid_dots", "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432121&orderSn=" + PDD_ORDER,
     "delivery/holdout_pdd_grid_dots.html",
     lambda now: {"ORDER_ID": PDD_ORDER, "AFTERSALE_ID": "98765432121", "NAME": "赵*", "PHONE": "13500001111",
                  "SHIPPED": at(now, 4).strftime("%Y-%m-%d %H:%M"), "SIGNED": at(now, 2).strftime("%Y.%m.%d %H:%M"),
                  "OUT": at(now, 2.1).strftime("%Y.%m.%d %H:%M")},
     lambda now: {"recipient_name": "赵*", "recipient_phone": "13500001111", "signed_at": at(now, 2)}),
]


@pytest.mark.parametrize(("name", "url", "page", "values", "expected"), CASES + HELD_OUT, ids=[c[0] for c in CASES + HELD_OUT])
def test_recipient_and_times_are_read_from_the_page(page_reader, name, url, page, values, expected) -> None:
    now = datetime.now(timezone.utc)
    found = page_reader.read(url, page_html(page, **values(now)), now.timestamp() * 1000)
    assert found is not None and found.get("order_id"), name
    fields = delivery_fields(found["recipient_text"], found["signed_text"], found["shipped_text"], now)
    assert fields == expected(now), (name, found["recipient_text"], found["signed_text"], found["shipped_text"])


def test_existing_fixture_pages_state_no_recipient_or_times(page_reader) -> None:
    # pages that only name the fields in sentences (签收底单, 签收红章) give nothing
    found = page_reader.read(
        "https://qn.taobao.com/home.htm/trade-platform/refund-list/detail?disputeId=201234567890&type=1",
        page_html("reading/qn_refund_detail.html", ORDER_ID=TB_ORDER, AFTERSALE_ID="201234567890", DL="2026-12-30 10:00"),
    )
    assert found is not None
    assert (found["recipient_text"], found["signed_text"], found["shipped_text"]) == (None, None, None)
