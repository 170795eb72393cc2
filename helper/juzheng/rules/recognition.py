"""Which scenario a platform's request (or a whole page) is about, from its wording.

Ranked similarity (BM25 over character n-grams, see scenario_index) between the page text and a
description of each scenario built from the rulebook. It abstains — returns no scenario — when the
best score is weak or not clearly ahead of the runner-up: a wrong scenario sends the seller after
the wrong evidence, which is worse than asking. Either way the top candidates come back with their
scores and the words that decided, so the seller can pick with one tap.
"""

from __future__ import annotations

import weakref

from pydantic import BaseModel, Field

from .loader import Rulebook
from .scenario_index import ORDINARY, ScenarioIndex, present_grams
from .text_prep import normalise

__all__ = ["Candidate", "Recognition", "normalise", "recognise"]

FIELD_WEIGHT = 3.0  # a labelled reason (退款原因：…) against the same words in running text
# Set on the tuning parts of tests/recognition_devset/ (never on holdout.yaml): below this score
# no text there named its scenario reliably; below this share of the lead over the runner-up, two
# scenarios explain the text about equally well.
MIN_SCORE = 5.3
MIN_LEAD = 1.0  # absolute lead: siblings share the request's boilerplate, which inflates both alike
MIN_MARGIN = 0.08  # and the lead as a share of the best score
FULL_SCORE = 25.0
TOP = 3
MAX_SEEDS = 30  # the strongest matched grams a scenario's reasons are grown from
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


def candidate_ids(rulebook: Rulebook, index: ScenarioIndex, platform: str | None, folded: str) -> set[int]:
    """Scenarios the page may be about. A Tmall shop's case is shown on taobao.com hosts too; when the
    page says so, the Tmall scenarios stand in for their Taobao twins."""
    if not platform:
        return set(range(len(index.ids)))
    allowed = {platform}
    prep = index.prep
    assert prep is not None
    shop = prep.shop_of(platform, folded)
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
    reading = prep.read(text, FIELD_WEIGHT)
    allowed = candidate_ids(rulebook, index, platform, reading.folded)
    allowed = {i for i in allowed if index.mentioned(i, reading.canonical)}
    pieces = reading.pieces

    # Presence, not count: what a page repeats (menus, its own chrome) is no stronger for it.
    query: dict[str, float] = {}
    for piece in pieces:
        for gram in present_grams(piece.text, index.vocabulary):
            if piece.weight > query.get(gram, 0.0):
                query[gram] = piece.weight
    totals = [0.0] * len(index.ids)
    postings = index.postings
    for gram, weight in query.items():
        for doc, value in postings[gram]:
            totals[doc] += weight * value
    scores = {doc: totals[doc] for doc in allowed if totals[doc] > 0}

    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], index.ids[kv[0]]))
    # Ordinary wording ranks like a scenario: ahead of them all, it means "no case". Behind the
    # leader it means nothing (every case page also shows order rows and chat), and it is never
    # offered as a choice.
    ordinary_first = bool(ranked) and index.ids[ranked[0][0]] == ORDINARY
    ranked = [r for r in ranked if index.ids[r[0]] != ORDINARY][:TOP]
    candidates = [
        Candidate(
            scenario=index.ids[doc],
            label=rulebook.scenarios[index.ids[doc]].label,
            score=round(score, 2),
            words=[prep.readable(w) for w in _deciding_words(pieces, query, index.doc_grams[doc])],
        )
        for doc, score in ranked
    ]
    if not candidates:
        return Recognition(scenario=None, matched=[])
    best = ranked[0][1]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    lead = best - second
    note = prep.is_note(reading.folded)
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


def _deciding_words(pieces, query: dict[str, float], doc: dict[str, float], limit: int = 6) -> list[str]:
    """The matched grams grown into the runs of text around them whose bigrams all occur in the
    scenario's description, most telling first. Grows from the matches, never walks the page."""
    seeds = sorted((g for g in query if g in doc), key=lambda g: (-doc[g] * query[g], g))[:MAX_SEEDS]
    words: dict[str, float] = {}
    for gram in seeds:
        if any(gram in w for w in words):
            continue
        for piece in pieces:
            at = piece.text.find(gram)
            if at < 0:
                continue
            start, end = at, at + len(gram)
            while start > 0 and piece.text[start - 1 : start + 1] in doc:
                start -= 1
            while end < len(piece.text) and piece.text[end - 1 : end + 1] in doc:
                end += 1
            word = piece.text[start:end]
            value = sum(doc.get(word[i : i + 2], 0.0) for i in range(len(word) - 1)) or doc[gram]
            if value * piece.weight >= MIN_WORD_VALUE:
                words[word] = max(words.get(word, 0.0), value * piece.weight)
            break
        if len(words) >= 3 * limit:
            break
    best = sorted(words, key=lambda w: -words[w])
    return [w for i, w in enumerate(best) if not any(w in longer for longer in best[:i])][:limit]
