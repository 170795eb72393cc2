"""The learned live-case check (juzheng.rules.case_gate) and how recognition uses it."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import pytest

from juzheng.rules import load_rulebook, recognise
from juzheng.rules.case_gate import MAX_CHARS, NO_CASE, family_of, features
from juzheng.rules.loader import DEFAULT_RULES_DIR
from juzheng.rules.text_prep import fold

sys.path.insert(0, str(Path(__file__).parent / "recognition_devset"))
import train_case_gate  # noqa: E402  (the same code wrote rules/case_gate.json)

BOOK = load_rulebook()
GATE = BOOK.case_gate


def test_the_shipped_model_is_trained_on_the_tuning_parts_as_they_are_now():
    """Adding or relabelling a dev text without retraining (train_case_gate.py --write) fails here;
    and the held-out file is not among what it was trained on."""
    assert GATE is not None
    rows = train_case_gate.tuning_rows()
    assert not any(part == "holdout" for part, _, _ in rows)
    assert GATE.trained_on == train_case_gate.training_digest([(t, c) for _, t, c in rows])


def test_retraining_gives_the_same_decisions():
    # Floating point may differ in the last places between machines; the decisions must not.
    fresh = train_case_gate.model()
    assert fresh.classes == GATE.classes and fresh.grams == GATE.grams
    for _, text, _ in train_case_gate.tuning_rows():
        grams = features(text)
        assert abs(fresh.p_case(grams) - GATE.p_case(grams)) < 0.02, text


def test_classes_are_kinds_of_complaint_across_platforms_and_no_case():
    assert family_of("taobao.not_received") == family_of("douyin.not_received") == "not_received"
    assert family_of("taobao.late_shipment.no_tracking") == "late_shipment.no_tracking"
    assert family_of(None) == NO_CASE
    assert set(GATE.classes) == {family_of(s) for s in BOOK.scenarios} | {NO_CASE}


def test_features_fold_width_script_and_digits():
    assert features("订单１２３４５，質量問題") == features("订单98，质量问题")
    assert "0" in features("订单 240412-117659023348811") and "1" not in features("订单 240412")


@pytest.mark.parametrize(
    "platform,text",
    [
        # a pre-sale question quoting another shop's trouble
        ("pinduoduo", "客人问电饭煲保修多久，说之前买的别家的少发了配件，这次想确认一下是不是整套"),
        # the same, in a customer-service group's words
        ("taobao", "客服群：买家咨询这款净水器装不装得上，说之前在别家买的少发了滤芯，想确认一下这次配件全不全"),
    ],
)
def test_a_text_that_only_talks_like_a_case_is_offered_not_named(platform, text):
    without = load_rulebook()
    without._case_gate = None
    assert recognise(without, platform, text).scenario is not None  # what the word lists alone would say
    found = recognise(BOOK, platform, text)
    assert found.scenario is None and found.abstained == "unlikely" and found.confidence == 0
    assert "不太像一个正在等你举证的案子" in found.note and found.candidates  # the seller can still pick


def test_a_live_case_is_still_named():
    text = "售后原因：少件/漏发｜平台介入中，请商家在24小时内上传发货称重记录｜订单 240611-220098341187652"
    assert GATE.p_case(features(text)) >= GATE.threshold
    assert recognise(BOOK, "pinduoduo", text).scenario == "pinduoduo.missing_items"


def test_a_whole_page_is_never_held_back_by_the_model():
    # Longer than anything it learned from: the model is not asked (an after-sale page is a case
    # more often than not, and its menus would read as everyday text).
    text = "客人问电饭煲保修多久，说之前买的别家的少发了配件，这次想确认一下是不是整套。" + "首页 订单 商品 营销 数据 " * 200
    assert len(text) > MAX_CHARS
    assert not GATE.says_no_case(fold(text))


def test_without_the_model_file_recognition_works_as_before(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    (rules / "case_gate.json").unlink()
    book = load_rulebook(rules)
    assert book.case_gate is None
    assert recognise(book, "pinduoduo", "售后原因：少件｜待商家举证").scenario == "pinduoduo.missing_items"


def test_a_damaged_model_file_is_logged_and_recognition_still_works(tmp_path, caplog):
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    (rules / "case_gate.json").write_text('{"classes": [', encoding="utf-8")
    book = load_rulebook(rules)
    with caplog.at_level(logging.WARNING, logger="juzheng.rules.loader"):
        assert book.case_gate is None
    assert any("识别模型" in r.getMessage() for r in caplog.records)
    assert recognise(book, "pinduoduo", "售后原因：少件｜待商家举证").scenario == "pinduoduo.missing_items"


def test_a_changed_model_file_is_not_served_from_the_rulebook_cache(tmp_path):
    rules, state = tmp_path / "rules", tmp_path / "state"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    first = load_rulebook(rules, cache_dir=state)
    assert first.case_gate is not None
    (rules / "case_gate.json").unlink()
    assert load_rulebook(rules, cache_dir=state).case_gate is None


def test_the_weights_are_kept_once_and_dumped_as_the_file_has_them():
    """Loaded, the model keeps its weights as one float32 array only (the file's base64 text beside it
    was 1.4 MB of the helper's memory); dumped, it gives the file's own text back."""
    from juzheng.rules.case_gate import FILE_NAME, CaseGate
    from juzheng.rules.loader import DEFAULT_RULES_DIR

    text = (DEFAULT_RULES_DIR / FILE_NAME).read_text(encoding="utf-8").strip()
    gate = CaseGate.model_validate_json(text)
    assert gate.weights_f32 == "" and len(gate._weights) == len(gate.grams) * len(gate.classes)
    assert gate.model_dump_json() == text
    again = CaseGate.model_validate_json(gate.model_dump_json())
    probe = {"没", "收", "到", "没收", "收到", "举证"}
    assert again.p_case(probe) == gate.p_case(probe)
