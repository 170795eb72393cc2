"""The overlay's case controls in real Chromium with the real helper: 标记已提交 / 已结案（赢/输）/
重新打开 stored on the case, and 「可能是：…」 one-tap choices when recognition abstains.

And the panel itself (extension/overlay/panel.js, in the extension's own page) fed case views that
carry the deadline fields of the helper's case view: where the deadline came from, an estimate that
is never green and says so in words, the seller typing the platform's deadline, two sources that
disagree, the page's two order ids. Fed a view without those fields, it shows none of them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.sync_api import expect

from fixtures.browser import overlay_of

pytestmark = pytest.mark.browser

PDD_URL = "https://mms.pinduoduo.com/aftersales-ssr/detail"
ABSTAIN_TEXT = "顾客说东西不对，也说没收到，请处理"


def open_pdd(browser, order: str, aftersale: str):
    browser.serve(PDD_URL, "pinduoduo_detail.html", ORDER_ID=order, AFTERSALE_ID=aftersale)
    page = browser.new_page()
    page.goto(f"{PDD_URL}?id={aftersale}&orderSn={order}")
    overlay = overlay_of(page)
    expect(overlay.host).to_have_attribute("data-state", "case")
    return page, overlay


def test_case_status_buttons_are_stored_on_the_case(paired_browser, e2e_helper):
    page, overlay = open_pdd(paired_browser, "240801-000000000000801", "96000000801")
    case_id = overlay.case_id()

    def stored() -> tuple[str, str | None]:
        view = e2e_helper.request("GET", f"/api/cases/{case_id}").json()
        return view["status"], view["outcome"]

    assert stored() == ("open", None)
    overlay.locator('[data-role="case-action"][data-action="submitted"]').click()
    expect(overlay.locator('[data-role="case-status"]')).to_have_attribute("data-status", "submitted")
    assert stored() == ("submitted", None)
    expect(overlay.locator('[data-role="case-action"][data-action="submitted"]')).to_have_count(0)

    overlay.locator('[data-role="case-action"][data-action="won"]').click()
    expect(overlay.locator('[data-role="case-status"]')).to_contain_text("赢")
    assert stored() == ("closed", "won")
    expect(overlay.locator('[data-role="countdown"]')).to_have_attribute("data-level", "ok")  # a closed case is calm
    expect(overlay.locator('[data-role="case-action"][data-action="won"]')).to_have_count(0)

    overlay.locator('[data-role="case-action"][data-action="reopen"]').click()
    expect(overlay.locator('[data-role="case-status"]')).to_have_count(0)
    assert stored() == ("open", None)
    page.close()


def test_an_abstaining_recognition_offers_its_candidates(paired_browser, e2e_helper):
    order, aftersale = "240802-000000000000802", "96000000802"
    paired_browser.pages[PDD_URL] = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>售后详情</title></head>
<body><div><span>订单编号</span><span>{order}</span></div><div><span>售后编号</span><span>{aftersale}</span></div>
<p>{ABSTAIN_TEXT}</p></body></html>"""
    page = paired_browser.new_page()
    page.goto(f"{PDD_URL}?id={aftersale}&orderSn={order}")
    overlay = overlay_of(page)
    expect(overlay.host).to_have_attribute("data-state", "case")
    view = e2e_helper.request("GET", f"/api/cases/{overlay.case_id()}").json()
    assert view["scenario"] is None, view["scenario"]  # the premise: recognition abstained
    # Recognition comes with detect only; the overlay keeps it across later updates of the case.
    # The same reading again (the helper is deterministic) tells the test what it said.
    detected = e2e_helper.request("POST", "/api/cases/detect", json_body={
        "platform": "pinduoduo", "order_id": order, "aftersale_id": aftersale, "url": f"{PDD_URL}?id={aftersale}&orderSn={order}",
        "request_text": ABSTAIN_TEXT, "page_text": f"订单编号 {order} 售后编号 {aftersale} {ABSTAIN_TEXT}"}).json()
    assert detected["recognition"]["scenario"] is None and detected["recognition"]["candidates"], detected["recognition"]
    first = detected["recognition"]["candidates"][0]
    choices = overlay.locator('[data-role="maybe"] [data-role="scenario-choice"]')
    expect(choices.first).to_have_attribute("data-scenario", first["scenario"])
    expect(choices.first).to_have_text(first["label"])
    expect(overlay.locator('[data-role="maybe"]')).to_contain_text("可能是：")
    choices.first.click()
    expect(overlay.host).to_have_attribute("data-scenario", first["scenario"])
    expect(overlay.locator('[data-role="maybe"]')).to_have_count(0)
    stored = e2e_helper.request("GET", f"/api/cases/{overlay.case_id()}").json()
    assert (stored["scenario"], stored["scenario_source"]) == (first["scenario"], "seller")
    page.close()


def test_an_unsure_recognition_shows_warning_coloured_guesses_and_one_tap_stores_it(paired_browser, e2e_helper):
    """The case view's recognition carries why it abstained and the seller-facing note; the overlay
    shows the candidates as guesses in the warning colour with that note, and one tap stores the
    seller's choice. (Before, abstained and note were dropped at the API and the row was plain.)"""
    order, aftersale = "240802-000000000000804", "96000000804"
    url = f"{PDD_URL}?id={aftersale}&orderSn={order}"
    paired_browser.pages[PDD_URL] = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>售后详情</title></head>
<body><div><span>订单编号</span><span>{order}</span></div><div><span>售后编号</span><span>{aftersale}</span></div>
<p>{ABSTAIN_TEXT}</p></body></html>"""
    page = paired_browser.new_page()
    page.goto(url)
    overlay = overlay_of(page)
    expect(overlay.host).to_have_attribute("data-state", "case")
    detected = e2e_helper.request("POST", "/api/cases/detect", json_body={
        "platform": "pinduoduo", "order_id": order, "aftersale_id": aftersale, "url": url,
        "request_text": ABSTAIN_TEXT, "page_text": f"订单编号 {order} 售后编号 {aftersale} {ABSTAIN_TEXT}"}).json()
    rec = detected["recognition"]
    assert rec["scenario"] is None and rec["abstained"] and rec["note"] and rec["candidates"], rec
    maybe = overlay.locator('[data-role="maybe"]')
    expect(maybe).to_have_attribute("data-abstained", rec["abstained"])
    expect(maybe.locator('[data-role="maybe-note"]')).to_have_text(rec["note"])
    expect(maybe).to_contain_text("可能是：")
    # The warning colours (overlay.html .maybe.guess, the same as .warnings): a guess, not a decision.
    assert maybe.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 248, 197)"
    choices = maybe.locator('[data-role="scenario-choice"]')
    expect(choices).to_have_count(len(rec["candidates"][:3]))
    for i in range(len(rec["candidates"][:3])):
        assert choices.nth(i).evaluate("e => getComputedStyle(e).color") == "rgb(138, 75, 0)"
    second = rec["candidates"][1] if len(rec["candidates"]) > 1 else rec["candidates"][0]
    overlay.locator(f'[data-role="maybe"] [data-role="scenario-choice"][data-scenario="{second["scenario"]}"]').click()
    expect(overlay.host).to_have_attribute("data-scenario", second["scenario"])
    expect(overlay.locator('[data-role="maybe"]')).to_have_count(0)
    stored = e2e_helper.request("GET", f"/api/cases/{overlay.case_id()}").json()
    assert (stored["scenario"], stored["scenario_source"]) == (second["scenario"], "seller")
    page.close()


# -- the panel, fed views ----------------------------------------------------------------------------
PANEL = """([view, platform]) => {
  document.body.replaceChildren();
  window.__calls = [];
  const record = (name) => (...args) => { window.__calls.push([name, ...args]); return true; };
  const names = ['scenario', 'confirm', 'upload', 'addText', 'attach', 'copy', 'openFile', 'retry', 'options',
                 'claimPending', 'size', 'collapse', 'deadline', 'caseAction', 'chooseOrder'];
  const handlers = Object.fromEntries(names.map((n) => [n, record(n)]));
  handlers.thumb = async () => null;
  handlers.size = () => {};
  window.__panel = new Juzheng.Panel(handlers);
  if (view) window.__panel.showCase(view, platform);
  return true;
}"""


@pytest.fixture(scope="module")
def base_view(paired_browser, e2e_helper) -> dict[str, Any]:
    """A real case view from the helper, as the frame receives it."""
    page, overlay = open_pdd(paired_browser, "240803-000000000000803", "96000000803")
    view = e2e_helper.request("GET", f"/api/cases/{overlay.case_id()}").json()
    page.close()
    return view


@pytest.fixture
def panel_page(paired_browser):
    page = paired_browser.new_page()
    page.goto(paired_browser.url("overlay/overlay.html"))
    page.wait_for_function("() => window.Juzheng && Juzheng.Panel")
    yield page
    page.close()


def show(page, view: dict[str, Any]) -> None:
    page.evaluate(PANEL, [view, {"id": "pinduoduo", "label": "拼多多", "levels": None, "upload": None}])


def calls(page) -> list[list[Any]]:
    return page.evaluate("() => window.__calls")


def iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def test_an_estimated_deadline_is_never_green_and_asks_for_the_platforms(panel_page, base_view):
    now = datetime.now(timezone.utc)
    view = {**base_view, "deadline_at": iso(now + timedelta(days=1, hours=23, minutes=30)), "deadline_source": "estimate",
            "deadline_note": "页面未给出截止时间，按 48 小时从首次打开估算，请以平台为准", "display_level": "estimate"}
    show(panel_page, view)
    countdown = panel_page.locator('[data-role="countdown"]')
    expect(countdown).to_have_attribute("data-level", "estimate")
    expect(countdown).to_have_attribute("data-deadline-source", "estimate")
    expect(countdown).to_have_text("剩余 约 1天23小时")  # no ticking seconds for a guess
    expect(panel_page.locator('[data-role="deadline-estimate"]')).to_have_text(
        "约 1天23小时（页面未给出截止时间，按 48 小时从首次打开估算，请以平台为准）")
    expect(panel_page.locator('[data-role="deadline-source"]')).to_have_text("估算")
    # The field for the platform's deadline is open, not folded away.
    field = panel_page.locator('[data-role="deadline-input"]')
    expect(field).to_be_visible()
    field.fill("明天下午")
    panel_page.locator('[data-role="deadline-save"]').click()
    expect(panel_page.locator('[data-role="status"]')).to_contain_text("没看懂这个时间")
    assert [c for c in calls(panel_page) if c[0] == "deadline"] == []
    field.fill("1天3小时")
    panel_page.locator('[data-role="deadline-save"]').click()
    [[_, typed]] = [c for c in calls(panel_page) if c[0] == "deadline"]
    at = datetime.fromisoformat(typed.replace("Z", "+00:00"))
    assert abs(at - (now + timedelta(days=1, hours=3))) < timedelta(minutes=2)


def test_a_page_deadline_is_shown_as_such_and_can_be_corrected(panel_page, base_view):
    now = datetime.now(timezone.utc)
    show(panel_page, {**base_view, "deadline_at": iso(now + timedelta(days=2)), "deadline_source": "page"})
    expect(panel_page.locator('[data-role="countdown"]')).to_have_attribute("data-level", "ok")
    expect(panel_page.locator('[data-role="deadline-source"]')).to_have_text("页面倒计时")
    expect(panel_page.locator('[data-role="deadline-estimate"]')).to_have_count(0)
    expect(panel_page.locator('[data-role="deadline-input"]')).to_be_hidden()  # folded: the page's time stands
    panel_page.locator('[data-role="deadline-correct"] summary').click()
    platform_time = (now + timedelta(days=1)).astimezone(timezone(timedelta(hours=8))).replace(second=0, microsecond=0)
    panel_page.locator('[data-role="deadline-input"]').fill(platform_time.strftime("%Y-%m-%d %H:%M"))  # Beijing time, as shown
    panel_page.locator('[data-role="deadline-save"]').click()
    [[_, typed]] = [c for c in calls(panel_page) if c[0] == "deadline"]
    assert datetime.fromisoformat(typed.replace("Z", "+00:00")) == platform_time


def test_disagreeing_sources_say_the_earlier_is_used_and_a_seller_time_can_be_withdrawn(panel_page, base_view):
    now = datetime.now(timezone.utc)
    early, late = now + timedelta(hours=20), now + timedelta(hours=30)
    conflict = {"used": "request", "sources": [{"source": "request", "deadline_at": iso(early)}, {"source": "page", "deadline_at": iso(late)}],
                "spread_seconds": 36000, "message": "页面倒计时与按申请时间推算的截止时间相差 10小时，已按较早的时间提醒，请以平台页面为准"}
    show(panel_page, {**base_view, "deadline_at": iso(early), "deadline_source": "request", "deadline_conflict": conflict})
    expect(panel_page.locator('[data-role="deadline-conflict"]')).to_contain_text("已按较早的时间提醒")
    expect(panel_page.locator('[data-role="deadline-conflict"]')).to_have_attribute("data-used", "request")
    show(panel_page, {**base_view, "deadline_at": iso(early), "deadline_source": "seller", "deadline_conflict": None})
    expect(panel_page.locator('[data-role="deadline-source"]')).to_have_text("卖家填写")
    panel_page.locator('[data-role="deadline-correct"] summary').click()
    panel_page.locator('[data-role="deadline-withdraw"]').click()
    assert ["deadline", None] in calls(panel_page)


def test_a_view_without_the_deadline_fields_shows_none_of_them(panel_page, base_view):
    plain = {k: v for k, v in base_view.items() if not k.startswith("deadline_") and k != "display_level"}
    plain["deadline_at"] = base_view["deadline_at"]
    show(panel_page, plain)
    expect(panel_page.locator('[data-role="item"]').first).to_be_visible()
    for role in ("deadline-source", "deadline-estimate", "deadline-conflict"):
        expect(panel_page.locator(f'[data-role="{role}"]')).to_have_count(0)
    expect(panel_page.locator('[data-role="countdown"]')).to_have_attribute("data-level", "ok")


def test_two_order_ids_are_asked(panel_page):
    show(panel_page, None)
    panel_page.evaluate("() => window.__panel.showChooseOrder(['230101-111111111111111', '230101-222222222222222'], '拼多多')")
    expect(panel_page.locator('[data-role="choose-order"]')).to_contain_text("两个订单号")
    panel_page.locator('[data-role="order-choice"][data-order-id="230101-222222222222222"]').click()
    assert ["chooseOrder", "230101-222222222222222"] in calls(panel_page)


# -- the typed deadline, read without guessing ---------------------------------------------------------
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)  # 20:00 in Beijing
TYPED = {
    "2026-12-02 14:30": datetime(2026, 12, 2, 6, 30, tzinfo=timezone.utc),
    "2026/12/2 14:30": datetime(2026, 12, 2, 6, 30, tzinfo=timezone.utc),
    "2026年12月2日 14:30": datetime(2026, 12, 2, 6, 30, tzinfo=timezone.utc),
    "１２月２日　１４：３０": datetime(2026, 12, 2, 6, 30, tzinfo=timezone.utc),
    "12-02 14:30:15": datetime(2026, 12, 2, 6, 30, 15, tzinfo=timezone.utc),
    "1月3日 09:00": datetime(2027, 1, 3, 1, 0, tzinfo=timezone.utc),  # no year, late December: next year's
    "1天3小时": NOW + timedelta(days=1, hours=3),
    "剩余 27小时30分": NOW + timedelta(hours=27, minutes=30),
    "47:59:59": NOW + timedelta(hours=47, minutes=59, seconds=59),
    "1天 23:59:59": NOW + timedelta(days=1, hours=23, minutes=59, seconds=59),
    "0天01时19分51秒": NOW + timedelta(hours=1, minutes=19, seconds=51),
}
REFUSED = {"": "unreadable", "明天": "unreadable", "2026-02-30 10:00": "unreadable", "14:30": "unreadable",
           "2026-13-01 10:00": "unreadable", "2025-01-01 10:00": "out_of_range", "400天": "out_of_range", "2026-12-02": "unreadable"}


def test_typed_deadlines(panel_page):
    now_ms = NOW.timestamp() * 1000
    got = panel_page.evaluate("([inputs, now]) => inputs.map((s) => Juzheng.deadlineInput.parseTypedDeadline(s, now))",
                              [list(TYPED) + list(REFUSED), now_ms])
    for text, result in zip(list(TYPED) + list(REFUSED), got, strict=True):
        if text in TYPED:
            assert "at" in result, (text, result)
            assert datetime.fromisoformat(result["at"].replace("Z", "+00:00")) == TYPED[text], text
        else:
            assert result == {"error": REFUSED[text]}, (text, result)


def test_an_estimate_from_the_helper_is_corrected_by_the_seller(paired_browser, e2e_helper):
    """No countdown on the page: the helper estimates, the overlay says so and is never green; the
    seller types the platform's time and the case runs on it (source seller), on the host too."""
    order, aftersale = "240804-000000000000804", "96000000804"
    paired_browser.pages[PDD_URL] = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>售后详情</title></head>
<body><div><span>订单编号</span><span>{order}</span></div><div><span>售后编号</span><span>{aftersale}</span></div>
<div><span>售后状态</span><span>平台处理中 待商家举证</span></div>
<p>该订单顾客反馈未收到商品，请提供发货底单及快递签收红章证明。</p></body></html>"""
    page = paired_browser.new_page()
    page.goto(f"{PDD_URL}?id={aftersale}&orderSn={order}")
    overlay = overlay_of(page)
    expect(overlay.host).to_have_attribute("data-state", "case")
    expect(overlay.host).to_have_attribute("data-deadline-source", "estimate")
    expect(overlay.host).to_have_attribute("data-level", "estimate")
    countdown = overlay.locator('[data-role="countdown"]')
    expect(countdown).to_have_attribute("data-level", "estimate")
    expect(overlay.locator('[data-role="deadline-estimate"]')).to_contain_text("请以平台为准")
    expect(overlay.locator('[data-role="deadline-estimate"]')).to_contain_text("约 ")
    platform_time = (datetime.now(timezone.utc) + timedelta(hours=20)).astimezone(timezone(timedelta(hours=8))).replace(second=0, microsecond=0)
    overlay.locator('[data-role="deadline-input"]').fill(platform_time.strftime("%Y-%m-%d %H:%M"))
    overlay.locator('[data-role="deadline-save"]').click()
    expect(overlay.host).to_have_attribute("data-deadline-source", "seller")
    expect(countdown).to_have_attribute("data-level", "ok")
    expect(overlay.locator('[data-role="deadline-source"]')).to_have_text("卖家填写")
    stored = e2e_helper.request("GET", f"/api/cases/{overlay.case_id()}").json()
    assert stored["deadline_source"] == "seller"
    assert datetime.fromisoformat(stored["deadline_at"].replace("Z", "+00:00")) == platform_time
    page.close()
