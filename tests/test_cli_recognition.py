"""CLI: detect's candidates, and check's caution toward the stricter reading (run as a real process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.subprocess  # runs juzheng as a process


def juzheng(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "juzheng", *args], capture_output=True, text=True, encoding="utf-8", input=input, timeout=60
    )


def test_detect_json_keeps_scenario_and_matched_and_adds_candidates():
    result = juzheng("detect", "--platform", "pinduoduo", "--text-file", "-", "--json", input="退款原因：空包")
    data = json.loads(result.stdout)
    assert data["scenario"] == "pinduoduo.empty_package" and data["matched"] == ["空包"]
    assert 0.5 <= data["confidence"] <= 1
    first = data["candidates"][0]
    assert first == {"scenario": "pinduoduo.empty_package", "label": "买家反馈收到空包", "score": first["score"], "words": ["空包"]}


def test_detect_human_output_offers_choices_when_unsure():
    text = "客服培训：买家说空包或者少件时先安抚，称重记录在快递后台能查"
    result = juzheng("detect", "--platform", "pinduoduo", "--text-file", "-", input=text)
    assert result.returncode == 0
    assert "未能确定场景" in result.stdout and "可能是：" in result.stdout
    assert "买家反馈收到空包" in result.stdout and "买家反馈少件/漏发" in result.stdout


def test_check_never_says_ready_without_the_weighing_caution():
    one = juzheng("check", "--scenario", "pinduoduo.empty_package", "--have", "product_weight_photo")
    assert one.returncode == 0
    verdict = [line for line in one.stdout.splitlines() if "可以提交" in line]
    assert verdict and all("「商品称重及物流称重记录」" in line for line in verdict), one.stdout
    assert "来源：拼多多售后举证说明" in one.stdout
    both = juzheng("check", "--scenario", "pinduoduo.empty_package", "--have", "product_weight_photo", "--have", "courier_weight_record")
    assert "结论：凭证已齐全，可以提交。" in both.stdout and "称重及物流称重记录" not in both.stdout
    data = json.loads(juzheng("check", "--scenario", "douyin.empty_package", "--have", "courier_weight_record", "--json").stdout)
    assert data["complete"] is True and "商品称重及物流称重记录" in data["advice"]
    assert data["source_label"] == "通用做法，非平台规则"


def test_cli_output_shows_no_seed_numbers():
    for args in (["rules", "list"], ["check", "--scenario", "taobao.unreasonable_review"], ["check", "--scenario", "tmall.not_received"]):
        out = juzheng(*args).stdout
        assert "种子" not in out and "seed" not in out.lower(), (args, out)


def test_detect_says_a_page_with_no_dispute_is_no_case_and_offers_nothing():
    text = "拼多多商家后台 商品管理 发布新商品 商品标题 商品属性 材质：棉 颜色：白色 尺码：均码 库存 200"
    result = juzheng("detect", "--platform", "pinduoduo", "--text-file", "-", input=text)
    assert result.returncode == 0
    assert "未能确定场景" in result.stdout and "不是案子" in result.stdout and "可能是：" not in result.stdout
    data = json.loads(juzheng("detect", "--platform", "pinduoduo", "--text-file", "-", "--json", input=text).stdout)
    assert data["scenario"] is None and data["candidates"] == [] and data["abstained"] == "no_dispute"
