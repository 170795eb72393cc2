"""The case service: the one face the API, the tray and the CLI call for cases.

A thin facade over the modules that do the work: :mod:`.detection` (a case from a page),
:mod:`.view` (building a case view, the one place a stored case's checklist is computed) and its
cache :mod:`.view_cache`, :mod:`.listing` (the list by deadline), :mod:`.corrections` (the
seller's word), :mod:`.evidence_commands` (text, uploads, trash) and :mod:`.level_tracker`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..events import PENDING_CHANGED, EventBus
from ..rules import Rulebook
from ..store import Case, EvidenceRecord, SqliteStore, utcnow
from ..store.records import Event
from . import corrections, detection, evidence_commands
from ..errors import NotFound
from .level_tracker import LevelTracker
from .listing import CaseList
from .models import (
    CaseAction,
    CasePatch,
    CaseSummary,
    CaseView,
    ConfirmRequest,
    DetectRequest,
    EvidenceItem,
    TextEvidenceRequest,
)
from .view import EvidenceServiceLike, build_view
from .view_cache import ViewCache


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
        self._views = ViewCache(store, rulebook, lambda: self.clock(), self._build)
        self._list = CaseList(store, lambda: self.rulebook().digest, self._summary)
        self.levels = LevelTracker(store, bus, self._list, lambda: self.clock())
        self._unsubscribe = bus.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: Event) -> None:
        self._views.changed(event)
        if event.type != PENDING_CHANGED:  # the list carries no pending files
            self._list.changed()

    def invalidate(self) -> None:
        self._views.invalidate()
        self._list.changed()

    def _build(self, case: Case, book: Rulebook, now: datetime) -> CaseView:
        return build_view(case, book, now, self.store, self.evidence)

    def _summary(self, case_id: int, now: datetime) -> tuple[CaseSummary, datetime | None]:
        try:
            entry = self._views.get(case_id)
        except NotFound as exc:
            raise LookupError(case_id) from exc
        return entry.view.summary(), entry.expires

    # -- reading ------------------------------------------------------------------------------
    def view(self, case_id: int) -> CaseView:
        return self._views.get(case_id).view

    def view_json(self, case_id: int) -> bytes:
        return self._views.json(case_id)

    def cached_view_json(self, case_id: int) -> bytes | None:
        return self._views.cached_json(case_id)

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

    def case(self, case_id: int) -> Case:
        case = self.store.get_case(case_id)
        if case is None:
            raise NotFound(f"没有编号为 {case_id} 的案子")
        return case

    # -- commands -----------------------------------------------------------------------------
    def detect(self, req: DetectRequest) -> CaseView:
        return detection.detect(self, req)

    def patch(self, case_id: int, patch: CasePatch) -> CaseView:
        return corrections.patch(self, case_id, patch)

    def act(self, case_id: int, req: CaseAction) -> CaseView:
        return corrections.act(self, case_id, req)

    def confirm(self, case_id: int, req: ConfirmRequest) -> CaseView:
        return corrections.confirm(self, case_id, req)

    def set_focus(self, case_id: int, ended: bool = False) -> dict[str, Any]:
        return corrections.set_focus(self, case_id, ended)

    def add_text(self, case_id: int, req: TextEvidenceRequest) -> EvidenceItem:
        return evidence_commands.add_text(self, case_id, req)

    def add_file(self, case_id: int, kind_id: str, filename: str, data: bytes) -> EvidenceItem:
        return evidence_commands.add_file(self, case_id, kind_id, filename, data)

    def remove_evidence(self, case_id: int, evidence_id: int) -> None:
        evidence_commands.remove_evidence(self, case_id, evidence_id)

    def evidence_file(self, case_id: int, evidence_id: int) -> EvidenceRecord:
        return evidence_commands.evidence_file(self, case_id, evidence_id)

    def check_levels(self) -> list[dict[str, Any]]:
        """Publish LEVEL_CHANGED for every open case whose level got worse since last seen."""
        return self.levels.check_all()
