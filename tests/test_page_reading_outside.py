"""Page reading on after-sale pages written from the outside (tests/fixtures/pages/outside/).

A second held-out round: ten pages and their expected reading (spec.yaml) written by someone who had
read neither the extension's reader nor the earlier fixtures, from how the three platforms' back
offices are built and worded. Times on a page are placeholders rendered relative to the moment of
the test: ``{{AT+26h|%m月%d日 %H:%M}}`` is Beijing time 26 hours from now in that format. The pages
stay in the suite as they were written.

First run, on the reader of b5181d7, before any change for these pages: 5 of 10 read right.
- PDD work order (关联订单号 in a <th>, 售后单号 beside the address's work-order id): nothing read;
- PDD submitted case: another order's 剩余处理时长 in a header notice taken as this case's, and the
  tracking number after 发货物流 not read;
- Douyin detail-v3: 「距举证结束还有 09 : 41 : 05」 (rendered late, ticking) not read;
- Douyin ruled case: 「平台判定：支持商家」 read as a live request, not won;
- Tmall closed case: the tracking number after 退货物流 / 极兔速递 in separate cells not read.
All ten pass since the changes in the commit that added this file.

Second round (outside_2/, ten more pages stressing forms easy to get wrong), first run on the reader
of 3d9af07: 1 of 10 read right. 今天 23:59 前 in a header row was read as a 23 h 59 min countdown (a
deadline later than the truth); 明天 / 后天 + time and 剩 / 余 + a value, a 倒计时 label beside its
value, a courier's name before a digits-only number, 需要卖家举证, and the buyer's other orders' or
refunds' 退款成功 / 退款关闭 taken as this case's state. Since the commit that added them: 10 of 10,
one of them by a decision stated in DECIDED_OTHERWISE.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import yaml

from fixtures.browser import PAGES_DIR
from juzheng.rules.deadline_text import parse_deadline_text

pytestmark = pytest.mark.browser
ROUNDS = [PAGES_DIR / "outside", PAGES_DIR / "outside_2"]
SPEC = [
    {**entry, "folder": folder}
    for folder in ROUNDS
    if (folder / "spec.yaml").exists()
    for entry in yaml.safe_load((folder / "spec.yaml").read_text(encoding="utf-8"))
]
BEIJING = timezone(timedelta(hours=8))
_AT = re.compile(r"\{\{AT([+-])((?:\d+[dhms])+)\|([^}]*)\}\}")
_PART = re.compile(r"(\d+)([dhms])")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def duration(text: str) -> timedelta:
    return timedelta(seconds=sum(int(n) * _UNIT[u] for n, u in _PART.findall(text)))


def render(html: str, now: datetime) -> str:
    def one(match: re.Match[str]) -> str:
        sign, span, fmt = match.groups()
        at = now + duration(span) if sign == "+" else now - duration(span)
        return at.astimezone(BEIJING).strftime(fmt)

    return _AT.sub(one, html)


# Where the product decides otherwise than the page's writer, said here rather than by editing the
# writer's spec: the spec keeps what they expected.
DECIDED_OTHERWISE: dict[str, dict[str, Any]] = {
    "outside_2/pdd_01_return_compact.html": {
        "state": None,
        # The writer read 「待商家处理：买家申请退货退款」 with a 3-hour clock as a live case. It asks
        # the seller to agree or refuse, not for evidence; by issue 10 only an evidence request (待商家
        # 举证, 平台介入…举证, a request on the page) opens a case. Its countdown is still read.
    },
}


def expected_deadline(entry: dict[str, Any], now: datetime) -> datetime:
    """``deadline_in``: a duration from now; ``deadline_at``: {day: 0|1|2, time: "HH:MM"}, Beijing
    time on today / tomorrow / the day after (what 今天 / 明天 / 后天 on the page mean)."""
    if entry.get("deadline_in"):
        return now + duration(entry["deadline_in"])
    at = entry["deadline_at"]
    hour, minute = (int(x) for x in str(at["time"]).split(":"))
    day = now.astimezone(BEIJING).date() + timedelta(days=int(at["day"]))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


def test_the_pages_and_their_expectations_are_all_there():
    assert len(SPEC) >= 20
    for entry in SPEC:
        assert (entry["folder"] / entry["file"]).is_file(), entry["file"]
        leftover = re.sub(_AT, "", (entry["folder"] / entry["file"]).read_text(encoding="utf-8"))
        assert "{{" not in leftover, (entry["file"], "a placeholder the test cannot render")


def _read(page_reader: Any, entry: dict[str, Any]) -> tuple[dict[str, Any] | None, datetime]:
    now = datetime.now(timezone.utc)
    page_reader.open(entry["url"], render((entry["folder"] / entry["file"]).read_text(encoding="utf-8"), now))
    found = page_reader.extract(now.timestamp() * 1000)
    if (entry.get("deadline_in") or entry.get("deadline_at")) and found and not (found.get("remaining_text") or found.get("deadline_text")):
        # A page may render its countdown late (a placeholder first): wait for it, as the content
        # script does, for up to 3 s.
        until = time.monotonic() + 3
        while time.monotonic() < until and not (found and (found.get("remaining_text") or found.get("deadline_text"))):
            time.sleep(0.1)
            found = page_reader.extract(now.timestamp() * 1000)
    return found, now


def problems(entry: dict[str, Any], found: dict[str, Any] | None, now: datetime) -> list[str]:
    """What the reader got wrong on one page, in words (empty when it read everything right)."""
    if entry["order_id"] is None and entry["state"] is None:
        return [] if found is None else [f"no case expected, got order {found.get('order_id')}"]
    if found is None or found.get("no_adapter"):
        return ["nothing read"]
    wrong = []
    if found["order_id"] != entry["order_id"]:
        wrong.append(f"order {found['order_id']} (candidates {found['_meta'].get('order_candidates')}), expected {entry['order_id']}")
    if entry.get("aftersale_id") and found["aftersale_id"] != entry["aftersale_id"]:
        wrong.append(f"after-sale id {found['aftersale_id']!r}, expected {entry['aftersale_id']!r}")
    if found["page_state"] != entry["state"]:
        wrong.append(f"state {found['page_state']}, expected {entry['state']}")
    if (found.get("tracking_number") or None) != entry.get("tracking"):
        wrong.append(f"tracking {found.get('tracking_number')}, expected {entry.get('tracking')}")
    text = found.get("remaining_text") or found.get("deadline_text")
    if entry.get("deadline_in") or entry.get("deadline_at"):
        expected = expected_deadline(entry, now)
        got = parse_deadline_text(text, now) if text else None
        if got is None or abs(got - expected) > timedelta(minutes=1):
            wrong.append(f"deadline {got} from {text!r}, expected {expected}")
    elif text and entry["state"] in ("requested", "submitted"):
        # A live page that shows no deadline for this case must not get one (another order's
        # countdown in a header notice is not this case's).
        wrong.append(f"deadline read from {text!r}, the page gives none for this case")
    return wrong


@pytest.mark.parametrize("entry", SPEC, ids=[f"{e['folder'].name}/{e['file']}" for e in SPEC])
def test_a_page_written_from_the_outside_is_read(page_reader, entry):
    entry = {**entry, **DECIDED_OTHERWISE.get(f"{entry['folder'].name}/{entry['file']}", {})}
    found, now = _read(page_reader, entry)
    assert not problems(entry, found, now), problems(entry, found, now)
