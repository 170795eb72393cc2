"""The case in focus: which case's page the seller has open, since when, and until when.

The extension renews the focus while the case's tab is open and visible and ends it when the tab
closes. ``since`` is when this look at the case began: files that reached the inbox before it are
never filed to the case without asking (see :mod:`juzheng.evidence.offer`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .store import SqliteStore
# The extension renews every minute while the tab is visible; a lapse this long means the tab is
# hidden, the browser crashed or the computer slept.
FOCUS_WINDOW = timedelta(minutes=10)


class FocusState(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    case_id: int
    at: datetime
    since: datetime
    ended_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and now - self.at <= FOCUS_WINDOW


def load_focus(store: SqliteStore) -> FocusState | None:
    row = store.get_focus()
    if row is None:
        return None
    try:
        return FocusState.model_validate(row._asdict())
    except ValueError:  # a hand-edited row: as if nothing were in focus
        return None


def save_focus(store: SqliteStore, state: FocusState) -> None:
    from .store.seller_state import FocusRow

    store.set_focus(FocusRow(state.case_id, state.at.isoformat(), state.since.isoformat(), state.ended_at.isoformat() if state.ended_at else None))


def renew(previous: FocusState | None, case_id: int, now: datetime) -> FocusState:
    """The seller still (or newly) looks at ``case_id``: a new session unless the same one goes on."""
    if previous is not None and previous.case_id == case_id and previous.active(now):
        return previous.model_copy(update={"at": now})
    return FocusState(case_id=case_id, at=now, since=now)


def end(previous: FocusState | None, case_id: int, now: datetime) -> FocusState | None:
    """The case's tab closed: nothing is in focus (unless another case took it meanwhile)."""
    if previous is None or previous.case_id != case_id or previous.ended_at is not None:
        return previous
    return previous.model_copy(update={"ended_at": now})


def as_reply(state: FocusState) -> dict[str, Any]:
    return {"case_id": state.case_id, "at": state.at.isoformat(), "since": state.since.isoformat(), "ended": state.ended_at is not None}
