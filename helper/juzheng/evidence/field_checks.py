"""Which field checks an image's text itself confirms for its case: pure, no I/O.

A check is ticked only from something the case knows (the page showed it) and the image shows:
the tracking number, the recipient (收件人姓名), the delivery date (派件日期 = the page's 签收时间).
Names and phones are often masked on both sides (张**, 王*明, 138****5678). A mask hides what it
covers, so it never counts as agreement: a match needs enough characters that both sides show and
none that disagree. Only a surname in common (张** against 张三) is not the recipient; with the
recipient's phone also shown (seven digits in common) it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..rules.deadline_text import BEIJING

_NAME_RUN = re.compile(r"[\u4e00-\u9fff*·]+")
_PHONE_RUN = re.compile(r"(?<![\d*])1\d{2}[\d*]{4}\d{4}(?![\d*])")
_DATE = re.compile(r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*([-/.月])\s*(\d{1,2})(?!\d)\s*(日)?")


def unmask(text: str) -> str:
    """Full-width to ASCII and every mask character made ``*`` (the Latin x only between digits or
    after a Chinese character, where no name or phone has one)."""
    text = unicodedata.normalize("NFKC", text).replace("＊", "*").replace("×", "*")
    return re.sub(r"(?<=[\d\u4e00-\u9fff*])[xX](?=[\d*xX]|$|\s)", "*", text)


MIN_NAME_AGREE = 2  # characters both sides show, for a name alone
MIN_PHONE_AGREE = 7  # digits both sides show (a platform's 138****5678 shows seven)


@dataclass(frozen=True)
class _Name:
    head: str  # shown characters before the mask
    mask: int  # how many mask characters (0: nothing hidden)
    tail: str  # shown characters after the mask
    inner: bool  # the mask sits between shown characters: it stands for exactly that many

    @classmethod
    def of(cls, text: str) -> _Name:
        if "*" not in text:
            return cls(text, 0, "", False)
        first, last = text.index("*"), text.rindex("*")
        head, tail = text[:first], text[last + 1:]
        return cls(head, last - first + 1, tail, bool(head and tail))

    def lengths(self) -> range:
        shown = len(self.head) + len(self.tail)
        if self.mask == 0 or self.inner:
            return range(shown + self.mask, shown + self.mask + 1)
        # 张** is printed for 张三 and 张小明 alike: an edge mask hides one to a few characters.
        return range(shown + 1, shown + max(self.mask, 2) + 1)

    def shown(self, length: int) -> dict[int, str]:
        """Position → character for a name of ``length`` characters."""
        out = dict(enumerate(self.head))
        out.update({length - len(self.tail) + i: ch for i, ch in enumerate(self.tail)})
        return out


def name_agreement(a: str, b: str) -> int | None:
    """How many characters two (maybe masked) names agree on, or ``None`` when they cannot be one name."""
    a, b = unmask(a).replace("·", ""), unmask(b).replace("·", "")
    na, nb = _Name.of(a), _Name.of(b)
    if na.mask == 0 and nb.mask == 0:
        return len(a) if a == b else None
    best: int | None = None
    for length in set(na.lengths()) & set(nb.lengths()):
        sa, sb = na.shown(length), nb.shown(length)
        common = set(sa) & set(sb)
        if any(sa[i] != sb[i] for i in common):
            continue
        best = max(best or 0, len(common))
    return best


def phone_agreement(a: str, b: str) -> int | None:
    if len(a) != len(b):
        return None
    common = [(x, y) for x, y in zip(a, b, strict=True) if x != "*" and y != "*"]
    if any(x != y for x, y in common):
        return None
    return len(common)


def best_name_agreement(name: str, text: str) -> int | None:
    """The best agreement of ``name`` with any name-shaped run of characters in ``text``."""
    target = _Name.of(unmask(name))
    lengths = set(target.lengths())
    best: int | None = None
    for run in _NAME_RUN.findall(unmask(text)):
        for length in lengths | {len(target.head) + len(target.tail) + 1}:
            for start in range(0, max(0, len(run) - length) + 1):
                agree = name_agreement(name, run[start:start + length])
                if agree is not None:
                    best = max(best or 0, agree)
    return best


def phone_shown(phone: str, text: str) -> bool:
    flat = re.sub(r"(?<=[\d*])[\s-](?=[\d*])", "", unmask(text))
    return any((phone_agreement(phone, m) or 0) >= MIN_PHONE_AGREE for m in _PHONE_RUN.findall(flat))


def recipient_shown(name: str | None, phone: str | None, text: str) -> bool:
    if not name:
        return False  # the case does not know the recipient's name: nothing to check against
    agree = best_name_agreement(name, text)
    if agree is None:
        return False
    if agree >= MIN_NAME_AGREE:
        return True
    return agree >= 1 and bool(phone) and phone_shown(phone or "", text)


def date_shown(at: datetime, text: str) -> bool:
    """The Beijing date of ``at`` written in ``text`` (2024-11-05, 2024年11月5日, 2024.11.05, 11月5日)."""
    day = at.astimezone(BEIJING).date()
    for match in _DATE.finditer(unmask(text)):
        year, month, sep, dom, ri = match.groups()
        if year is None and not (sep == "月" and ri):
            continue  # 11-05 alone may be anything (a size, a range): only 11月5日 counts without a year
        if (int(month), int(dom)) == (day.month, day.day) and (year is None or int(year) == day.year):
            return True
    return False


@dataclass(frozen=True)
class CaseFacts:
    """What the case knows that an image may show (from the page; None: not known)."""

    tracking_numbers: frozenset[str] = frozenset()
    recipient_name: str | None = None
    recipient_phone: str | None = None
    signed_at: datetime | None = None


def shown_checks(fields: Iterable[str], text: str, read_tracking: Iterable[str], facts: CaseFacts) -> list[str]:
    """The kind's field checks the image confirms, in the kind's order."""
    out = []
    for field_id in fields:
        if field_id == "tracking_number" and facts.tracking_numbers & set(read_tracking):
            out.append(field_id)
        elif field_id == "recipient_name" and recipient_shown(facts.recipient_name, facts.recipient_phone, text):
            out.append(field_id)
        elif field_id == "delivery_date" and facts.signed_at is not None and date_shown(facts.signed_at, text):
            out.append(field_id)
    return out
