"""Clickjacking the overlay, in real Chromium with the real helper: a page that cannot reach the frame
still owns ``<juzheng-overlay>`` and everything around it. It makes the host transparent, paints a
decoy over it that lets clicks through (``pointer-events: none``), makes an ancestor transparent, or
scales the host to nothing, so that the seller's real click on a control of the overlay lands on
something they never saw. Each time, the service worker has the content script check that the
overlay is really visible where the seller clicked before it acts: the click is refused, the frame
says why (页面遮挡了举证助手…), the helper's case is unchanged. On a normal page the same click works.

The click is the seller's own (Playwright's real mouse input into the frame); the attacks run in
the page's own world, as the page's script would.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from fixtures.browser import overlay_of

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

URL = "https://mms.pinduoduo.com/aftersales-ssr/detail"
ORDER = "240701-000000000000901"
AFTERSALE = "96000000901"
WARNING = "页面遮挡了举证助手"

ATTACKS = {
    "transparent host": (
        "h => h.style.setProperty('opacity', '0.01', 'important')",
        "h => h.style.setProperty('opacity', '1', 'important')",
    ),
    "decoy above with pointer-events none": (
        """h => { const r = h.getBoundingClientRect(); const d = document.createElement('div'); d.id = 'decoy';
             d.textContent = '点击领取红包'; d.setAttribute('style', `position:fixed;left:${r.left - 20}px;top:${r.top - 20}px;` +
             `width:${r.width + 40}px;height:${r.height + 40}px;z-index:2147483647;background:#fff;pointer-events:none !important`);
             document.body.append(d); }""",
        "h => document.getElementById('decoy').remove()",
    ),
    "transparent ancestor": (
        "h => document.documentElement.style.setProperty('opacity', '0.02', 'important')",
        "h => document.documentElement.style.removeProperty('opacity')",
    ),
    "scaled to nothing": (
        # around the control under the seller's cursor: it stays under the cursor, the rest is gone
        """(h, [x, y]) => { const r = h.getBoundingClientRect();
             h.style.setProperty('transform-origin', `${x - r.left}px ${y - r.top}px`, 'important');
             h.style.setProperty('transform', 'scale(0.05)', 'important'); }""",
        "h => h.style.setProperty('transform', 'none', 'important')",
    ),
}


def _status_of(helper, case_id: str) -> str:
    return helper.request("GET", f"/api/cases/{case_id}").json()["status"]


def test_a_hidden_or_covered_overlay_refuses_the_click_and_says_why(paired_browser, e2e_helper):
    paired_browser.serve(URL, "pinduoduo_detail.html", ORDER_ID=ORDER, AFTERSALE_ID=AFTERSALE)
    page = paired_browser.new_page()
    page.goto(f"{URL}?id={AFTERSALE}&orderSn={ORDER}")
    host = page.locator("juzheng-overlay")
    expect(host).to_have_attribute("data-state", "case")
    overlay = overlay_of(page)
    case_id = overlay.case_id()
    button = overlay.locator('[data-role="case-action"][data-action="submitted"]')  # 标记已提交 changes the case
    expect(button).to_be_visible()
    assert _status_of(e2e_helper, case_id) == "open"
    status = overlay.locator('[data-role="status"]')

    for name, (attack, undo) in ATTACKS.items():
        button.scroll_into_view_if_needed()  # inside the frame, which scrolls its own panel
        box = button.bounding_box()  # in the tab's coordinates
        assert box, name
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        host.evaluate(attack, [x, y])
        page.mouse.click(x, y)  # the seller's real click, where the page lured it
        expect(status).to_contain_text(WARNING, timeout=10_000)
        assert _status_of(e2e_helper, case_id) == "open", f"{name}: the click went through"
        host.evaluate(undo)
        overlay.frame.evaluate("() => { const s = document.querySelector('[data-role=\"status\"]'); if (s) s.textContent = ''; }")

    # Left alone, the page shows the overlay as it is: the same click is carried out, also on a page
    # turned grey for a day of national mourning (a filter that hides nothing).
    page.evaluate("() => { document.documentElement.style.filter = 'grayscale(1)'; }")
    button.click()
    deadline = time.monotonic() + 10
    while _status_of(e2e_helper, case_id) != "submitted":
        assert time.monotonic() < deadline, "the seller's click on a normal page never reached the helper"
        time.sleep(0.1)
    expect(status).not_to_contain_text(WARNING)
    page.close()


def test_a_decoy_taken_away_between_press_and_action_still_refuses(paired_browser, e2e_helper):
    """The page cannot see the press inside the frame, but it can guess it and take its decoy away
    a moment later: the press itself is checked as it happens, not only the action after it."""
    order, aftersale = "240701-000000000000902", "96000000902"
    paired_browser.serve(URL, "pinduoduo_detail.html", ORDER_ID=order, AFTERSALE_ID=aftersale)
    page = paired_browser.new_page()
    page.goto(f"{URL}?id={aftersale}&orderSn={order}")
    host = page.locator("juzheng-overlay")
    expect(host).to_have_attribute("data-state", "case")
    overlay = overlay_of(page)
    case_id = overlay.case_id()
    button = overlay.locator('[data-role="case-action"][data-action="submitted"]')
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    host.evaluate(ATTACKS["decoy above with pointer-events none"][0])
    # The page notices the check (it briefly lifts the decoy's pointer-events), as an attacker could.
    page.evaluate("""() => { window.__checked = false; new MutationObserver(() => { window.__checked = true; })
                      .observe(document.getElementById('decoy'), { attributes: true }); }""")
    page.mouse.move(x, y)
    page.mouse.down()
    page.wait_for_function("() => window.__checked", timeout=10_000)
    page.evaluate("() => document.getElementById('decoy').remove()")  # gone before the action is checked
    page.mouse.up()
    expect(overlay.locator('[data-role="status"]')).to_contain_text(WARNING, timeout=10_000)
    assert _status_of(e2e_helper, case_id) == "open"
    page.close()
