"""The machine-readable CLI shapes that scripts rely on: in-process through ``main(argv)``, plus one
real-process run of the entry point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime

import pytest

from fixtures.cli import run_cli
from juzheng.rules import DEFAULT_RULES_DIR, load_rulebook


def juzheng(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, input=input)


def ok_json(*args: str):
    result = juzheng(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_rules_list_json():
    rows = ok_json("rules", "list", "--json")
    book = load_rulebook()
    assert {r["id"] for r in rows} == set(book.scenarios)
    assert all({"id", "platform", "label"} <= set(r) for r in rows)
    pdd = next(r for r in rows if r["id"] == "pinduoduo.not_received")
    assert pdd["platform"] == "pinduoduo" and pdd["label"] == "买家反馈未收到商品"


@pytest.mark.subprocess
def test_rules_list_human_is_chinese():
    """The one real-process run here: the entry point, the console encoding, the exit code."""
    result = subprocess.run(
        [sys.executable, "-m", "juzheng", "rules", "list"], capture_output=True, text=True, encoding="utf-8", timeout=60
    )
    assert result.returncode == 0 and "拼多多" in result.stdout and "通用做法" in result.stdout


def test_rules_check_shipped_and_broken(tmp_path):
    good = juzheng("rules", "check")
    assert good.returncode == 0 and "规则检查通过" in good.stdout
    copy = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, copy)
    path = copy / "platforms" / "douyin.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("evidence_window: 24h", "evidence_window: 24 hours"), encoding="utf-8")
    bad = juzheng("rules", "check", str(copy))
    assert bad.returncode == 1
    assert "platforms/douyin.yaml:" in bad.stderr and "platform.evidence_window" in bad.stderr


def test_check_shape_complete_and_missing():
    data = ok_json("check", "--scenario", "pinduoduo.not_received", "--have", "red_stamp_proof", "--json")
    assert data["scenario"] == "pinduoduo.not_received"
    assert data["complete"] is False
    assert data["options"] == [["red_stamp_proof", "shipping_slip"], ["chat_screenshot"]]
    assert data["missing"] == [["shipping_slip"], ["chat_screenshot"]]
    done = ok_json("check", "--scenario", "pinduoduo.not_received", "--have", "chat_screenshot", "--json")
    assert done["complete"] is True and done["missing"] == [["red_stamp_proof", "shipping_slip"], []]


def test_check_human_output():
    result = juzheng("check", "--scenario", "pinduoduo.return_damaged_signed", "--have", "return_photo")
    assert result.returncode == 0 and "需全部提供" in result.stdout and "凭证不全" in result.stdout


@pytest.mark.parametrize(
    "now,level,remaining",
    [
        ("2026-11-23T10:00:00+08:00", "ok", 24 * 3600),
        ("2026-11-23T22:00:00+08:00", "warn", 12 * 3600),
        ("2026-11-24T08:00:00+08:00", "urgent", 2 * 3600),
        ("2026-11-24T10:00:00+08:00", "overdue", 0),
        ("2026-11-24T11:00:00+08:00", "overdue", -3600),
    ],
)
def test_deadline_shape(now, level, remaining):
    data = ok_json("deadline", "--scenario", "douyin.not_received", "--from", "2026-11-23T10:00:00+08:00", "--now", now, "--json")
    assert datetime.fromisoformat(data["deadline_at"]) == datetime.fromisoformat("2026-11-24T10:00:00+08:00")
    assert data["remaining_seconds"] == remaining
    assert data["level"] == level


def test_deadline_accepts_utc_and_naive_beijing_time():
    utc = ok_json("deadline", "--scenario", "pinduoduo.not_received", "--from", "2026-11-23T02:00:00Z", "--now", "2026-11-23T02:00:00Z", "--json")
    naive = ok_json("deadline", "--scenario", "pinduoduo.not_received", "--from", "2026-11-23T10:00:00", "--now", "2026-11-23T10:00:00", "--json")
    assert datetime.fromisoformat(utc["deadline_at"]) == datetime.fromisoformat(naive["deadline_at"])
    assert utc["remaining_seconds"] == naive["remaining_seconds"] == 48 * 3600


def test_detect_shape(tmp_path):
    text = tmp_path / "req.txt"
    text.write_text("该订单消费者反馈收到的是空包，请联系快递核实快件信息，提供商品称重及快递内网称重记录。", encoding="utf-8")
    data = ok_json("detect", "--platform", "pinduoduo", "--text-file", str(text), "--json")
    assert data["scenario"] == "pinduoduo.empty_package" and data["matched"]
    text.write_text("今天天气不错", encoding="utf-8")
    assert ok_json("detect", "--platform", "pinduoduo", "--text-file", str(text), "--json")["scenario"] is None
    piped = juzheng("detect", "--platform", "pinduoduo", "--text-file", "-", "--json", input="买家反馈收到空包，请提供称重记录")
    assert json.loads(piped.stdout)["scenario"] == "pinduoduo.empty_package"


@pytest.mark.parametrize(
    "args,closest",
    [
        (["check", "--scenario", "pinduoduo.not_recieved"], "pinduoduo.not_received"),
        (["check", "--scenario", "pinduoduo.not_received", "--have", "red_stamp"], "red_stamp_proof"),
        (["deadline", "--scenario", "douyin.not_receive", "--from", "2026-11-23T10:00:00+08:00"], "douyin.not_received"),
        (["detect", "--platform", "pdd", "--text-file", "x"], "pinduoduo"),
    ],
)
def test_unknown_ids_exit_2_with_closest(args, closest):
    result = juzheng(*args, "--json")
    assert result.returncode == 2
    assert closest in result.stderr and result.stdout == ""


def test_bad_time_is_explained():
    result = juzheng("deadline", "--scenario", "douyin.not_received", "--from", "yesterday")
    assert result.returncode == 2 and "ISO 8601" in result.stderr
