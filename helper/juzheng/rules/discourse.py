"""Whether a text talks *about* disputes rather than being one.

A shop's service-figures page, a rule page quoting 「买家未收到货的，卖家应…」, a weekly report, a
training note and a case already closed carry every word of a dispute: the dispute gate (cues) and
the scenario scores cannot tell them from a case. What tells them is the kind of text: its headings
and menus, figures in percent, a rule's or an adviser's sentence, a closed state; and the absence of
anything a live case shows (a countdown, a request to upload, the case's own number, what the
platform asks of us). The words are rule data (rules/synonyms.yaml ``about``); this module only
compiles and applies them, once per rulebook.
"""

from __future__ import annotations

import re

from .models import Vocabulary
from .text_prep import _ENDS, alternation, alternation_branches, figure_suffix, normalise

RULE_GAP = 30  # characters of a rule's condition between its reporter and 「的，」 / 「时，」
DUTY_GAP = 20  # and from there to what must be done (「若物流显示已签收，商家需…」)
SHARE_GAP = 6  # characters either side of a percentage where a product's word makes it the goods' (含量才30%)


def _words(words: list[str]) -> re.Pattern[str] | None:
    cleaned = sorted({normalise(w).replace(" ", "") for w in words} - {""})
    # Each branch opens with a literal, so re skips in C what starts none (this may scan a whole page).
    return re.compile("|".join(alternation_branches(cleaned))) if cleaned else None


class AboutReading:
    """The ``about`` vocabulary compiled: ``sign(folded)`` says which sign, if any, the text shows."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        about = vocabulary.about
        self._live = _words(about.live)
        negators = sorted({normalise(w).replace(" ", "") for w in about.live_negators} - {""}, key=len, reverse=True)
        # 「无买家投诉，无平台介入」: a finance or report line saying there was no case at all
        # \Z, not $: a 无 ending the line before (「买家留言：无」) says nothing of the next line's mark.
        # 「有无平台介入」「有没有」 ask whether: not said absent.
        self._negated = re.compile(f"(?<!有)(?:{alternation(negators)})\\Z") if negators else None
        self._rate = figure_suffix(vocabulary)
        self._overview = _words(about.overview)
        self._one_case = _words(about.one_case)
        closed = _words(about.closed)
        # An end state ends its value or clause: 「已完成签收」 is a step of the delivery, not the case's end.
        self._closed = re.compile(f"(?:{closed.pattern})(?![\u4e00-\u9fff])") if closed else None
        self._resolved = _words(about.resolved)
        labels = sorted({normalise(w) for w in about.state_labels} - {""}, key=len, reverse=True)
        # 「售后状态：售后已完成」「处理结果：投诉不成立，…」: the state's value, up to its field's end, ends in a closed word.
        self._closed_state = (
            re.compile(f"(?:{alternation(labels)})\\s*[：:]\\s*[^{_ENDS}|｜]{{0,8}}?(?:{closed.pattern})(?![\u4e00-\u9fff])")
            if labels and closed else None
        )
        self._suppliers = _words(about.suppliers)
        self._genre = _words(about.genre)
        # A product's percentage (「100%羊毛」「含量才30%」「打8折」) is looked up around each one found.
        self._shares = _words(about.product_shares)
        self._min_figures = about.min_figures
        self._units = sorted({u for u in about.count_units if len(u) == 1})
        # A percentage; a count of cases (「2 单」「7 笔」; not a 单号 or a 单价); a tally's row (「质量问题 23」:
        # a word, a space, at most four digits ending the line; an order number is longer, a price has a point).
        self._percent = re.compile(r"\d(?:\.\d+)?\s*%")
        self._count = re.compile(f"\\d\\s*[{''.join(map(re.escape, self._units))}](?![号价])") if self._units else None
        self._tally = re.compile(r"[\u4e00-\u9fff][ \t]+\d{1,4}[ \t]*$")
        who = sorted({normalise(w) for w in vocabulary.reporters} - {""}, key=len, reverse=True)
        self._who = re.compile(alternation(who)) if who else None
        duties = sorted({normalise(w).replace(" ", "") for w in about.duties} - {""}, key=len, reverse=True)
        openers = sorted({normalise(w) for w in about.advice} - {""}, key=len, reverse=True)
        # 「买家…的，卖家应…」: a condition on any buyer, then what must be done: a rule's or an adviser's sentence.
        self._rule = (
            re.compile(
                f"(?:{alternation(who)})[^{_ENDS}]{{0,{RULE_GAP}}}?[的时][,，]\\s*[^。；;\\n]{{0,{DUTY_GAP}}}?(?:{alternation(duties)})(?!了)"
            )
            if who and duties else None
        )
        # 「品质退款率说明：指…」: a figure defined, on a help or rule page.
        suffixes = sorted({normalise(w) for w in vocabulary.figure_suffixes} - {""}, key=len, reverse=True)
        notes = sorted({normalise(w) for w in about.figure_notes} - {""}, key=len, reverse=True)
        self._definition = (
            re.compile(f"(?:{alternation(suffixes)})(?:的)?\\s*(?:{alternation(notes)})") if suffixes and notes else None
        )
        # 「遇到顾客说…」: advice about any buyer; 「遇到个顾客」「遇到一个买家」 is about one.
        self._advice = re.compile(f"(?:{alternation(openers)})(?:{alternation(who)})") if who and openers else None

    def live(self, folded: str) -> bool:
        """Whether the text shows a live case's mark; one followed by 率/占比 (平台介入率) is a figure."""
        if self._live is None:
            return False
        for match in self._live.finditer(folded):
            if self._rate is not None and self._rate.match(folded, match.end(), match.end() + 4):
                continue
            if self._negated is not None and self._negated.search(folded, max(0, match.start() - 4), match.start()):
                continue
            return True
        return False

    def _figures(self, folded: str) -> int:
        """How many figures the text shows, up to min_figures. Each kind is looked for only where a
        plain substring test (C) says it can be: a regex opening with a character class is tried at
        every position of a page (0.5 ms on 15k characters), and this runs on pages with no live mark."""
        found = self._statistics(folded) if "%" in folded else 0
        if found < self._min_figures and self._count is not None and any(u in folded for u in self._units):
            found += len(self._count.findall(folded))
        if found < self._min_figures:
            # a tally row ends its line with digits: only such lines' ends are read
            for line in folded.split("\n"):
                line = line.rstrip()
                if line[-1:].isdigit() and self._tally.search(line[-12:]):
                    found += 1
                    if found >= self._min_figures:
                        break
        return found

    def _statistics(self, folded: str) -> int:
        """Percentages that are statistics: one with a product's word (含量、羊毛、折) a few characters
        before or after is the goods' own (a composition, a discount), which a live case quotes."""
        found = 0
        for match in self._percent.finditer(folded):
            near = folded[max(0, match.start() - SHARE_GAP) : match.end() + SHARE_GAP]
            if self._shares is None or not self._shares.search(near):
                found += 1
        return found

    def sign(self, folded: str) -> str | None:
        """The first sign that ``folded`` (fold()ed page text) is about disputes and no live case:
        "genre", "overview", "figures", "rule", "advice", "supplier" or "closed"; None when it shows none, or when it shows
        a live case's mark. A text pointing at one case (这单) keeps only the closed sign."""
        one_case: bool | None = None  # looked for once, and only where it decides
        if self._genre is not None and self._genre.search(folded):
            one_case = self._one_case is not None and self._one_case.search(folded) is not None
            if not one_case:
                # a job advert lists 小二介入举证 as a skill: the live marks mean nothing in it
                return "genre"
        # What ended the case outweighs its live marks: a withdrawn request's page still shows its 投诉编号
        # and 平台介入; 「撤销退款申请了…不用举证了」 still says 申请了.
        if self._resolved is not None and self._resolved.search(folded):
            return "closed"
        if self._closed_state is not None and self._closed_state.search(folded):
            return "closed"
        if self.live(folded):
            return None
        if self._suppliers is not None and self._suppliers.search(folded) and (self._who is None or not self._who.search(folded)):
            return "supplier"
        if one_case is None:
            one_case = self._one_case is not None and self._one_case.search(folded) is not None
        if one_case:
            # one case, told: only its end state says it is not under way
            return "closed" if self._ended(folded) else None
        if self._overview is not None and self._overview.search(folded):
            return "overview"
        if self._figures(folded) >= self._min_figures:
            return "figures"
        if self._definition is not None and self._definition.search(folded):
            return "figures"
        if self._rule is not None and self._rule.search(folded):
            return "rule"
        if self._advice is not None and self._advice.search(folded):
            return "advice"
        if self._ended(folded):
            return "closed"
        return None

    def _ended(self, folded: str) -> bool:
        if self._closed is not None and self._closed.search(folded):
            return True
        return self._resolved is not None and self._resolved.search(folded) is not None
