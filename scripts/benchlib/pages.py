"""After-sale pages for the browser measurements, and the instrumentation they run with.

The pages are the e2e tests' fixture pages (``tests/fixtures/pages``), served at the platforms' real
addresses by the browser fixture's router, with a fresh order id on every load (a new case each time,
as when a seller works down a queue).

Two pieces of instrumentation, both read-only:
- an init script in every frame: in the page it records ``DOMContentLoaded``; in the overlay's frame
  (the extension's ``overlay/overlay.html``; the page cannot see into it) a MutationObserver records
  the moment the countdown (``[data-role=countdown][data-deadline]``) and checklist items
  (``[data-role=item][data-kind]``) exist, and when each kind's item turns ``data-state=done``. All
  times are wall-clock ms (``performance.timeOrigin + now()``), so the two documents' clocks compare,
  and so they compare with the time a file was dropped;
- a wrapper around the service worker's one helper client (``Juzheng.client.request``) that logs the
  round trip of every call, so the same page load's ``POST /api/cases/detect`` time is known.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

INIT_SCRIPT = r"""
(() => {
  if (window.__jzBench) return;
  const wall = () => performance.timeOrigin + performance.now();
  if (/^https?:$/.test(location.protocol)) {
    const B = (window.__jzBench = { dcl: null });
    document.addEventListener("DOMContentLoaded", () => { B.dcl = wall(); }, { once: true });
    return;
  }
  if (location.protocol !== "chrome-extension:" || location.pathname !== "/overlay/overlay.html") return;
  const B = (window.__jzBench = { rendered: null, doneAt: {} });
  const ready = () =>
    document.querySelector('[data-role="countdown"][data-deadline]') && document.querySelector('[data-role="item"][data-kind]');
  const check = () => {
    const now = wall();
    if (B.rendered === null && ready()) B.rendered = now;
    for (const el of document.querySelectorAll('[data-role="item"][data-kind][data-state="done"]')) {
      if (!(el.dataset.kind in B.doneAt)) B.doneAt[el.dataset.kind] = now;
    }
  };
  new MutationObserver(check).observe(document, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-deadline", "data-state", "data-kind"],
  });
})();
"""

SW_WRAP = r"""
() => {
  const c = globalThis.Juzheng && globalThis.Juzheng.client;
  if (!c) return false;
  if (!c.__benchWrapped) {
    const original = c.request;
    globalThis.__benchLog = [];
    c.request = async function (method, path, opts) {
      const t0 = performance.now();
      const res = await original.call(this, method, path, opts);
      globalThis.__benchLog.push({ method, path, ms: performance.now() - t0, status: res.status });
      return res;
    };
    c.__benchWrapped = true;
  }
  return true;
}
"""

SW_TAKE_LOG = "() => (globalThis.__benchLog ? globalThis.__benchLog.splice(0) : null)"


@dataclass(frozen=True)
class PageLoad:
    platform: str
    url: str  # the address the fixture page is served at
    page: str  # tests/fixtures/pages/<page>
    values: dict[str, Any]
    open_url: str
    order_id: str


def _digits(rng: random.Random, n: int, first: str = "") -> str:
    return first + "".join(str(rng.randrange(10)) for _ in range(n - len(first)))


def pinduoduo(rng: random.Random) -> PageLoad:
    order, aftersale = f"{_digits(rng, 6, '23')}-{_digits(rng, 15)}", _digits(rng, 11, "9")
    return PageLoad(
        "pinduoduo", "https://mms.pinduoduo.com/aftersales-ssr/detail", "pinduoduo_detail.html",
        {"ORDER_ID": order, "AFTERSALE_ID": aftersale},
        f"https://mms.pinduoduo.com/aftersales-ssr/detail?id={aftersale}&orderSn={order}", order,
    )


def douyin(rng: random.Random) -> PageLoad:
    order, aftersale = _digits(rng, 19, "49"), _digits(rng, 13, "73")
    return PageLoad(
        "douyin", "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3", "douyin_detail.html",
        {"ORDER_ID": order, "AFTERSALE_ID": aftersale, "SECONDS_LEFT": 20 * 3600,
         "NEXT_ORDER_ID": _digits(rng, 19, "49"), "NEXT_AFTERSALE_ID": _digits(rng, 13, "73"), "NEXT_SECONDS_LEFT": 30 * 3600},
        f"https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail-v3?aftersale_id={aftersale}", order,
    )


def taobao(rng: random.Random) -> PageLoad:
    order, aftersale = _digits(rng, 19, "34"), _digits(rng, 12, "20")
    deadline = (datetime.now(timezone.utc) + timedelta(hours=30)).astimezone(timezone(timedelta(hours=8)))
    return PageLoad(
        "taobao", "https://refund2.taobao.com/dispute/detail.htm", "taobao_dispute.html",
        {"ORDER_ID": order, "AFTERSALE_ID": aftersale, "DEADLINE": deadline.strftime("%Y-%m-%d %H:%M")},
        f"https://refund2.taobao.com/dispute/detail.htm?bizOrderId={order}&disputeId={aftersale}", order,
    )


def tmall(rng: random.Random) -> PageLoad:
    order, aftersale = _digits(rng, 19, "31"), _digits(rng, 12, "30")
    return PageLoad(
        "tmall", "https://refund2.tmall.com/dispute/detail.htm", "tmall_dispute.html",
        {"ORDER_ID": order, "AFTERSALE_ID": aftersale},
        f"https://refund2.tmall.com/dispute/detail.htm?disputeId={aftersale}", order,
    )


ROTATION = (pinduoduo, douyin, taobao, tmall)


def prepare(browser: Any) -> None:
    """Install the page instrumentation once per browser context."""
    if not getattr(browser, "_bench_instrumented", False):
        browser.context.add_init_script(INIT_SCRIPT)
        browser._bench_instrumented = True


def wrap_service_worker(browser: Any) -> bool:
    """(Re)install the round-trip log; the MV3 worker may have been restarted since."""
    return bool(browser.sw(SW_WRAP))


def take_log(browser: Any) -> list[dict[str, Any]] | None:
    return browser.sw(SW_TAKE_LOG)


def overlay_frame(page: Any, timeout_s: float = 15.0) -> Any:
    from fixtures.browser import Overlay

    return Overlay(page, timeout=timeout_s).frame


def open_and_wait(browser: Any, load: PageLoad, timeout_ms: int = 15_000) -> tuple[Any, dict[str, Any]]:
    """Open ``load`` in a new tab; return the page and its record (``dcl`` and ``rendered`` wall-clock
    ms) once the overlay's frame shows the checklist and countdown."""
    browser.serve(load.url, load.page, **load.values)
    page = browser.new_page()
    page.goto(load.open_url, wait_until="domcontentloaded")
    page.wait_for_function("() => window.__jzBench && window.__jzBench.dcl !== null", timeout=timeout_ms, polling=50)
    frame = overlay_frame(page, timeout_ms / 1000)
    frame.wait_for_function("() => window.__jzBench && window.__jzBench.rendered !== null", timeout=timeout_ms, polling=50)
    return page, {"dcl": page.evaluate("() => window.__jzBench.dcl"), "rendered": frame.evaluate("() => window.__jzBench.rendered")}
