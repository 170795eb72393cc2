"""Cases: detect or update a case from what a page adapter extracted, and the case view (case + checklist).

Only this package computes a stored case's checklist; the server, the tray and the CLI reuse it.
"""

from .models import (
    CaseAction,
    CasePatch,
    CaseSummary,
    CaseView,
    ConfirmRequest,
    DetectRequest,
    EvidenceItem,
    FocusRequest,
    PendingItem,
    RecognitionInfo,
    ScenarioChoice,
    TextEvidenceRequest,
)
from .errors import CaseError
from .service import CaseService
from .view import EvidenceServiceLike

__all__ = [
    "CaseAction",
    "CaseError",
    "CasePatch",
    "CaseService",
    "CaseSummary",
    "CaseView",
    "ConfirmRequest",
    "DetectRequest",
    "EvidenceItem",
    "EvidenceServiceLike",
    "FocusRequest",
    "PendingItem",
    "RecognitionInfo",
    "ScenarioChoice",
    "TextEvidenceRequest",
]
