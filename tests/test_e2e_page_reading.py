"""End to end in real Chromium with the unpacked extension and the real helper: pages read the way the
seller sees them become the right case with an honest deadline (tests/fixtures/pages/reading).

- the deadline's source reaches the helper: page countdown, request time from the history, estimate;
- a countdown hydrated late or shown only in the 上传凭证 drawer is read when it appears, and the
  page's ticking does not re-send the case;
- the order comes from the main block (not a reminder about another order), a Tmall shop on 千牛 is
  a tmall case, a finished page closes its case and opens none, a list page opens none, a page
  showing evidence sent marks the case submitted; the tracking number is stored.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from fixtures.browser import overlay_of
from test_page_reading import DY_ORDER, PDD_ORDER, PDD_OTHER, TB_ORDER, bj, split

pytestmark = pytest.mark.browser


def poll(fn: Callable[[], Any], timeout: float = 45.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            assert value, f"timed out waiting for {what}"
            return value
        time.sleep(0.1)


def cases(helper, status: str = "all") -> list[dict[str, Any]]:
    response = helper.request("GET", f"/api/cases?status={status}")
    assert response.status == 200
    return response.json()


def case_of(helper, order_id: str, aftersale_id: str | None = None) -> dict[str, Any] | None:
    for summary in cases(helper):
        if summary["order_id"] == order_id and (aftersale_id is None or summary["aftersale_id"] == aftersale_id):
            return helper.request("GET", f"/api/cases/{summary['id']}").json()
    return None


def host(page):
    return page.locator("juzheng-overlay")


def shown_deadline(page) -> datetime | None:
    """The overlay's deadline hook: on the host element, or (older overlay) on its countdown."""
    value = host(page).get_attribute("data-deadline") if host(page).count() else None
    if not value:
        countdown = host(page).locator('[data-role="countdown"]')
        value = countdown.get_attribute("data-deadline") if countdown.count() else None
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def close_to(a: datetime | None, b: datetime, slack: timedelta = timedelta(minutes=2)) -> bool:
    return a is not None and abs(a - b) <= slack


def open_page(browser, url: str, fixture: str, **values: Any):
    browser.serve(url, fixture, **values)
    page = browser.new_page()
    page.goto(url)
    return page


def test_split_digits_page_countdown_order_and_tracking(paired_browser, e2e_helper):
    now = datetime.now(timezone.utc)
    url = "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432201&orderSn=" + PDD_ORDER
    page = open_page(paired_browser, url, "reading/pdd_ssr_split_digits.html", **split(2 * 86400 + 12 * 3600),
                     ORDER_ID=PDD_ORDER, OTHER_ORDER=PDD_OTHER, AFTERSALE_ID="98765432201", TRACKING="78512345678901",
                     REQ=bj(now - timedelta(hours=4)))
    expect(host(page)).to_have_attribute("data-state", "case")
    view = poll(lambda: case_of(e2e_helper, PDD_ORDER, "98765432201"), what="the case")
    assert case_of(e2e_helper, PDD_OTHER) is None, "the reminder's order is no case"
    # The page says 2天12小时 left; the history says the request came 4 h ago (48 h window → 44 h left):
    # the earlier one is used, and the view says the two disagree.
    assert view["deadline_source"] == "request" and view["deadline_conflict"]["used"] == "request"
    assert close_to(datetime.fromisoformat(view["deadline_at"]), now + timedelta(hours=44))
    assert view["tracking_number"] == "78512345678901"
    poll(lambda: close_to(shown_deadline(page), now + timedelta(hours=44)), what="the overlay's deadline")
    page.close()


def test_work_order_page_reads_the_order_from_the_page(paired_browser, e2e_helper):
    now = datetime.now(timezone.utc)
    url = "https://mms.pinduoduo.com/aftersales/work_order/tododetail?id=5550002"
    page = open_page(paired_browser, url, "reading/pdd_tododetail_sentence.html", **split(10 * 3600 + 22 * 60 + 5),
                     ORDER_ID="230101-123456789012346", OTHER_ORDER=PDD_OTHER, AFTERSALE_ID="5550002")
    view = poll(lambda: case_of(e2e_helper, "230101-123456789012346", "5550002"), what="the case")
    assert case_of(e2e_helper, PDD_OTHER) is None, "the chat message's order is no case"
    assert view["deadline_source"] == "page" and view["scenario"] == "pinduoduo.empty_package"
    assert close_to(datetime.fromisoformat(view["deadline_at"]), now + timedelta(hours=10, minutes=22))
    poll(lambda: close_to(shown_deadline(page), now + timedelta(hours=10, minutes=22)), what="the overlay's deadline")
    page.close()


def test_late_hydrated_ticking_countdown_is_sent_once(paired_browser, e2e_helper):
    now = datetime.now(timezone.utc)
    order = "230101-123456789012347"
    url = "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432202&orderSn=" + order
    page = open_page(paired_browser, url, "reading/pdd_late_hydration.html", ORDER_ID=order, AFTERSALE_ID="98765432202",
                     SECONDS_LEFT=9 * 3600, HYDRATE_MS=2500)
    # Before hydration: first seen + 48 h, an estimate, never green.
    first = poll(lambda: case_of(e2e_helper, order), what="the case")
    if first["deadline_source"] == "estimate":
        assert first["display_level"] == "estimate"
    view = poll(lambda: (v := case_of(e2e_helper, order)) and v["deadline_source"] == "page" and v, what="the page's countdown")
    assert close_to(datetime.fromisoformat(view["deadline_at"]), now + timedelta(hours=9))
    poll(lambda: close_to(shown_deadline(page), now + timedelta(hours=9)), what="the overlay's deadline")
    # The page ticks every second; the case is not sent again for ticks.
    seen = view["updated_at"]
    shown = page.locator("#cd")
    ticks = {shown.text_content()}
    poll(lambda: ticks.add(shown.text_content()) or len(ticks) >= 6, what="six ticks of the page's countdown")
    assert case_of(e2e_helper, order)["updated_at"] == seen
    page.close()


def test_countdown_in_the_upload_drawer_is_read_after_the_click(paired_browser, e2e_helper):
    now = datetime.now(timezone.utc)
    url = "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234567990"
    page = open_page(paired_browser, url, "reading/douyin_drawer.html", **split(6 * 3600 + 5 * 60),
                     ORDER_ID=DY_ORDER, AFTERSALE_ID="7301234567990")
    first = poll(lambda: case_of(e2e_helper, DY_ORDER, "7301234567990"), what="the case")
    assert first["deadline_source"] == "estimate" and first["display_level"] == "estimate"
    expect(host(page)).to_have_attribute("data-deadline-source", "estimate")
    expect(host(page)).to_have_attribute("data-level", "estimate")  # never green
    page.get_by_role("button", name="上传凭证").click()
    view = poll(lambda: (v := case_of(e2e_helper, DY_ORDER, "7301234567990")) and v["deadline_source"] == "page" and v,
                what="the drawer's countdown")
    assert close_to(datetime.fromisoformat(view["deadline_at"]), now + timedelta(hours=6, minutes=5))
    poll(lambda: close_to(shown_deadline(page), now + timedelta(hours=6, minutes=5)), what="the overlay's deadline")
    expect(host(page)).to_have_attribute("data-deadline-source", "page")
    page.close()


def test_tmall_shop_on_qianniu_is_a_tmall_case(paired_browser, e2e_helper):
    now = datetime.now(timezone.utc)
    url = "https://qn.taobao.com/home.htm/trade-platform/refund-list/detail?disputeId=201234567990&type=1"
    page = open_page(paired_browser, url, "reading/qn_refund_detail.html", ORDER_ID=TB_ORDER, AFTERSALE_ID="201234567990",
                     DL=bj(now + timedelta(hours=30)))
    view = poll(lambda: case_of(e2e_helper, TB_ORDER, "201234567990"), what="the case")
    assert view["platform"] == "tmall" and (view["scenario"] or "tmall.").startswith("tmall.")
    assert view["deadline_source"] == "page"
    assert close_to(datetime.fromisoformat(view["deadline_at"]), now + timedelta(hours=30))
    page.close()


def test_finished_and_list_pages_open_no_case_and_close_a_known_one(paired_browser, e2e_helper):
    order = "230101-123456789012348"
    detail = "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432203&orderSn=" + order
    page = open_page(paired_browser, detail, "reading/pdd_fullwidth_nbsp.html", ORDER_ID=order, AFTERSALE_ID="98765432203",
                     **{f"FW_{k}": v for k, v in split(20 * 3600).items()})
    opened = poll(lambda: case_of(e2e_helper, order, "98765432203"), what="the open case")
    assert opened["status"] == "open"
    page.close()
    # The same after-sale, now finished: the case is closed and leaves the open list.
    closed_url = "https://mms.pinduoduo.com/aftersales-ssr/detail-closed?id=98765432203&orderSn=" + order
    page = open_page(paired_browser, closed_url, "reading/pdd_closed.html", ORDER_ID=order, AFTERSALE_ID="98765432203")
    poll(lambda: case_of(e2e_helper, order, "98765432203")["status"] == "closed", what="the case closed")
    assert all(c["order_id"] != order for c in cases(e2e_helper, "open"))
    page.close()
    # A finished after-sale never seen before, and a list page: no case at all. A detail page opened
    # after them in the same browser shows the extension had its turn on both.
    other = "230101-123456789012349"
    finished = open_page(paired_browser, "https://mms.pinduoduo.com/aftersales-ssr/detail?id=98765432204&orderSn=" + other,
                         "reading/pdd_closed.html", ORDER_ID=other, AFTERSALE_ID="98765432204")
    listing = open_page(paired_browser, "https://mms.pinduoduo.com/aftersales-ssr/list", "reading/pdd_list.html")
    probe = open_page(paired_browser, "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234567991",
                      "reading/douyin_submitted.html", ORDER_ID="4937820156000000001", AFTERSALE_ID="7301234567991")
    submitted = poll(lambda: case_of(e2e_helper, "4937820156000000001"), what="the submitted page's case")
    assert submitted["status"] == "submitted" and submitted["level"] is None
    expect(finished.locator('juzheng-overlay[data-state="case"]')).to_have_count(0)
    expect(listing.locator('juzheng-overlay[data-state="case"]')).to_have_count(0)
    assert case_of(e2e_helper, other) is None
    assert all(not c["order_id"].startswith("230101-1000000000000") for c in cases(e2e_helper))
    for p in (finished, listing, probe):
        p.close()


def test_popup_shows_sources_and_takes_ended_cases_off(paired_browser, e2e_helper):
    order = "230101-123456789012350"
    made = e2e_helper.request("POST", "/api/cases/detect", json_body={
        "platform": "pinduoduo", "order_id": order, "request_text": "买家反馈未收到商品，请上传快递签收底单"})
    assert made.status == 201
    case_id = made.json()["id"]
    stale_order = "230101-123456789012351"
    long_ago = (datetime.now(timezone.utc) - timedelta(days=10)).isoformat()
    stale = e2e_helper.request("POST", "/api/cases/detect", json_body={
        "platform": "pinduoduo", "order_id": stale_order, "deadline_at": long_ago, "request_text": "请上传快递签收底单"})
    assert stale.status == 201
    popup = paired_browser.new_page()
    popup.goto(paired_browser.url("popup/popup.html"))
    row = popup.locator(f'[data-role="cases"] li[data-case-id="{case_id}"]')
    expect(row).to_have_attribute("data-deadline-source", "estimate")
    expect(row).to_have_attribute("data-level", "estimate")  # first seen + 48 h: never green
    expect(row.locator(".source")).to_contain_text("估算")
    # Overdue for ten days: folded away, not among the cases racing a deadline.
    expect(popup.locator(f'[data-role="cases"] li[data-case-id="{stale.json()["id"]}"]')).to_have_count(0)
    expect(popup.locator(f'[data-role="stale-cases"] li[data-case-id="{stale.json()["id"]}"]')).to_have_count(1)
    row.get_by_role("button", name="标记已提交").click()
    expect(row).to_have_count(0)
    poll(lambda: e2e_helper.request("GET", f"/api/cases/{case_id}").json()["status"] == "submitted", what="submitted")
    stale_row = popup.locator(f'[data-role="stale-cases"] li[data-case-id="{stale.json()["id"]}"]')
    popup.locator('[data-role="stale"] summary').click()
    stale_row.get_by_role("button", name="已结案（赢）").click()
    expect(stale_row).to_have_count(0)
    closed = e2e_helper.request("GET", f"/api/cases/{stale.json()['id']}").json()
    assert (closed["status"], closed["outcome"]) == ("closed", "won")
    popup.reload()
    expect(popup.locator(f'li[data-case-id="{case_id}"]')).to_have_count(0)
    popup.close()


def test_two_order_ids_the_seller_is_asked(paired_browser, e2e_helper):
    url = "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id=7301234567992"
    page = open_page(paired_browser, url, "reading/douyin_two_orders.html", **split(5 * 3600),
                     ORDER_ID="4937820156000000011", OTHER_ORDER="4937820156000000012", AFTERSALE_ID="7301234567992")
    overlay = overlay_of(page)
    expect(host(page)).to_have_attribute("data-state", "choose-order")
    choices = overlay.locator('[data-role="order-choice"]')
    expect(choices).to_have_count(2)
    assert case_of(e2e_helper, "4937820156000000011") is None and case_of(e2e_helper, "4937820156000000012") is None
    overlay.locator('[data-role="order-choice"][data-order-id="4937820156000000012"]').click()
    expect(host(page)).to_have_attribute("data-state", "case")
    expect(host(page)).to_have_attribute("data-order-id", "4937820156000000012")
    view = poll(lambda: case_of(e2e_helper, "4937820156000000012"), what="the chosen order's case")
    assert view["aftersale_id"] == "7301234567992" and case_of(e2e_helper, "4937820156000000011") is None
    page.close()
