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
HERE = PAGES_DIR / "outside"
SPEC = yaml.safe_load((HERE / "spec.yaml").read_text(encoding="utf-8")) if (HERE / "spec.yaml").exists() else []
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


def test_the_pages_and_their_expectations_are_all_there():
    assert len(SPEC) >= 10
    for entry in SPEC:
        assert (HERE / entry["file"]).is_file(), entry["file"]
        leftover = re.sub(_AT, "", (HERE / entry["file"]).read_text(encoding="utf-8"))
        assert "{{" not in leftover, (entry["file"], "a placeholder the test cannot render")


def _read(page_reader: Any, entry: dict[str, Any]) -> tuple[dict[str, Any] | None, datetime]:
    now = datetime.now(timezone.utc)
    page_reader.open(entry["url"], render((HERE / entry["file"]).read_text(encoding="utf-8"), now))
    found = page_reader.extract(now.timestamp() * 1000)
    if entry.get("deadline_in") and found and not (found.get("remaining_text") or found.get("deadline_text")):
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
    if entry.get("deadline_in"):
        expected = now + duration(entry["deadline_in"])
        got = parse_deadline_text(text, now) if text else None
        if got is None or abs(got - expected) > timedelta(minutes=1):
            wrong.append(f"deadline {got} from {text!r}, expected {expected}")
    elif text and entry["state"] in ("requested", "submitted"):
        # A live page that shows no deadline for this case must not get one (another order's
        # countdown in a header notice is not this case's).
        wrong.append(f"deadline read from {text!r}, the page gives none for this case")
    return wrong


@pytest.mark.parametrize("entry", SPEC, ids=[e["file"] for e in SPEC])
def test_a_page_written_from_the_outside_is_read(page_reader, entry):
    found, now = _read(page_reader, entry)
    assert not problems(entry, found, now), problems(entry, found, now)
