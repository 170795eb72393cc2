"""7. Reading unnamed images: CPU per image, the helper's memory with the worker idle, named drops.

- ``read_cpu_s``: CPU-seconds the worker spends per rendered evidence image (decode, signals,
  shrink to 1280 px, PP-OCRv6 tiny detection + recognition, one thread). Baseline: the same
  images through the same worker with OCR off (decode + signals), i.e. what any image handling costs.
- ``reader_idle_rss_mb``: the helper's own RSS after it read a few photos and its worker exited
  (idle), against the same helper's RSS before any image arrived. The worker's peak RSS is a detail.
- ``drop_while_reading_ms``: named-file drop -> overlay done (as in ``drop``) while unnamed photos
  keep the reader busy, against the plain drop measured just before in the same browser.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .results import Figure, Target, percentile

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
TARGET_CPU_S = 0.6
TARGET_RSS_RATIO = 1.15
TARGET_DROP_RATIO = 1.5


def _samples(quick: bool) -> list[Any]:
    sys.path.insert(0, str(REPO / "tests"))
    from fixtures.evidence_images import evidence_set

    samples = evidence_set("tune")
    return samples[:10] if quick else samples


def cpu(quick: bool) -> Figure:
    import psutil

    from juzheng.reader.client import ReaderClient

    samples = _samples(quick)
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        folder = Path(tmp)
        paths = []
        for i, s in enumerate(samples):
            path = folder / f"{i:02d}-{s.name}"
            path.write_bytes(s.data)
            paths.append((s.style, path))
        timings: dict[str, list[float]] = {"ocr": [], "plain": []}
        peak = 0
        by_style: dict[str, list[float]] = {}
        for mode in ("plain", "ocr"):
            client = ReaderClient(folder / "cache", signals_only=mode == "plain")
            try:
                for style, path in paths:
                    reply = client.read(path)
                    if not reply.ok:
                        raise RuntimeError(f"{path.name}: {reply.error}")
                    timings[mode].append(reply.cpu_seconds)
                    if mode == "ocr":
                        by_style.setdefault(style, []).append(reply.cpu_seconds)
                        if client.pid:
                            peak = max(peak, psutil.Process(client.pid).memory_info().rss)
            finally:
                client.stop()
    ocr, plain = timings["ocr"], timings["plain"]
    worst = max(by_style, key=lambda k: sum(by_style[k]) / len(by_style[k]))
    return Figure(
        id="read_cpu_s", title="worker CPU per evidence image (OCR)", unit="s", stat="mean",
        value=sum(ocr) / len(ocr),
        details={"p50": percentile(ocr, 50), "p95": percentile(ocr, 95), "max": max(ocr), "images": len(ocr),
                 "worker_peak_rss_mb": round(peak / MB, 1), "costliest_style": worst,
                 "costliest_style_mean_s": round(sum(by_style[worst]) / len(by_style[worst]), 3)},
        baseline=sum(plain) / len(plain), baseline_title="(decode + signals, OCR off)",
        baseline_why="the same images through the same worker without OCR: what opening an image costs anyway",
        target=Target(on="value", op="<=", limit=TARGET_CPU_S),
    ).judge()


def _readings(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0
    try:
        return int(con.execute("SELECT count(*) FROM readings").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def idle_rss(session: Any, quick: bool) -> Figure:
    import psutil

    from juzheng.store import DB_NAME

    helper = session.helper("read-rss", pair=False, env={"JUZHENG_READER_IDLE_SECONDS": "2"})
    proc = psutil.Process(helper.process.pid)
    time.sleep(3.0)  # first index of the empty folder done, allocations settled
    before = proc.memory_info().rss
    photos = [s for s in _samples(True) if s.name.lower().endswith(".jpg")][:3]
    inbox = helper.root / "收件箱"
    inbox.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(photos):
        (inbox / f"{i}-{s.name}").write_bytes(s.data)
    db = helper.state_dir / DB_NAME
    worker_peak = 0
    deadline = time.monotonic() + 120
    while _readings(db) < len(photos):
        for child in proc.children(recursive=True):
            try:
                worker_peak = max(worker_peak, child.memory_info().rss)
            except psutil.Error:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the helper read {_readings(db)} of {len(photos)} photos in time")
        time.sleep(0.1)
    deadline = time.monotonic() + 60
    while proc.children(recursive=True):
        if time.monotonic() > deadline:
            raise RuntimeError("the reader worker did not exit when idle")
        time.sleep(0.2)
    time.sleep(1.0)
    after = proc.memory_info().rss
    return Figure(
        id="reader_idle_rss_mb", title="helper RSS after reading, worker idle (exited)", unit="MB", stat="rss",
        value=after / MB, details={"worker_peak_rss_mb": round(worker_peak / MB, 1), "photos": len(photos)},
        baseline=before / MB, baseline_title="(same helper before any image)",
        baseline_why="the same helper process measured before the first photo arrived",
        target=Target(on="ratio", op="<=", limit=TARGET_RSS_RATIO),
    ).judge()


def drop_while_reading(browser: Any, helper: Any, iterations: int) -> list[Figure]:
    from . import drop

    # Seeds of their own: the full bench's drop row ran on this helper with drop's default seed, and
    # the same orders would find their files already there (the item done, not missing).
    plain = drop.measure(browser, helper, iterations, seed=17)
    photos = [s for s in _samples(True) if s.style in ("red_stamp", "weighing", "no_text", "signed_slip")]
    stop = threading.Event()
    inbox = helper.root / "收件箱"

    def keep_busy() -> None:
        n = 0
        while not stop.is_set():
            s = photos[n % len(photos)]
            # new bytes each time (a JPEG comment), so the reading cache cannot answer
            (inbox / f"IMG_busy_{n}.jpg").write_bytes(s.data + f"busy {n}".encode())
            n += 1
            stop.wait(0.4)

    feeder = threading.Thread(target=keep_busy, daemon=True)
    feeder.start()
    try:
        busy = drop.measure(browser, helper, iterations, seed=23)
    finally:
        stop.set()
        feeder.join(5)
    plain_p95 = plain.value
    return [
        plain,
        Figure(
            id="drop_while_reading_ms", title="named drop -> done while the reader is busy", unit="ms", stat="p95",
            value=busy.value, details={**busy.details},
            baseline=plain_p95, baseline_title="(same drop, reader idle)",
            baseline_why="the same named-file drop in the same browser and helper just before, with no image being read",
            target=Target(on="ratio", op="<=", limit=TARGET_DROP_RATIO),
        ).judge(),
    ]
