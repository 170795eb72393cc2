"""Scenario recognition against a dev set of texts written from the outside.

The set (tests/recognition_devset/) has, for every scenario, the platform's request reworded, a
back-office status line and a seller's or agent's own words, plus texts that are no case at all.

Which part is held out: ``holdout.yaml`` (the twenty-fourth), written from the outside by someone who
had read neither the recogniser nor the earlier files, and measured once on the code as it stood
(HELD_FIRST_MEASURE below); nothing is tuned on it. Without the file only the held-out tests skip.
The twenty-three earlier held-out files were each measured once on first sight (41/46 with 4 wrong
scenarios, 43/47 with 2, 42/46 with 3, 40/45 with 2, 69/74 with 1, 64/76 with 8, 54/75 with 9,
62/74 with 7, 54/78 with 19, 61/76 with 4, 66/78 with 8, 73/80 with 2, 68/80 with 10, 62/80 with 15,
71/80 with 5, 71/80 with 7, 72/80 with 4, 73/80 with 2, 71/80 with 3, 68/80 with 5, 78/80 with 2, 74/80 with 4, 68/80 with 1)
and then used for tuning, so they are tuning parts (``seen_holdout*.yaml``). The calibration table (rules/synonyms.yaml ``calibration``)
is computed from the tuning parts and the earlier held-out files' first measures
(first_sight.json), never from holdout.yaml (tests/recognition_devset/calibrate.py); a test checks
it is current.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from juzheng.rules import load_rulebook, recognise

sys.path.insert(0, str(Path(__file__).parent / "recognition_devset"))
import calibrate  # noqa: E402  (tests/recognition_devset/calibrate.py: the same code writes the table)

DEVSET = Path(__file__).parent / "recognition_devset"
HELD_OUT = "holdout"
KINDS = {"request", "status", "colloquial", "page", "none"}
BOOK = load_rulebook()


@dataclass(frozen=True)
class Sample:
    part: str
    platform: str
    kind: str
    expected: str | None
    text: str


def load_parts() -> dict[str, list[Sample]]:
    parts = {}
    for path in sorted(DEVSET.glob("*.yaml")):
        rows = yaml.safe_load(path.read_text(encoding="utf-8"))
        parts[path.stem] = [Sample(path.stem, r["p"], r["k"], r["e"], r["t"]) for r in rows]
    return parts


PARTS = load_parts()
ALL = [s for part in PARTS.values() for s in part]


@dataclass
class Report:
    right: int
    total: int
    by_kind: dict[str, list[int]]
    by_platform: dict[str, list[int]]
    wrong_scenarios: list[str]  # every false positive: a scenario named that is not the expected one
    abstained: list[str]

    @property
    def share(self) -> float:
        return self.right / self.total

    def render(self, title: str) -> str:
        lines = [f"{title}: {self.right}/{self.total} = {self.share:.1%}"]
        lines.append("  按类型: " + "  ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(self.by_kind.items())))
        lines.append("  按平台: " + "  ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(self.by_platform.items())))
        lines += [f"  误判: {w}" for w in self.wrong_scenarios] or ["  误判: 无"]
        lines += [f"  未识别: {w}" for w in self.abstained]
        return "\n".join(lines)


def evaluate(samples: list[Sample]) -> Report:
    report = Report(0, len(samples), defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0]), [], [])
    for s in samples:
        found = recognise(BOOK, s.platform, s.text)
        ok = found.scenario == s.expected
        report.right += ok
        for table, key in ((report.by_kind, s.kind), (report.by_platform, s.platform)):
            table[key][0] += ok
            table[key][1] += 1
        if found.scenario and not ok:
            report.wrong_scenarios.append(f"[{s.part}/{s.kind}] 期望 {s.expected}，得到 {found.scenario}：{s.text[:40]}")
        elif not ok:
            top = found.candidates[0].scenario if found.candidates else "-"
            report.abstained.append(f"[{s.part}/{s.kind}] 期望 {s.expected}（首选候选 {top}）：{s.text[:40]}")
    return report


TUNING = [s for s in ALL if s.part != HELD_OUT]
HELD = PARTS.get(HELD_OUT, [])
# Only the held-out tests wait for the file; the rest of the module runs without it.
needs_held_out = pytest.mark.skipif(
    not HELD, reason="留出部分 tests/recognition_devset/holdout.yaml（第二十四份）尚未提交：只跳过留出部分的测试"
)
# The held-out file's first measure, once taken (on the code as it stood when the file was added):
# {"right": r, "total": n, "wrong": w, "by_kind": {kind: (right, total)}}. None until then: the floor
# test prints the figures and skips, so the integrator can record them here.
HELD_FIRST_MEASURE: dict | None = {
    # File 24, written from the outside (its brief: product categories with their own words — fresh
    # fruit, cosmetics, phones, furniture, clothing, books, pet food, group orders — and long stories
    # where the dispute is one part) and measured once on the code of aebffef (round 17: file 23
    # tuned on) before it was committed here: 74/80 = 92.5 %, 2 wrong, both Tmall returns named
    # 未收到 (one picked up by 菜鸟上门取件, one failing its inspection); no no-case text named; per
    # platform douyin 20/21, pinduoduo 18/20, taobao 19/20, tmall 17/19.
    "right": 74, "total": 80, "wrong": 2,
    "by_kind": {"request": (13, 14), "status": (11, 13), "colloquial": (12, 14), "page": (12, 13), "none": (26, 26)},
}


# --- the set itself ------------------------------------------------------------------------------
def test_the_set_is_large_varied_and_labelled_with_known_ids():
    assert len(ALL) >= 150
    assert sum(s.expected is None for s in ALL) >= 25
    for s in ALL:
        assert s.kind in KINDS, s
        assert s.platform in BOOK.platforms, s
        assert (s.kind == "none") == (s.expected is None), s
        assert s.expected is None or s.expected in BOOK.scenarios, s
    kinds_of: dict[str, set[str]] = defaultdict(set)
    for s in ALL:
        if s.expected:
            kinds_of[s.expected].add(s.kind)
    for scenario_id in BOOK.scenarios:
        assert {"request", "status", "colloquial"} <= kinds_of[scenario_id], scenario_id


def test_no_text_repeats_a_sentence_of_the_sources():
    # The rulebook quotes the seeds' requests verbatim; a dev text repeating a clause of them tests
    # memory, not recognition.
    quoted = set()
    for scenario in BOOK.scenarios.values():
        for clause in re.split(r"[，。；：、（）()]", scenario.request_text or ""):
            if len(clause) >= 14:
                quoted.add(clause)
    for s in ALL:
        copied = [c for c in quoted if c in s.text]
        assert not copied, (s.text, copied)


def test_texts_are_not_duplicated():
    texts = [s.text for s in ALL]
    assert len(texts) == len(set(texts))


@needs_held_out
def test_the_held_out_part_has_every_platform_kind_and_no_case_text():
    assert len(HELD) >= 60
    assert {s.platform for s in HELD} == set(BOOK.platforms)
    assert KINDS == {s.kind for s in HELD}
    assert sum(s.expected is None for s in HELD) >= 20


# --- the figures ---------------------------------------------------------------------------------
def test_tuning_parts_meet_the_target(capsys):
    report = evaluate(TUNING)
    with capsys.disabled():
        print("\n" + report.render("调参部分 (tune + seen_holdout*)"))
    assert not report.wrong_scenarios, report.render("调参部分")
    assert report.share >= 0.95, report.render("调参部分")


def test_the_calibration_is_current_and_never_from_the_held_out_part(capsys):
    """The stored table is what calibrate.py computes from the tuning parts now (pooled with the
    earlier held-out files' first measures, first_sight.json): a change to the
    vocabulary, weights or thresholds that moves the figures must recompute it (--write)."""
    named, guesses = calibrate.observations(calibrate.uncalibrated(BOOK), calibrate.tuning_rows())
    table = calibrate.calibrate(named + calibrate.first_sight())
    stored = [(b.raw_from, b.accuracy, b.texts) for b in BOOK.vocabulary.calibration]
    assert stored == [(b["raw_from"], b["accuracy"], b["texts"]) for b in table]
    with capsys.disabled():
        print("\n校准（调参部分）: " + "  ".join(f"≥{b['raw_from']}: 预测 {b['accuracy']} 实测 {b['observed']}" for b in table))
        print(f"  未识别时第一个「可能是」正确 {sum(guesses)}/{len(guesses)}")


@needs_held_out
def test_held_out_part_keeps_its_floor(capsys):
    """Guards the held-out file's first measure (HELD_FIRST_MEASURE): never below it in share, in
    wrong scenarios or in any kind."""
    report = evaluate(HELD)
    with capsys.disabled():
        print("\n" + report.render("留出部分 (holdout)"))
    if HELD_FIRST_MEASURE is None:
        pytest.skip("留出部分尚未记下首测数字（HELD_FIRST_MEASURE）：上面打印的就是首测")
    first = HELD_FIRST_MEASURE
    assert report.share >= first["right"] / first["total"], report.render("留出部分")
    assert len(report.wrong_scenarios) <= first["wrong"], report.render("留出部分")
    for kind, (right, total) in first.get("floor_by_kind", first["by_kind"]).items():
        assert report.by_kind[kind][1] == total and report.by_kind[kind][0] >= right, (kind, report.render("留出部分"))


@needs_held_out
@pytest.mark.xfail(
    strict=True,
    reason="每份留出部分首测都未达到 95 % 且无误判的目标（第八份 62/74、7 个误判；第九份 54/78、19 个误判；第十份 61/76、4 个误判；第十一份 66/78、8 个误判；第十二份 73/80、2 个误判；第十三份 68/80、10 个误判；第十四份 62/80、15 个误判；第十五份 71/80、5 个误判；第十六份 71/80、7 个误判；第十七份 72/80、4 个误判；第十八份 73/80、2 个误判；第十九份 71/80、3 个误判；第二十份 68/80、5 个误判；第二十一份 78/80、2 个误判；第二十二份 74/80、4 个误判；第二十三份 68/80、1 个误判；第二十四份 74/80、2 个误判）：若达到，这里会报 XPASS，请去掉此标记",
)
def test_held_out_part_meets_the_target():
    report = evaluate(HELD)
    assert report.share >= 0.95 and not report.wrong_scenarios, report.render("留出部分")
