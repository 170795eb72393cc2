"""Calibrate recognition's confidence on the tuning parts of the dev set (never on holdout.yaml).

For every tuning text that recognition would name a scenario for, the raw strength (best score and
its lead, ``recognition.strength``) and whether that scenario is the expected one. The tuning parts
were tuned on, so on them the recogniser looks surer than it is on new wording (the sixth held-out
file: 0.981 -> 8/15 right); the observations of each earlier held-out file at its first measure
(first_sight.json: the code of that day on the then-new file, before any tuning on it) are pooled
with them. Texts are put in
bins of about equal size by strength; each bin's accuracy is smoothed (Laplace: one right and one
wrong added, so a small bin cannot claim certainty) and made non-decreasing (pool adjacent
violators). The table is written to the end of rules/synonyms.yaml; the reliability table (per bin:
predicted against observed) is printed.

    .venv/bin/python tests/recognition_devset/calibrate.py [--write]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from juzheng.rules import load_rulebook
from juzheng.rules.loader import Rulebook
from juzheng.rules.recognition import recognise, strength

HERE = Path(__file__).parent
SYNONYMS = HERE.parent.parent / "rules" / "synonyms.yaml"
MARK = "  # --- 置信度校准（tests/recognition_devset/calibrate.py 生成，勿手改）---"
BINS = 10
FIRST_SIGHT = HERE / "first_sight.json"


def uncalibrated(book: Rulebook) -> Rulebook:
    vocabulary = book.vocabulary.model_copy(update={"calibration": []})
    return Rulebook(list(book.kinds.values()), list(book.platforms.values()), vocabulary, book.screenshot_names, book.case_gate)


def tuning_rows() -> list[dict]:
    rows: list[dict] = []
    for path in sorted(HERE.glob("*.yaml")):
        if path.stem != "holdout":
            rows += yaml.safe_load(path.read_text(encoding="utf-8"))
    return rows


def first_sight() -> list[tuple[float, bool]]:
    """(strength, right) of every text named at a held-out file's first measure (first_sight.json)."""
    parts = json.loads(FIRST_SIGHT.read_text(encoding="utf-8"))["parts"]
    return [(float(s), bool(r)) for part in parts.values() for s, r in part["named"]]


def observations(book: Rulebook, rows: list[dict]) -> tuple[list[tuple[float, bool]], list[bool]]:
    """(strength, right) of every named text; and for the texts left to the seller with candidates,
    whether the first 「可能是」 choice is the right one."""
    named: list[tuple[float, bool]] = []
    guesses: list[bool] = []
    for row in rows:
        found = recognise(book, row["p"], row["t"])
        if found.scenario:
            second = found.candidates[1].score if len(found.candidates) > 1 else 0.0
            named.append((strength(found.score, found.score - second), found.scenario == row["e"]))
        elif found.candidates and row["e"]:
            guesses.append(found.candidates[0].scenario == row["e"])
    return named, guesses


def pool_adjacent(values: list[float], weights: list[int]) -> list[float]:
    blocks = [[v, w, 1] for v, w in zip(values, weights, strict=True)]
    i = 0
    while i < len(blocks) - 1:
        if blocks[i][0] > blocks[i + 1][0]:
            (v1, w1, c1), (v2, w2, c2) = blocks[i], blocks[i + 1]
            blocks[i : i + 2] = [[(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2]]
            i = max(i - 1, 0)
        else:
            i += 1
    return [v for v, _, count in blocks for _ in range(count)]


def calibrate(named: list[tuple[float, bool]]) -> list[dict]:
    named = sorted(named)
    size = max(1, len(named) // BINS)
    groups: list[list[tuple[float, bool]]] = [[]]
    for item in named:
        # A bin closes once full, but never between two equal strengths (they must get one value).
        if len(groups[-1]) >= size and item[0] != groups[-1][-1][0]:
            groups.append([])
        groups[-1].append(item)
    if len(groups) > 1 and len(groups[-1]) < size // 2:
        tail = groups.pop()  # a short tail joins the bin before (popped first: `groups[-2] += groups.pop()`
        groups[-1] += tail  # indexes before the pop and overwrote the bin before that)
    smoothed = [(sum(r for _, r in g) + 1) / (len(g) + 2) for g in groups]
    monotone = pool_adjacent(smoothed, [len(g) for g in groups])
    return [
        {"raw_from": 0.0 if i == 0 else round(g[0][0], 4), "accuracy": round(a, 3), "texts": len(g),
         "observed": f"{sum(r for _, r in g)}/{len(g)}"}
        for i, (g, a) in enumerate(zip(groups, monotone, strict=True))
    ]


def main() -> None:
    book = uncalibrated(load_rulebook())
    named, guesses = observations(book, tuning_rows())
    table = calibrate(named + first_sight())
    print("强度区间起点  预测(校准后)  实测  文字数")
    for b in table:
        print(f"  {b['raw_from']:>8.4f}  {b['accuracy']:>8.3f}  {b['observed']:>7}  {b['texts']}")
    if guesses:
        print(f"未识别而给出「可能是」的：第一个选项正确 {sum(guesses)}/{len(guesses)}")
    if "--write" in sys.argv:
        text = SYNONYMS.read_text(encoding="utf-8")
        head = text.split(MARK)[0].rstrip("\n")
        lines = [head, "", MARK, "  # 每格：强度 ≥ raw_from 的文字在调参部分及以前各留出部分首测（first_sight.json）里首选场景正确的比例（平滑、单调）；texts 为文字数", "  calibration:"]
        lines += [f"    - {{raw_from: {b['raw_from']}, accuracy: {b['accuracy']}, texts: {b['texts']}}}" for b in table]
        SYNONYMS.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
