"""The rulebook cached in a state directory: used while its files are unchanged, never a stale one."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from juzheng.rules import DEFAULT_RULES_DIR, RulebookError, load_rulebook
from juzheng.rules import loader

HOUR_AGO = time.time() - 3600


def settled_copy(tmp_path: Path) -> Path:
    """The shipped rules, their files last written an hour ago (a rule file written just now is never cached)."""
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    for path in rules.rglob("*.yaml"):
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    return rules


def no_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(root: Path, files: list[Path]):
        raise AssertionError("the rule files were read although the cache was current")

    monkeypatch.setattr(loader, "_compile", refuse)


def test_the_second_load_comes_from_the_cache_and_equals_the_compiled_rulebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules, state = settled_copy(tmp_path), tmp_path / "state"
    state.mkdir()
    compiled = load_rulebook(rules, cache_dir=state)
    assert (state / loader.CACHE_NAME).is_file()
    no_compiling(monkeypatch)
    cached = load_rulebook(rules, cache_dir=state)
    assert cached is not compiled
    assert cached.to_json() == compiled.to_json()
    assert cached.digest == compiled.digest
    assert cached.scenario_platform == compiled.scenario_platform


@pytest.mark.parametrize("same_size", [False, True])
def test_an_edited_rule_file_is_read_again(tmp_path: Path, same_size: bool) -> None:
    rules, state = settled_copy(tmp_path), tmp_path / "state"
    state.mkdir()
    old = load_rulebook(rules, cache_dir=state)
    kinds = rules / "kinds.yaml"
    size = kinds.stat().st_size
    label = next(iter(old.kinds.values())).label
    # Same number of bytes (one CJK character for another) or more; written "a minute later" than
    # the cached one, still settled.
    new_label = "甲" * len(label) if same_size else label + "（新）"
    kinds.write_text(kinds.read_text(encoding="utf-8").replace(f"label: {label}\n", f"label: {new_label}\n", 1), encoding="utf-8")
    os.utime(kinds, (HOUR_AGO + 60, HOUR_AGO + 60))
    assert (kinds.stat().st_size == size) is same_size
    fresh = load_rulebook(rules, cache_dir=state)
    assert next(iter(fresh.kinds.values())).label == new_label
    # and that one is what the cache now holds
    assert next(iter(load_rulebook(rules, cache_dir=state).kinds.values())).label == new_label


def test_a_new_or_removed_rule_file_is_read_again(tmp_path: Path) -> None:
    rules, state = settled_copy(tmp_path), tmp_path / "state"
    state.mkdir()
    before = load_rulebook(rules, cache_dir=state)
    platform_file = rules / "platforms" / "douyin.yaml"  # nothing refers to its scenarios
    platform_file.rename(tmp_path / platform_file.name)
    after = load_rulebook(rules, cache_dir=state)
    assert len(after.platforms) == len(before.platforms) - 1


def test_rule_files_written_just_now_are_not_cached(tmp_path: Path) -> None:
    # Written within the last seconds, a file may change again without its mtime moving (coarse
    # clocks): a cache of it could outlive the edit.
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules, copy_function=shutil.copyfile)  # fresh mtimes
    state = tmp_path / "state"
    state.mkdir()
    load_rulebook(rules, cache_dir=state)
    assert not (state / loader.CACHE_NAME).exists()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "flipped"])
def test_a_damaged_cache_is_compiled_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    rules, state = settled_copy(tmp_path), tmp_path / "state"
    state.mkdir()
    expected = load_rulebook(rules, cache_dir=state).to_json()
    cache = state / loader.CACHE_NAME
    data = cache.read_bytes()
    if damage == "truncated":
        cache.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        cache.write_bytes(b"\x00" * len(data))
    else:
        cache.write_bytes(data[:-10] + bytes([data[-10] ^ 1]) + data[-9:])
    assert load_rulebook(rules, cache_dir=state).to_json() == expected
    no_compiling(monkeypatch)  # and the cache was written again
    assert load_rulebook(rules, cache_dir=state).to_json() == expected


def test_a_rulebook_with_errors_is_never_cached(tmp_path: Path) -> None:
    rules, state = settled_copy(tmp_path), tmp_path / "state"
    state.mkdir()
    kinds = rules / "kinds.yaml"
    kinds.write_text(kinds.read_text(encoding="utf-8") + "\nunknown_top_level_field: 1\n", encoding="utf-8")
    os.utime(kinds, (HOUR_AGO, HOUR_AGO))
    for _ in range(2):
        with pytest.raises(RulebookError):
            load_rulebook(rules, cache_dir=state)
    assert not (state / loader.CACHE_NAME).exists()


def test_another_rules_directory_does_not_get_the_cached_rulebook(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    first = settled_copy(tmp_path / "a")
    second = settled_copy(tmp_path / "b")
    platform_file = second / "platforms" / "douyin.yaml"
    platform_file.unlink()
    assert len(load_rulebook(first, cache_dir=state).platforms) == len(load_rulebook(second, cache_dir=state).platforms) + 1


def test_an_unwritable_state_directory_only_costs_the_cache(tmp_path: Path) -> None:
    rules = settled_copy(tmp_path)
    missing = tmp_path / "no" / "such" / "state"
    assert load_rulebook(rules, cache_dir=missing).to_json() == load_rulebook(rules).to_json()
