"""Which scenario a platform's request (or a whole page) is about, from its wording.

The platform rewords its requests from case to case, so no single sentence is relied on: each
scenario lists short key phrases, and the scenario whose matched phrases carry the most text wins.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel

from .loader import Rulebook

_NOISE = re.compile(r"[\s\u3000,，.。;；:：!！?？、\"'“”‘’()（）\[\]【】<>《》…\-—_/|]+")
MIN_SCORE = 4  # fewer matched characters than this is a coincidence, not a recognition


class Recognition(BaseModel):
    scenario: str | None
    matched: list[str]
    score: int = 0
    runner_up: str | None = None


def normalise(text: str) -> str:
    """Full-width → half-width, lower case, punctuation and spaces removed."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


def recognise(rulebook: Rulebook, platform: str | None, text: str) -> Recognition:
    haystack = normalise(text)
    scored: list[tuple[int, int, str, list[str]]] = []
    for scenario_id, scenario in rulebook.scenarios.items():
        if platform and rulebook.scenario_platform[scenario_id] != platform:
            continue
        matched = [p for p in scenario.wording if normalise(p) and normalise(p) in haystack]
        score = sum(len(normalise(p)) for p in _without_nested(matched))
        if score:
            scored.append((score, len(matched), scenario_id, matched))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    if not scored or scored[0][0] < MIN_SCORE:
        return Recognition(scenario=None, matched=scored[0][3] if scored else [])
    best = scored[0]
    runner_up = scored[1][2] if len(scored) > 1 else None
    if len(scored) > 1 and scored[1][:2] == best[:2]:
        # Two scenarios explain the text equally well: saying "don't know" beats guessing.
        return Recognition(scenario=None, matched=best[3], score=best[0], runner_up=runner_up)
    return Recognition(scenario=best[2], matched=best[3], score=best[0], runner_up=runner_up)


def _without_nested(phrases: list[str]) -> list[str]:
    """A phrase inside a longer matched phrase adds no evidence of its own."""
    norm = [normalise(p) for p in phrases]
    return [p for p, n in zip(phrases, norm, strict=True) if not any(n != m and n in m for m in norm)]
