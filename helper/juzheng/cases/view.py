"""Building a case view: the case, its checklist (through ``rules.evaluate``), its deadline and
level, its files. Pure of side effects: it reads the store and the rulebook and writes nothing;
:mod:`.view_cache` decides when a view must be built again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from ..evidence.duplicates import duplicates_for
from ..evidence.links import links_for
from ..rules import Checklist, Evidence, Rulebook, compute_deadlines, evaluate, level_for
from ..rules.models import Levels, Scenario
from ..store import Case, EvidenceRecord, SqliteStore
from .deadline_sources import ResolvedDeadline, estimate_note, resolve_deadline
from .models import CaseView, EvidenceItem, PendingItem, ScenarioChoice
from .packets import packets_for

if TYPE_CHECKING:
    from ..evidence.images import ImageWarning
    from ..evidence.order_move import OrderMove

log = logging.getLogger(__name__)


class EvidenceServiceLike(Protocol):
    """What the cases need of the evidence folder (``evidence.EvidenceService``)."""

    root: Path

    def import_upload(self, case: Case, kind: str | None, filename: str, data: bytes, how: str = "uploaded") -> EvidenceRecord: ...

    def trash(self, evidence_id: int) -> EvidenceRecord: ...

    def retry_pending(self) -> None: ...

    def move_order(self, old_platform: str, new_platform: str, order_id: str) -> OrderMove: ...

    def warnings(self, evidence_id: int) -> list[ImageWarning]: ...


def build_view(case: Case, book: Rulebook, now: datetime, store: SqliteStore, folder: EvidenceServiceLike | None) -> CaseView:
    """The case view as of ``now``: reads the store, writes nothing."""
    platform = book.platforms.get(case.platform)
    records = store.evidence_for_order(case.platform, case.order_id)
    scenario = book.scenarios.get(case.scenario) if case.scenario else None
    if scenario is not None and book.scenario_platform[scenario.id] != case.platform:
        scenario = None
    checklist: Checklist | None = None
    upload = book.upload_for(case.platform, scenario.id if scenario else None)
    if scenario is not None:
        evidence = [
            Evidence(
                kind=r.kind,
                value=r.value,
                generated_at=r.generated_at,
                covers_from=r.covers_from,
                added_at=r.added_at,
                ref=str(r.id),
            )
            for r in records
            if r.kind
        ]
        checklist = evaluate(
            book,
            scenario.id,
            evidence,
            now,
            requested_at=evaluation_start(case, scenario, book),
            buyer_evidence_at=case.buyer_evidence_at,
            confirmed=store.confirmations(case.id),
            order_id=case.order_id,
            tracking_number=case.tracking_number,
            explanation_max_chars=upload.explanation_max_chars if upload else None,
        )
    if checklist is not None and checklist.deadline is not None:
        deadline_at, level = checklist.deadline.deadline_at, checklist.deadline.level
    elif case.deadline_at is not None:
        deadline_at = case.deadline_at
        level = level_for(deadline_at - now, platform.levels if platform else Levels())
    else:
        deadline_at, level = None, None
    resolved = resolve(case, scenario, book, now)
    source = resolved.source
    if scenario is not None and scenario.deadline and scenario.deadline.stages and source is not None:
        # Staged scenarios run from the request time, whatever a page's single countdown said.
        source = "estimate" if case.request_source == "first_seen" else "request"
    if case.status != "open":
        level = None  # a submitted or closed case is no longer racing a deadline
    display_level = "estimate" if source == "estimate" and level == "ok" else level
    items = [evidence_item(case, r, book, image_warnings(folder, r)) for r in records]
    from ..reader.annotate import annotate_readings  # the reader builds on these models

    auto_checked = annotate_readings(store, book, case, records, items)
    if checklist is not None:
        _attach_image_warnings(checklist, {str(i.id): i.warnings for i in items if i.warnings})
    return CaseView(
        id=case.id,
        platform=case.platform,
        platform_label=platform.label if platform else case.platform,
        order_id=case.order_id,
        aftersale_id=case.aftersale_id,
        scenario=scenario.id if scenario else None,
        scenario_label=scenario.label if scenario else None,
        scenario_source=case.scenario_source,
        scenarios_for_platform=[ScenarioChoice(id=s.id, label=s.label) for s in (platform.scenarios if platform else [])],
        status=case.status,
        outcome=case.outcome,
        url=case.url,
        tracking_number=case.tracking_number,
        request_at=case.request_at,
        request_source=case.request_source,
        deadline_at=deadline_at,
        deadline_source=source,
        deadline_note=estimate_note(_window(scenario, book, case.platform)) if source == "estimate" else None,
        deadline_conflict=resolved.conflict,
        deadline_candidates=resolved.candidates,
        level=level,
        display_level=display_level,
        checklist=checklist,
        evidence=[i for i in items if i.kind],
        unsorted=[i for i in items if not i.kind],
        pending=[PendingItem(**p.model_dump()) for p in store.list_pending()],
        upload=upload,
        packets=packets_for(book, checklist, records, upload, folder.root if folder is not None else None),
        duplicates=duplicates_for(store, case.platform, case.order_id),
        links=links_for(store, case.platform, case.order_id),
        updated_at=case.updated_at,
        computed_at=now,
        auto_checked=auto_checked,
    )


def evaluation_start(case: Case, scenario: Scenario, book: Rulebook) -> datetime | None:
    """The request time to evaluate from, such that a deadline the page stated is the one shown.

    For a single-window scenario, the page's deadline is authoritative: evaluating from
    ``deadline_at - window`` reproduces it exactly (and validity warnings compare against it).
    Staged scenarios run from the request time.
    """
    if scenario.deadline and scenario.deadline.stages:
        return case.request_at or case.created_at
    if case.deadline_at is not None:
        return case.deadline_at - _window(scenario, book)
    return case.request_at or case.created_at


def image_warnings(folder: EvidenceServiceLike | None, record: EvidenceRecord) -> list[str]:
    """Too small, blurred, duplicate: shown on the checklist, never blocking."""
    if folder is None or record.id is None or not record.path:
        return []
    try:
        return [w.message for w in folder.warnings(record.id)]
    except Exception:  # a broken image must not break the checklist it is warned about on
        log.exception("image check failed for evidence %s", record.id)
        return []


def evidence_item(case: Case, record: EvidenceRecord, book: Rulebook, warnings: list[str] | None = None) -> EvidenceItem:
    kind = book.kinds.get(record.kind) if record.kind else None
    return EvidenceItem(
        id=record.id or 0,
        kind=record.kind,
        kind_label=kind.label if kind else None,
        filename=PurePosixPath(record.path).name if record.path else None,
        path=record.path,
        value=record.value,
        how=record.how,
        added_at=record.added_at,
        generated_at=record.generated_at,
        size=record.size,
        url=f"/api/cases/{case.id}/files/{record.id}" if record.path else None,
        warnings=warnings or [],
    )


def resolve(case: Case, scenario: Scenario | None, book: Rulebook, now: datetime) -> ResolvedDeadline:
    return resolve_values(
        scenario, book, case.platform, case.request_at or case.created_at, case.request_source,
        case.page_deadline_at, case.seller_deadline_at, now,
    )


def resolve_values(
    scenario: Scenario | None,
    book: Rulebook,
    platform_id: str,
    request_at: datetime,
    request_source: str,
    page_deadline: datetime | None,
    seller_deadline: datetime | None,
    now: datetime,
) -> ResolvedDeadline:
    from_request = _computed_deadline(scenario, book, platform_id, request_at, now)
    known_request = request_source != "first_seen"
    return resolve_deadline(
        page=page_deadline,
        request=from_request if known_request else None,
        seller=seller_deadline,
        estimate=None if known_request else from_request,
    )


def _attach_image_warnings(checklist: Checklist, by_ref: dict[str, list[str]]) -> None:
    for option in checklist.options:
        for item in option.items:
            for ref in item.evidence:
                item.warnings.extend(m for m in by_ref.get(ref, []) if m not in item.warnings)


def expires(view: CaseView, book: Rulebook, now: datetime) -> datetime:
    """The next moment the view stops being true by the clock alone: a level boundary of one of its
    deadlines, or an evidence validity (举证号) running out. A day at most, as a backstop."""
    platform = book.platforms.get(view.platform)
    levels = platform.levels if platform else Levels()
    deadlines = [d.deadline_at for d in (view.checklist.deadlines if view.checklist else [])]
    if view.deadline_at is not None:
        deadlines.append(view.deadline_at)
    boundaries = [b for d in deadlines for b in (d - levels.warn_before, d - levels.urgent_before, d) if b > now]
    for item in view.evidence:
        kind = book.kinds.get(item.kind) if item.kind else None
        if kind is not None and kind.validity is not None and item.generated_at is not None:
            expires = item.generated_at + kind.validity.valid_for
            if expires > now:
                boundaries.append(expires)
    return min([now + timedelta(days=1), *boundaries])


def _window(scenario: Scenario | None, book: Rulebook, platform_id: str | None = None) -> timedelta:
    if scenario is not None:
        if scenario.deadline and scenario.deadline.window:
            return scenario.deadline.window
        return book.platform_of(scenario.id).evidence_window
    return book.platforms[platform_id].evidence_window if platform_id in book.platforms else timedelta(hours=48)


def _computed_deadline(scenario: Scenario | None, book: Rulebook, platform_id: str, request_at: datetime, now: datetime) -> datetime:
    if scenario is None:
        return request_at + _window(None, book, platform_id)
    return compute_deadlines(scenario, book.platform_of(scenario.id), request_at, now)[0].deadline_at


