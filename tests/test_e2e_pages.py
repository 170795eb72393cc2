"""End to end in real Chromium: each platform's after-sale page gets the overlay with the right
scenario, order id and deadline, read through the rules' page adapters from varied markup."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BEIJING = timezone(timedelta(hours=8))


def deadline_of(overlay) -> datetime:
    countdown = overlay.locator('[data-role="countdown"]')
    expect(countdown).to_have_attribute("data-deadline", lambda v: bool(v)) if False else None
    value = countdown.get_attribute("data-deadline")
    assert value, "the countdown carries its absolute deadline"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_close(actual: datetime, expected: datetime, slack: timedelta = timedelta(minutes=3)) -> None:
    assert abs(actual - expected) <= slack, f"{actual.isoformat()} is not within {slack} of {expected.isoformat()}"


def open_case(browser, url: str):
    page = browser.new_page()
    page.goto(url)
    overlay = page.locator("juzheng-overlay")
    expect(overlay).to_have_attribute("data-state", "case")
    return page, overlay


def test_pinduoduo_detail(paired_browser, e2e_helper):
    order, aftersale = "230101-123456789012345", "98765432101"
    paired_browser.serve("https://mms.pinduoduo.com/aftersales-ssr/detail", "pinduoduo_detail.html", ORDER_ID=order, AFTERSALE_ID=aftersale)
    now = datetime.now(timezone.utc)
    page, overlay = open_case(paired_browser, f"https://mms.pinduoduo.com/aftersales-ssr/detail?id={aftersale}&orderSn={order}")
    expect(overlay).to_have_attribute("data-scenario", "pinduoduo.not_received")
    expect(overlay.locator('[data-role="order-id"]')).to_have_text(order)
    expect(overlay.locator('[data-role="aftersale-id"]')).to_have_text(aftersale)
    assert_close(deadline_of(overlay), now + timedelta(days=1, hours=23, minutes=59))
    expect(overlay.locator('[data-role="countdown"]')).to_have_attribute("data-level", "ok")
    expect(overlay.locator('[data-role="mode"]')).to_have_text("以下任选其一")
    expect(overlay.locator('[data-kind="red_stamp_proof"]').first).to_have_attribute("data-state", "missing")
    paired_browser.screenshot(page, "overlay-pinduoduo")
    cases = e2e_helper.request("GET", "/api/cases").json()
    assert any(c["order_id"] == order and c["aftersale_id"] == aftersale for c in cases)
    page.close()
