"""`juzheng status [--json]` against a temp state dir, in-process through ``main(argv)``."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fixtures.cli import run_cli
from juzheng.rules import DEFAULT_RULES_DIR
from juzheng.store import DB_NAME, CaseKey, open_store
from juzheng.tray.runtime_glue import PAUSED_SETTING

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[1]
TOP_KEYS = {
    "colour", "level", "tooltip", "reasons", "open_cases", "nearest_deadline_at", "nearest_remaining", "pending",
    "paused", "rules_error", "menu", "now", "helper", "state_dir", "root", "cases", "pending_files", "problems", "reader",
}
CASE_KEYS = {
    "id", "platform", "platform_label", "order_id", "aftersale_id", "scenario", "scenario_label", "deadline_at",
    "remaining", "level", "complete", "missing", "deadline_source", "deadline_conflict",
}


def juzheng(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, env=env, drop_env_prefix="JUZHENG_")  # in-process: main(argv)


def status_json(state: Path, *extra: str) -> dict:
    result = juzheng("status", "--json", "--state-dir", str(state), "--now", NOW.isoformat(), *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def state(tmp_path) -> Path:
    """Four open cases (urgent, warn, ok, no scenario), one submitted, two files pending, one sort to undo."""
    state_dir = tmp_path / "state"
    store = open_store(state_dir)
    add = lambda order, hours, **kw: store.upsert_case(  # noqa: E731
        CaseKey(platform="pinduoduo", order_id=order), deadline_at=NOW + timedelta(hours=hours),
        page_deadline_at=NOW + timedelta(hours=hours), deadline_source="page", **kw
    )[0]
    add("230101-000000000000001", 1.5, scenario="pinduoduo.not_received")
    add("230101-000000000000002", 6, scenario="pinduoduo.empty_package")
    add("230101-000000000000003", 30, scenario="pinduoduo.not_received")
    add("230101-000000000000004", 20)
    done = add("230101-000000000000005", 0.5, scenario="pinduoduo.not_received")
    store.update_case(done.id, status="submitted")
    store.set_pending("收件箱/IMG_0001.jpg", "文件名里没有订单号")
    store.set_pending("收件箱/截图.png", "文件名里没有订单号")
    move = store.journal_move("b1", "收件箱/a.jpg", "拼多多/230101-000000000000001/快递红章证明/a.jpg", "0" * 64, 3)
    store.finish_move(move, "done")
    store.close()
    (tmp_path / "root").mkdir()
    return state_dir


def test_json_shape_and_values(state, tmp_path):
    data = status_json(state, "--root", str(tmp_path / "root"))
    assert set(data) == TOP_KEYS
    assert data["colour"] == "red" and data["level"] == "urgent"
    assert data["tooltip"] == "4 个待举证 · 最近截止 1小时30分 · 2 个文件待分类 · 助手未运行"
    assert data["open_cases"] == 4 and data["pending"] == 2 and data["paused"] is False
    assert data["helper"] == {"running": False, "url": None, "pid": None, "version": None}
    assert data["state_dir"] == str(state) and data["root"] == str(tmp_path / "root")
    assert datetime.fromisoformat(data["now"]) == NOW

    cases = data["cases"]
    assert all(set(c) == CASE_KEYS for c in cases)
    assert [c["order_id"][-1] for c in cases] == ["1", "2", "4", "3"]  # soonest deadline first; submitted left out
    assert [c["level"] for c in cases] == ["urgent", "warn", "ok", "ok"]
    assert [c["remaining"] for c in cases] == ["1小时30分", "6小时0分", "20小时0分", "30小时0分"]
    assert cases[0]["platform_label"] == "拼多多" and cases[0]["scenario_label"] == "买家反馈未收到商品"
    assert cases[0]["complete"] is False and cases[0]["missing"] >= 1
    assert cases[2]["scenario"] is None and cases[2]["missing"] is None

    assert [p["path"] for p in data["pending_files"]] == ["收件箱/IMG_0001.jpg", "收件箱/截图.png"]
    menu = {e["action"]: e for e in data["menu"]}
    # The helper is not running: only the folders can be opened.
    assert {a for a, e in menu.items() if e["enabled"]} == {"open_root", "open_inbox"}
    assert menu["toggle_pause"]["label"] == "暂停整理"


def test_paused_sorting_is_grey(state):
    store = open_store(state)
    store.set_setting(PAUSED_SETTING, "1")
    store.close()
    data = status_json(state)
    assert data["colour"] == "grey" and data["level"] == "urgent" and data["paused"] is True
    assert data["reasons"] == ["整理已暂停"]
    assert {e["action"]: e["label"] for e in data["menu"]}["toggle_pause"] == "恢复整理"


def test_broken_rules_are_grey_and_cases_still_show(state, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    (rules / "kinds.yaml").write_text("kinds: [unclosed\n", encoding="utf-8")
    data = status_json(state, "--rules", str(rules))
    assert data["colour"] == "grey" and "kinds.yaml" in data["rules_error"]
    assert "规则文件有错误" in data["tooltip"]
    # Levels from the stored deadlines with the default thresholds (warn 12 h, urgent 2 h).
    assert [c["level"] for c in data["cases"]] == ["urgent", "warn", "ok", "ok"]


def test_no_store_yet_reports_nothing_and_creates_nothing(tmp_path):
    state_dir = tmp_path / "never-started"
    data = status_json(state_dir)
    assert data["colour"] == "green" and data["level"] is None and data["cases"] == []
    assert data["tooltip"] == "0 个待举证 · 暂无截止时间 · 0 个文件待分类 · 助手未运行"
    assert not (state_dir / DB_NAME).exists()


def test_state_dir_from_the_environment(state):
    result = juzheng("status", "--json", "--now", NOW.isoformat(), env={"JUZHENG_STATE_DIR": str(state)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["open_cases"] == 4


def test_human_output_is_chinese(state):
    result = juzheng("status", "--state-dir", str(state), "--now", NOW.isoformat())
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "举证助手：未运行" in out and "状态：红色，紧急" in out
    assert "4 个待举证 · 最近截止 1小时30分 · 2 个文件待分类" in out
    assert "[紧急] #1 拼多多 订单 230101-000000000000001  买家反馈未收到商品  剩余 1小时30分" in out
    assert "（场景未识别）" in out
    assert "收件箱/IMG_0001.jpg：文件名里没有订单号" in out


def test_a_bad_now_says_what_to_fix(tmp_path):
    result = juzheng("status", "--state-dir", str(tmp_path), "--now", "tomorrow")
    assert result.returncode == 2
    assert "--now 不是 ISO 8601 时间" in result.stderr


def test_an_estimated_deadline_is_never_green_and_says_so(tmp_path):
    state_dir = tmp_path / "state"
    store = open_store(state_dir)
    # First seen now, nothing read from the page: the deadline is first seen + the window.
    store.upsert_case(CaseKey(platform="pinduoduo", order_id="230101-000000000000009"), request_at=NOW,
                      deadline_at=NOW + timedelta(hours=48), scenario="pinduoduo.not_received")
    store.close()
    (tmp_path / "root").mkdir()
    data = status_json(state_dir, "--root", str(tmp_path / "root"))
    assert data["level"] == "ok" and data["colour"] == "amber"
    assert "1 个截止时间为估算" in data["tooltip"]
    assert data["cases"][0]["deadline_source"] == "estimate"
    text = juzheng("status", "--state-dir", str(state_dir), "--now", NOW.isoformat(), "--root", str(tmp_path / "root"))
    assert "（估算）" in text.stdout
