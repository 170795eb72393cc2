"""Loader errors: each class of mistake is refused with file, line and field."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from juzheng.rules import DEFAULT_RULES_DIR, RulebookError, load_rulebook

KINDS = """\
kinds:
  - id: red_stamp_proof
    label: 快递红章证明
    keywords: [红章]
    how_to_obtain: [联系快递网点开具]
    provenance: {source: seed, seed: "002"}
  - id: shipping_slip
    label: 发货底单
    keywords: [底单]
    how_to_obtain: [快递网点打印]
    provenance: {source: seed, seed: "002"}
"""

PLATFORM = """\
platform:
  id: pinduoduo
  label: 拼多多
  evidence_window: 48h
  window_provenance: {source: seed, seed: "002"}
  order_id_pattern: '\\d{6}-\\d{15}'
  name_words: [拼多多, pdd]
  scenarios:
    - id: pinduoduo.not_received
      label: 买家反馈未收到商品
      requires:
        - kinds: [red_stamp_proof, shipping_slip]
          provenance: {source: seed, seed: "002"}
      on_timeout: 平台为买家退款
      wording: [反馈未收到商品]
      explanation: 订单 {order_id} 已签收
      provenance: {source: seed, seed: "002"}
"""


def write_rules(tmp_path: Path, kinds: str = KINDS, platform: str = PLATFORM) -> Path:
    (tmp_path / "platforms").mkdir()
    (tmp_path / "kinds.yaml").write_text(kinds, encoding="utf-8")
    (tmp_path / "platforms" / "pinduoduo.yaml").write_text(platform, encoding="utf-8")
    return tmp_path


def errors_of(directory: Path) -> list:
    with pytest.raises(RulebookError) as info:
        load_rulebook(directory)
    return info.value.errors


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_minimal_rules_load(tmp_path):
    book = load_rulebook(write_rules(tmp_path))
    assert set(book.kinds) == {"red_stamp_proof", "shipping_slip"}
    assert book.scenario_platform["pinduoduo.not_received"] == "pinduoduo"
    assert book.platforms["pinduoduo"].evidence_window.total_seconds() == 48 * 3600


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    broken = PLATFORM.replace("label: 拼多多", "label: [拼多多")
    [error] = errors_of(write_rules(tmp_path, platform=broken))
    assert error.file.endswith("platforms/pinduoduo.yaml")
    assert error.line is not None and error.line >= line_of(broken, "label: [拼多多")
    assert "YAML" in error.message


def test_unknown_field_names_line_and_field(tmp_path):
    typo = PLATFORM.replace("      on_timeout:", "      on_timout: x\n      on_timeout:")
    errors = errors_of(write_rules(tmp_path, platform=typo))
    by_field = {e.field: e for e in errors}
    assert "platform.scenarios[0].on_timout" in by_field
    assert by_field["platform.scenarios[0].on_timout"].line == line_of(typo, "on_timout")
    assert "未知字段" in by_field["platform.scenarios[0].on_timout"].message


def test_option_naming_undefined_kind(tmp_path):
    bad = PLATFORM.replace("kinds: [red_stamp_proof, shipping_slip]", "kinds: [red_stamp_proof, shiping_slip]")
    [error] = errors_of(write_rules(tmp_path, platform=bad))
    assert error.field == "platform.scenarios[0].requires[0].kinds[1]"
    assert error.line == line_of(bad, "shiping_slip")
    assert "shiping_slip" in error.message


def test_duplicate_kind_id(tmp_path):
    dup = KINDS + KINDS.split("\n", 1)[1].split("  - id: shipping_slip")[0]
    errors = errors_of(write_rules(tmp_path, kinds=dup))
    assert any("重复" in e.message and "red_stamp_proof" in e.message and e.line == len(KINDS.splitlines()) + 1 for e in errors)


def test_duplicate_scenario_id(tmp_path):
    scenario = PLATFORM.split("  scenarios:\n", 1)[1]
    dup = PLATFORM + scenario
    errors = errors_of(write_rules(tmp_path, platform=dup))
    assert [e.field for e in errors] == ["platform.scenarios[1].id"]
    assert errors[0].line == len(PLATFORM.splitlines()) + 1


def test_duplicate_yaml_key(tmp_path):
    dup = PLATFORM.replace("  label: 拼多多\n", "  label: 拼多多\n  label: 拼多多2\n")
    [error] = errors_of(write_rules(tmp_path, platform=dup))
    assert error.field == "platform.label" and error.line == 4 and "重复" in error.message


@pytest.mark.parametrize("value", ["48 hours", "0h", "-3d", "48", "3x"])
def test_bad_duration(tmp_path, value):
    bad = PLATFORM.replace("evidence_window: 48h", f"evidence_window: '{value}'")
    [error] = errors_of(write_rules(tmp_path, platform=bad))
    assert error.field == "platform.evidence_window"
    assert error.line == line_of(bad, "evidence_window")


def test_missing_field_and_wrong_type(tmp_path):
    bad = PLATFORM.replace("      on_timeout: 平台为买家退款\n", "").replace("name_words: [拼多多, pdd]", "name_words: 拼多多")
    errors = errors_of(write_rules(tmp_path, platform=bad))
    fields = {e.field for e in errors}
    assert {"platform.scenarios[0].on_timeout", "platform.name_words"} <= fields
    assert all(e.line for e in errors)


def test_every_error_is_reported_not_just_the_first(tmp_path):
    bad = PLATFORM.replace("shipping_slip]", "nope]").replace("id: pinduoduo.not_received", "id: taobao.x")
    errors = errors_of(write_rules(tmp_path, platform=bad))
    assert len(errors) == 2


def test_unknown_top_level_and_encoding(tmp_path):
    write_rules(tmp_path)
    (tmp_path / "extra.yaml").write_text("something: 1\n", encoding="utf-8")
    (tmp_path / "gbk.yaml").write_bytes("kinds: 红章".encode("gbk"))
    errors = errors_of(tmp_path)
    assert {Path(e.file).name for e in errors} == {"extra.yaml", "gbk.yaml"}


def test_empty_directory(tmp_path):
    [error] = errors_of(tmp_path)
    assert "没有规则文件" in error.message


def test_shipped_rules_load_and_errors_render(tmp_path):
    book = load_rulebook()
    assert book.digest and len(book.scenarios) >= 19
    # A copy of the shipped rules with one broken reference is refused with a readable message.
    copy = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, copy)
    target = copy / "platforms" / "pinduoduo.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("red_stamp_proof", "red_stamp_prooof", 1), encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        load_rulebook(copy)
    assert "platforms/pinduoduo.yaml:" in str(info.value) and "red_stamp_prooof" in str(info.value)


def test_schema_json_is_current():
    from juzheng.rules.schema import rules_schema_text

    committed = (DEFAULT_RULES_DIR / "schema.json").read_text(encoding="utf-8")
    assert committed == rules_schema_text(), "rules/schema.json is stale: run `juzheng rules schema --write rules/schema.json`"


def test_schema_validates_shipped_files():
    import jsonschema
    import yaml

    schema = textwrap.dedent((DEFAULT_RULES_DIR / "schema.json").read_text(encoding="utf-8"))
    import json

    validator = jsonschema.Draft202012Validator(json.loads(schema))
    for path in sorted(DEFAULT_RULES_DIR.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert not list(validator.iter_errors(data)), path
