"""When the platform asked the seller for evidence, read from the page's history: pure text in, time out.

After-sale pages list their history (协商历史, 售后日志, 服务进度) as dated entries such as
``2026-12-01 20:05 平台 申请平台介入，待商家举证``. The latest entry that asks the seller for
evidence is the request; its time plus the scenario's window is a deadline the seller can trust more
than "first seen + window". Entries are told apart by their dates, whatever the markup around them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from .deadline_text import BEIJING, _clean

# 2026-12-01 20:05[:30], 2026/12/01 20:05, 2026年12月01日 20:05, 12-01 20:05 (this year)
_ENTRY_TIME = re.compile(
    r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?"
)
_REQUEST_WORDS = (
    "待商家举证", "待卖家举证", "请商家举证", "请卖家举证", "要求商家举证", "要求卖家举证", "商家举证",
    "卖家举证", "申请平台介入", "平台介入", "申请客服介入", "客服介入", "小二介入", "申请仲裁", "平台仲裁",
    "补充凭证", "上传凭证", "举证",
)
# An entry that says the seller already answered is not a request.
_ANSWER_WORDS = ("商家已举证", "卖家已举证", "已提交凭证", "商家上传了凭证", "商家提交了凭证")
_MAX_ENTRY = 160


def request_time_in(text: str | None, now: datetime) -> datetime | None:
    """The time of the latest history entry that asks for evidence, or ``None``.

    A time in the future (beyond a few minutes of clock skew) is not history and is skipped: a page
    may show the deadline itself in the same format.
    """
    if not text:
        return None
    cleaned = _clean(text)
    matches = list(_ENTRY_TIME.finditer(cleaned))
    best: datetime | None = None
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(cleaned)
        entry = cleaned[match.end(): min(end, match.end() + _MAX_ENTRY)]
        before = cleaned[max(0, match.start() - 40): match.start()]
        if any(w in entry for w in _ANSWER_WORDS) or not any(w in entry for w in _REQUEST_WORDS):
            continue
        if any(w in before for w in ("截止", "之前", "超时")) or any(w in entry[:6] for w in ("前", "之前")):
            continue  # "请在 12-02 14:30 前完成举证" states a deadline, not a request
        at = _entry_time(match, now)
        if at is None or at > now + timedelta(minutes=5):
            continue
        if best is None or at > best:
            best = at
    return best


def _entry_time(match: re.Match[str], now: datetime) -> datetime | None:
    year, month, day, hour, minute, second = match.groups()
    local = now.astimezone(BEIJING)
    try:
        if year:
            if not 2000 <= int(year) <= 2199:
                return None
            return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=BEIJING)
        # No year: the latest such date that is not in the future (history runs backwards in time).
        for y in (local.year, local.year - 1):
            value = datetime(y, int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=BEIJING)
            if value <= local + timedelta(minutes=5):
                return value
    except ValueError:
        return None
    return None
