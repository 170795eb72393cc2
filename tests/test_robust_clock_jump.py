"""A wall-clock jump forward and back never leaves a case view computed "tomorrow".

Seen on a seller's PC whose clock was set a day ahead by hand and then corrected (or synced): the
cached view, computed at the wrong time, stayed valid until the wrong time's next minute, so the
overlay showed the case as overdue for a day.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

PDD_ORDER = "240101-123456789012345"
T0 = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


CLOCK = Clock(T0)


@pytest.fixture(autouse=True)
def reset_clock():
    CLOCK.now = T0
    yield


@pytest.mark.helper_app_options(clock=CLOCK)
async def test_a_jump_forward_and_back_recomputes_the_view(helper_app):
    case = await helper_app.detect(order_id=PDD_ORDER, request_text="买家反馈未收到商品", deadline_text="剩余举证时间 1天2小时")
    first = await (await helper_app.get(f"/api/cases/{case['id']}")).json()
    assert first["level"] != "overdue"

    CLOCK.now = T0 + timedelta(days=2)  # the seller's clock jumps ahead
    ahead = await (await helper_app.get(f"/api/cases/{case['id']}")).json()
    assert ahead["level"] == "overdue"

    CLOCK.now = T0 + timedelta(seconds=5)  # ...and is set right again
    back = await (await helper_app.get(f"/api/cases/{case['id']}")).json()
    assert datetime.fromisoformat(back["computed_at"].replace("Z", "+00:00")) == CLOCK.now
    assert back["level"] == first["level"]
    listed = await (await helper_app.get("/api/cases")).json()
    assert listed[0]["level"] == first["level"]
