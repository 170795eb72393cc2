"""The evidence folder: a watched inbox sorted into per-order, per-kind folders, with zero data loss.

Modules: layout (folder and safe file names), classify (pure: name → platform, order, kind),
mover (journaled no-overwrite moves), recovery (finish or roll back after a crash), watcher
(watchdog glue, debouncing), indexer (the index of sorted files), images (warnings), sorter (one
inbox file), service (the public face: :class:`EvidenceService`).
"""

from .classify import Focus, KnownCase, Placement, Unplaced, classify
from .images import ImageWarning
from .service import EvidenceError, EvidenceService, EvidenceStatus, UndoItem
from .sorter import SortItem

__all__ = [
    "EvidenceError",
    "EvidenceService",
    "EvidenceStatus",
    "Focus",
    "ImageWarning",
    "KnownCase",
    "Placement",
    "SortItem",
    "UndoItem",
    "Unplaced",
    "classify",
]
