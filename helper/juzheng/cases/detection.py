"""Detecting a case from a page: which platform, order and scenario, which deadline the page
states, and what the page's own state says (finished, submitted, asked again)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..events import CASE_CHANGED
from ..rules import Rulebook, recognise
from ..rules.deadline_text import MAX_YEAR, MIN_YEAR, implausible_date, parse_deadline_text
from ..rules.request_time import request_time_in
from ..store import Case, CaseKey, SqliteStore
from ..errors import Invalid, NotFound, field_error
from . import marketplace
from .delivery_facts import delivery_fields
from .models import CaseView, DetectRequest, RecognitionInfo
from .view import resolve_values

if TYPE_CHECKING:
    from .service import CaseService

# A page's "剩余 1天23小时59分" has minute resolution: re-reading it must not move the deadline.
DEADLINE_JITTER = timedelta(seconds=90)


def detect(cases: CaseService, req: DetectRequest) -> CaseView:
    """Create or update the case a page shows, from what its adapter extracted."""
    book = cases.rulebook()
    platform = book.platforms.get(req.platform)
    if platform is None:
        known = "、".join(book.platforms)
        raise Invalid(f"未知的平台 {req.platform!r}，应为：{known}", field_error("platform", "unknown platform"))
    now = cases.clock()
    existing = existing_case(cases.store, req)

    recognition = None
    text = "\n".join(t for t in (req.request_text, req.page_text) if t)
    scenario_id: str | None = None
    if req.scenario:
        require_scenario(book, req.scenario, platform.id)
        scenario_id = req.scenario
    elif text:
        found = recognise(book, platform.id, text)
        recognition = RecognitionInfo.model_validate(found.model_dump())
        scenario_id = found.scenario
        if scenario_id and book.scenario_platform[scenario_id] != platform.id and req.platform_source != "seller":
            # A Tmall shop's case read on a taobao.com host: the case belongs to the shop.
            platform = book.platforms[book.scenario_platform[scenario_id]]
            req = req.model_copy(update={"platform": platform.id})
            existing = existing_case(cases.store, req)
    if existing is None:
        platform, req, existing, recognition, scenario_id = marketplace.sister(cases, book, req, platform, recognition, scenario_id, text)
    # A scenario the seller chose stays; the store enforces it too.
    effective = existing.scenario if existing and existing.scenario_source == "seller" else (scenario_id or (existing.scenario if existing else None))
    scenario = book.scenarios.get(effective) if effective else None

    status_fields = _page_state_fields(req, existing, now)

    page_deadline = req.deadline_at
    for text_value in (req.deadline_text, req.remaining_text):
        if page_deadline is None and text_value:
            page_deadline = parse_deadline_text(text_value, now)
            bad = implausible_date(text_value) if page_deadline is None else None
            if bad is not None:
                raise Invalid(f"页面上的截止时间 {bad} 不是有效的举证截止时间（年份应在 {MIN_YEAR}–{MAX_YEAR} 之间）：请核对页面上的截止时间", [{"loc": ["body", "deadline_text"], "msg": "implausible date", "type": "value_error"}])
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

    resolved = resolve_values(
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
    fields.update(delivery_fields(req.recipient_text, req.signed_text, req.shipped_text, now))
    case, created = cases.store.upsert_case(
        CaseKey(platform=platform.id, order_id=req.order_id, aftersale_id=req.aftersale_id), **fields
    )
    if created or existing is None or _differs(existing, case):
        cases.bus.publish(CASE_CHANGED, {"case_id": case.id, "created": created}, case.id)
    view = cases.view(case.id)
    cases.levels.check(case.id, view.level)
    return view.model_copy(update={"recognition": recognition, "created": created})


def _page_state_fields(req: DetectRequest, existing: Case | None, now: datetime) -> dict[str, Any]:
    """What the page's own state says about the case: finished pages close it, a page showing
    the evidence was sent marks it submitted. A finished page never opens a case."""
    state = req.page_state
    if state in ("closed", "won", "lost"):
        if existing is None:
            raise NotFound(
                "这个售后已经结束，不需要举证：助手不会为它建案子。",
                field_error("page_state", "case finished"),
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
        asked = req.request_at or request_time_in(req.history_text, now)
        if asked is not None and asked > existing.updated_at:
            return {"status": "open"}
    return {}


def existing_case(store: SqliteStore, req: DetectRequest) -> Case | None:
    cases = store.cases_for_order(req.order_id, req.platform)
    exact = [c for c in cases if c.aftersale_id == req.aftersale_id]
    if exact:
        return exact[-1]
    if not req.aftersale_id:
        # Same rule as the store's upsert: a page without an after-sale id is the open case.
        open_cases = [c for c in cases if c.status == "open"]
        return open_cases[-1] if open_cases else None
    return None


def require_scenario(book: Rulebook, scenario_id: str, platform_id: str) -> None:
    if book.scenario_platform.get(scenario_id) != platform_id:
        choices = "、".join(s.id for s in book.platforms[platform_id].scenarios)
        raise Invalid(
            f"场景 {scenario_id!r} 不属于平台 {platform_id}，可选：{choices}",
            field_error("scenario", "unknown scenario for this platform"),
        )


def _differs(before: Case, after: Case) -> bool:
    keys = (
        "scenario", "scenario_source", "request_at", "deadline_at", "url", "request_text", "tracking_number", "status",
        "outcome", "deadline_source", "page_deadline_at", "recipient_name", "recipient_phone", "signed_at", "shipped_at",
    )
    return any(getattr(before, k) != getattr(after, k) for k in keys)

