"""Scenario recognition against a dev set of texts written from the outside.

The set (tests/recognition_devset/) has, for every scenario, the platform's request reworded, a
back-office status line and a seller's or agent's own words, plus texts that are no case at all.

Which part is held out: ``holdout.yaml`` (the eighth). It was written and committed before the
fourth round of changes (damage with a missing accessory, a lone courier bag, analysis pages and
operations notes, abstaining rather than naming a wrong scenario) and measured once, on the code as
it was then: 62/74 = 83.8 % with 7 wrong (all of them no-case texts), below the target, kept as a
strict xfail; nothing is tuned on it. The seven earlier held-out files were each measured once on
first sight (41/46 with 4 wrong scenarios, 43/47 with 2, 42/46 with 3, 40/45 with 2, 69/74 with 1,
64/76 with 8, 54/75 with 9) and then used for tuning, so they are tuning parts (``seen_holdout*.yaml``).
The calibration table (rules/synonyms.yaml ``calibration``) is computed from the tuning parts and the
earlier held-out files' first measures (first_sight.json), never from holdout.yaml
(tests/recognition_devset/calibrate.py); a test checks it is current.
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
HELD = PARTS[HELD_OUT]


# --- the set itself ------------------------------------------------------------------------------
def test_the_set_is_large_varied_and_labelled_with_known_ids():
    assert len(ALL) >= 150 and len(HELD) >= 60
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


def test_the_held_out_part_has_every_platform_kind_and_no_case_text():
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


def test_held_out_part_keeps_its_floor(capsys):
    """Measured once, on first sight, before the round-4 changes (the round-3 code): 62/74 = 83.8 %,
    7 wrong (per kind: request 9/9, status 13/14, colloquial 17/19, page 2/4, none 21/28; per
    platform: douyin 10/14, pinduoduo 17/20, taobao 27/29, tmall 8/11). Every wrong scenario is a
    no-case text: a training reminder (遇到顾客说质量问题，先让对方拍视频) as taobao.quality_issue,
    a Tmall service-figures page (纠纷退款率 … 近30天 未收到货投诉 0 件) as tmall.not_received, a
    weekly report (描述不符 2 单已处理完) as tmall.not_as_described, a Pinduoduo service-data page
    (退款原因TOP：不想要了、少件漏发、质量问题) as pinduoduo.quality_issue, a 抖店 数据罗盘 page
    (退款原因：不想要了 52% 质量问题 11%) as douyin.quality_issue, a live-stream script (免得被说虚假
    宣传) as douyin.not_as_described, a finished exchange (换货物流：已签收 ｜ 用户已确认) as
    douyin.not_received. Five abstained (no_tracking 物流三天没动静, a Tmall return page, a PDD
    无轨迹 status, two missing-items texts). Reliability on it: confidence 0.844 -> 8/9 right,
    0.946 -> 10/13, 0.997 -> 23/26. Nothing was tuned on it. Measured a second time, once, when
    the round-4 code was final: 63/74 = 85.1 %, 7 wrong (request 9/9, status 13/14, colloquial
    17/19, page 3/4, none 21/28; douyin 12/14, pinduoduo 17/20, taobao 26/29, tmall 8/11): the
    live-stream script (免得) and the 抖店 少件 page are now right, but a 淘宝规则中心 page quoting
    「买家未收到货的，卖家应提供…」 is now read as taobao.not_received (a said reason now outweighs
    the everyday wording 规则中心); the other six wrong stay. Reliability: 0.774 -> 6/7, 0.943 ->
    10/13, 0.989 -> 26/29. This guards the first figure; the strict xfail below records that the
    target is not reached."""
    report = evaluate(HELD)
    with capsys.disabled():
        print("\n" + report.render("留出部分 (holdout)"))
    assert report.share >= 62 / 74, report.render("留出部分")
    assert len(report.wrong_scenarios) <= 7, report.render("留出部分")
    floors = {"request": (9, 9), "status": (13, 14), "colloquial": (17, 19), "page": (2, 4), "none": (21, 28)}
    for kind, (right, total) in floors.items():
        assert report.by_kind[kind][1] == total and report.by_kind[kind][0] >= right, (kind, report.render("留出部分"))


@pytest.mark.xfail(
    strict=True,
    reason="留出部分（第八份）首测 62/74 = 83.8 %、7 个误判（全是本无案的文字：培训提醒、服务指标页、周报、数据页、直播脚本、"
    "已完成的换货）；第四轮修改后再测一次 63/74 = 85.1 %、7 个误判（直播脚本已对，规则中心页新错）：尚未达到 95 % 且无误判的目标",
)
def test_held_out_part_meets_the_target():
    report = evaluate(HELD)
    assert report.share >= 0.95 and not report.wrong_scenarios, report.render("留出部分")
