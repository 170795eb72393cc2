"""The reader on rendered evidence: numbers exact, kinds right, never a wrong order.

The tuned set is what the kind cues were tuned on; the held-out set (other seeds, people,
carriers, fonts, titles and wording) was not. Both must meet the bar.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from juzheng.reader.client import ReaderClient
from juzheng.reader.engine import missing_parts
from juzheng.rules import load_rulebook

from fixtures.evidence_images import evidence_set
from reader_scoring import read_all

# The OCR worker is a process of its own.
pytestmark = [pytest.mark.skipif(bool(missing_parts()), reason="the ocr extra is not installed"), pytest.mark.subprocess]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    c = ReaderClient(tmp_path_factory.mktemp("reader-cache"))
    yield c
    c.stop()


# 29 OCR readings per variant: about a minute alone, several when both cores are busy.
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("variant", ["tune", "held_out"])
def test_numbers_kinds_and_orders(variant: str, client: ReaderClient, tmp_path: Path) -> None:
    samples = evidence_set(variant)
    assert len({s.style for s in samples}) >= 14  # every family of evidence is in the set
    score, _ = read_all(samples, tmp_path, client, load_rulebook())
    detail = "\n".join(score.misses)
    assert score.numbers >= 25  # order ids and tracking numbers shown across the set
    assert score.numbers_exact / score.numbers >= 0.95, detail
    assert score.kinds_right / score.kinds >= 0.85, detail
    assert score.wrong_order == [], score.wrong_order
    assert score.wrong_kind_taken == [], score.wrong_kind_taken  # a kind taken without asking is right


def test_a_misread_digit_never_files_under_a_new_order(client: ReaderClient, tmp_path: Path) -> None:
    """A Pinduoduo id read unclearly is not trusted unless a known case has exactly that id."""
    from juzheng.evidence.classify_text import CaseRef, decide
    from juzheng.reader.protocol import Signals, TextLine

    book = load_rulebook()
    line = TextLine(text="订单编号：240312-123456789012345", score=0.62)
    unclear = decide([line], Signals(screenshot=True), "Screenshot_1.png", book)
    assert unclear.order_id is None and "看不太清" in (unclear.reason or "")
    known = decide([line], Signals(screenshot=True), "Screenshot_1.png", book, [CaseRef("pinduoduo", "240312-123456789012345")])
    assert known.order_id == "240312-123456789012345"
