"""The rulebook: models, loading with precise errors, and the pure evaluation."""

from .deadlines import Deadline, Level, compute_deadlines, level_for
from .evaluation import Checklist, Evidence, evaluate
from .loader import DEFAULT_RULES_DIR, Rulebook, RulebookError, load_rulebook
from .recognition import Recognition, recognise

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
