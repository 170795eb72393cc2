"""Read a deadline as the platforms' back offices show it: pure text in, time out.

Pages show either the time left (``剩余举证时间 1天23小时59分``, ``剩余 23:59:59``, ``剩余 5 小时``) or
an absolute deadline in Beijing time (``举证截止时间 2026-11-23 18:00``). Nothing here raises on odd
text: what cannot be read is ``None``, and the caller falls back to the rule's window.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_NUM = r"(\d{1,4})"
# 1天23小时59分59秒 in any subset and with optional spaces; 分钟/时 spelled out or short.
_UNITS = re.compile(
    r"(?:" + _NUM + r"\s*(?:天|日))?\s*"
    r"(?:" + _NUM + r"\s*(?:小时|个小时|时))?\s*"
    r"(?:" + _NUM + r"\s*(?:分钟|分))?\s*"
    r"(?:" + _NUM + r"\s*秒)?"
)
# 23:59:59 or 23:59 (hours may exceed 24 on some pages: 47:59:59), optionally after 1天.
_CLOCK = re.compile(r"(?:(\d{1,3})\s*天\s*)?(\d{1,3})\s*:\s*([0-5]\d)(?:\s*:\s*([0-5]\d))?")
_ABSOLUTE = re.compile(
    r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*T?\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})?\s*分?(?:\s*[:：]\s*(\d{1,2})\s*秒?)?)?"
)
# A live case's deadline lies in these years; anything else is a misread or a hostile page (and the
# far ends, 0001-01-01 or 9999-12-31, overflow as soon as a window is added or a zone converted).
MIN_YEAR, MAX_YEAR = 2000, 2199
_REMAINING_MARKERS = ("剩余", "还剩", "剩下", "倒计时", "距超时", "距离超时", "距截止", "距离截止", "处理时限", "举证时限")
_DEADLINE_MARKERS = ("截止", "到期", "之前", "前完成", "前提交", "结束时间", "截至")


_TAG = re.compile(r"<[^<>]{1,200}>")


def _clean(text: str) -> str:
    # Full-width digits and colons (２３：５９) are common in copied page text.
    # Copied markup (还剩<b>2</b>天) reads as its text.
    return unicodedata.normalize("NFKC", _TAG.sub("", text or "")).replace("：", ":")


def parse_remaining(text: str) -> timedelta | None:
    """The time left in ``text``, or ``None`` when it states none."""
    text = _clean(text)
    if not text.strip():
        return None
    for marker in _REMAINING_MARKERS:
        at = text.find(marker)
        if at >= 0:
            found = _remaining_in(text[at + len(marker):])
            if found is not None:
                return found
    # A bare value ("1天23小时59分", "23:59:59") as an adapter extracts it from a labelled field.
    return _remaining_in(text, anchored=True)


def _remaining_in(text: str, anchored: bool = False) -> timedelta | None:
    # Skip the label's tail ("举证时间：", "处理时间 ") up to the first digit.
    digits = re.search(r"\d", text)
    if not digits:
        return None
    head = text[: digits.start()]
    if anchored and head.strip(" :\t"):
        return None
    if len(head) > 12:  # the number belongs to something else further along the page
        return None
    rest = text[digits.start():]
    clock = _CLOCK.match(rest)
    if clock:
        days, hours, minutes, seconds = (int(g) if g else 0 for g in clock.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    units = _UNITS.match(rest)
    if units and any(units.groups()):
        days, hours, minutes, seconds = (int(g) if g else 0 for g in units.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return None


def parse_absolute(text: str, now: datetime) -> datetime | None:
    """An absolute deadline in ``text`` (Beijing time unless it says otherwise), or ``None``.

    ``now`` supplies the year when the page omits it (``11-23 18:00``): the next such date that is
    not more than a day in the past.
    """
    text = _clean(text)
    iso = _iso_in(text)
    if iso is not None:
        return iso
    best: datetime | None = None
    for match in _ABSOLUTE.finditer(text):
        year, month, day, hour, minute, second = match.groups()
        if year is None and hour is None:
            continue  # "3-7" alone is a range of days, not a date
        if year is not None and not MIN_YEAR <= int(year) <= MAX_YEAR:
            continue  # not a deadline of a live case (and 9999-12-31 24:00 would overflow)
        try:
            value = _build(year, month, day, hour, minute, second, now)
        except (ValueError, OverflowError):
            continue
        if value is not None:
            prefix = text[max(0, match.start() - 12): match.start()]
            if any(m in prefix for m in _DEADLINE_MARKERS) or best is None:
                best = value
                if any(m in prefix for m in _DEADLINE_MARKERS):
                    break
    return best


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_YEAR_FIRST = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")


def plausible(value: datetime | None) -> bool:
    """True for a time a live case can have: year 2000–2199, in its own zone and in UTC."""
    if value is None:
        return True
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return False
    if value.tzinfo is not None:
        try:
            return MIN_YEAR <= value.astimezone(timezone.utc).year <= MAX_YEAR
        except (OverflowError, ValueError):
            return False
    return True


def implausible_date(text: str) -> str | None:
    """The date ``text`` states explicitly (with a year) when that year cannot be a live deadline.

    The caller refuses such text with a message naming the date, instead of silently using the
    rule's window as if the page had said nothing.
    """
    cleaned = _clean(text)
    for match in _YEAR_FIRST.finditer(cleaned):
        if not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
            iso = _ISO.match(cleaned, match.start())
            return (iso or match).group(0)
    return None


def _iso_in(text: str) -> datetime | None:
    match = _ISO.search(text)
    if not match:
        return None
    try:
        value = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    value = value if value.tzinfo else value.replace(tzinfo=BEIJING)
    return value if plausible(value) else None


def _build(year, month, day, hour, minute, second, now: datetime) -> datetime | None:
    h = int(hour) if hour else 23
    m = int(minute) if minute else (0 if hour else 59)
    s = int(second) if second else (0 if hour else 59)
    if h == 24 and m == 0 and s == 0:  # "24:00" closes the day
        extra, h = timedelta(days=1), 0
    else:
        extra = timedelta(0)
    if year:
        return datetime(int(year), int(month), int(day), h, m, s, tzinfo=BEIJING) + extra
    local_now = now.astimezone(BEIJING)
    for y in (local_now.year, local_now.year + 1):
        try:
            value = datetime(y, int(month), int(day), h, m, s, tzinfo=BEIJING) + extra
        except ValueError:
            continue
        if value >= local_now - timedelta(days=1):
            return value
    return None


def parse_deadline_text(text: str, now: datetime) -> datetime | None:
    """The deadline a page states: an absolute time if present, else ``now`` + the time left."""
    if not text:
        return None
    cleaned = _clean(text)
    remaining_first = any(m in cleaned for m in _REMAINING_MARKERS)
    if not remaining_first:
        absolute = parse_absolute(cleaned, now)
        if absolute is not None:
            return absolute
    remaining = parse_remaining(cleaned)
    if remaining is not None:
        return now + remaining
    return parse_absolute(cleaned, now) if remaining_first else None
