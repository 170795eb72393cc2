"""Which scenario a platform's request (or a whole page) is about, from its wording.

Ranked similarity (BM25 over character n-grams, see scenario_index) between the page text and a
description of each scenario built from the rulebook. It abstains — returns no scenario — when the
best score is weak or not clearly ahead of the runner-up: a wrong scenario sends the seller after
the wrong evidence, which is worse than asking. Either way the top candidates come back with their
scores and the words that decided, so the seller can pick with one tap.
"""

from __future__ import annotations

import math
import weakref
from collections import defaultdict

from pydantic import BaseModel, Field

from .loader import Rulebook
from .scenario_index import ORDINARY, ScenarioIndex, grams
from .text_prep import normalise

__all__ = ["Candidate", "Recognition", "normalise", "recognise"]

FIELD_WEIGHT = 3.0  # a labelled reason (退款原因：…) against the same words in running text
# Calibrated on tests/recognition_devset/tune.yaml (never on the held-out file): below this score
# no text there named its scenario reliably; below this share of the lead over the runner-up, two
# scenarios explain the text about equally well.
MIN_SCORE = 5.3
MIN_LEAD = 1.0  # absolute lead: siblings share the request's boilerplate, which inflates both alike
MIN_MARGIN = 0.08  # and the lead as a share of the best score
FULL_SCORE = 25.0
TOP = 3
MIN_WORD_VALUE = 1.5  # a run of matching text worth less than this is not shown as a reason


class Candidate(BaseModel):
    scenario: str
    label: str
    score: float
    words: list[str] = Field(description="the words of the text that matched this scenario, strongest first")


class Recognition(BaseModel):
    scenario: str | None
    matched: list[str]
    score: float = 0
    runner_up: str | None = None
    confidence: float = Field(default=0, description="0–1: score and lead over the runner-up; 0 when it abstains")
    candidates: list[Candidate] = Field(default_factory=list)


_INDEXES: weakref.WeakKeyDictionary[Rulebook, ScenarioIndex] = weakref.WeakKeyDictionary()


def index_for(rulebook: Rulebook) -> ScenarioIndex:
    index = _INDEXES.get(rulebook)
    if index is None:
        index = _INDEXES[rulebook] = ScenarioIndex.build(rulebook)
    return index


def candidate_ids(rulebook: Rulebook, index: ScenarioIndex, platform: str | None, text: str) -> set[int]:
    """Scenarios the page may be about. A Tmall shop's case is shown on taobao.com hosts too; when the
    page says so, the Tmall scenarios stand in for their Taobao twins."""
    if not platform:
        return set(range(len(index.ids)))
    allowed = {platform}
    prep = index.prep
    assert prep is not None
    shop = next((p for p in prep.shop_markers if p != platform and prep.says_shop(p, text)), None)
    chosen = {i for i, p in enumerate(index.platform_of) if p == platform}
    if shop:
        allowed.add(shop)
        twins = {sid.split(".", 1)[1] for sid, p in zip(index.ids, index.platform_of, strict=True) if p == shop}
        chosen = {i for i in chosen if index.ids[i].split(".", 1)[1] not in twins}
        chosen |= {i for i, p in enumerate(index.platform_of) if p == shop}
    return chosen | {i for i, sid in enumerate(index.ids) if sid == ORDINARY}


def recognise(rulebook: Rulebook, platform: str | None, text: str) -> Recognition:
    index = index_for(rulebook)
    prep = index.prep
    assert prep is not None
    allowed = candidate_ids(rulebook, index, platform, text)
    allowed = {i for i in allowed if index.mentioned(i, text)}
    pieces = prep.pieces(text, FIELD_WEIGHT)

    query: defaultdict[str, float] = defaultdict(float)
    for piece in pieces:
        for gram, count in grams(piece.text).items():
            if gram in index.postings:
                query[gram] += piece.weight * (1 + math.log(count))
    scores: dict[int, float] = {}
    for gram, weight in query.items():
        for doc, value in index.postings[gram]:
            if doc in allowed:
                scores[doc] = scores.get(doc, 0.0) + weight * value

    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], index.ids[kv[0]]))
    # Ordinary wording ranks like a scenario: ahead of them all, it means "no case"; as runner-up it
    # narrows the lead like any rival would. It is never offered as a choice.
    ordinary_score = next((score for doc, score in ranked if index.ids[doc] == ORDINARY), 0.0)
    ordinary_first = bool(ranked) and index.ids[ranked[0][0]] == ORDINARY
    ranked = [r for r in ranked if index.ids[r[0]] != ORDINARY][:TOP]
    candidates = [
        Candidate(
            scenario=index.ids[doc],
            label=rulebook.scenarios[index.ids[doc]].label,
            score=round(score, 2),
            words=[prep.readable(w) for w in _deciding_words(pieces, index.doc_grams[doc])],
        )
        for doc, score in ranked
    ]
    if not candidates:
        return Recognition(scenario=None, matched=[])
    best = ranked[0][1]
    second = max(ranked[1][1] if len(ranked) > 1 else 0.0, ordinary_score)
    lead = best - second
    note = prep.is_note(text)
    runner_up = candidates[1].scenario if len(candidates) > 1 else None
    top = candidates[0]
    if ordinary_first or best < MIN_SCORE or lead < MIN_LEAD or lead < MIN_MARGIN * best or note:
        return Recognition(scenario=None, matched=top.words, score=top.score, runner_up=runner_up, candidates=candidates)
    confidence = min(1.0, best / FULL_SCORE) * min(1.0, lead / (4 * MIN_LEAD)) * min(1.0, lead / best / (4 * MIN_MARGIN))
    confidence = round(0.5 + 0.5 * confidence, 2)
    return Recognition(
        scenario=top.scenario,
        matched=top.words,
        score=top.score,
        runner_up=runner_up,
        confidence=confidence,
        candidates=candidates,
    )


def _deciding_words(pieces, doc: dict[str, float], limit: int = 6) -> list[str]:
    """Runs of the text whose bigrams all occur in the scenario's description, most telling first."""
    spans: dict[str, float] = {}
    for piece in pieces:
        text = piece.text
        start, value = None, 0.0
        for i in range(len(text)):
            gram = text[i : i + 2]
            if len(gram) == 2 and gram in doc:
                if start is None:
                    start, value = i, 0.0
                value += doc[gram] * piece.weight
                continue
            if start is not None and value >= MIN_WORD_VALUE:
                word = text[start : i + 1]
                spans[word] = max(spans.get(word, 0.0), value)
            start = None
    return sorted(spans, key=lambda w: -spans[w])[:limit]
