"""The seller's corrections of a case: scenario, deadline and status (kept over later detection),
the actions 已提交/已结案, the ticks of the checklist and the case in focus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import focus as focus_rules
from ..events import CASE_CHANGED
from .detection import require_scenario
from ..errors import Invalid, field_error
from .models import CaseAction, CasePatch, CaseView, ConfirmRequest
from .view import resolve_values

if TYPE_CHECKING:
    from .service import CaseService


def patch(cases: CaseService, case_id: int, patch: CasePatch) -> CaseView:
    case = cases.case(case_id)
    book = cases.rulebook()
    fields: dict[str, Any] = {}
    data = patch.model_dump(exclude_unset=True)
    if "scenario" in data:
        if data["scenario"] is None:
            raise Invalid("scenario 不能为空：请选择一个场景", field_error("scenario", "must not be null"))
        require_scenario(book, data["scenario"], case.platform)
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
        resolved = resolve_values(
            book.scenarios.get(scenario_id) if scenario_id else None,
            book,
            case.platform,
            fields.get("request_at", case.request_at or case.created_at),
            fields.get("request_source", case.request_source),
            case.page_deadline_at,
            fields.get("seller_deadline_at", case.seller_deadline_at),
            cases.clock(),
        )
        fields.update(deadline_at=resolved.deadline_at, deadline_source=resolved.source)
    if fields:
        cases.store.update_case(case_id, **fields)
        cases.bus.publish(CASE_CHANGED, {"case_id": case_id, "fields": sorted(fields)}, case_id)
    view = cases.view(case_id)
    cases.levels.check(case_id, view.level)
    return view


def act(cases: CaseService, case_id: int, req: CaseAction) -> CaseView:
    """标记已提交 / 已结案（赢/输）/ 重新打开: the seller's word, kept until the seller changes it."""
    cases.case(case_id)
    by_action: dict[str, dict[str, Any]] = {
        "submitted": {"status": "submitted"},
        "won": {"status": "closed", "outcome": "won"},
        "lost": {"status": "closed", "outcome": "lost"},
        "closed": {"status": "closed"},
        "reopen": {"status": "open", "outcome": None},
    }
    fields = by_action[req.action]
    cases.store.update_case(case_id, **fields)
    cases.bus.publish(CASE_CHANGED, {"case_id": case_id, "action": req.action}, case_id)
    view = cases.view(case_id)
    cases.levels.check(case_id, view.level)
    return view


def confirm(cases: CaseService, case_id: int, req: ConfirmRequest) -> CaseView:
    case = cases.case(case_id)
    kind = cases.rulebook().kinds.get(req.kind)
    if kind is None:
        raise Invalid(f"未知的凭证类型 {req.kind!r}", field_error("kind", "unknown kind"))
    if req.field not in {f.id for f in kind.fields}:
        choices = "、".join(f.id for f in kind.fields) or "（该类型没有需核对的项）"
        raise Invalid(f"{kind.label}没有核对项 {req.field!r}，可选：{choices}", field_error("field", "unknown field"))
    cases.store.set_confirmation(case.id, req.kind, req.field, req.confirmed)
    cases.bus.publish(CASE_CHANGED, {"case_id": case.id, "confirmed": [req.kind, req.field, req.confirmed]}, case.id)
    return cases.view(case.id)


def set_focus(cases: CaseService, case_id: int, ended: bool = False) -> dict[str, Any]:
    cases.case(case_id)
    state = focus_rules.load_focus(cases.store)
    now = cases.clock()
    state = focus_rules.end(state, case_id, now) if ended else focus_rules.renew(state, case_id, now)
    if state is None:
        return {"case_id": case_id, "at": now.isoformat(), "since": now.isoformat(), "ended": True}
    focus_rules.save_focus(cases.store, state)
    if cases.evidence is not None and not ended:
        cases.evidence.retry_pending()  # files arriving from now on may belong to the case in focus
    return focus_rules.as_reply(state)

