"""Deadlines and urgency levels: pure functions of the rules, the request time and now."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from .models import Levels, Platform, Scenario

Level = Literal["ok", "warn", "urgent", "overdue"]
LEVEL_ORDER: dict[Level, int] = {"ok": 0, "warn": 1, "urgent": 2, "overdue": 3}
LEVEL_LABELS: dict[Level, str] = {"ok": "正常", "warn": "即将截止", "urgent": "紧急", "overdue": "已超时"}


class Deadline(BaseModel):
    id: str
    label: str
    deadline_at: datetime
    remaining_seconds: int
    level: Level
    kinds: list[str] = []


def level_for(remaining: timedelta, levels: Levels) -> Level:
    if remaining <= timedelta(0):
        return "overdue"
    if remaining <= levels.urgent_before:
        return "urgent"
    if remaining <= levels.warn_before:
        return "warn"
    return "ok"


def make_deadline(id: str, label: str, at: datetime, now: datetime, levels: Levels, kinds: list[str] | None = None) -> Deadline:
    remaining = at - now
    return Deadline(
        id=id,
        label=label,
        deadline_at=at,
        remaining_seconds=int(remaining.total_seconds() // 1),
        level=level_for(remaining, levels),
        kinds=kinds or [],
    )


def compute_deadlines(
    scenario: Scenario,
    platform: Platform,
    requested_at: datetime,
    now: datetime,
    *,
    buyer_evidence_at: datetime | None = None,
    stages_done_at: dict[str, datetime] | None = None,
) -> list[Deadline]:
    """Every deadline of the case, in order; staged scenarios give one per stage.

    ``stages_done_at`` holds when a stage's evidence arrived: the next stage runs from then, which
    is how 三包 works (report within 72 h *after the visit*). Without it the next stage runs from
    the previous stage's deadline, the latest the seller could be.
    """
    _require_aware(requested_at, now)
    rule = scenario.deadline
    window = (rule.window if rule and rule.window else None) or platform.evidence_window
    if not rule or not rule.stages:
        at = requested_at + window
        if rule and rule.after_buyer_evidence and buyer_evidence_at is not None:
            at = max(at, buyer_evidence_at + rule.after_buyer_evidence)
        return [make_deadline("evidence", "举证截止", at, now, platform.levels)]

    done = stages_done_at or {}
    ends: dict[str, datetime] = {"request": requested_at}
    cap = requested_at + rule.total if rule.total else None
    out: list[Deadline] = []
    for stage in rule.stages:
        start = ends[stage.after]
        if stage.after in done:
            start = done[stage.after]
        at = start + stage.window
        if cap is not None:
            at = min(at, cap)
        ends[stage.id] = at
        out.append(make_deadline(stage.id, stage.label, at, now, platform.levels, stage.kinds))
    if cap is not None:
        out.append(make_deadline("total", "全流程截止", cap, now, platform.levels))
    return out


def primary_deadline(deadlines: list[Deadline], present_kinds: set[str]) -> Deadline:
    """The deadline the seller must act on now: the first stage whose evidence is still missing."""
    for d in deadlines:
        if d.kinds and not set(d.kinds) <= present_kinds:
            return d
    return deadlines[-1]


def _require_aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None:
            raise ValueError("时间必须带时区（例如 2026-11-23T18:00:00+08:00） / datetimes must carry a timezone")
