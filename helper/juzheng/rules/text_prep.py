"""Page text → weighted pieces ready for matching: fields weighed, negations dropped, synonyms read.

Pure functions. A page field such as 退款原因：空包 names the dispute in two characters, so the
values of such fields count more than running text; 售后类型 (仅退款 / 退货退款) is on every case
and says little, so its value is dropped. A negated mention (「不是质量问题」) is removed to the end
of its clause, so it cannot vote for the scenario it denies.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .models import Vocabulary

_NOISE = re.compile(r"[\s\u3000,，.。;；:：!！?？、\"'“”‘’()（）\[\]【】<>《》…\-—_/|｜·•~～*#+＋=¥$%&@^`{}]+")
# Order and tracking numbers: long digit runs, with any letters glued to them. They carry no
# meaning, and their digits would otherwise match the 48 / 72 of a request's time limit.
_CODES = re.compile(r"[a-z]*\d{4,}[a-z0-9]*")
_CLAUSE_END = re.compile(r"[,，.。;；!！?？\n|｜]|而是|但是|但|只是|是")
_TOKEN_BASE = 0xE000  # Unicode private-use area: never in page text after NFKC
NOTE_HEAD = 10  # characters of a text's opening in which a note's title is looked for
_CLAUSES = re.compile(r"([,，.。;；!！?？\n|｜])")
_SEPARATOR = re.compile(r"[|｜\n;；]|\s{2,}")


def normalise(text: str) -> str:
    """Full-width → half-width, lower case, codes, punctuation and spaces removed."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _NOISE.sub("", _CODES.sub(" ", folded))


@dataclass(frozen=True)
class Piece:
    text: str  # normalised, synonyms applied
    weight: float


class TextPrep:
    """The vocabulary compiled once per rulebook."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.canonical: dict[str, str] = {}
        # An atomic word becomes one private-use character, so its n-grams share nothing with its parts.
        self.tokens: dict[str, str] = {}
        fillers = sorted((normalise(w) for w in vocabulary.filler if normalise(w)), key=len, reverse=True)
        strip = re.compile("|".join(map(re.escape, fillers))) if fillers else None
        for g_index, group in enumerate(vocabulary.groups):
            # The replacement is not scanned again, so it must already be free of filler words.
            target = strip.sub("", normalise(group.canonical)) if strip else normalise(group.canonical)
            if group.atomic:
                token = chr(_TOKEN_BASE + g_index)
                self.tokens[token] = target
                self.canonical[target] = token
                target = token
            else:
                # The canonical word maps to itself, so a variant inside it (红章 in 红章证明) cannot
                # split it, and reading a text twice changes nothing.
                self.canonical.setdefault(normalise(group.canonical), target)
            for variant in group.variants:
                self.canonical[normalise(variant)] = target
        for word in vocabulary.filler:
            self.canonical.setdefault(normalise(word), "")
        variants = sorted(self.canonical, key=len, reverse=True)
        self._synonyms = re.compile("|".join(map(re.escape, variants))) if variants else None
        cues = sorted({normalise(c) for c in vocabulary.negation if normalise(c)}, key=len, reverse=True)
        self._negation = re.compile("|".join(map(re.escape, cues))) if cues else None
        after = sorted({normalise(c) for c in vocabulary.negation_after if normalise(c)}, key=len, reverse=True)
        self._negation_after = re.compile("|".join(map(re.escape, after))) if after else None
        asks = sorted({normalise(q) for q in vocabulary.questions if normalise(q)}, key=len, reverse=True)
        self._question_words = re.compile("|".join(map(re.escape, asks))) if asks else None
        self.strong = {f for f in vocabulary.strong_fields}
        self.weak = {f for f in vocabulary.weak_fields}
        labels = sorted(self.strong | self.weak, key=len, reverse=True)
        self._fields = (
            re.compile("(" + "|".join(map(re.escape, labels)) + r")\s*[:：]\s*") if labels else None
        )
        self.note_titles = [normalise(t) for t in vocabulary.note_titles if normalise(t)]
        self.shop_markers: dict[str, list[str]] = {p: [normalise(m) for m in marks] for p, marks in vocabulary.shop_markers.items()}

    def canonicalise(self, normalised: str) -> str:
        if self._synonyms is None:
            return normalised
        return self._synonyms.sub(lambda m: self.canonical[m.group(0)], normalised)

    def drop_negated(self, raw: str) -> str:
        """Remove every negated mention up to the end of its clause."""
        if self._negation is None:
            return raw
        out: list[str] = []
        pos = 0
        folded = unicodedata.normalize("NFKC", raw)
        for match in self._negation.finditer(folded):
            if match.start() < pos:
                continue
            out.append(folded[pos : match.start()])
            end = _CLAUSE_END.search(folded, match.end())
            pos = end.start() if end else len(folded)
            out.append("，")
        out.append(folded[pos:])
        return "".join(out)

    def readable(self, text: str) -> str:
        """Atomic tokens back to their words, for showing the seller what matched."""
        for token, word in self.tokens.items():
            text = text.replace(token, word)
        return text

    def drop_questions(self, raw: str) -> str:
        """Remove clauses that ask (「会不会有色差？」): a buyer's question is not a complaint; and
        what a clause denies after the fact (「质量没有问题」)."""
        clauses = _CLAUSES.split(unicodedata.normalize("NFKC", raw))
        kept = []
        for i in range(0, len(clauses), 2):
            clause, end = clauses[i], clauses[i + 1] if i + 1 < len(clauses) else ""
            asking = end in ("?", "？") or clause.rstrip().endswith("吗")
            if self._question_words is not None and self._question_words.search(clause):
                asking = True
            if not asking and self._negation_after is not None:
                denied = list(self._negation_after.finditer(clause))
                if denied:
                    clause = clause[denied[-1].end() :]
            kept.append("，" if asking else clause + end)
        return "".join(kept)

    def pieces(self, text: str, field_weight: float) -> list[Piece]:
        """The text split into field values (weighted) and the rest (weight 1)."""
        # Synonyms first, on the text with its punctuation: 没有收到 becomes 未收到 before 没有 is
        # read as a negation, and clause ends stay visible to the negation and question rules.
        text = self.canonicalise(unicodedata.normalize("NFKC", text).lower())
        text = self.drop_negated(self.drop_questions(text))
        parts: list[tuple[str, float]] = []
        rest_from = 0
        if self._fields is not None:
            for match in self._fields.finditer(text):
                if match.start() < rest_from:
                    continue
                sep = _SEPARATOR.search(text, match.end())
                end = sep.start() if sep else len(text)
                end = min(end, match.end() + 40)
                parts.append((text[rest_from : match.start()], 1.0))
                label = match.group(1)
                parts.append((text[match.end() : end], 0.0 if label in self.weak else field_weight))
                rest_from = end
        parts.append((text[rest_from:], 1.0))
        pieces = []
        for chunk, weight in parts:
            cleaned = self.canonicalise(normalise(chunk))
            if cleaned and weight > 0:
                pieces.append(Piece(cleaned, weight))
        return pieces

    def is_note(self, text: str) -> bool:
        """A training note or script opens with its title; a platform request or page does not."""
        head = normalise(text[:40])[:NOTE_HEAD]
        return any(t in head for t in self.note_titles)

    def says_shop(self, platform: str, text: str) -> bool:
        folded = unicodedata.normalize("NFKC", text).lower()
        return any(m and m in folded for m in self.shop_markers.get(platform, []))
