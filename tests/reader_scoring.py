"""Scoring of the reader on rendered evidence (shared by the accuracy test and the benchmark)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from juzheng.evidence.classify_text import CaseRef, TextDecision, decide
from juzheng.reader.client import ReaderClient
from juzheng.rules import Rulebook

from fixtures.evidence_images import Sample


@dataclass
class Score:
    numbers: int = 0
    numbers_exact: int = 0
    kinds: int = 0
    kinds_right: int = 0
    wrong_order: list[str] = field(default_factory=list)
    kinds_taken: int = 0  # kinds confident enough to file the image without asking
    wrong_kind_taken: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)


def known_cases(samples: list[Sample]) -> list[CaseRef]:
    """The cases a seller would have open: one per sample that belongs somewhere."""
    cases = []
    for i, s in enumerate(samples):
        if s.order_id:
            cases.append(CaseRef(s.platform or "taobao", s.order_id, None, i + 1))
        elif s.case_tracking:
            # an order of its own, shipped under the tracking number the image shows
            cases.append(CaseRef("pinduoduo", f"240101-{i + 1:015d}", s.case_tracking, i + 1))
    return cases


def expected_order(sample: Sample, index: int) -> str | None:
    if sample.order_id:
        return sample.order_id
    if sample.case_tracking:
        return f"240101-{index + 1:015d}"
    return None


def read_all(samples: list[Sample], folder: Path, client: ReaderClient, rulebook: Rulebook) -> tuple[Score, list[TextDecision]]:
    cases = known_cases(samples)
    score = Score()
    decisions = []
    for i, s in enumerate(samples):
        path = folder / f"{i:02d}-{s.name}"
        path.write_bytes(s.data)
        reply = client.read(path)
        assert reply.ok, reply.error
        score.cpu_seconds.append(reply.cpu_seconds)
        d = decide(reply.lines, reply.signals, s.name, rulebook, cases)
        decisions.append(d)
        read_numbers = set(d.order_ids) | {t.number for t in d.tracking_numbers}
        for number in [*s.order_ids, *s.tracking_numbers]:
            score.numbers += 1
            if number in read_numbers:
                score.numbers_exact += 1
            else:
                score.misses.append(f"{s.style}: number {number} not in {sorted(read_numbers)}")
        score.kinds += 1
        if s.rejected:
            right = d.rejected is not None and d.kind is None
        elif s.kind is None:
            right = d.suggested_kind is None
        else:
            right = d.suggested_kind == s.kind
        if d.kind is not None:
            score.kinds_taken += 1
            if d.kind != s.kind or s.rejected:
                score.wrong_kind_taken.append(f"{s.style}: filed as {d.kind}, is {s.kind}")
        if right:
            score.kinds_right += 1
        else:
            score.misses.append(f"{s.style}: kind {d.suggested_kind} (taken {d.kind}, rejected {d.rejected}) want {s.kind}; {d.kind_candidates}")
        want = expected_order(s, i)
        if d.order_id is not None and d.order_id != want:
            score.wrong_order.append(f"{s.style}: placed under {d.order_id}, belongs to {want}")
        elif d.order_id is None and want is not None:
            score.misses.append(f"{s.style}: not placed ({d.reason})")
    return score, decisions
