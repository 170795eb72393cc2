"""What a case view shows of the readings: a suggested kind for 待分类 images, warnings, 自动核对.

Deciding again from the cached reading is pure and takes about a millisecond, so the view always
reflects the current cases and rules without storing a verdict that could go stale.
"""

from __future__ import annotations

from collections.abc import Sequence

import logging

from ..cases.models import AutoChecked, EvidenceItem, ReadSummary
from ..evidence.classify_text import CaseRef, decide
from ..rules import Rulebook
from ..store import Case, EvidenceRecord, SqliteStore
from ..store.readings import auto_checks, get_reading

log = logging.getLogger(__name__)


def prompt_for(label: str, tracking: list[str], orders: list[str]) -> str:
    if tracking:
        return f"这张像是{label}（单号 {tracking[0]}）"
    if orders:
        return f"这张像是{label}（订单号 {orders[0]}）"
    return f"这张像是{label}"


def annotate_readings(store: SqliteStore, book: Rulebook, case: Case, records: Sequence[EvidenceRecord], items: list[EvidenceItem]) -> list[AutoChecked]:
    try:
        return _annotate(store, book, case, records, items)
    except Exception:  # a reading that cannot be shown must never break the checklist
        log.exception("annotating readings failed for case %s", case.id)
        return []


def _annotate(store: SqliteStore, book: Rulebook, case: Case, records: Sequence[EvidenceRecord], items: list[EvidenceItem]) -> list[AutoChecked]:
    cases: list[CaseRef] | None = None
    for record, item in zip(records, items, strict=False):
        if not record.sha256 or not record.path:
            continue
        reading = get_reading(store, record.sha256)
        if reading is None or reading.status != "read":
            continue
        if cases is None:
            cases = [CaseRef.of(c) for c in store.list_cases(status=None)]
        d = decide(reading.lines, reading.signals, record.path.rsplit("/", 1)[-1], book, cases)
        summary = ReadSummary(order_ids=d.order_ids, tracking_numbers=[t.number for t in d.tracking_numbers])
        if d.rejected is not None:
            summary.rejected = f"像{d.rejected.label}：{d.rejected.reason}"
            if summary.rejected not in item.warnings:
                item.warnings.append(summary.rejected)
        if record.kind is None and d.suggested_kind in book.kinds:
            item.suggested_kind = d.suggested_kind
            item.suggested_kind_label = book.kinds[d.suggested_kind].label
            summary.prompt = prompt_for(item.suggested_kind_label, summary.tracking_numbers, d.order_ids)
        item.read = summary
    return [AutoChecked(kind=k, field=f) for k, f in sorted(auto_checks(store, case.id))]
