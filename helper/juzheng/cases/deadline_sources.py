"""Which deadline a case runs on, and where it came from: pure logic, no store, no clock.

A case may know its deadline several ways: the page's countdown or stated deadline (``page``), the
request time the page's history shows plus the scenario's window (``request``), a time the seller
typed from the platform (``seller``), or, when none of those exists, the time the helper first saw
the case plus the window (``estimate``). When two of the real sources disagree by more than a few
minutes the earlier one is used: a deadline shown to the seller must never be later than the truth.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from ..rules.deadline_text import BEIJING

DeadlineSource = Literal["page", "request", "seller", "estimate"]
SOURCE_LABELS: dict[str, str] = {
    "page": "页面倒计时",
    "request": "按申请时间推算",
    "seller": "卖家填写",
    "estimate": "估算",
}
# Countdowns read at minute resolution and request times without seconds differ by that much anyway.
CONFLICT_SLACK = timedelta(minutes=5)


class DeadlineCandidate(BaseModel):
    source: DeadlineSource
    deadline_at: datetime


class DeadlineConflict(BaseModel):
    used: DeadlineSource = Field(description="采用的来源（较早的那个）")
    sources: list[DeadlineCandidate] = Field(description="相互矛盾的各来源及其截止时间，早的在前")
    spread_seconds: int = Field(description="最早与最晚相差的秒数")
    message: str = Field(description="给卖家看的说明")


class ResolvedDeadline(BaseModel):
    deadline_at: datetime | None
    source: DeadlineSource | None
    conflict: DeadlineConflict | None = None
    candidates: list[DeadlineCandidate] = Field(default_factory=list)


def resolve_deadline(
    *,
    page: datetime | None = None,
    request: datetime | None = None,
    seller: datetime | None = None,
    estimate: datetime | None = None,
) -> ResolvedDeadline:
    """The earliest known deadline; the estimate counts only when nothing real is known."""
    real = [
        DeadlineCandidate(source=s, deadline_at=at)  # type: ignore[arg-type]
        for s, at in (("page", page), ("request", request), ("seller", seller))
        if at is not None
    ]
    if not real:
        if estimate is None:
            return ResolvedDeadline(deadline_at=None, source=None)
        only = DeadlineCandidate(source="estimate", deadline_at=estimate)
        return ResolvedDeadline(deadline_at=estimate, source="estimate", candidates=[only])
    ordered = sorted(real, key=lambda c: (c.deadline_at, _PREFERENCE[c.source]))
    first, last = ordered[0], ordered[-1]
    spread = last.deadline_at - first.deadline_at
    conflict = None
    if spread > CONFLICT_SLACK:
        conflict = DeadlineConflict(
            used=first.source,
            sources=ordered,
            spread_seconds=int(spread.total_seconds()),
            message=conflict_message(first, last, spread),
        )
    return ResolvedDeadline(deadline_at=first.deadline_at, source=first.source, conflict=conflict, candidates=ordered)


# Equal times: the page's own statement names the source.
_PREFERENCE = {"page": 0, "seller": 1, "request": 2, "estimate": 3}


def conflict_message(first: DeadlineCandidate, last: DeadlineCandidate, spread: timedelta) -> str:
    at = first.deadline_at.astimezone(BEIJING).strftime("%m-%d %H:%M")
    return (
        f"{SOURCE_LABELS[first.source]}与{SOURCE_LABELS[last.source]}的截止时间相差{_duration(spread)}，"
        f"已按较早的 {at}（北京时间）提醒，请以平台页面为准"
    )


def estimate_note(window: timedelta) -> str:
    hours = int(window.total_seconds() // 3600)
    return f"页面未给出截止时间，按 {hours} 小时从首次打开估算，请以平台为准"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{minutes}分" if minutes and not days else ""]
    return "".join(parts) or "不到1分钟"
