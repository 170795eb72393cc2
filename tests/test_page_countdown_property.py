"""Property: whatever markup a back office wraps its countdown in, the finder reads the deadline to the
minute. Generated pages split the numbers and units over random inline elements (b/i/em/span/strong,
one element per digit group or per unit), spell units every way (天/日, 时/小时, 分/分钟, 秒), use clocks,
full-width digits, NBSP and ideographic spaces, place the trigger before (labels) or after (…后，系统将…,
…前完成举证), and surround it with noise: other dates (下单时间, history entries), the 48-hour window
wording, prices and order numbers. Run in real Chromium on extension/content/countdown.js + extract.js."""

from __future__ import annotations

import html as htmllib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juzheng.rules.deadline_text import parse_deadline_text

pytestmark = pytest.mark.browser
BEIJING = timezone(timedelta(hours=8))
NOW = datetime.now(timezone.utc).replace(microsecond=0)
FULL = str.maketrans("0123456789:", "０１２３４５６７８９：")

LABELS = ["剩余举证时间", "剩余处理时间", "剩余处理时长", "剩余时间", "还剩", "距超时", "处理时限", "倒计时"]
DEADLINE_LABELS = ["举证截止时间", "举证截止", "截止时间", "超时时间"]
AFTER_SENTENCES = ["后，系统将默认支持买家", "后自动同意退款", "后自动退款", "后系统将自动关闭", "后，平台将支持买家"]
TAGS = ["b", "i", "em", "span", "strong", "font", "u"]
SPACES = ["", " ", "\u00a0", "\u3000", "  "]
NOISE = [
    "下单时间 2026-11-20 10:01:09", "申请时间：2026-11-28 09:00", "2026-11-29 08:00 买家 申请退款",
    "举证时长48小时，超时未举证平台将为客户办理退款", "实付金额 ¥128.50", "订单编号 230101-123456789012345",
    "请在48小时内完成举证", "发货时间 11-21 18:30", "退款金额：59.90元",
]


@st.composite
def pieces(draw, parts: list[str]) -> str:
    """``parts`` as markup: each part maybe in its own inline element, spaces between maybe."""
    out = []
    for part in parts:
        if draw(st.booleans()):
            tag = draw(st.sampled_from(TAGS))
            out.append(f"<{tag}>{htmllib.escape(part)}</{tag}>")
        else:
            out.append(htmllib.escape(part))
        out.append(draw(st.sampled_from(SPACES)).replace("\u00a0", "&nbsp;"))
    return "".join(out)


@st.composite
def countdowns(draw):
    """(markup, expected deadline)."""
    form = draw(st.sampled_from(["units", "clock", "date"]))
    full = draw(st.booleans())
    digits = (lambda s: s.translate(FULL)) if full else (lambda s: s)
    if form == "date":
        at = (NOW + timedelta(minutes=draw(st.integers(30, 70 * 60)))).astimezone(BEIJING).replace(second=0)
        year = draw(st.booleans())
        style = draw(st.sampled_from(["-", "/", "年"]))
        if style == "年":
            date = [*( [f"{at.year}", "年"] if year else []), f"{at.month:02d}", "月", f"{at.day:02d}", "日"]
        else:
            date = [*( [f"{at.year}", style] if year else []), f"{at.month:02d}", style, f"{at.day:02d}"]
        parts = [digits(p) for p in [*date, " ", f"{at.hour:02d}", ":", f"{at.minute:02d}"]]
        if draw(st.booleans()):
            label = draw(st.sampled_from(DEADLINE_LABELS))
            body = f"<span>{label}</span>{draw(st.sampled_from(['：', ':', ' ', '']))}{draw(pieces(parts))}"
        else:
            lead = draw(st.sampled_from(["请在", "须于 ", "请于", "务必在"]))
            tail = draw(st.sampled_from(["前完成举证", " 之前上传凭证", "前提交凭证", "以前处理"]))
            body = f"{lead}{draw(pieces(parts))}{tail}"
        return body, at.astimezone(timezone.utc)
    seconds = draw(st.integers(60, 6 * 86400))
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    if form == "clock":
        if d and draw(st.booleans()):
            parts = [str(d), "天", " ", f"{h:02d}", ":", f"{m:02d}", ":", f"{s:02d}"]
        else:
            parts = [f"{d * 24 + h:02d}", ":", f"{m:02d}", ":", f"{s:02d}"]
    else:
        units = [
            (d, draw(st.sampled_from(["天", "日"]))),
            (h, draw(st.sampled_from(["小时", "时", "个小时"]))),
            (m, draw(st.sampled_from(["分", "分钟"]))),
            (s, "秒"),
        ]
        # Pages drop leading zero units (2小时3分) or keep them (0天02时03分04秒); the last shown unit is
        # the precision: the expected deadline drops what is not shown.
        start = next(i for i, (v, _) in enumerate(units) if v) if draw(st.booleans()) else 0
        stop = draw(st.integers(max(start + 2, 3), 4))
        shown = units[start:stop]
        parts = []
        for value, unit in shown:
            parts += [f"{value:02d}" if draw(st.booleans()) else str(value), unit]
        dropped = sum(v * k for (v, _), k in zip(units[stop:], [86400, 3600, 60, 1][stop:], strict=False))
        seconds -= dropped
    parts = [digits(p) for p in parts]
    if form == "units" and draw(st.booleans()):
        body = f"{draw(pieces(parts))}{draw(st.sampled_from(AFTER_SENTENCES))}"
    else:
        label = draw(st.sampled_from(LABELS))
        body = f"<span>{label}</span>{draw(st.sampled_from(['：', ':', ' ', '']))}{draw(pieces(parts))}"
    return body, NOW + timedelta(seconds=seconds)


@st.composite
def pages(draw):
    body, expected = draw(countdowns())
    block = draw(st.sampled_from(["div", "p", "li", "td", "section"]))
    before = draw(st.lists(st.sampled_from(NOISE), max_size=3))
    after = draw(st.lists(st.sampled_from(NOISE), max_size=3))
    wrap = (lambda t: f"<table><tr><td>{t}</td></tr></table>") if block == "td" else (lambda t: f"<{block}>{t}</{block}>")
    markup = "".join(f"<div>{n}</div>" for n in before) + wrap(body) + "".join(f"<p>{n}</p>" for n in after)
    return markup, expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=pages())
def test_generated_countdowns_are_read_to_the_minute(page_reader, case):
    markup, expected = case
    found = page_reader.find_countdown_in(markup, NOW.timestamp() * 1000)
    assert found is not None, markup
    got = parse_deadline_text(found["text"], NOW)
    assert got is not None, (markup, found)
    assert abs(got - expected) <= timedelta(minutes=1), (markup, found["text"], got.isoformat(), expected.isoformat())


@pytest.fixture(scope="module", autouse=True)
def _blank_page(page_reader):
    page_reader.open("https://mms.pinduoduo.com/blank", "<!doctype html><html><body></body></html>")


def _beijing_day_at(days: int, hour: int, minute: int) -> datetime:
    day = NOW.astimezone(BEIJING).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("markup", "days", "hour", "minute"),
    [
        ("<td>超时时间</td><td>今天 23:59 前</td>", 0, 23, 59),
        ("<p>请于 <b>明天</b> 14:30 前完成举证</p>", 1, 14, 30),
        ("<p>系统将于 <span>后天 10:00 截止</span> 后自动退款</p>", 2, 10, 0),
        ("<p>请在明天下午2点30分前上传凭证</p>", 1, 14, 30),
        ("<p>举证截止：明日 09:05</p>", 1, 9, 5),
    ],
)
def test_a_day_named_from_today_is_a_date_never_a_countdown(page_reader, markup, days, hour, minute):
    """今天 23:59 is a time of day: read as the clock 23:59 it would be a deadline up to a day later
    than the truth, the dangerous direction."""
    found = page_reader.find_countdown_in(markup, NOW.timestamp() * 1000)
    assert found is not None and found["kind"] == "deadline", (markup, found)
    assert parse_deadline_text(found["text"], NOW) == _beijing_day_at(days, hour, minute), (markup, found)


@pytest.mark.parametrize("markup", ["<p>账户余额 1:20</p>", "<p>库存剩 3 天的量</p>", "<p>结余 05:12:33</p>"])
def test_one_character_triggers_need_to_stand_alone(page_reader, markup):
    assert page_reader.find_countdown_in(markup, NOW.timestamp() * 1000) is None, markup
