"""Unnamed images placed by what they read, on the real watcher and the real worker process.

Also: named files are never delayed by reading, the same bytes are read once, the worker goes
when idle, and with the OCR component absent the helper says so and sorts as before.
"""

from __future__ import annotations

import random

import pytest

from fixtures.evidence import PDD_ORDER, wait_for
from fixtures.evidence_images import official_tracking, red_stamp_form, transfer
from juzheng.reader.engine import missing_parts
from juzheng.store import CaseKey
from juzheng.store.readings import auto_checks, reading_count

pytestmark = [
    pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning"),
    pytest.mark.subprocess,  # the OCR worker is a process of its own
]
needs_ocr = pytest.mark.skipif(bool(missing_parts()), reason="the ocr extra is not installed")

# Waits for an OCR reading: a few seconds alone, minutes when both cores are busy with other work (the
# worker runs below normal priority, one thread). The bound only matters when the reading never comes.
READ_WAIT = 240


def started(ev, **kw):
    svc = ev.service(**kw)
    svc.start()
    wait_for(lambda: svc.status().last_rescan_at is not None)
    return svc


def files(root, under: str) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in (root / under).rglob("*") if p.is_file()) if (root / under).exists() else []


@needs_ocr
def test_unnamed_stamp_photo_lands_under_its_case_by_tracking_number_and_ticks_the_check(ev):
    sample = red_stamp_form(random.Random(5), "tune")
    case, _ = ev.store.upsert_case(CaseKey(platform="pinduoduo", order_id=PDD_ORDER), tracking_number=sample.case_tracking)
    svc = started(ev)
    ev.drop(sample.name, sample.data)
    target = ev.root / "拼多多" / PDD_ORDER / "快递红章证明" / sample.name
    # the mover links the file in place, then unlinks the inbox copy: wait for both
    wait_for(lambda: target.exists() and not (ev.inbox / sample.name).exists(), timeout=READ_WAIT)
    # ticked right after the move is recorded: wait for it rather than race it
    wait_for(lambda: ("red_stamp_proof", "tracking_number") in ev.store.confirmations(case.id))
    assert auto_checks(ev.store, case.id) == {("red_stamp_proof", "tracking_number")}
    status = svc.status().reader
    assert status.available and status.done == 1
    # The seller unticks it: a second copy of the proof does not tick it again.
    ev.store.set_confirmation(case.id, "red_stamp_proof", "tracking_number", False)
    assert auto_checks(ev.store, case.id) == set()


def _masked(name: str) -> str:
    # as the platforms print a recipient: 王*明 for three characters, 张* for two
    return name[0] + "*" + name[2:] if len(name) == 3 else name[0] + "*"


@needs_ocr
def test_a_proof_showing_the_cases_recipient_and_delivery_date_ticks_those_checks_too(ev):
    from datetime import datetime

    from juzheng.rules.deadline_text import BEIJING

    sample = red_stamp_form(random.Random(5), "tune")
    assert sample.recipient and sample.delivery_date
    signed = datetime.fromisoformat(sample.delivery_date).replace(hour=15, tzinfo=BEIJING)
    # a three-character name masked 王*明 is matched alone; a two-character one (张*) needs the phone,
    # which this form does not show, so it is given in full as some back offices do
    name = _masked(sample.recipient) if len(sample.recipient) == 3 else sample.recipient
    case, _ = ev.store.upsert_case(
        CaseKey(platform="pinduoduo", order_id=PDD_ORDER), tracking_number=sample.case_tracking,
        recipient_name=name, recipient_phone="138****5678", signed_at=signed,
    )
    other, _ = ev.store.upsert_case(
        CaseKey(platform="pinduoduo", order_id=PDD_ORDER, aftersale_id="2"), tracking_number=sample.case_tracking,
    )
    started(ev)
    ev.drop(sample.name, sample.data)
    target = ev.root / "拼多多" / PDD_ORDER / "快递红章证明" / sample.name
    wait_for(lambda: target.exists() and not (ev.inbox / sample.name).exists(), timeout=60)
    wait_for(lambda: ("red_stamp_proof", "delivery_date") in ev.store.confirmations(case.id))
    assert auto_checks(ev.store, case.id) == {
        ("red_stamp_proof", "tracking_number"), ("red_stamp_proof", "recipient_name"), ("red_stamp_proof", "delivery_date"),
    }
    # the order's other case knows only the tracking number: only that is ticked there
    wait_for(lambda: ("red_stamp_proof", "tracking_number") in ev.store.confirmations(other.id))
    assert auto_checks(ev.store, other.id) == {("red_stamp_proof", "tracking_number")}


@needs_ocr
def test_an_order_number_read_places_a_screenshot_and_its_kind(ev):
    sample = transfer(random.Random(8), "tune")
    started(ev)
    ev.drop(sample.name, sample.data)
    target = ev.root / "拼多多" / sample.order_id / "转账成功截图" / sample.name
    wait_for(target.exists, timeout=READ_WAIT)


@needs_ocr
def test_nothing_known_read_stays_in_the_inbox_with_what_was_read(ev):
    sample = official_tracking(random.Random(3), "tune")  # a tracking number no case ships under
    svc = started(ev)
    ev.drop(sample.name, sample.data)
    rel = f"收件箱/{sample.name}"

    def reason():
        return next((p.reason for p in ev.store.list_pending() if p.path == rel and sample.tracking_numbers[0] in p.reason), None)

    wait_for(reason, timeout=READ_WAIT)
    assert (ev.inbox / sample.name).exists()
    assert "没有哪个售后单" in reason()
    # A case with that tracking number appears: the reading is reused (no second OCR) and places it.
    reads = svc.reader.done
    ev.store.upsert_case(CaseKey(platform="pinduoduo", order_id=PDD_ORDER), tracking_number=sample.tracking_numbers[0])
    svc.retry_pending()
    wait_for((ev.root / "拼多多" / PDD_ORDER / "快递官网物流记录" / sample.name).exists, timeout=30)
    assert svc.reader.done == reads and reading_count(ev.store) == 1


@needs_ocr
def test_named_files_are_not_delayed_by_a_reading_queue(ev):
    rng = random.Random(11)
    photos = [red_stamp_form(rng, "tune") for _ in range(4)]
    svc = started(ev)
    for i, p in enumerate(photos):
        ev.drop(f"IMG_{i}_{p.name}", p.data)
    wait_for(lambda: svc.status().reader.queued + (1 if svc.status().reader.reading else 0) >= 2, timeout=30)
    named = ev.drop(f"{PDD_ORDER} 聊天截图.png", b"chat")
    target = ev.root / "拼多多" / PDD_ORDER / "聊天记录截图" / named.name
    wait_for(target.exists, timeout=10)
    status = svc.status().reader
    assert status.done < len(photos), "the named file waited for the readings"


@needs_ocr
def test_worker_goes_when_idle_and_comes_back_on_demand(ev):
    svc = ev.service()
    svc.reader.idle_seconds = 1.0
    svc.start()
    wait_for(lambda: svc.status().last_rescan_at is not None)
    one, two = (red_stamp_form(random.Random(s), "tune") for s in (21, 22))
    ev.drop(one.name, one.data)
    wait_for(lambda: svc.reader.done == 1, timeout=READ_WAIT)
    pid = svc.reader.client.pid
    assert pid is not None
    wait_for(lambda: not svc.reader.client.running, timeout=20)
    ev.drop(two.name, two.data)
    wait_for(lambda: svc.reader.done == 2, timeout=READ_WAIT)
    assert svc.reader.client.starts == 2


def test_without_the_ocr_component_the_helper_says_so_and_sorts_by_name(ev):
    svc = ev.service()
    from juzheng.reader.service import ReaderService

    svc.reader = ReaderService(ev.store, ev.state / "reader", missing=["rapidocr"])
    svc.sorter.reader = svc.reader
    svc.start()
    wait_for(lambda: svc.status().last_rescan_at is not None)
    sample = red_stamp_form(random.Random(5), "tune")
    ev.drop(sample.name, sample.data)
    ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"stamp")
    wait_for((ev.root / "拼多多" / PDD_ORDER / "快递红章证明" / f"{PDD_ORDER} 红章证明.jpg").exists)
    wait_for(lambda: any(p.path == f"收件箱/{sample.name}" for p in ev.store.list_pending()))
    status = svc.status().reader
    assert not status.available and "未安装" in status.message and status.missing == ["rapidocr"]
    assert not svc.reader.client.running and svc.reader.client.starts == 0
    assert "订单号" in next(p.reason for p in ev.store.list_pending() if p.path == f"收件箱/{sample.name}")


@needs_ocr
def test_case_view_suggests_the_kind_and_warns_of_a_finance_stamp(ev):
    from juzheng.cases import CaseService

    rng = random.Random(31)
    sample = red_stamp_form(rng, "tune", finance=True)
    case, _ = ev.store.upsert_case(CaseKey(platform="pinduoduo", order_id=PDD_ORDER), scenario="pinduoduo.not_received",
                                   tracking_number=sample.case_tracking)
    started(ev)
    ev.drop(sample.name, sample.data)
    target = ev.root / "拼多多" / PDD_ORDER / "待分类" / sample.name
    wait_for(target.exists, timeout=READ_WAIT)  # its order is known, its kind is refused: 待分类, not 快递红章证明
    cases = CaseService(ev.store, lambda: ev.book, ev.bus)
    try:
        item = wait_for(lambda: next((i for i in cases.view(case.id).unsorted if i.filename == sample.name), None))
        view = cases.view(case.id)
    finally:
        cases.close()
    assert item.suggested_kind == "red_stamp_proof" and item.suggested_kind_label == "快递红章证明"
    assert item.read is not None and item.read.tracking_numbers == [sample.case_tracking]
    assert item.read.prompt == f"这张像是快递红章证明（单号 {sample.case_tracking}）"
    assert any("财务章" in w for w in item.warnings)
    assert view.auto_checked == []  # a refused proof ticks nothing


@needs_ocr
def test_a_named_file_without_a_kind_is_filed_at_once_then_read_for_a_suggestion(ev):
    from juzheng.cases import CaseService

    sample = transfer(random.Random(12), "held_out")
    case, _ = ev.store.upsert_case(CaseKey(platform="pinduoduo", order_id=sample.order_id))
    started(ev)
    name = f"{sample.order_id} 随手拍.png"
    ev.drop(name, sample.data)
    target = ev.root / "拼多多" / sample.order_id / "待分类" / name
    wait_for(target.exists, timeout=10)  # filed by its name, not held for the reading
    wait_for(lambda: any(p.get("action") == "read" for p in ev.of_type("evidence")), timeout=READ_WAIT)
    cases = CaseService(ev.store, lambda: ev.book, ev.bus)
    try:
        item = next(i for i in cases.view(case.id).unsorted if i.filename == name)
    finally:
        cases.close()
    assert item.suggested_kind == "transfer_screenshot" and item.read.prompt == f"这张像是转账成功截图（订单号 {sample.order_id}）"


def test_a_worker_that_keeps_failing_leaves_the_file_to_its_name(ev, monkeypatch):
    """Models that cannot load (a broken install): after a few tries the file is handled as before."""
    import juzheng.reader.service as reader_service
    from juzheng.reader.client import ReaderClient, WorkerUnavailable

    class Broken(ReaderClient):
        def read(self, path, ocr=True):
            self.starts += 1
            raise WorkerUnavailable("worker did not start")

    monkeypatch.setattr(reader_service, "RETRY_SECONDS", 0.05)
    svc = ev.service()
    svc.reader = reader_service.ReaderService(ev.store, ev.state / "reader", missing=[], client=Broken(ev.state / "reader"))
    svc.reader.on_read = svc.recheck
    svc.sorter.reader = svc.reader
    svc.start()
    sample = red_stamp_form(random.Random(6), "tune")
    ev.drop(sample.name, sample.data)
    rel = f"收件箱/{sample.name}"
    wait_for(lambda: any(p.path == rel and "订单号" in p.reason and "正在识别" not in p.reason for p in ev.store.list_pending()), timeout=20)
    assert svc.reader.client.starts == reader_service.MAX_TRIES
    assert (ev.inbox / sample.name).exists()
