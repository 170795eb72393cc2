"""The checklist of a case: pure evaluation of a scenario against the evidence at hand.

This is the one place the checklist is computed; the API, the overlay, the tray and the CLI all
show what this returns.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from .deadlines import Deadline, compute_deadlines, primary_deadline
from .explanation import Explanation, fill
from .loader import Rulebook
from .models import EvidenceKind, Provenance, Scenario
from .provenance_label import provenance_label

ItemState = Literal["done", "missing", "rejected"]


class Evidence(BaseModel):
    """One piece of evidence the seller has for the case."""

    kind: str
    value: str | None = Field(default=None, description="text kinds: the code itself")
    generated_at: datetime | None = Field(default=None, description="text kinds: when the code was generated")
    covers_from: datetime | None = Field(default=None, description="举证号: the earliest chat date it covers")
    added_at: datetime | None = None
    ref: str | None = Field(default=None, description="the store's id of this item, passed through")


class FieldState(BaseModel):
    id: str
    label: str
    confirmed: bool


class ChecklistItem(BaseModel):
    kind: str
    label: str
    form: Literal["file", "text"]
    state: ItemState
    evidence: list[str] = Field(default_factory=list, description="refs of the evidence that counts")
    fields: list[FieldState] = Field(default_factory=list)
    how_to_obtain: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class OptionResult(BaseModel):
    kinds: list[str]
    note: str | None
    items: list[ChecklistItem]
    complete: bool
    missing: list[str]
    provenance: Provenance
    source_label: str = Field(default="", description="来源，卖家可读：「来源：拼多多售后举证说明」或「通用做法，非平台规则」")


WarningCode = Literal["rejected_kind", "caution", "expired", "expires_before_deadline", "coverage", "undated", "overdue"]


class Warning(BaseModel):
    code: WarningCode
    kind: str | None = None
    message: str


class Checklist(BaseModel):
    scenario: str
    platform: str
    label: str
    mode: Literal["any_of", "all_of"] = Field(description="any_of: 以下任选其一; all_of: 需全部提供")
    options: list[OptionResult]
    complete: bool
    rejected: list[ChecklistItem] = Field(default_factory=list, description="evidence present that this scenario refuses")
    warnings: list[Warning] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    deadline: Deadline | None = None
    on_timeout: str
    explanation: str = Field(description="举证说明；缺的值以【待填：…】标出")
    explanation_detail: Explanation = Field(description="说明是否可直接复制、缺哪些值、是否按平台字数上限截短")
    common_practice: bool
    provenance: Provenance
    source_label: str = Field(default="", description="来源，卖家可读：「来源：拼多多售后举证说明」或「通用做法，非平台规则」")
    advice: str | None = Field(default=None, description="已齐全但按更严格的读法建议补充时的提醒；有它时不要只写「可以提交」")


def evaluate(
    rulebook: Rulebook,
    scenario_id: str,
    evidence: list[Evidence],
    now: datetime,
    *,
    requested_at: datetime | None = None,
    buyer_evidence_at: datetime | None = None,
    confirmed: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
    order_id: str | None = None,
    tracking_number: str | None = None,
    explanation_max_chars: int | None = None,
) -> Checklist:
    scenario = rulebook.scenarios[scenario_id]
    platform = rulebook.platform_of(scenario_id)
    warnings: list[Warning] = []

    deadlines: list[Deadline] = []
    if requested_at is not None:
        stages_done = _stages_done(scenario, evidence)
        deadlines = compute_deadlines(
            scenario, platform, requested_at, now, buyer_evidence_at=buyer_evidence_at, stages_done_at=stages_done
        )
    primary = primary_deadline(deadlines, {e.kind for e in evidence}) if deadlines else None
    if primary and primary.level == "overdue":
        warnings.append(Warning(code="overdue", message=f"{primary.label}已过：{scenario.on_timeout}"))

    # A rejection naming a kind the scenario also asks for is a caution about a variant of it
    # (e.g. a red-stamp proof with a finance seal), not a refusal of the kind itself.
    required = {k for option in scenario.requires for k in option.kinds}
    refused = {r.kind: r for r in scenario.rejected if r.kind and r.kind not in required}
    cautions: dict[str, list[str]] = {}
    for r in scenario.rejected:
        if r.kind in required:
            cautions.setdefault(r.kind, []).append(f"{r.what}无效：{r.reason}")

    usable: dict[str, list[Evidence]] = {}
    item_warnings: dict[str, list[str]] = {}
    for item in evidence:
        if item.kind not in rulebook.kinds:
            continue
        problems = _validity_problems(rulebook.kinds[item.kind], item, now, primary)
        for code, message in problems:
            warnings.append(Warning(code=code, kind=item.kind, message=message))
            item_warnings.setdefault(item.kind, []).append(message)
        if not any(code == "expired" for code, _ in problems):
            usable.setdefault(item.kind, []).append(item)

    rejected_items: list[ChecklistItem] = []
    for kind_id, rejection in refused.items():
        present = [e for e in evidence if e.kind == kind_id]
        if present:
            message = f"{rejection.what}不被接受：{rejection.reason}"
            warnings.append(Warning(code="rejected_kind", kind=kind_id, message=message))
            rejected_items.append(
                _item(rulebook.kinds[kind_id], "rejected", present, platform.id, confirmed, [message])
            )
    for kind_id, notes in cautions.items():
        warnings.extend(Warning(code="caution", kind=kind_id, message=n) for n in notes)

    options: list[OptionResult] = []
    for option in scenario.requires:
        items = []
        for kind_id in option.kinds:
            kind = rulebook.kinds[kind_id]
            have = usable.get(kind_id, [])
            expired = [e for e in evidence if e.kind == kind_id and e not in have]
            state: ItemState = "done" if have else ("rejected" if expired else "missing")
            notes = item_warnings.get(kind_id, []) + cautions.get(kind_id, [])
            items.append(_item(kind, state, have or expired, platform.id, confirmed, notes))
        missing = [i.kind for i in items if i.state != "done"]
        options.append(
            OptionResult(
                kinds=list(option.kinds),
                note=option.note,
                items=items,
                complete=not missing,
                missing=missing,
                provenance=option.provenance,
                source_label=provenance_label(option.provenance),
            )
        )

    complete = any(o.complete for o in options)
    advice = _stricter_advice(rulebook, scenario, usable) if complete else None
    if advice:
        warnings.append(Warning(code="caution", message=f"任一项即算齐全，但{advice}"))

    explanation = fill_explanation(scenario, order_id=order_id, tracking_number=tracking_number, max_chars=explanation_max_chars)
    return Checklist(
        scenario=scenario.id,
        platform=platform.id,
        label=scenario.label,
        mode="any_of" if len(options) > 1 else "all_of",
        options=options,
        complete=complete,
        rejected=rejected_items,
        warnings=warnings,
        deadlines=deadlines,
        deadline=primary,
        on_timeout=scenario.on_timeout,
        explanation=explanation.text,
        explanation_detail=explanation,
        common_practice=scenario.common_practice,
        provenance=scenario.provenance,
        source_label=provenance_label(scenario.provenance),
        advice=advice,
    )


def _stricter_advice(rulebook: Rulebook, scenario: Scenario, usable: dict[str, list[Evidence]]) -> str | None:
    """Complete by the looser reading, but the platform's own words ask for more: say so."""
    if scenario.stricter is None:
        return None
    lacking = [k for k in scenario.stricter.kinds if k not in usable]
    if not lacking:
        return None
    wanted = "和".join(rulebook.kinds[k].label for k in scenario.stricter.kinds)
    missing = "、".join(rulebook.kinds[k].label for k in lacking)
    return f"平台举证要求写明「{scenario.stricter.quote}」，建议{wanted}都提供（还缺：{missing}）"


def fill_explanation(
    scenario: Scenario, *, order_id: str | None, tracking_number: str | None, max_chars: int | None = None
) -> Explanation:
    return fill(scenario.explanation, {"order_id": order_id, "tracking_number": tracking_number}, max_chars)


def _item(
    kind: EvidenceKind,
    state: ItemState,
    evidence: list[Evidence],
    platform_id: str,
    confirmed: set[tuple[str, str]] | frozenset[tuple[str, str]],
    warnings: list[str],
) -> ChecklistItem:
    fields = [
        FieldState(id=f.id, label=f.label, confirmed=(kind.id, f.id) in confirmed)
        for f in kind.fields
        if not f.platforms or platform_id in f.platforms
    ]
    return ChecklistItem(
        kind=kind.id,
        label=kind.label,
        form=kind.form,
        state=state,
        evidence=[e.ref for e in evidence if e.ref],
        fields=fields,
        how_to_obtain=list(kind.how_to_obtain) if state != "done" else [],
        warnings=warnings,
    )


def _validity_problems(kind: EvidenceKind, item: Evidence, now: datetime, deadline: Deadline | None) -> list[tuple[WarningCode, str]]:
    if kind.validity is None:
        return []
    if item.generated_at is None:
        return [("undated", f"{kind.label}未填写生成日期：有效期 {_days(kind.validity.valid_for)} 天，请补填以便核对")]
    problems: list[tuple[WarningCode, str]] = []
    expires = item.generated_at + kind.validity.valid_for
    if expires <= now:
        problems.append(("expired", f"{kind.label}已于 {expires:%Y-%m-%d %H:%M} 过期（有效期 {_days(kind.validity.valid_for)} 天），请重新生成"))
    elif deadline is not None and expires < deadline.deadline_at:
        problems.append(("expires_before_deadline", f"{kind.label}将于 {expires:%Y-%m-%d %H:%M} 过期，早于举证截止时间"))
    if kind.validity.covers and item.covers_from is not None and item.covers_from < item.generated_at - kind.validity.covers:
        problems.append(("coverage", f"{kind.label}只能覆盖生成前 {_days(kind.validity.covers)} 天内的聊天，更早的聊天请另附截图"))
    return problems


def _days(value: timedelta) -> int:
    return value.days


def _stages_done(scenario: Scenario, evidence: list[Evidence]) -> dict[str, datetime]:
    if not scenario.deadline or not scenario.deadline.stages:
        return {}
    done: dict[str, datetime] = {}
    for stage in scenario.deadline.stages:
        times = [e.added_at for e in evidence if e.kind in stage.kinds and e.added_at]
        if stage.kinds and times and {e.kind for e in evidence} >= set(stage.kinds):
            done[stage.id] = min(times)
    return done
