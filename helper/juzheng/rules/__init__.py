"""The rulebook: models, loading with precise errors, and the pure evaluation.

The names are resolved on first use (PEP 562): ``juzheng sort`` needs the ``Rulebook`` and the
store's deadline text, not the evaluation, recognition and their text tables (zhconv, pkg_resources),
which cost more than half of its start-up when this package imported them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .deadlines import Deadline, Level, compute_deadlines, level_for
    from .evaluation import Checklist, Evidence, evaluate
    from .loader import DEFAULT_RULES_DIR, Rulebook, RulebookError, load_rulebook
    from .recognition import Recognition, recognise

_WHERE = {
    "Deadline": "deadlines", "Level": "deadlines", "compute_deadlines": "deadlines", "level_for": "deadlines",
    "Checklist": "evaluation", "Evidence": "evaluation", "evaluate": "evaluation",
    "DEFAULT_RULES_DIR": "loader", "Rulebook": "loader", "RulebookError": "loader", "load_rulebook": "loader",
    "Recognition": "recognition", "recognise": "recognition",
}

__all__ = [
    "DEFAULT_RULES_DIR",
    "Checklist",
    "Deadline",
    "Evidence",
    "Level",
    "Recognition",
    "Rulebook",
    "RulebookError",
    "compute_deadlines",
    "evaluate",
    "level_for",
    "load_rulebook",
    "recognise",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value
