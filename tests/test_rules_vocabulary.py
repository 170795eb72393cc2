"""The recognition vocabulary (rules/synonyms.yaml), scenario wording, and what sellers are shown."""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from juzheng.rules import DEFAULT_RULES_DIR, RulebookError, evaluate, load_rulebook
from juzheng.rules.provenance_label import provenance_label
from juzheng.rules.text_prep import normalise
from datetime import datetime, timezone

BOOK = load_rulebook()
ROOT = DEFAULT_RULES_DIR.parent


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def errors_of(directory: Path) -> list[str]:
    with pytest.raises(RulebookError) as info:
        load_rulebook(directory)
    return [str(e) for e in info.value.errors]


def test_shipped_vocabulary_is_loaded():
    vocab = BOOK.vocabulary
    assert any(g.canonical == "未收到" and "没收到" in g.variants for g in vocab.groups)
    assert any(g.canonical == "拒签" and "拒收" in g.variants for g in vocab.groups)
    assert any(g.canonical == "不要了" and "不想要了" in g.variants for g in vocab.groups)
    assert "退款原因" in vocab.strong_fields and "售后类型" in vocab.weak_fields
    assert vocab.negation
    assert [(m.shop, m.seen_on, m.words) for m in vocab.shop_markers] == [("tmall", ["taobao"], ["天猫"])]


def test_no_phrase_is_shared_by_two_scenarios_of_a_platform_unless_marked_shared():
    for platform in BOOK.platforms.values():
        owners: dict[str, set[str]] = defaultdict(set)
        for scenario in platform.scenarios:
            for phrase in scenario.wording:
                owners[normalise(phrase)].add(scenario.id)
        shared = {k: ids for k, ids in owners.items() if len(ids) > 1}
        assert not shared, (platform.id, shared)
        # A phrase marked shared is marked so in every scenario that uses it as a key phrase.
        for scenario in platform.scenarios:
            for phrase in scenario.shared_wording:
                for other in owners.get(normalise(phrase), set()) - {scenario.id}:
                    assert phrase in BOOK.scenarios[other].shared_wording, (scenario.id, other, phrase)


def test_a_phrase_in_two_scenarios_is_refused_with_file_and_line(tmp_path):
    rules = copy_rules(tmp_path)
    target = rules / "platforms" / "douyin.yaml"
    text = target.read_text(encoding="utf-8")
    # douyin.return_not_received gets a key phrase of douyin.not_received
    marker = "      wording:\n        - 未收到退回的商品\n"
    assert marker in text
    target.write_text(text.replace(marker, marker + "        - 签收证明\n", 1), encoding="utf-8")
    errors = errors_of(rules)
    line = next(i for i, text in enumerate(target.read_text(encoding="utf-8").splitlines(), 1) if text.strip() == "- 签收证明" and i > 100)
    assert any(f"platforms/douyin.yaml:{line}:" in e and "douyin.not_received" in e and "shared_wording" in e for e in errors), errors


@pytest.mark.parametrize(
    "edit,needle",
    [
        (("      variants: [拒收,", "      variants: [没收到, 拒收,"), "已属于「未收到」"),
        (("      variants: [拒收,", "      variants: [未收到, 拒收,"), "canonical"),
        (("  negation: [", "  negatoin: ["), "未知字段"),
        (("  weak_fields: [售后类型,", "  weak_fields: [退款原因, 售后类型,"), "strong_fields"),
        (("    - {raw_from: 0.0,", "    - {raw_from: 0.1,"), "raw_from: 0"),
        (("  calibration:\n", "  calibration:\n    - {raw_from: 0.0, accuracy: 0.99, texts: 3}\n"), "逐格增大"),
        (("  calibration:\n", "  calibration:\n    - {raw_from: 0.0, accuracy: 0.5, texts: 3}\n    - {raw_from: 0.001, accuracy: 0.2, texts: 3}\n"), "不能随强度增大而变小"),
    ],
)
def test_vocabulary_mistakes_are_refused_with_file_and_line(tmp_path, edit, needle):
    rules = copy_rules(tmp_path)
    target = rules / "synonyms.yaml"
    text = target.read_text(encoding="utf-8")
    old, new = edit
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    errors = errors_of(rules)
    assert any(re.search(r"synonyms\.yaml:\d+: ", e) and needle in e for e in errors), errors


def test_a_second_vocabulary_file_is_refused(tmp_path):
    rules = copy_rules(tmp_path)
    (rules / "more.yaml").write_text("synonyms:\n  groups: []\n", encoding="utf-8")
    assert any("词表只能有一个文件" in e for e in errors_of(rules))


def test_rules_without_a_vocabulary_still_load_and_recognise(tmp_path):
    from juzheng.rules import recognise

    rules = copy_rules(tmp_path)
    (rules / "synonyms.yaml").unlink()
    book = load_rulebook(rules)
    assert recognise(book, "pinduoduo", "该订单消费者反馈收到的是空包，请提供商品称重及物流称重记录").scenario == "pinduoduo.empty_package"


def test_every_beyond_the_seeds_scenario_is_common_practice_based_on_a_real_one():
    beyond = [
        "taobao.not_received", "taobao.quality_issue", "taobao.not_as_described", "taobao.missing_items",
        "taobao.return_damaged", "taobao.return_not_received",
        "tmall.quality_issue", "tmall.not_as_described", "tmall.missing_items", "tmall.return_damaged", "tmall.return_not_received",
        "pinduoduo.quality_issue", "pinduoduo.not_as_described", "pinduoduo.missing_items",
        "douyin.not_as_described", "douyin.missing_items", "douyin.quality_issue",
    ]
    for sid in beyond:
        s = BOOK.scenarios[sid]
        assert s.common_practice and s.provenance.source == "common_practice", sid
        assert s.based_on in BOOK.scenarios and not BOOK.scenarios[s.based_on].common_practice, sid
        assert s.requires and s.on_timeout and s.explanation and s.deadline, sid
        assert all(o.provenance.source != "seed" for o in s.requires), sid
        assert "通用做法" in s.label, sid


INTERNAL = re.compile(r"种子|seed|\b0\d\d\b|（0\d\d）|\(0\d\d\)")


def seller_texts(book) -> list[tuple[str, str]]:
    out = []
    for kind in book.kinds.values():
        out += [(kind.id, t) for t in [kind.label, *kind.how_to_obtain, *[f.label for f in kind.fields]]]
    for s in book.scenarios.values():
        texts = [s.label, s.on_timeout, s.explanation, *[o.note or "" for o in s.requires]]
        texts += [r.what + r.reason for r in s.rejected]
        texts += [st.label for st in (s.deadline.stages if s.deadline else [])]
        out += [(s.id, t) for t in texts]
    return out


def test_seller_facing_rule_text_carries_no_internal_words():
    leaks = [(where, t) for where, t in seller_texts(BOOK) if INTERNAL.search(t)]
    assert not leaks, leaks


def test_extension_strings_carry_no_internal_words():
    for path in (ROOT / "extension" / "_locales").glob("*/messages.json"):
        for key, entry in json.loads(path.read_text(encoding="utf-8")).items():
            assert not re.search(r"种子|seed|\b00\d\b", entry["message"], re.I), (path, key)


def test_provenance_is_shown_in_seller_words():
    labels = {provenance_label(s.provenance) for s in BOOK.scenarios.values()}
    assert "来源：拼多多售后举证说明" in labels and "通用做法，非平台规则" in labels
    assert not any(INTERNAL.search(label) for label in labels)
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    checklist = evaluate(BOOK, "taobao.missing_items", [], now)
    assert checklist.source_label == "通用做法，非平台规则"
    assert all(o.source_label for o in checklist.options)


def test_empty_package_with_one_weighing_is_complete_with_a_caution_quoting_the_request():
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    from juzheng.rules import Evidence

    for sid in ("pinduoduo.empty_package", "douyin.empty_package"):
        one = evaluate(BOOK, sid, [Evidence(kind="product_weight_photo")], now)
        assert one.complete and one.advice and "「商品称重及物流称重记录」" in one.advice
        assert "快递内网称重记录" in one.advice
        assert any(w.code == "caution" and "商品称重及物流称重记录" in w.message for w in one.warnings)
        both = evaluate(BOOK, sid, [Evidence(kind="product_weight_photo"), Evidence(kind="courier_weight_record")], now)
        assert both.complete and both.advice is None
        assert not any("商品称重及物流称重记录" in w.message for w in both.warnings)
        none = evaluate(BOOK, sid, [], now)
        assert not none.complete and none.advice is None
