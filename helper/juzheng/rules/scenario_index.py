"""A BM25 index over character 2- and 3-grams of each scenario's description.

The description is built from the rulebook itself (label, key phrases, the platform's request,
option notes, kind labels), so editing a rule changes recognition with no training step. Character
n-grams survive the rewording platforms and sellers do (sentence order, 的/了, synonyms once
canonicalised) where literal phrase lookup does not.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from operator import add
from typing import NamedTuple

from .discourse import AboutReading
from .loader import Rulebook
from .models import Scenario
from .text_prep import _NOISE, TextPrep, alternation_branches, normalise

# How much each part of a scenario's description counts, as term frequency. Key phrases are written
# to be recognised by; the request is long and partly boilerplate; kind labels are shared widely.
PART_WEIGHTS = {"wording": 3.0, "label": 2.0, "shared": 1.0, "request": 0.7, "notes": 0.5, "kinds": 0.3}
K1 = 1.2
B = 1.0
# A gram shared by few ideas is worth far more than one most requests use (请提供、申请平台介入):
# plain BM25 idf separates them too little when there are only ~20 ideas, so it is raised to a power.
IDF_POWER = 1.0
BIGRAM_WEIGHT = 1.0


_TOKENS = re.compile("[\ue000-\uf8ff]")


def grams(text: str) -> Counter[str]:
    """Character bigrams and trigrams within each space-separated run (C-level map over slices:
    this runs on every page read); an atomic word's single character counts on its own."""
    counts: Counter[str] = Counter(_TOKENS.findall(text))
    for run in text.split():
        if len(run) < 2:
            continue
        bigrams = list(map(add, run, run[1:]))
        counts.update(bigrams)
        counts.update(map(add, bigrams, run[2:]))
    return counts


def present_grams(text: str, vocabulary: frozenset[str]) -> set[str]:
    """The grams of a text that any description has: set operations in C, for whole pages. A gram
    spanning a space is in no description, so spaces need no splitting here."""
    if len(text) < 2:
        return set(_TOKENS.findall(text)) & vocabulary
    # Only presence counts, so a run of text the page repeats (menus, labels, list rows) is read once.
    runs = text.split()
    if len(runs) > 64:
        text = " ".join(set(runs))
        # A page's pieces keep their punctuation; split at it too, once the repeats are gone (the
        # pass then runs on a quarter of the page), so the labels and phrases rows share are read once.
        text = " ".join(set(_NOISE.sub(" ", text).split()))
    bigrams = list(map(add, text, text[1:]))
    found = set(bigrams)
    found.update(map(add, bigrams, text[2:]))
    found.update(_TOKENS.findall(text))
    return found & vocabulary


def describe(scenario: Scenario, rulebook: Rulebook, prep: TextPrep) -> dict[str, list[str]]:
    kinds = {k for option in scenario.requires for k in option.kinds}
    label = scenario.label.split("（")[0]  # 「（通用做法）」 describes provenance, not the dispute
    parts = {
        "label": [label],
        "wording": list(scenario.wording),
        "shared": list(scenario.shared_wording),
        "request": [scenario.request_text] if scenario.request_text else [],
        "notes": [o.note for o in scenario.requires if o.note],
        "kinds": [rulebook.kinds[k].label for k in sorted(kinds) if k in rulebook.kinds],
    }
    return {name: [prep.canonicalise(normalise(t)) for t in texts] for name, texts in parts.items()}


ORDINARY = ""  # the pseudo-scenario of texts that are no dispute


def _concept(scenario_id: str) -> str:
    """taobao.quality_issue and tmall.quality_issue are one idea: a word they share is no less telling."""
    return scenario_id.split(".", 1)[1] if "." in scenario_id else scenario_id


def _page_chrome(rulebook: Rulebook) -> list[str]:
    """Labels every after-sale page shows whatever the dispute: counted as common, never scored."""
    words: list[str] = []
    for platform in rulebook.platforms.values():
        for page in platform.pages:
            words += page.request_markers + page.order_id.labels
            for rule in (page.aftersale_id, page.remaining, page.deadline, page.request_text):
                words += rule.labels if rule else []
    return words


BOILERPLATE_SHARE = 3  # a gram in this many of a platform's requests is its boilerplate


def _boilerplate(rulebook: Rulebook, described: dict[str, dict[str, list[str]]]) -> dict[str, set[str]]:
    """Grams a platform's requests all carry (举证时长48小时，超时未举证…): they tell the platform,
    not the dispute, and would otherwise pull every text toward the scenarios quoted at length."""
    out: dict[str, set[str]] = {p: set() for p in rulebook.platforms}
    for platform in rulebook.platforms:
        counts: Counter[str] = Counter()
        for sid, parts in described.items():
            if rulebook.scenario_platform[sid] == platform:
                counts.update({g for text in parts["request"] for g in grams(text)})
        out[platform] = {g for g, n in counts.items() if n >= BOILERPLATE_SHARE}
    return out


def _level_shared(rulebook: Rulebook, ids: list[str], doc_grams: list[dict[str, float]], prep: TextPrep) -> None:
    """A phrase two scenarios share on purpose must weigh the same in both, or length normalisation
    would let it decide after all."""
    holders: dict[str, list[int]] = {}
    for i, sid in enumerate(ids):
        if sid:
            for phrase in rulebook.scenarios[sid].shared_wording:
                for gram in grams(prep.canonicalise(normalise(phrase))):
                    holders.setdefault(gram, []).append(i)
    for gram, docs in holders.items():
        if len(docs) > 1:
            level = min(doc_grams[i][gram] for i in docs)
            for i in docs:
                doc_grams[i][gram] = level


class _GateScan(NamedTuple):
    pattern: re.Pattern[str]
    overlaps: dict[str, list[str]]
    longest: int


@dataclass
class ScenarioIndex:
    ids: list[str]
    platform_of: list[str]
    postings: dict[str, list[tuple[int, float]]]  # gram → (scenario index, BM25 weight without query part)
    doc_grams: list[dict[str, float]] = field(default_factory=list)  # gram → its weight in that scenario
    unique: frozenset[str] = frozenset()  # grams of exactly one idea: mentioning it names that idea
    gates: dict[int, list[str]] = field(default_factory=dict)  # scenario → words one of which the text must say
    ruled_out: dict[int, list[str]] = field(default_factory=dict)  # scenario → words that show its premise false
    vocabulary: frozenset[str] = frozenset()
    # scenario → the variants of the same complaint: ids under one family (taobao.late_shipment.*) or
    # sharing a phrase on purpose (shared_wording: 质量问题 of quality_issue and appliance_quality)
    kin: list[frozenset[int]] = field(default_factory=list)

    prep: TextPrep | None = None
    about: AboutReading | None = None  # signs of a text about disputes, not one (discourse.py)
    # Built on first use and published as one value: detect runs in several server threads at once,
    # and a thread must never see the pattern without its overlap table (a KeyError, a 500).
    _gate_scan: _GateScan | None = None
    _ruled_out_scan: re.Pattern[str] | None = None  # the same: built once, then only read

    def ruled_out_in(self, canonical_text: str) -> set[int]:
        """The scenarios a text rules out (ruled_out_by), in one pass over the page (an ``in`` test
        per word cost 0.4 ms on a 15k page). No word of one list overlaps another's here; a match
        hiding an overlapping word would only leave a scenario allowed, as before the list."""
        if not self.ruled_out:
            return set()
        scan = self._ruled_out_scan
        if scan is None:
            every = sorted({w for ws in self.ruled_out.values() for w in ws})
            scan = self._ruled_out_scan = re.compile("|".join(alternation_branches(every)))
        said = {m.group(0) for m in scan.finditer(canonical_text)}
        return {doc for doc, words in self.ruled_out.items() if not said.isdisjoint(words)} if said else set()

    def mentioned(self, doc: int, said: set[str]) -> bool:
        """Whether the text says one of the scenario's premise words; ``said`` from ``said_gate_words``."""
        words = self.gates.get(doc)
        return not words or not said.isdisjoint(words)

    def said_gate_words(self, canonical_text: str) -> set[str]:
        """Every premise word (requires_mention) the text contains, as ``w in text`` would find it, in
        one pass over a page instead of one per word and scenario (~1.6 ms on a 15k page). The scan
        takes non-overlapping matches, so each match's stretch is searched again for the words that
        overlap it (签收 in 未签收)."""
        scan = self._gate_scan
        if scan is None:
            every = sorted({w for ws in self.gates.values() for w in ws if w})
            if not every:
                return set()
            scan = self._gate_scan = _GateScan(
                re.compile("|".join(alternation_branches(every))),
                # the words a match of m may hide: inside it, or starting inside it and running on
                {m: [w for w in every if w != m and (w in m or any(w.startswith(m[k:]) for k in range(1, len(m))) or w.startswith(m))]
                 for m in every},
                max(map(len, every)),
            )
        found: set[str] = set()
        for match in scan.pattern.finditer(canonical_text):
            word = match.group(0)
            found.add(word)
            hidden = scan.overlaps[word]
            if hidden:
                stretch = canonical_text[match.start() : match.end() + scan.longest - 1]
                found.update(w for w in hidden if w in stretch)
        return found

    @classmethod
    def build(cls, rulebook: Rulebook) -> ScenarioIndex:
        prep = TextPrep(rulebook.vocabulary)
        ids = list(rulebook.scenarios)
        described = {sid: describe(rulebook.scenarios[sid], rulebook, prep) for sid in ids}
        boilerplate = _boilerplate(rulebook, described)
        # A platform's own name (拼多多平台客服 in one request, 不是拼多多平台规则 in a note) tells the
        # platform, never which of its disputes: 「拼多多 空包 待补凭证」 scored 4.8 for 差价 from it.
        names = {
            g for platform in rulebook.platforms.values() for word in [platform.label, *platform.name_words]
            for g in grams(prep.canonicalise(normalise(word)))
        }
        tfs: list[dict[str, float]] = []
        for sid in ids:
            tf: dict[str, float] = {}
            common = boilerplate[rulebook.scenario_platform[sid]]
            for part, texts in described[sid].items():
                for text in texts:
                    for gram, count in grams(text).items():
                        if gram in names or (part == "request" and gram in common):
                            continue
                        tf[gram] = tf.get(gram, 0.0) + count * PART_WEIGHTS[part]
            tfs.append(tf)
        ordinary: dict[str, float] = {}
        for text in rulebook.vocabulary.ordinary:
            for gram, count in grams(prep.canonicalise(normalise(text))).items():
                ordinary[gram] = ordinary.get(gram, 0.0) + count * PART_WEIGHTS["wording"]
        if ordinary:
            ids.append(ORDINARY)
            tfs.append(ordinary)
        lengths = [sum(tf.values()) for tf in tfs]
        average = sum(lengths) / max(len(lengths), 1)
        # Document frequency over ideas, not files, plus the page chrome as one more "idea".
        concept_grams: dict[str, set[str]] = {}
        for sid, tf in zip(ids, tfs, strict=True):
            concept_grams.setdefault(_concept(sid) if sid else "\0ordinary", set()).update(tf)
        chrome: set[str] = set()
        for text in _page_chrome(rulebook):
            chrome.update(grams(prep.canonicalise(normalise(text))))
        concept_grams["\0chrome"] = chrome
        df: Counter[str] = Counter(g for gs in concept_grams.values() for g in gs)
        n = len(concept_grams)
        postings: dict[str, list[tuple[int, float]]] = {}
        doc_grams: list[dict[str, float]] = [{} for _ in tfs]
        for i, tf in enumerate(tfs):
            norm = K1 * (1 - B + B * lengths[i] / average)
            for gram, f in tf.items():
                idf = math.log(1 + (n - df[gram] + 0.5) / (df[gram] + 0.5)) ** IDF_POWER
                value = idf * f * (K1 + 1) / (f + norm) * (BIGRAM_WEIGHT if len(gram) == 2 else 1.0)
                doc_grams[i][gram] = value
        _level_shared(rulebook, ids, doc_grams, prep)
        for i, values in enumerate(doc_grams):
            for gram, value in values.items():
                postings.setdefault(gram, []).append((i, value))
        return cls(
            ids=ids,
            platform_of=[rulebook.scenario_platform[s] if s else "" for s in ids],
            postings=postings,
            doc_grams=doc_grams,
            unique=frozenset(g for g, count in df.items() if count == 1),
            vocabulary=frozenset(postings),
            gates={
                i: [prep.canonicalise(normalise(w)) for w in rulebook.scenarios[sid].requires_mention]
                for i, sid in enumerate(ids)
                if sid and rulebook.scenarios[sid].requires_mention
            },
            ruled_out={
                i: [w for w in (prep.canonicalise(normalise(w)) for w in rulebook.scenarios[sid].ruled_out_by) if w]
                for i, sid in enumerate(ids)
                if sid and rulebook.scenarios[sid].ruled_out_by
            },
            prep=prep,
            about=AboutReading(rulebook.vocabulary),
            kin=_kin(rulebook, ids),
        )


def _family(scenario_id: str) -> str:
    return scenario_id.rsplit(".", 1)[0] if scenario_id.count(".") >= 2 else scenario_id


def _kin(rulebook: Rulebook, ids: list[str]) -> list[frozenset[int]]:
    def shared(sid: str) -> set[str]:
        return set(rulebook.scenarios[sid].shared_wording) if sid else set()

    out = []
    for sid in ids:
        out.append(frozenset(
            j for j, other in enumerate(ids)
            if sid and other and other != sid
            and rulebook.scenario_platform[other] == rulebook.scenario_platform[sid]
            and (_family(other) == _family(sid) or shared(sid) & shared(other))
        ))
    return out
