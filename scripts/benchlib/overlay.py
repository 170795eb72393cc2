"""1. Overlay time: DOMContentLoaded of an after-sale page → checklist and countdown rendered.

Real Chromium with the unpacked extension, the real helper. Each load is a new case (a fresh order
id), rotating over the four platforms' fixture pages. The first loads warm the service worker (it
fetches /api/rules once) and are not counted.

Baseline: the service worker's own round trip of the same load's ``POST /api/cases/detect``, logged
around the extension's helper client. It is the part of the path that is the helper's (HTTP, case
lookup, recognition, checklist evaluation, JSON), measured on the same load; the ratio is what the
extension adds around it (content-script start at document_idle, reading the page, messaging,
rendering the shadow DOM).
"""

from __future__ import annotations

import random
from typing import Any

from . import pages
from .results import Figure, Target, percentile

TARGET_P95_MS = 150.0


def measure(browser: Any, iterations: int, warmup: int = 3, seed: int = 7) -> Figure:
    rng = random.Random(seed)
    pages.prepare(browser)
    overlay_ms: list[float] = []
    detect_ms: list[float] = []
    for n in range(warmup + iterations):
        load = pages.ROTATION[n % len(pages.ROTATION)](rng)
        pages.wrap_service_worker(browser)
        pages.take_log(browser)  # drop what earlier loads left
        page, record = pages.open_and_wait(browser, load)
        log = pages.take_log(browser) or []
        page.close()
        if n < warmup:
            continue
        overlay_ms.append(record["rendered"] - record["dcl"])
        detects = [e["ms"] for e in log if e["path"] == "/api/cases/detect"]
        if detects:
            detect_ms.append(detects[-1])
    p50, p95 = percentile(overlay_ms, 50), percentile(overlay_ms, 95)
    return Figure(
        id="overlay_ms",
        title="overlay: DOMContentLoaded -> checklist+countdown",
        unit="ms",
        stat="p95",
        value=p95,
        details={
            "p50": p50, "p95": p95, "max": max(overlay_ms), "samples": len(overlay_ms),
            "baseline_p50": percentile(detect_ms, 50), "baseline_samples": len(detect_ms),
        },
        baseline=percentile(detect_ms, 95),
        baseline_title="(SW detect RTT p95)",
        baseline_why="the service worker's round trip of the same load's POST /api/cases/detect to the real helper "
        "(the helper's share of the path); the ratio is what the extension adds around it",
        target=Target(on="value", op="<=", limit=TARGET_P95_MS),
    ).judge()
