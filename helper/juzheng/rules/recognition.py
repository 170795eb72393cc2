"""Which scenario a platform's request (or a whole page) is about, from its wording.

Ranked similarity (BM25 over character n-grams, see scenario_index) between the page text and a
description of each scenario built from the rulebook. It abstains — returns no scenario — when the
best score is weak or not clearly ahead of the runner-up: a wrong scenario sends the seller after
the wrong evidence, which is worse than asking. Either way the top candidates come back with their
scores and the words that decided, so the seller can pick with one tap.
"""

from __future__ import annotations

import weakref
from bisect import bisect_right
from typing import Literal

from pydantic import BaseModel, Field

from .case_gate import MAX_CHARS
from .loader import Rulebook
from .scenario_index import ORDINARY, ScenarioIndex, present_grams
from .text_prep import TextPrep, fold, normalise

__all__ = ["ABSTAIN_TEXT", "Candidate", "Recognition", "calibrated", "normalise", "recognise", "strength"]

FIELD_WEIGHT = 3.0  # a labelled reason (退款原因：…) against the same words in running text
# Set on the tuning parts of tests/recognition_devset/ (never on holdout.yaml): below this score
# no text there named its scenario reliably; below this share of the lead over the runner-up, two
# scenarios explain the text about equally well.
MIN_SCORE = 5.3
MIN_LEAD = 1.0  # absolute lead: siblings share the request's boilerplate, which inflates both alike
MIN_MARGIN = 0.08  # and the lead as a share of the best score
FULL_SCORE = 25.0
UNSAID_RIVAL = 0.5  # how much a better-matching scenario whose premise is unsaid counts as a rival
TOP = 3
MAX_SEEDS = 30  # the strongest matched grams a scenario's reasons are grown from
MIN_WORD_VALUE = 1.5  # a run of matching text worth less than this is not shown as a reason


class Candidate(BaseModel):
    scenario: str
    label: str
    score: float
    words: list[str] = Field(description="the words of the text that matched this scenario, strongest first")


Abstention = Literal["no_dispute", "ordinary", "note", "about", "weak", "close", "unsure", "unlikely"]

# Why no scenario was named, as the seller reads it.
ABSTAIN_TEXT: dict[str, str] = {
    "no_dispute": "文字里没有售后或纠纷的说法（退款申请、买家反馈的理由、平台介入），不是案子",
    "ordinary": "文字更像日常店铺文字，不像任何纠纷",
    "note": "这是讲案子的笔记或话术，不是一个案子",
    "about": "这段文字讲的是售后的数据、规则、报告或已结束的单子，不是一个正在处理的案子",
    "weak": "和任何场景都不够像，请自行选择",
    "close": "几个场景一样像，请在「可能是」中选择",
    "unsure": "有一个最像的场景，但把握不够，请在「可能是」中确认",
    "unlikely": "这段文字不太像一个正在等你举证的案子（可能是已结束的单子、提问、广告或闲聊）；若是案子，请在「可能是」中选择",
}
# A scenario is named only where the calibration says its top candidate is right this often. 0.75
# since held-out file 7's first measure joined the pool: its lowest bin reads 0.774 (40/51, every
# miss a first sight); at 0.8 it would leave 22 right tuning texts unnamed (96.5 % -> 92.4 %).
MIN_ACCURACY = 0.75


class Recognition(BaseModel):
    scenario: str | None
    matched: list[str]
    score: float = 0
    runner_up: str | None = None
    confidence: float = Field(
        default=0,
        description="0–1: how often a text this clear had its scenario right on the tuning parts (calibrated); 0 when it abstains",
    )
    candidates: list[Candidate] = Field(default_factory=list)
    abstained: Abstention | None = Field(default=None, description="why no scenario was named; None when one was")
    note: str = Field(default="", description="the seller-facing reason when none was named")


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
    folded = fold(text)
    folded_page = prep.spell_out(folded)
    if not prep.in_dispute(folded_page):
        # No after-sale context at all (a product page, an order list, small talk): no scenario and no
        # guesses to offer; the words of a product's description must not pass for a complaint.
        return _abstain("no_dispute")
    reading = prep.read(text, FIELD_WEIGHT, folded_page)
    offered = candidate_ids(rulebook, index, platform, reading.folded)
    # A scenario whose premise the text never mentions (requires_mention: the buyer's 没收到 for
    # not_received, an agreed date for late_shipment.agreed_time) is never named; it may still be
    # offered as a guess.
    said = index.said_gate_words(reading.canonical)
    allowed = {i for i in offered if index.mentioned(i, said)}
    unmentioned = offered - allowed
    allowed = _consistent_with_stated(index, allowed, reading.stated)
    pieces = reading.pieces

    # Presence, not count: what a page repeats (menus, its own chrome) is no stronger for it.
    # Each gram at the highest weight of a piece it is in: pieces in rising weight, later ones
    # overwriting (dict.update in C, not a comparison per gram of a whole page in Python).
    query: dict[str, float] = {}
    for piece in sorted(pieces, key=lambda p: p.weight):
        query.update(dict.fromkeys(present_grams(piece.text, index.vocabulary), piece.weight))
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
    # A reason said in the text (未收到货、少件、拒收…损坏) outweighs the ordinary wording of an
    # after-sale page around it (同意退款、订单详情): everyday wording wins only where none is said.
    ordinary_first = bool(ranked) and index.ids[ranked[0][0]] == ORDINARY and not prep.says_a_reason(pieces)
    ranked = [r for r in ranked if index.ids[r[0]] != ORDINARY]
    # One whose premise the text shows false (ruled_out_by: 买家已退货 for 未收到货) is not named
    # either, but offered. Looked for only when it would decide: among the two that rank first.
    out: set[int] = set()
    if any(doc in index.ruled_out for doc, _ in ranked[:2]):
        out = index.ruled_out_in(reading.canonical)
        ranked = [r for r in ranked if r[0] not in out]
        unmentioned = unmentioned | (out & offered)
    unmentioned_scores = [(doc, totals[doc]) for doc in unmentioned if totals[doc] > 0 and index.ids[doc] != ORDINARY]

    def offer(pairs: list[tuple[int, float]]) -> list[Candidate]:
        return [
            Candidate(
                scenario=index.ids[doc],
                label=rulebook.scenarios[index.ids[doc]].label,
                score=round(score, 2),
                words=[prep.readable(w) for w in _deciding_words(pieces, query, index.doc_grams[doc])],
            )
            for doc, score in pairs
        ]

    def by_score(pairs: list[tuple[int, float]]) -> list[tuple[int, float]]:
        return sorted(pairs, key=lambda kv: (-kv[1], index.ids[kv[0]]))

    why: Abstention | None = None
    if not ranked:
        why = "ordinary" if ordinary_first else "weak"
        best = lead = 0.0
    else:
        best = ranked[0][1]
        # Rivals: the runner-up, and a scenario whose premise is unsaid but that matches better than
        # the leader, at a discount (UNSAID_RIVAL), unless it is a variant of the same complaint
        # (index.kin): a 延迟发货 text with no variant's premise must not fall to whatever else
        # matched a little (投诉 → 不合理评价).
        kin = index.kin[ranked[0][0]]
        rivals = [score for _, score in ranked[1:2]]
        # One the text rules out (its premise shown false) is no rival at all: it is only offered.
        rivals += [UNSAID_RIVAL * score for doc, score in unmentioned_scores if doc not in kin and doc not in out and score > best]
        lead = best - max(rivals, default=0.0)
        if ordinary_first:
            why = "ordinary"
        elif prep.is_note(reading.folded):
            why = "note"
        elif index.about is not None and index.about.sign(reading.folded):
            # A page or writing about disputes (figures, rules, a report, advice, a closed case): its
            # scenarios are offered as guesses, never named.
            why = "about"
        elif best < MIN_SCORE:
            why = "weak"
        elif lead < MIN_LEAD or lead < MIN_MARGIN * best:
            why = "close"
    confidence = calibrated(rulebook, strength(best, lead))
    if why is None and rulebook.vocabulary.calibration and confidence < MIN_ACCURACY:
        why = "unsure"
    # Last, and only where a scenario would be named: the learned check (case_gate) of whether the
    # text is a live case at all, which word lists could not say for wording they had not seen.
    gate = rulebook.case_gate
    if why is None and gate is not None and len(folded) <= MAX_CHARS:  # a whole page is never gated
        live = index.about is not None and index.about.live(reading.folded)
        if gate.says_no_case(_gate_input(prep, folded), live=live):
            why = "unlikely"
    # The choices: those whose premise the text mentions first, then the others that matched (when
    # this was added, the first guess of an abstention was right 12 times in 16 on the tuning parts
    # this way, 9 in plain score order).
    candidates = offer((ranked + by_score(unmentioned_scores))[:TOP])
    if why is not None and not candidates:
        return _abstain(why)
    top = candidates[0]
    runner_up = candidates[1].scenario if len(candidates) > 1 else None
    if why is not None:
        return Recognition(
            scenario=None, matched=top.words, score=top.score, runner_up=runner_up, candidates=candidates,
            abstained=why, note=ABSTAIN_TEXT[why],
        )
    return Recognition(
        scenario=top.scenario,
        matched=top.words,
        score=top.score,
        runner_up=runner_up,
        confidence=confidence,
        candidates=candidates,
    )


def gate_view(rulebook: Rulebook, text: str) -> str:
    """The text as the live-case check reads it (and is trained on): folded, negated clauses gone.
    「不是质量问题，是少了一件」 is a case of 少件; with 「不是质量问题」 left in it read like the no-case
    texts that say 没问题 (0.51). The raw text, not the canonical one: the gate learned its grams
    from what sellers type. Reading the canonical text instead (synonyms first, so 没有收到 is not
    dropped as a negation) was measured over nineteen files: 452/524 no-case texts and 10/1,074
    cases held back against 450 and 11, and it held back two live cases this reading names."""
    prep = index_for(rulebook).prep
    assert prep is not None
    return _gate_input(prep, fold(text))


def _gate_input(prep: TextPrep, folded: str) -> str:
    # one function for what the gate is trained on (gate_view) and what recognise() asks it
    return prep.drop_negated(folded)


def _consistent_with_stated(index: ScenarioIndex, allowed: set[int], stated: list[str]) -> set[int]:
    """The reason a party states in a reason field (商家拒绝原因：未收到退回商品) outranks what a
    status line beside it shows (退货物流：已签收): where some candidates' descriptions have one of
    the stated reasons, the candidates that have none are dropped. A reason no candidate has changes
    nothing."""
    wanted: set[str] = set()
    for reason in stated:
        # Its longest grams (an atomic word's token, else its trigrams): 收到 alone is in many descriptions.
        found = present_grams(reason, index.vocabulary)
        longest = max((len(g) for g in found), default=0)
        wanted |= {g for g in found if len(g) == longest}
    if not wanted:
        return allowed
    agreeing = {i for i in allowed if index.ids[i] != ORDINARY and not wanted.isdisjoint(index.doc_grams[i])}
    if not agreeing:
        return allowed
    return agreeing | {i for i in allowed if index.ids[i] == ORDINARY}


def _abstain(why: Abstention) -> Recognition:
    return Recognition(scenario=None, matched=[], abstained=why, note=ABSTAIN_TEXT[why])


def strength(best: float, lead: float) -> float:
    """0–1 from the best score and its lead over the runner-up, each saturating: the raw input of
    the calibration (rules/synonyms.yaml ``calibration``), not itself a probability."""
    # A lead at or below zero (a candidate offered ahead of the named one scores higher) is no
    # strength: the two negative factors below would otherwise multiply to more than 1.
    if best <= 0 or lead <= 0:
        return 0.0
    return min(1.0, best / FULL_SCORE) * min(1.0, lead / (4 * MIN_LEAD)) * min(1.0, lead / best / (4 * MIN_MARGIN))


def calibrated(rulebook: Rulebook, raw: float) -> float:
    """The observed accuracy of the calibration bin ``raw`` falls in; without a table, the raw
    strength stretched over 0.5–1 as before."""
    bins = rulebook.vocabulary.calibration
    if not bins:
        return round(0.5 + 0.5 * raw, 2)
    at = bisect_right([b.raw_from for b in bins], raw) - 1
    return bins[max(at, 0)].accuracy


def _deciding_words(pieces, query: dict[str, float], doc: dict[str, float], limit: int = 6) -> list[str]:
    """The matched grams grown into the runs of text around them whose bigrams all occur in the
    scenario's description, most telling first. Grows from the matches, never walks the page."""
    seeds = sorted(query.keys() & doc.keys(), key=lambda g: (-doc[g] * query[g], g))[:MAX_SEEDS]  # & in C
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
