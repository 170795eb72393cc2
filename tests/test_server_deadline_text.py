"""The page's deadline text: remaining time and absolute Beijing times, examples and properties."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juzheng.rules.deadline_text import BEIJING, parse_absolute, parse_deadline_text, parse_remaining

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # 16:00 in Beijing


@pytest.mark.parametrize(
    "text,expected",
    [
        ("剩余举证时间 1天23小时59分", timedelta(days=1, hours=23, minutes=59)),
        ("剩余处理时间：1天23小时59分59秒", timedelta(days=1, hours=23, minutes=59, seconds=59)),
        ("剩余处理时间 0天5小时", timedelta(hours=5)),
        ("剩余 23:59:59", timedelta(hours=23, minutes=59, seconds=59)),
        ("剩余 5 小时", timedelta(hours=5)),
        ("剩余 12个小时", timedelta(hours=12)),
        ("剩余时间：２３：５９：００", timedelta(hours=23, minutes=59)),
        ("还剩 2天", timedelta(days=2)),
        ("倒计时 47:00:00", timedelta(hours=47)),
        ("剩余 30分钟", timedelta(minutes=30)),
        ("1天2小时", timedelta(days=1, hours=2)),
        ("23:59", timedelta(hours=23, minutes=59)),
        ("剩余 1天 05:00:00", timedelta(days=1, hours=5)),
    ],
)
def test_remaining_examples(text, expected):
    assert parse_remaining(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "请尽快处理", "订单号 201123-1234", "blah 12", "剩余", "截止 2026-11-23 18:00"])
def test_no_remaining_time_stated(text):
    assert parse_remaining(text) is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("举证截止时间 2026-11-23 18:00", datetime(2026, 11, 23, 18, 0, tzinfo=BEIJING)),
        ("举证截止时间：2026/11/25 09:30:15", datetime(2026, 11, 25, 9, 30, 15, tzinfo=BEIJING)),
        ("请在2026年11月25日 18:00前完成", datetime(2026, 11, 25, 18, 0, tzinfo=BEIJING)),
        ("截止 11月25日 18:00", datetime(2026, 11, 25, 18, 0, tzinfo=BEIJING)),
        ("截止 11-25 18:00", datetime(2026, 11, 25, 18, 0, tzinfo=BEIJING)),
        ("2026-11-23T18:00:00+08:00", datetime(2026, 11, 23, 18, 0, tzinfo=BEIJING)),
        ("2026-11-23T10:00:00Z", datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)),
        ("举证截止时间 2026-11-30", datetime(2026, 11, 30, 23, 59, 59, tzinfo=BEIJING)),  # a date alone: end of that day
        ("截止 01-05 12:00", datetime(2027, 1, 5, 12, 0, tzinfo=BEIJING)),  # no year: the next such date
    ],
)
def test_absolute_examples(text, expected):
    assert parse_absolute(text, NOW) == expected
    assert parse_deadline_text(text, NOW) == expected


def test_deadline_text_uses_remaining_when_stated():
    assert parse_deadline_text("剩余举证时间 1天23小时59分", NOW) == NOW + timedelta(days=1, hours=23, minutes=59)


def test_impossible_dates_are_none():
    assert parse_absolute("截止 2026-02-30 18:00", NOW) is None
    assert parse_deadline_text("截止 2026-13-01 18:00", NOW) is None
    assert parse_deadline_text("截止 9999-12-31 24:00", NOW) is None
    assert parse_deadline_text("截止 0001-01-01 00:00", NOW) is None


# -- properties -------------------------------------------------------------------------------
durations = st.builds(
    timedelta,
    days=st.integers(0, 30),
    hours=st.integers(0, 23),
    minutes=st.integers(0, 59),
    seconds=st.integers(0, 59),
)


def _units(d: timedelta, with_seconds: bool) -> str:
    hours, rest = divmod(d.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{d.days}天{hours}小时{minutes}分"
    return text + (f"{seconds}秒" if with_seconds else "")


@settings(max_examples=200, deadline=None)
@given(d=durations, label=st.sampled_from(["剩余举证时间", "剩余处理时间", "剩余", "还剩"]), sep=st.sampled_from(["", " ", "：", ": "]))
def test_remaining_in_units_round_trips(d, label, sep):
    assert parse_remaining(f"{label}{sep}{_units(d, True)}") == d
    assert parse_remaining(f"{label}{sep}{_units(d, False)}") == d - timedelta(seconds=d.seconds % 60)


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 99 * 3600 + 59 * 60 + 59))
def test_remaining_as_clock_round_trips(total):
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    assert parse_remaining(f"剩余 {hours:02d}:{minutes:02d}:{seconds:02d}") == timedelta(seconds=total)


@settings(max_examples=200, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59)),
    fmt=st.sampled_from(["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y-%m-%d %H:%M:%S"]),
    label=st.sampled_from(["举证截止时间 ", "截止时间：", "请于", ""]),
)
def test_absolute_beijing_time_round_trips(when, fmt, label):
    expected = when.replace(tzinfo=BEIJING)
    if "%S" not in fmt:
        expected = expected.replace(second=0)
    expected = expected.replace(microsecond=0)
    assert parse_absolute(label + when.strftime(fmt), NOW) == expected


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=200), st.from_regex(r"(剩余|截止)?\s*\d{1,4}[-/年天:]\d{1,3}[-/月小时:]?\d{0,3}[日分:]?\s*\d{0,2}[:时]?\d{0,2}", fullmatch=True)))
def test_any_text_never_raises(text):
    remaining = parse_remaining(text)
    assert remaining is None or remaining >= timedelta(0)
    result = parse_deadline_text(text, NOW)
    assert result is None or result.tzinfo is not None
