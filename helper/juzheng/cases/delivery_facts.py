"""Who the parcel went to and when, from what the page adapter read: pure text in, case fields out.

The adapter (extension/content/extract.js) sends the labelled values as the page shows them:
``recipient_text`` (收货人/收件人: a name, often masked as 张** or 王*明, and a phone, often
138****5678, maybe an address after them), ``signed_text`` (签收时间) and ``shipped_text``
(发货时间). Masks are kept as they are: a mask is what the platform knows, never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from ..evidence.field_checks import unmask
from ..rules.deadline_text import BEIJING, plausible

_NAME = re.compile(r"^([\u4e00-\u9fff·*]{1,6})(?![\u4e00-\u9fff])")
_NOT_NAMES = ("姓名", "信息", "地址", "电话", "手机", "联系", "本人", "买家", "暂无", "未知", "时间", "日期", "状态", "编号", "单号")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?(1\d{2}[\s-]?[\d*]{4}[\s-]?\d{4})(?!\d)")
_TIME = re.compile(
    r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?)?"
)


def recipient_in(text: str | None) -> tuple[str | None, str | None]:
    """(name, phone) from a 收货人 value such as ``张** 138****5678 浙江省…``; either may be ``None``."""
    if not text:
        return None, None
    value = unmask(text).strip()
    phone_match = _PHONE.search(value)
    phone = re.sub(r"[\s-]", "", phone_match.group(1)) if phone_match else None
    if phone is not None and phone.count("*") > 6:
        phone = None  # fewer than five digits shown: nothing to match on
    name_match = _NAME.match(value)
    name = name_match.group(1) if name_match else None
    if name is not None:
        cjk = sum(1 for ch in name if "\u4e00" <= ch <= "\u9fff")
        masked = "*" in name
        # A bare run of more than four characters is a sentence, not a name (收件人姓名与…一致).
        if cjk == 0 or (not masked and not 2 <= cjk <= 4) or any(w in name for w in _NOT_NAMES):
            name = None
    return name, phone


def page_time(text: str | None, now: datetime) -> datetime | None:
    """A past time a page states (签收时间 2024-11-05 10:20, 11月5日, 2024/11/5), Beijing time.

    Without a year it is the latest such date not in the future; a time that is not history (more
    than a day ahead) or not plausible is ``None``.
    """
    if not text:
        return None
    match = _TIME.search(unicodedata.normalize("NFKC", text))
    if match is None:
        return None
    year, month, day, hour, minute, second = match.groups()
    if year is None and hour is None and "月" not in match.group(0):
        return None  # "3-7" alone is a range of days, not a date
    local_now = now.astimezone(BEIJING)
    years = [int(year)] if year else [local_now.year, local_now.year - 1]
    for y in years:
        try:
            value = datetime(y, int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=BEIJING)
        except (ValueError, OverflowError):
            return None
        if value <= local_now + timedelta(days=1) and plausible(value):
            return value
    return None


def delivery_fields(recipient_text: str | None, signed_text: str | None, shipped_text: str | None, now: datetime) -> dict[str, Any]:
    """The case fields the page stated; a field the page did not state is left out (never cleared)."""
    name, phone = recipient_in(recipient_text)
    fields: dict[str, Any] = {
        "recipient_name": name, "recipient_phone": phone,
        "signed_at": page_time(signed_text, now), "shipped_at": page_time(shipped_text, now),
    }
    return {k: v for k, v in fields.items() if v is not None}
