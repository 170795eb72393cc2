"""The tray state is a pure function: colour, tooltip and menu for every level and condition."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from juzheng.tray.state import CaseDeadline, TrayInputs, format_remaining, tray_state

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def case(case_id: int, level: str | None, hours: float | None) -> CaseDeadline:
    deadline = NOW + timedelta(hours=hours) if hours is not None else None
    return CaseDeadline(case_id=case_id, level=level, deadline_at=deadline)


def inputs(*cases: CaseDeadline, **kw) -> TrayInputs:
    return TrayInputs(now=NOW, cases=list(cases), **kw)


@pytest.mark.parametrize(
    ("level", "hours", "colour"),
    [("ok", 30, "green"), ("warn", 10, "amber"), ("urgent", 1.5, "red"), ("overdue", -1, "red")],
)
def test_colour_follows_the_level(level, hours, colour):
    state = tray_state(inputs(case(1, level, hours)))
    assert state.colour == colour
    assert state.level == level
    assert state.reasons == []


def test_the_most_pressing_case_decides():
    state = tray_state(inputs(case(1, "ok", 40), case(2, "warn", 11), case(3, "urgent", 1), case(4, None, None)))
    assert state.colour == "red" and state.level == "urgent"
    state = tray_state(inputs(case(1, "ok", 40), case(2, "warn", 11)))
    assert state.colour == "amber" and state.level == "warn"


def test_no_cases_is_green_with_no_level():
    state = tray_state(inputs())
    assert state.colour == "green" and state.level is None
    assert state.tooltip == "0 个待举证 · 暂无截止时间 · 0 个文件待分类"
    assert state.nearest_deadline_at is None and state.nearest_remaining is None


@pytest.mark.parametrize("level", ["ok", "warn", "urgent", "overdue"])
def test_grey_when_paused_whatever_the_level(level):
    state = tray_state(inputs(case(1, level, 5), paused=True))
    assert state.colour == "grey"
    assert state.level == level  # still known, for the tooltip and `juzheng status`
    assert state.reasons == ["整理已暂停"]
    assert state.tooltip.endswith(" · 整理已暂停")


@pytest.mark.parametrize("level", ["ok", "warn", "urgent", "overdue"])
def test_grey_when_the_rules_failed(level):
    state = tray_state(inputs(case(1, level, 5), rules_error="kinds.yaml:3 …"))
    assert state.colour == "grey"
    assert state.rules_error == "kinds.yaml:3 …"
    assert "规则文件有错误" in state.tooltip


def test_tooltip_text():
    state = tray_state(inputs(case(1, "warn", 5 + 3 / 60 + 0.5 / 3600), case(2, "ok", 30), case(3, None, None), pending=4))
    assert state.tooltip == "3 个待举证 · 最近截止 5小时3分 · 4 个文件待分类"
    assert state.open_cases == 3 and state.pending == 4
    assert state.nearest_deadline_at == NOW + timedelta(hours=5 + 3 / 60 + 0.5 / 3600)


def test_tooltip_counts_hours_past_a_day_and_minutes_alone():
    assert tray_state(inputs(case(1, "ok", 49.5))).tooltip == "1 个待举证 · 最近截止 49小时30分 · 0 个文件待分类"
    assert tray_state(inputs(case(1, "urgent", 0.75))).tooltip == "1 个待举证 · 最近截止 45分 · 0 个文件待分类"


def test_tooltip_when_the_nearest_deadline_passed():
    state = tray_state(inputs(case(1, "overdue", -(2 + 5 / 60)), case(2, "ok", 20), pending=1))
    assert state.tooltip == "2 个待举证 · 最近截止 已超时 2小时5分 · 1 个文件待分类"


def test_tooltip_with_both_grey_reasons_and_no_helper():
    state = tray_state(inputs(paused=True, rules_error="x", helper_running=False))
    assert state.tooltip == "0 个待举证 · 暂无截止时间 · 0 个文件待分类 · 规则文件有错误 · 整理已暂停 · 助手未运行"


def test_format_remaining_rounds_down_like_a_countdown():
    assert format_remaining(timedelta(hours=1, minutes=59, seconds=59)) == "1小时59分"
    assert format_remaining(timedelta(seconds=59)) == "0分"
    assert format_remaining(timedelta(minutes=-61)) == "已超时 1小时1分"


def test_menu_labels_and_order():
    state = tray_state(inputs(can_undo=True))
    assert [(e.action, e.label) for e in state.menu] == [
        ("open_root", "打开证据文件夹"),
        ("open_inbox", "打开收件箱"),
        ("pair", "配对…"),
        ("show_pairing_code", "显示配对码"),
        ("toggle_pause", "暂停整理"),
        ("undo", "撤销上次整理"),
        ("quit", "退出"),
    ]
    assert all(e.enabled for e in state.menu)


def test_pause_entry_becomes_resume():
    entry = tray_state(inputs(paused=True)).entry("toggle_pause")
    assert entry.label == "恢复整理" and entry.enabled


def test_undo_disabled_when_nothing_to_undo():
    assert not tray_state(inputs(can_undo=False)).entry("undo").enabled
    assert tray_state(inputs(can_undo=True)).entry("undo").enabled


def test_sorting_entries_disabled_without_the_sorter():
    state = tray_state(inputs(sorter_available=False, can_undo=True))
    assert not state.entry("toggle_pause").enabled
    assert not state.entry("undo").enabled
    assert state.entry("open_root").enabled and state.entry("show_pairing_code").enabled


def test_helper_not_running_disables_what_needs_it():
    # `juzheng status` with the helper stopped: folders can still be opened, nothing else.
    state = tray_state(inputs(helper_running=False, can_undo=True))
    enabled = {e.action for e in state.menu if e.enabled}
    assert enabled == {"open_root", "open_inbox"}


def test_folders_disabled_when_the_root_is_missing():
    state = tray_state(inputs(root_exists=False))
    assert not state.entry("open_root").enabled and not state.entry("open_inbox").enabled


def test_times_must_carry_an_offset():
    with pytest.raises(ValidationError):
        TrayInputs(now=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        CaseDeadline(case_id=1, level="ok", deadline_at=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        TrayInputs(now=NOW, pending=-1)
