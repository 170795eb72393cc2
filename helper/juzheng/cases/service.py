"""The case service: detect/update a case from a page, and build the case view with its checklist.

This is the one place the checklist of a stored case is computed (through ``rules.evaluate``); the
API, the tray and the CLI all call :meth:`CaseService.view`. A view is cached until something it is
computed from changes (the case, its order's evidence, the inbox's pending files, the rulebook) or
the case crosses a boundary (a level, an expiring 举证号), so a page polling a case costs a dict
lookup; a change to one case rebuilds only that case. ``remaining_seconds`` in a cached view is as
of its ``computed_at``: clients count down from ``deadline_at``.
"""

from __future__ import annotations

import logging
import time
import threading
from collections import defaultdict
from dataclasses import dataclass
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, Protocol

from ..events import CASE_CHANGED, EVIDENCE_CHANGED, LEVEL_CHANGED, PENDING_CHANGED, EventBus
from ..rules import Checklist, Evidence, Rulebook, compute_deadlines, evaluate, level_for, recognise
from ..rules.deadline_text import MAX_YEAR, MIN_YEAR, implausible_date, parse_deadline_text
from ..rules.request_time import request_time_in
from ..rules.deadlines import LEVEL_ORDER, Level
from ..rules.models import Levels, Scenario
from ..store import Case, CaseKey, EvidenceRecord, SqliteStore, utcnow
from ..store.records import Event
from .. import focus as focus_rules
from ..evidence.duplicates import duplicates_for
from ..evidence.links import links_for
from .deadline_sources import ResolvedDeadline, estimate_note, resolve_deadline
from .delivery_facts import delivery_fields
from .listing import CLOCK_SLACK, CaseList
from .packets import packets_for
from .models import (
    CaseAction,
    CasePatch,
    CaseSummary,
    CaseView,
    ConfirmRequest,
    DetectRequest,
    EvidenceItem,
    PendingItem,
    RecognitionInfo,
    ScenarioChoice,
    TextEvidenceRequest,
)

log = logging.getLogger(__name__)

FOCUS_SETTING = "focus"
# A page's "剩余 1天23小时59分" has minute resolution: re-reading it must not move the deadline.
DEADLINE_JITTER = timedelta(seconds=90)


class CaseError(Exception):
    """Bad input from a client: ``status`` 400/404/409/503, a zh-CN message, optional detail and a
    stable ``code`` for clients that act on the kind of refusal."""

    def __init__(self, status: int, message: str, detail: list[dict[str, Any]] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail or []
        self.code = code


class EvidenceServiceLike(Protocol):
    def import_upload(self, case: Case, kind: str, filename: str, data: bytes, how: str = "uploaded") -> EvidenceRecord: ...

    def trash(self, evidence_id: int) -> EvidenceRecord: ...

    def retry_pending(self) -> None: ...

    def warnings(self, evidence_id: int) -> list[Any]: ...


def _field_error(field: str, message: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", field], "msg": message, "type": "value_error"}]


class CaseService:
    def __init__(
        self,
        store: SqliteStore,
        rulebook: Callable[[], Rulebook],
        bus: EventBus,
        *,
        clock: Callable[[], datetime] = utcnow,
        evidence: EvidenceServiceLike | None = None,
    ) -> None:
        self.store = store
        self.rulebook = rulebook
        self.bus = bus
        self.clock = clock
        self.evidence = evidence
        self._generation = 0  # changes that may touch every view
        self._case_gen: defaultdict[int, int] = defaultdict(int)
        self._order_gen: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._pending_gen = 0
        self._gen_lock = threading.Lock()
        self._cache: dict[int, _Cached] = {}
        self._levels_lock = threading.Lock()
        self._levels: dict[int, str] | None = None  # last seen level per case, loaded once
        self._levels_checked: tuple[int, datetime | None] | None = None
        self._list = CaseList(store, lambda: self.rulebook().digest, self._summary)
        self._unsubscribe = bus.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    # -- cache --------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        # Evidence belongs to an order, pending files show in every view, a case event names its
        # case; level events change nothing a view is computed from; anything else touches all.
        if event.type == LEVEL_CHANGED:
            return
        payload = event.payload if isinstance(event.payload, dict) else {}
        with self._gen_lock:
            if event.type == CASE_CHANGED and (event.case_id or payload.get("case_id")):
                self._case_gen[int(event.case_id or payload["case_id"])] += 1
            elif event.type == EVIDENCE_CHANGED and payload.get("platform") and payload.get("order_id"):
                self._order_gen[(str(payload["platform"]), str(payload["order_id"]))] += 1
            elif event.type == PENDING_CHANGED:
                self._pending_gen += 1
            else:
                self._generation += 1
        if event.type != PENDING_CHANGED:  # the list carries no pending files
            self._list.changed()

    def invalidate(self) -> None:
        with self._gen_lock:
            self._generation += 1
        self._list.changed()

    def _cache_key(self, case_id: int, platform: str, order_id: str) -> tuple:
        return (
            self._generation, self.rulebook().digest, self._case_gen.get(case_id, 0),
            self._order_gen.get((platform, order_id), 0), self._pending_gen,
        )

    # -- reading ------------------------------------------------------------------------------
    def view(self, case_id: int) -> CaseView:
        return self._cached(case_id).view

    def view_json(self, case_id: int) -> bytes:
        """The view serialised once per cache entry: the hot path of ``GET /api/cases/{id}``."""
        entry = self._cached(case_id)
        if entry.data is None:
            entry.data = entry.view.model_dump_json().encode()
        return entry.data

    def cached_view_json(self, case_id: int) -> bytes | None:
        """The view's bytes when a valid cached view exists, else None: no database, no file
        read, so the server answers it on the event loop without a hop to a worker thread."""
        hit = self._fresh(case_id, self.clock())
        if hit is None or hit.data is None:
            return None
        return hit.data

    def _fresh(self, case_id: int, now: datetime) -> _Cached | None:
        hit = self._cache.get(case_id)
        if (
            hit is not None
            and hit.key == self._cache_key(case_id, hit.view.platform, hit.view.order_id)
            and now < hit.expires
            and now + CLOCK_SLACK >= hit.view.computed_at  # the clock was set back: recompute
            and time.monotonic() < hit.mono_expires  # and a jump forward cannot stretch its life
        ):
            return hit
        return None

    def _cached(self, case_id: int) -> _Cached:
        """A view is reused until something it is computed from changes or the clock crosses one of
        its boundaries (a deadline level, an expiring 举证号)."""
        now = self.clock()
        hit = self._fresh(case_id, now)
        if hit is not None:
            return hit
        with self._gen_lock:  # the key before reading: a change while building makes the next read rebuild
            key_case = (self._generation, self._case_gen.get(case_id, 0), self._pending_gen)
        case = self.store.get_case(case_id)
        if case is None:
            raise CaseError(404, f"没有编号为 {case_id} 的案子")
        with self._gen_lock:
            order_gen = self._order_gen.get((case.platform, case.order_id), 0)
        book = self.rulebook()
        key = (key_case[0], book.digest, key_case[1], order_gen, key_case[2])
        view = self._build_view(case, book, now)
        expires = _expires(view, book, now)
        entry = _Cached(key, expires, view, mono_expires=time.monotonic() + (expires - now).total_seconds())
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[case_id] = entry
        return entry

    def summaries(self, status: str | None = "open") -> list[CaseSummary]:
        """The cases by deadline, soonest first (cases without one last)."""
        return [e.summary for e in self._list.get(status, self.clock()).entries]

    def list_json(self, status: str | None = "open") -> bytes:
        """The list as ``GET /api/cases`` serves it: the same bytes until something changes."""
        return self._list.get(status, self.clock()).data

    def cached_list_json(self, status: str | None = "open") -> bytes | None:
        """The list's bytes when nothing changed (no database, no thread needed), else None."""
        hit = self._list.cached(status, self.clock())
        return hit.data if hit is not None else None

    def _summary(self, case_id: int, now: datetime) -> tuple[CaseSummary, datetime | None]:
        try:
            entry = self._cached(case_id)
        except CaseError as exc:
            raise LookupError(case_id) from exc
        view = entry.view
        checklist = view.checklist
        summary = CaseSummary(
            id=view.id,
            platform=view.platform,
            order_id=view.order_id,
            aftersale_id=view.aftersale_id,
            scenario=view.scenario,
            scenario_label=view.scenario_label,
            status=view.status,
            deadline_at=view.deadline_at,
            deadline_source=view.deadline_source,
            deadline_conflict=view.deadline_conflict is not None,
            level=view.level,
            display_level=view.display_level,
            outcome=view.outcome,
            complete=checklist.complete if checklist else None,
            missing=min((len(o.missing) for o in checklist.options), default=None) if checklist else None,
        )
        return summary, entry.expires

    def _build_view(self, case: Case, book: Rulebook, now: datetime) -> CaseView:
        platform = book.platforms.get(case.platform)
        records = self.store.evidence_for_order(case.platform, case.order_id)
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
                requested_at=self._evaluation_start(case, scenario, book),
                buyer_evidence_at=case.buyer_evidence_at,
                confirmed=self.store.confirmations(case.id),
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
        resolved = self._resolve(case, scenario, book, now)
        source = resolved.source
        if scenario is not None and scenario.deadline and scenario.deadline.stages and source is not None:
            # Staged scenarios run from the request time, whatever a page's single countdown said.
            source = "estimate" if case.request_source == "first_seen" else "request"
        if case.status != "open":
            level = None  # a submitted or closed case is no longer racing a deadline
        display_level = "estimate" if source == "estimate" and level == "ok" else level
        items = [self._item(case, r, book, self._image_warnings(r)) for r in records]
        from ..reader.annotate import annotate_readings  # the reader builds on these models

        auto_checked = annotate_readings(self.store, book, case, records, items)
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
            pending=[PendingItem(**p.model_dump()) for p in self.store.list_pending()],
            upload=upload,
            packets=packets_for(book, checklist, records, upload, getattr(self.evidence, "root", None)),
            duplicates=duplicates_for(self.store, case.platform, case.order_id),
            links=links_for(self.store, case.platform, case.order_id),
            updated_at=case.updated_at,
            computed_at=now,
            auto_checked=auto_checked,
        )

    @staticmethod
    def _evaluation_start(case: Case, scenario: Scenario, book: Rulebook) -> datetime | None:
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

    def _image_warnings(self, record: EvidenceRecord) -> list[str]:
        """Too small, blurred, duplicate: shown on the checklist, never blocking."""
        check = getattr(self.evidence, "warnings", None)
        if check is None or record.id is None or not record.path:
            return []
        try:
            return [w.message for w in check(record.id)]
        except Exception:  # a broken image must not break the checklist it is warned about on
            log.exception("image check failed for evidence %s", record.id)
            return []

    @staticmethod
    def _item(case: Case, record: EvidenceRecord, book: Rulebook, warnings: list[str] | None = None) -> EvidenceItem:
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

    # -- detect -------------------------------------------------------------------------------
    def detect(self, req: DetectRequest) -> CaseView:
        book = self.rulebook()
        platform = book.platforms.get(req.platform)
        if platform is None:
            known = "、".join(book.platforms)
            raise CaseError(400, f"未知的平台 {req.platform!r}，应为：{known}", _field_error("platform", "unknown platform"))
        now = self.clock()
        existing = self._existing(req)

        recognition = None
        text = "\n".join(t for t in (req.request_text, req.page_text) if t)
        scenario_id: str | None = None
        if req.scenario:
            self._require_scenario(book, req.scenario, platform.id)
            scenario_id = req.scenario
        elif text:
            found = recognise(book, platform.id, text)
            recognition = RecognitionInfo.model_validate(found.model_dump())
            scenario_id = found.scenario
            if scenario_id and book.scenario_platform[scenario_id] != platform.id:
                # A Tmall shop's case read on a taobao.com host: the case belongs to the shop.
                platform = book.platforms[book.scenario_platform[scenario_id]]
                req = req.model_copy(update={"platform": platform.id})
                existing = self._existing(req)
        # A scenario the seller chose stays; the store enforces it too.
        effective = existing.scenario if existing and existing.scenario_source == "seller" else (scenario_id or (existing.scenario if existing else None))
        scenario = book.scenarios.get(effective) if effective else None

        status_fields = self._page_state_fields(req, existing)

        page_deadline = req.deadline_at
        for text_value in (req.deadline_text, req.remaining_text):
            if page_deadline is None and text_value:
                page_deadline = parse_deadline_text(text_value, now)
                bad = implausible_date(text_value) if page_deadline is None else None
                if bad is not None:
                    raise CaseError(400, f"页面上的截止时间 {bad} 不是有效的举证截止时间（年份应在 {MIN_YEAR}–{MAX_YEAR} 之间）：请核对页面上的截止时间", [{"loc": ["body", "deadline_text"], "msg": "implausible date", "type": "value_error"}])
        if page_deadline is None and existing is not None:
            page_deadline = existing.page_deadline_at  # a countdown read once stays known (drawer closed again)
        elif page_deadline is not None and existing and existing.page_deadline_at:
            if abs(existing.page_deadline_at - page_deadline) < DEADLINE_JITTER:
                page_deadline = existing.page_deadline_at  # a ticking countdown re-read must not move the deadline

        # The request time: stated, or read from the page's history; else when first seen (an estimate).
        request_at = req.request_at or request_time_in(req.history_text, now)
        request_source = "page" if request_at is not None else None
        if request_at is None and existing is not None:
            request_at, request_source = existing.request_at, existing.request_source
        if request_at is None:
            request_at, request_source = now, "first_seen"
        if request_source is None:
            request_source = "first_seen"

        resolved = self._resolve_values(
            scenario, book, platform.id, request_at, request_source, page_deadline,
            existing.seller_deadline_at if existing else None, now,
        )
        fields: dict[str, Any] = {
            "request_at": request_at,
            "request_source": request_source,
            "page_deadline_at": page_deadline,
            "deadline_at": resolved.deadline_at,
            "deadline_source": resolved.source,
            **status_fields,
        }
        if scenario_id:
            fields.update(scenario=scenario_id, scenario_source="detected")
        if req.url:
            fields["url"] = req.url
        if req.request_text:
            fields["request_text"] = req.request_text
        if req.tracking_number:
            fields["tracking_number"] = req.tracking_number
        fields.update(delivery_fields(req.recipient_text, req.signed_text, req.shipped_text, self.clock()))
        case, created = self.store.upsert_case(
            CaseKey(platform=platform.id, order_id=req.order_id, aftersale_id=req.aftersale_id), **fields
        )
        if created or existing is None or _differs(existing, case):
            self.bus.publish(CASE_CHANGED, {"case_id": case.id, "created": created}, case.id)
        view = self.view(case.id)
        self._check_level(case.id, view.level)
        return view.model_copy(update={"recognition": recognition, "created": created})

    def _page_state_fields(self, req: DetectRequest, existing: Case | None) -> dict[str, Any]:
        """What the page's own state says about the case: finished pages close it, a page showing
        the evidence was sent marks it submitted. A finished page never opens a case."""
        state = req.page_state
        if state in ("closed", "won", "lost"):
            if existing is None:
                raise CaseError(
                    404,
                    "这个售后已经结束，不需要举证：助手不会为它建案子。",
                    _field_error("page_state", "case finished"),
                    code="no_live_case",
                )
            fields: dict[str, Any] = {"status": "closed"}
            if state in ("won", "lost"):
                fields["outcome"] = state
            return fields
        if state == "submitted" and (existing is None or existing.status == "open"):
            return {"status": "submitted"}
        if state == "requested" and existing is not None and existing.status == "submitted":
            # The platform asked again (补充举证) after the evidence went in: a request newer than the
            # submission reopens the case, so its countdown runs again. The same old request does not.
            asked = req.request_at or request_time_in(req.history_text, self.clock())
            if asked is not None and asked > existing.updated_at:
                return {"status": "open"}
        return {}

    def _resolve(self, case: Case, scenario: Scenario | None, book: Rulebook, now: datetime) -> ResolvedDeadline:
        return self._resolve_values(
            scenario, book, case.platform, case.request_at or case.created_at, case.request_source,
            case.page_deadline_at, case.seller_deadline_at, now,
        )

    @staticmethod
    def _resolve_values(
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

    def _existing(self, req: DetectRequest) -> Case | None:
        cases = self.store.cases_for_order(req.order_id, req.platform)
        exact = [c for c in cases if c.aftersale_id == req.aftersale_id]
        if exact:
            return exact[-1]
        if not req.aftersale_id:
            # Same rule as the store's upsert: a page without an after-sale id is the open case.
            open_cases = [c for c in cases if c.status == "open"]
            return open_cases[-1] if open_cases else None
        return None

    @staticmethod
    def _require_scenario(book: Rulebook, scenario_id: str, platform_id: str) -> None:
        if book.scenario_platform.get(scenario_id) != platform_id:
            choices = "、".join(s.id for s in book.platforms[platform_id].scenarios)
            raise CaseError(
                400,
                f"场景 {scenario_id!r} 不属于平台 {platform_id}，可选：{choices}",
                _field_error("scenario", "unknown scenario for this platform"),
            )

    # -- seller corrections -------------------------------------------------------------------
    def patch(self, case_id: int, patch: CasePatch) -> CaseView:
        case = self._case(case_id)
        book = self.rulebook()
        fields: dict[str, Any] = {}
        data = patch.model_dump(exclude_unset=True)
        if "scenario" in data:
            if data["scenario"] is None:
                raise CaseError(400, "scenario 不能为空：请选择一个场景", _field_error("scenario", "must not be null"))
            self._require_scenario(book, data["scenario"], case.platform)
            fields.update(scenario=data["scenario"], scenario_source="seller")
        for name in ("status", "outcome", "tracking_number", "request_at", "buyer_evidence_at"):
            if name in data and data[name] is not None:
                fields[name] = data[name]
        if "request_at" in fields:
            fields["request_source"] = "seller"
        if "deadline_at" in data:
            fields["seller_deadline_at"] = data["deadline_at"]
        if {"scenario", "request_at", "seller_deadline_at"} & set(fields):
            # Every deadline source is re-weighed: a computed one follows the new window or request
            # time; the page's and the seller's stay as they were stated.
            scenario_id = fields.get("scenario", case.scenario)
            resolved = self._resolve_values(
                book.scenarios.get(scenario_id) if scenario_id else None,
                book,
                case.platform,
                fields.get("request_at", case.request_at or case.created_at),
                fields.get("request_source", case.request_source),
                case.page_deadline_at,
                fields.get("seller_deadline_at", case.seller_deadline_at),
                self.clock(),
            )
            fields.update(deadline_at=resolved.deadline_at, deadline_source=resolved.source)
        if fields:
            self.store.update_case(case_id, **fields)
            self.bus.publish(CASE_CHANGED, {"case_id": case_id, "fields": sorted(fields)}, case_id)
        view = self.view(case_id)
        self._check_level(case_id, view.level)
        return view

    def act(self, case_id: int, req: CaseAction) -> CaseView:
        """标记已提交 / 已结案（赢/输）/ 重新打开: the seller's word, kept until the seller changes it."""
        self._case(case_id)
        by_action: dict[str, dict[str, Any]] = {
            "submitted": {"status": "submitted"},
            "won": {"status": "closed", "outcome": "won"},
            "lost": {"status": "closed", "outcome": "lost"},
            "closed": {"status": "closed"},
            "reopen": {"status": "open", "outcome": None},
        }
        fields = by_action[req.action]
        self.store.update_case(case_id, **fields)
        self.bus.publish(CASE_CHANGED, {"case_id": case_id, "action": req.action}, case_id)
        view = self.view(case_id)
        self._check_level(case_id, view.level)
        return view

    def confirm(self, case_id: int, req: ConfirmRequest) -> CaseView:
        case = self._case(case_id)
        kind = self.rulebook().kinds.get(req.kind)
        if kind is None:
            raise CaseError(400, f"未知的凭证类型 {req.kind!r}", _field_error("kind", "unknown kind"))
        if req.field not in {f.id for f in kind.fields}:
            choices = "、".join(f.id for f in kind.fields) or "（该类型没有需核对的项）"
            raise CaseError(400, f"{kind.label}没有核对项 {req.field!r}，可选：{choices}", _field_error("field", "unknown field"))
        self.store.set_confirmation(case.id, req.kind, req.field, req.confirmed)
        self.bus.publish(CASE_CHANGED, {"case_id": case.id, "confirmed": [req.kind, req.field, req.confirmed]}, case.id)
        return self.view(case.id)

    def set_focus(self, case_id: int, ended: bool = False) -> dict[str, Any]:
        self._case(case_id)
        state = focus_rules.read_focus(self.store.get_setting(FOCUS_SETTING))
        now = self.clock()
        state = focus_rules.end(state, case_id, now) if ended else focus_rules.renew(state, case_id, now)
        if state is None:
            return {"case_id": case_id, "at": now.isoformat(), "since": now.isoformat(), "ended": True}
        self.store.set_setting(FOCUS_SETTING, focus_rules.dump(state))
        retry = getattr(self.evidence, "retry_pending", None)
        if retry is not None and not ended:
            retry()  # files arriving from now on may belong to the case in focus
        return focus_rules.as_reply(state)

    # -- evidence -----------------------------------------------------------------------------
    def add_text(self, case_id: int, req: TextEvidenceRequest) -> EvidenceItem:
        case = self._case(case_id)
        book = self.rulebook()
        kind = book.kinds.get(req.kind)
        if kind is None:
            raise CaseError(400, f"未知的凭证类型 {req.kind!r}", _field_error("kind", "unknown kind"))
        if kind.form != "text":
            raise CaseError(400, f"{kind.label}是文件类凭证，请以文件上传（multipart/form-data）", _field_error("kind", "file kind"))
        record = self.store.add_evidence(
            EvidenceRecord(
                platform=case.platform,
                order_id=case.order_id,
                kind=kind.id,
                value=req.value,
                generated_at=req.generated_at,
                covers_from=req.covers_from,
                how="text",
                added_at=self.clock(),
            )
        )
        self.bus.publish(
            EVIDENCE_CHANGED,
            {"platform": case.platform, "order_id": case.order_id, "kind": kind.id, "evidence_id": record.id, "action": "added"},
            case.id,
        )
        return self._item(case, record, book)

    def add_file(self, case_id: int, kind_id: str, filename: str, data: bytes) -> EvidenceItem:
        case = self._case(case_id)
        book = self.rulebook()
        kind = book.kinds.get(kind_id)
        if kind is None:
            raise CaseError(400, f"未知的凭证类型 {kind_id!r}", _field_error("kind", "unknown kind"))
        if kind.form != "file":
            raise CaseError(400, f"{kind.label}是文字类凭证，请以 JSON 提交 value", _field_error("kind", "text kind"))
        if self.evidence is None:
            raise CaseError(503, "证据文件夹服务未启用，暂时无法保存上传的文件。")
        try:
            record = self.evidence.import_upload(case, kind.id, filename, data, how="uploaded")
        except ValueError as exc:  # EvidenceError: bad input, the message says what to fix
            raise CaseError(400, str(exc), _field_error("file", str(exc))) from exc
        return self._item(case, record, book)

    def remove_evidence(self, case_id: int, evidence_id: int) -> None:
        case = self._case(case_id)
        record = self.store.get_evidence(evidence_id)
        if record is None or (record.platform, record.order_id) != (case.platform, case.order_id):
            raise CaseError(404, f"案子 {case_id} 没有编号为 {evidence_id} 的凭证")
        if record.path is None:
            self.store.remove_evidence(evidence_id)
            self.bus.publish(
                EVIDENCE_CHANGED,
                {"platform": case.platform, "order_id": case.order_id, "kind": record.kind, "evidence_id": evidence_id, "action": "removed"},
                case.id,
            )
            return
        if self.evidence is None:
            raise CaseError(503, "证据文件夹服务未启用，暂时无法把文件移到回收站。")
        try:
            self.evidence.trash(evidence_id)  # moves the file to .回收站, drops the record, publishes
        except ValueError as exc:
            raise CaseError(409, str(exc)) from exc

    def evidence_file(self, case_id: int, evidence_id: int) -> EvidenceRecord:
        case = self._case(case_id)
        record = self.store.get_evidence(evidence_id)
        if record is None or record.path is None or (record.platform, record.order_id) != (case.platform, case.order_id):
            raise CaseError(404, f"案子 {case_id} 没有编号为 {evidence_id} 的文件")
        return record

    # -- levels -------------------------------------------------------------------------------
    def check_levels(self) -> list[dict[str, Any]]:
        """Publish LEVEL_CHANGED for every open case whose level got worse since last seen.

        Runs from the open-case list, which is rebuilt only for the cases that changed or crossed
        a boundary; with nothing changed since the last check it returns at once."""
        listing = self._list.get("open", self.clock())
        mark = (listing.changes, listing.computed_at)
        if self._levels_checked == mark:
            return []
        changes = []
        for entry in listing.entries:
            change = self._check_level(entry.case_id, entry.level)  # type: ignore[arg-type]
            if change:
                changes.append(change)
        self._levels_checked = mark
        return changes

    def _check_level(self, case_id: int, level: Level | None) -> dict[str, Any] | None:
        with self._levels_lock:
            if self._levels is None:
                self._levels = self.store.case_levels()
            previous = self._levels.get(case_id)
            if previous == level:
                return None
            if level is None:
                self._levels.pop(case_id, None)
            else:
                self._levels[case_id] = level
            self.store.set_case_level(case_id, level)
            if level is None:
                return None
        if LEVEL_ORDER[level] > LEVEL_ORDER.get(previous or "ok", 0):  # type: ignore[call-overload]
            payload = {"case_id": case_id, "level": level, "previous": previous}
            self.bus.publish(LEVEL_CHANGED, payload, case_id)
            return payload
        return None

    # -- helpers ------------------------------------------------------------------------------
    def _case(self, case_id: int) -> Case:
        case = self.store.get_case(case_id)
        if case is None:
            raise CaseError(404, f"没有编号为 {case_id} 的案子")
        return case


@dataclass
class _Cached:
    key: tuple
    expires: datetime
    view: CaseView
    data: bytes | None = None
    mono_expires: float = 0.0


def _attach_image_warnings(checklist: Checklist, by_ref: dict[str, list[str]]) -> None:
    for option in checklist.options:
        for item in option.items:
            for ref in item.evidence:
                item.warnings.extend(m for m in by_ref.get(ref, []) if m not in item.warnings)


def _expires(view: CaseView, book: Rulebook, now: datetime) -> datetime:
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


def _differs(before: Case, after: Case) -> bool:
    keys = (
        "scenario", "scenario_source", "request_at", "deadline_at", "url", "request_text", "tracking_number", "status",
        "outcome", "deadline_source", "page_deadline_at", "recipient_name", "recipient_phone", "signed_at", "shipped_at",
    )
    return any(getattr(before, k) != getattr(after, k) for k in keys)

