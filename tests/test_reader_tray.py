"""The tray says when images are being read, and says nothing of it otherwise."""

from __future__ import annotations

from datetime import datetime, timezone

from juzheng.tray.state import TrayInputs, tray_state

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def test_tooltip_counts_images_being_read() -> None:
    assert "正在识别 3 张图片" in tray_state(TrayInputs(now=NOW, pending=3, reading=3)).tooltip
    assert "识别" not in tray_state(TrayInputs(now=NOW, pending=1)).tooltip


def test_runtime_inputs_take_the_reader_queue(ev) -> None:
    from types import SimpleNamespace

    from juzheng.tray.runtime_glue import runtime_inputs

    svc = ev.service()
    svc.reader.enqueue(ev.root / "a.jpg", "0" * 64)  # not started: stays queued
    svc.reader.enqueue(ev.root / "b.jpg", "1" * 64)
    cases = SimpleNamespace(summaries=lambda status: [])
    runtime = SimpleNamespace(cases=cases, evidence=svc, store=ev.store, rules=SimpleNamespace(error=None), root=ev.root,
                              paired_browsers=lambda: [], asks=SimpleNamespace(pending=lambda: []))
    inputs = runtime_inputs(runtime, clock=lambda: NOW)
    assert inputs.reading == 2
