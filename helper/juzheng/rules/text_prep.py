"""Page text → weighted pieces ready for matching: fields weighed, negations dropped, synonyms read.

Pure functions. A page field such as 退款原因：空包 names the dispute in two characters, so the
values of such fields count more than running text; 售后类型 (仅退款 / 退货退款) is on every case
and says little, so its value is dropped. A negated mention (「不是质量问题」) is removed to the end
of its clause, so it cannot vote for the scenario it denies.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from types import ModuleType

from .models import Vocabulary

_NOISE = re.compile(r"[\s\u3000,，.。;；:：!！?？、\"'“”‘’()（）\[\]【】<>《》…\-—_/|｜·•~～*#+＋=¥$%&@^`{}]+")
# Order and tracking numbers: long digit runs, with any letters glued to them. They carry no
# meaning, and their digits would otherwise match the 48 / 72 of a request's time limit.
# The same as ``[a-z]*\d{4,}[a-z0-9]*``, written to open with one character class: re then skips,
# in C, every character that cannot start a code, where the old form was tried at each position of
# a page (and, joined with _NOISE in one alternation, made both slow).
_CODES = re.compile(r"[a-z0-9](?:(?<=[a-z])[a-z]*\d{4}|(?<=\d)\d{3})[a-z0-9]*")
_CLAUSE_WORDS = ("而是", "但是", "只是")
# A negation reaches to the end of its clause; in chat and speech-to-text a space is the comma
# (「根本没有保安 买家已经叫天猫介入了」: the 没有 denies the guard, not the intervention).
_CLAUSE_END = re.compile(r"[,，.。;；!！?？\n|｜ ]|而是|但是|但|只是|是")
_TOKEN_BASE = 0xE000  # Unicode private-use area, removed from every text by fold()
REPORT_GAP = 8  # characters between who states the reason and the verb (「买家一直说」「用户那边反馈」)
NOTE_HEAD = 10  # characters of a text's opening in which a note's title is looked for
_ENDS = r",，.。;；!！?？\n|｜ "
_ANY_LABEL = re.compile(r"(?<=\s)[\u4e00-\u9fff]{2,8}\s*[:：]")  # the next 「 标签：」 on the same line
_SEPARATOR = re.compile(r"[|｜\n;；]|\s{2,}")
_SHARE = re.compile(r"\s*\d+(?:\.\d+)?\s*%")  # a percentage right after a word: a figure, not an event


def alternation(words: list[str]) -> str:
    """A regex matching any of ``words``, longest first, as a trie: Python's re tries the branches
    of a flat alternation one by one at every position, which is slow on a whole page."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(c) + build(child) for c, child in sorted(node.items()) if c != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie)


def alternation_branches(words: list[str]) -> list[str]:
    """``alternation(words)`` as its top-level branches, one per first character, to be joined
    with other branches: a pattern whose every branch opens with a literal lets re skip, in C, the
    characters that start none (a branch opening with a group is tried at every position)."""
    firsts: dict[str, list[str]] = {}
    for word in words:
        if word:
            firsts.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, rests in sorted(firsts.items()):
        rest = alternation([r for r in rests if r])
        optional = "" in rests
        branches.append(re.escape(first) + (f"(?:{rest})?" if optional and rest else rest))
    return branches


# Full-width ASCII forms and the ideographic space to their half-width selves: what NFKC does to
# after-sale text, at a fraction of its cost on a whole page (str.translate is a table lookup).
# Private-use characters are dropped: they stand for atomic words inside, and a page must not fake one.
_HALF_WIDTH: dict[int, int | None] = (
    {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20} | dict.fromkeys(range(0xE000, 0xE100))
)


def _import_zhconv() -> ModuleType:
    """zhconv, read through its own fallback (``open`` beside its module) rather than pkg_resources.

    zhconv imports pkg_resources only to open the JSON file next to it; pkg_resources scans every
    installed distribution on import, which stays in the helper's memory for good (measured: RSS
    with 100,000 files indexed 124.9 → 119.8 MB, empty helper 91.2 → 86.3 MB) and costs ~0.3 s. A ``None`` in ``sys.modules``
    makes that import raise ImportError, the case zhconv handles (setuptools ≥ 81 has no
    pkg_resources at all). Where something already imported pkg_resources, zhconv uses it."""
    if "pkg_resources" in sys.modules or "zhconv" in sys.modules:
        import zhconv

        return zhconv
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import zhconv
    finally:
        if sys.modules.get("pkg_resources", 0) is None:
            del sys.modules["pkg_resources"]
    return zhconv


def _traditional_to_simplified() -> dict[str, str]:
    """Each traditional character to its simplified form (訴 → 诉, 簽 → 签, 題 → 题): sellers paste
    text from Hong Kong and Taiwan buyers, and input methods switch. zhconv's table (MediaWiki's
    conversion data) through its public ``convert``: the CJK block with a line break between
    characters, so only one-character entries apply and the mapping is per character, which lets
    ``fold`` replace the few a page has instead of converting the whole page by phrase."""
    zhconv = _import_zhconv()  # the table is read once, when the rulebook's text preparation is first imported
    block = [chr(c) for c in range(0x4E00, 0xA000)]
    converted = zhconv.convert("\n".join(block), "zh-cn").split("\n")
    if len(converted) != len(block):  # a phrase entry spanning a line break would shift the lines
        raise RuntimeError("zhconv changed its line handling: the traditional table cannot be built")
    table = {t: s for t, s in zip(block, converted, strict=True) if t != s and len(s) == 1}
    _release_tables(zhconv)
    return table


# zhconv keeps every locale's phrase tables (and a set of all their prefixes) once it has converted
# anything: ~6 MB the helper never reads again (RSS with 100,000 files indexed 119.8 → 114.1 MB),
# since fold uses only the per-character table built from them. These are zhconv's caches at their
# initial values, so zhconv reloads them on its next use.
_ZHCONV_CACHES: dict[str, object] = {"zhcdicts": None, "dict_zhcn": None}


def _release_tables(package: ModuleType) -> None:
    # The caches are globals of the module that defines convert (zhconv.zhconv), not of the package.
    zhconv = sys.modules.get(getattr(package.convert, "__module__", ""), package)
    for name, initial in _ZHCONV_CACHES.items():
        if hasattr(zhconv, name):
            setattr(zhconv, name, initial)
    prefixes = getattr(zhconv, "pfsdict", None)
    if isinstance(prefixes, dict):
        prefixes.pop("zh-cn", None)


# str.translate looks every character up in a dict, which on a 15,000-character page of Chinese
# cost more than the rest of recognition; instead the few distinct characters a page has that fold
# changes are found in C (two character classes: one mixing the wide ranges with the thousands of
# single traditional characters made re fall back to a slow class, 16 ms a page) and each replaced
# throughout with str.replace.
_WIDE = re.compile("[\uff01-\uff5e\u3000\ue000-\ue0ff]")
_TO_SIMPLIFIED = _traditional_to_simplified()
_TRADITIONAL = re.compile("[" + "".join(sorted(_TO_SIMPLIFIED)) + "]")  # CJK ideographs: nothing to escape
_FOLD_OF = _TO_SIMPLIFIED | {chr(k): chr(v) if v is not None else "" for k, v in _HALF_WIDTH.items()}


def fold(text: str) -> str:
    """Half-width, simplified, lower case, letter spacing undone: the one folding rule texts and
    page texts both go through."""
    for char in {*_WIDE.findall(text), *_TRADITIONAL.findall(text)}:
        text = text.replace(char, _FOLD_OF[char])
    return unspace(text).lower()


# One space between two Chinese characters (or their punctuation), as OCR of a screenshot writes
# every line: 「买 家 称 收 到 空 包 裹」. Chinese puts no spaces between words, so in such a text
# the single spaces carry nothing; two or more still part its fields.
_SPACED = re.compile(r"(?<=[\u3400-\u9fff\u3001-\u3011]) (?=[\u3400-\u9fff\u3001-\u3011])")
_CJK = re.compile(r"[\u3400-\u9fff]")
SPACED_SHARE = 0.4  # of a text's Chinese characters followed by one space and another: letter-spaced


def unspace(text: str) -> str:
    """The text without its letter spacing, when it is letter-spaced (see ``_SPACED``); else as it is.
    A text with spaces between some words only (「淘宝 天猫」) keeps them."""
    if text.count(" ") * 4 < len(text):  # far too few spaces to be letter-spaced: no regex over it
        return text
    pairs = len(_SPACED.findall(text))
    if pairs < 4 or pairs < SPACED_SHARE * len(_CJK.findall(text)):
        return text
    return _SPACED.sub("", text)


def normalise(text: str) -> str:
    """Full-width → half-width, lower case, codes removed; punctuation and spaces become one space,
    a boundary no n-gram crosses (「订单 商品」 is two words, not the gram 单商)."""
    folded = fold(text)
    return _NOISE.sub(" ", _CODES.sub(" ", folded)).strip()


_END_CHARS = frozenset(",，.。;；!！?？\n|｜ ")
_NEXT_END = re.compile(f"[{_ENDS}]")


MAX_CLAUSE = 120  # characters: a hostile page without punctuation must not make every search scan it all


def _clause_start(text: str, at: int) -> int:
    """Just after the closing mark of the clause before ``at`` (str.rfind per mark: C, not a loop
    over characters; every question on a page is widened to its clause)."""
    stop = max(0, at - MAX_CLAUSE)
    return max(stop, max(text.rfind(c, stop, at) for c in _END_CHARS) + 1)


def _clause_end(text: str, at: int) -> int:
    """Just past the clause's closing mark (a question mark belongs to the question)."""
    if at > 0 and text[at - 1] in _END_CHARS:
        return at
    limit = min(len(text), at + MAX_CLAUSE)
    found = _NEXT_END.search(text, at, limit)
    return found.end() if found else limit


def figure_suffix(vocabulary: Vocabulary) -> re.Pattern[str] | None:
    """What, right after a word, makes it a shop figure (介入率、退款占比): ``.match`` it at the word's end."""
    suffixes = sorted({normalise(w) for w in vocabulary.figure_suffixes if normalise(w)})
    return re.compile(f"[\u4e00-\u9fff]{{0,2}}?(?:{alternation(suffixes)})") if suffixes else None


@dataclass(frozen=True)
class Piece:
    text: str  # normalised, synonyms applied
    weight: float


@dataclass(frozen=True)
class Reading:
    pieces: list[Piece]
    folded: str  # NFKC, lower case, nothing removed
    canonical: str  # folded with synonyms read
    # Reason words (dispute_reasons, after synonyms) in the value of a reason field: what a party
    # states as the dispute's reason, which outranks a status line beside it (see recognise).
    stated: list[str] = field(default_factory=list)


class TextPrep:
    """The vocabulary compiled once per rulebook."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.canonical: dict[str, str] = {}
        # An atomic word becomes one private-use character, so its n-grams share nothing with its parts.
        self.tokens: dict[str, str] = {}
        # Negation and question words, and the words that end a negated clause, are read as they
        # are: a filler such as 是 must not eat the 是 of 不是.
        for word in [*vocabulary.negation, *vocabulary.negation_after, *vocabulary.questions, *_CLAUSE_WORDS]:
            self.canonical.setdefault(normalise(word), normalise(word))
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
        self._synonyms = re.compile(alternation(variants)) if variants else None
        cues = sorted({normalise(c) for c in vocabulary.negation if normalise(c)}, key=len, reverse=True)
        self._negation = re.compile(alternation(cues)) if cues else None
        after = sorted({normalise(c) for c in vocabulary.negation_after if normalise(c)}, key=len, reverse=True)
        self._negation_after = re.compile(alternation(after)) if after else None
        asks = sorted({normalise(q) for q in vocabulary.questions if normalise(q)}, key=len, reverse=True)
        # Flat, each branch opening with a literal: re then finds the characters that can start one
        # in C (a pattern opening with a group or a class among the branches is tried everywhere).
        self._asking = re.compile("|".join([*map(re.escape, asks), f"吗(?=\\s*(?:[{_ENDS}]|$))", "\\?", "？"]))
        self.strong = {f for f in vocabulary.strong_fields}
        self.weak = {f for f in vocabulary.weak_fields}
        labels = sorted(self.strong | self.weak, key=len, reverse=True)
        self._fields = (
            re.compile("(" + "|".join(map(re.escape, labels)) + r")\s*[:：]\s*") if labels else None
        )
        self.note_titles = [normalise(t) for t in vocabulary.note_titles if normalise(t)]
        # The dispute's own signals, looked for in the folded text as written (a filler such as 买家说
        # is one of them). The first one not asked about, denied or part of everyday wording is enough.
        reasons = {normalise(r) for r in vocabulary.dispute_reasons}
        for group in vocabulary.groups:
            if normalise(group.canonical) in reasons:
                reasons.update(normalise(v) for v in group.variants)
        signals = {normalise(c) for c in [*vocabulary.dispute_cues, *vocabulary.strong_fields, *reasons] if normalise(c)}
        # A reason word alone (少了、破了) is a weaker signal than a cue: the shop's own stock notes say it too.
        self._reason_only = frozenset(reasons - {normalise(c) for c in [*vocabulary.dispute_cues, *vocabulary.strong_fields]})
        stock = sorted({normalise(w) for w in vocabulary.stock_words if normalise(w)})
        self._stock = re.compile("|".join(alternation_branches(stock))) if stock else None
        self._figure = figure_suffix(vocabulary)
        fears = sorted({normalise(w) for w in vocabulary.hypothetical if normalise(w)}, key=len, reverse=True)
        self._fear = re.compile(alternation(fears)) if fears else None
        patterns = alternation_branches(sorted(signals))
        who = [normalise(w) for w in vocabulary.reporters if normalise(w)]
        says = [normalise(w) for w in vocabulary.reports if normalise(w)]
        if who and says:
            patterns += [f"{re.escape(w)}[^{_ENDS}]{{0,{REPORT_GAP}}}?(?:{alternation(says)})" for w in sorted(who, key=len, reverse=True)]
        self._cues = re.compile("|".join(patterns)) if patterns else None
        # The reasons as they read after synonyms, for the stated reason in a reason field (below).
        stated = sorted({self.canonicalise(r) for r in reasons if r}, key=len, reverse=True)
        self._stated = re.compile(alternation(stated)) if stated else None
        self._ordinary = [normalise(w) for w in vocabulary.ordinary if normalise(w)]
        self._spelled = {a.lower(): w for a, w in vocabulary.abbreviations.items() if a.isascii() and a.isalpha()}
        # Each branch opens with its literal first letter (re skips, in C, every character that starts
        # none); the lookbehind after it checks no Latin letter or digit came before (nor after: a code).
        self._abbreviation = (
            re.compile("|".join(f"{re.escape(a[0])}(?<![a-z0-9]{re.escape(a[0])}){re.escape(a[1:])}(?![a-z0-9])" for a in sorted(self._spelled, key=len, reverse=True)))
            if self._spelled else None
        )
        self.shop_markers = [(m.shop, set(m.seen_on), [normalise(w) for w in m.words]) for m in vocabulary.shop_markers]
        # 「只有9个」「只剩四瓶」: a count short of what was bought, read as the group word 少件 (its
        # canonical form, so the synonyms pass leaves it). Each branch opens with a literal (fast on pages).
        short = sorted({normalise(w) for w in vocabulary.shortfall_words} - {""})
        units = "".join(re.escape(u) for u in vocabulary.item_units if len(u) == 1)
        self._shortfall = (
            re.compile(f"(?:{'|'.join(alternation_branches(short))})(?=\\s*[0-9一二两三四五六七八九十]{{1,3}}\\s*[{units}])")
            if short and units else None
        )
        self._short_word = self.canonicalise("少件")

    def spell_out(self, folded: str) -> str:
        """Pinyin initials sellers type (申请tk、zl问题) as the words they stand for."""
        if self._abbreviation is None:
            return folded
        return self._abbreviation.sub(lambda m: self._spelled[m.group(0)], folded)

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
        folded = raw
        for match in self._negation.finditer(folded):
            if match.start() < pos:
                continue
            out.append(folded[pos : match.start()])
            limit = min(len(folded), match.end() + MAX_CLAUSE)
            end = _CLAUSE_END.search(folded, match.end(), limit)
            pos = end.start() if end else limit
            out.append("，")
        out.append(folded[pos:])
        return "".join(out)

    def readable(self, text: str) -> str:
        """Atomic tokens back to their words, for showing the seller what matched."""
        for token, word in self.tokens.items():
            text = text.replace(token, word)
        return text

    def drop_questions(self, text: str) -> str:
        """Remove clauses that ask (「会不会有色差？」): a buyer's question is not a complaint; and
        what a clause denies after the fact (「质量没有问题」). Found by their words, then widened to
        the clause: this runs on whole pages."""
        cuts: list[tuple[int, int]] = []
        for match in self._asking.finditer(text):
            cuts.append((_clause_start(text, match.start()), _clause_end(text, match.end())))
        if self._negation_after is not None:
            for match in self._negation_after.finditer(text):
                cuts.append((_clause_start(text, match.start()), match.end()))
        if not cuts:
            return text
        out, pos = [], 0
        for start, end in sorted(cuts):
            if end <= pos:
                continue
            out.append(text[pos : max(start, pos)])
            out.append("，")
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def read(self, text: str, field_weight: float, folded: str | None = None) -> Reading:
        """The text folded once, synonyms read, then split into field values (weighted) and the rest.
        ``folded``: ``fold(text)`` when the caller has it already."""
        folded = fold(text) if folded is None else folded
        # Synonyms first, on the text with its punctuation: 没有收到 becomes 未收到 before 没有 is
        # read as a negation, and clause ends stay visible to the negation and question rules.
        counted = self._shortfall.sub(self._short_word, folded) if self._shortfall is not None else folded
        canonical = self.canonicalise(counted)
        text = self.drop_negated(self.drop_questions(canonical))
        parts: list[tuple[str, float]] = []
        stated: list[str] = []
        rest_from = 0
        if self._fields is not None:
            for match in self._fields.finditer(text):
                if match.start() < rest_from:
                    continue
                sep = _SEPARATOR.search(text, match.end())
                end = sep.start() if sep else len(text)
                following = [m for m in (_ANY_LABEL.search(text, match.end(), end), self._fields.search(text, match.end(), end)) if m]
                end = min((m.start() for m in following), default=end)
                end = min(end, match.end() + 40)
                parts.append((text[rest_from : match.start()], 1.0))
                label = match.group(1)
                value = text[match.end() : end]
                parts.append((value, 0.0 if label in self.weak else field_weight))
                if label not in self.weak and self._stated is not None:
                    stated += [m.group(0) for m in self._stated.finditer(value)]
                rest_from = end
        parts.append((text[rest_from:], 1.0))
        pieces = []
        for chunk, weight in parts:
            # Codes go (their digits would match a request's 48 / 72); punctuation may stay: no gram
            # of a description holds a punctuation mark or a space (they are normalised), so a gram
            # across one matches nothing, exactly as across the space normalise would put there,
            # and the page is not rewritten twice more (the two subs cost ~2 ms on a 15k page).
            cleaned = _CODES.sub(" ", chunk)
            if weight > 0 and not cleaned.isspace() and cleaned:
                pieces.append(Piece(cleaned, weight))
        return Reading(pieces=pieces, folded=folded, canonical=canonical, stated=stated)

    def says_a_reason(self, pieces: list[Piece]) -> bool:
        """Whether a dispute reason (未收到、少件、损坏 …, after synonyms) is left in the pieces once
        questions and negations are gone: what the buyer or the seller says went wrong."""
        return self._stated is not None and any(self._stated.search(p.text) for p in pieces)

    def pieces(self, text: str, field_weight: float) -> list[Piece]:
        return self.read(text, field_weight).pieces

    def is_note(self, folded: str) -> bool:
        """A training note or script opens with its title; a platform request or page does not."""
        head = normalise(folded[:40]).replace(" ", "")[:NOTE_HEAD]
        return any(t in head for t in self.note_titles)

    def in_dispute(self, folded: str) -> bool:
        """Whether the text says an after-sale request or dispute is under way: a cue not in a
        question, not after a negation in its clause, not inside everyday wording (七天无理由退货).
        Stops at the first one, so an after-sale page costs little; only a page with none is scanned whole."""
        if self._cues is None:
            return True
        stock: bool | None = None  # looked for once, only when a reason word is the first signal left
        for match in self._cues.finditer(folded):
            start, end = match.start(), match.end()
            if self._figure is not None and self._figure.match(folded, end, end + 4):
                continue  # 纠纷退款率、介入率: a figure on a data page
            if _SHARE.match(folded, end, end + 12):
                continue  # 质量问题 9%: a reason's share on an analysis page
            clause_from, clause_to = _clause_start(folded, start), _clause_end(folded, end)
            clause = folded[clause_from:clause_to]
            if self._asking.search(clause):
                continue
            if self._negation is not None:
                # as in drop_negated, a space ends a negation's reach
                denied = self._negation.search(folded, max(clause_from, folded.rfind(" ", clause_from, start) + 1), end)
                if denied and denied.start() < start:
                    continue
            if self._fear is not None:
                feared = self._fear.search(folded, clause_from, end)
                if feared and feared.start() < start:
                    continue  # 免得顾客说描述不符: what the shop wants to avoid
            around = folded[max(0, start - 12) : end + 12]
            offset = max(0, start - 12)
            if any(
                (at := around.find(o)) >= 0 and at + offset <= start and at + offset + len(o) >= end
                for o in self._ordinary
            ):
                continue
            if match.group(0) in self._reason_only:
                if stock is None:
                    stock = self._stock is not None and self._stock.search(folded) is not None
                if stock:
                    continue
            return True
        return False

    def shop_of(self, platform: str, folded: str) -> str | None:
        """The shop a page of ``platform`` says its case belongs to, when that is another platform."""
        for shop, seen_on, words in self.shop_markers:
            if platform in seen_on and shop != platform and any(w and w in folded for w in words):
                return shop
        return None
