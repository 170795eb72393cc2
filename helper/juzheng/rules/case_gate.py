"""Is this text a live case at all? A small learned check on top of the ranked recogniser.

The recogniser decides *which* scenario a text is most like from the rulebook's own descriptions.
What it cannot learn from the rulebook is the difference between a case and a text that only talks
like one: a won case told as good news, a question about a relative's order, an advert for courier
proofs, a withdrawn request. Each round of word lists for those fixed the file it was written from
and missed the next one (held-out first sights 77.5–91 %, most misses such texts). This model is
learned from the dev set's tuning parts instead: a softmax over character 1–3-grams with one class
per kind of complaint (the scenario id without its platform: 未收到 on Taobao and on Douyin are one
class, so each has four platforms' texts to learn from) and one class for "no case". Only its
probability of "no case" is used, and only to hold back a scenario the recogniser would name.

Trained by tests/recognition_devset/train_case_gate.py (never on holdout.yaml) into
rules/case_gate.json; pure arithmetic here, no numpy, so it runs wherever the helper does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import sys
from array import array
from operator import add

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_serializer


__all__ = ["CaseGate", "MAX_CHARS", "NO_CASE", "family_of", "features", "folded_features", "training_digest"]

NO_CASE = "none"
# The dev set's texts are at most ~350 characters: pasted requests, status lines, chats, the
# after-sale block of a page. A whole page read by the extension (thousands of characters of menus
# and order rows) is outside what the model has seen, and an after-sale page is a case more often
# than not: beyond this length the model is not asked.
MAX_CHARS = 2000
# The word lists' live marks are evidence the model does not weigh: a case quoting its shop's
# figures (退货率 0.3%、好评率 99%，小二要我们举证) read 0.46 to it. 0.7 with the threshold at
# 0.55 (train_case_gate.py): leave-one-file-out over sixteen files held back 378 of 446 no-case
# texts and 3 of 912 cases (the gate reading gate_view), against 347 and 3 at 0.5 of 0.5; over
# nineteen files 450 of 524 and 11 of 1,074 (at 0.5 of 0.5: 412 and 6).
LIVE_FACTOR = 0.7
_DIGITS = re.compile(r"\d+")
FILE_NAME = "case_gate.json"


def family_of(scenario_id: str | None) -> str:
    """The class a scenario's texts are learned under: its id without the platform."""
    return NO_CASE if scenario_id is None else scenario_id.split(".", 1)[1]


def features(text: str) -> set[str]:
    """The grams of a text as the model sees them (see :func:`folded_features`)."""
    from .text_prep import fold  # here, not at the top: the loader imports this module and `juzheng sort` never folds

    return folded_features(fold(text))


def folded_features(folded: str) -> set[str]:
    """The grams of an already folded text (``text_prep.fold``, as recognition folds every input),
    every run of digits one symbol: an order number says nothing about the case."""
    joined = " ".join(_DIGITS.sub("0", folded).split())
    bigrams = list(map(add, joined, joined[1:]))
    grams = set(joined)
    grams.update(bigrams)
    grams.update(map(add, bigrams, joined[2:]))
    return grams


class CaseGate(BaseModel):
    """The trained weights: per gram (in ``grams`` order) one weight per class (in ``classes`` order),
    as little-endian float32 in one base64 string. As a dict of float lists the 10k grams cost the
    helper 26 MB of memory (a Python float per weight) for 1.5 MB of numbers; as one array, ~2 MB."""

    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort

    classes: list[str]
    bias: list[float]
    grams: list[str]
    weights_f32: str = Field(description="base64 of len(grams) × len(classes) little-endian float32")
    threshold: float = Field(description="below this probability of a live case, a scenario is not named")
    trained_on: str = Field(description="sha256 of the training texts and labels: a test checks it is current")
    _rows: dict[str, int] = PrivateAttr(default_factory=dict)
    _weights: array[float] = PrivateAttr(default_factory=lambda: array("f"))

    def model_post_init(self, context: object, /) -> None:
        self._rows = {g: i for i, g in enumerate(self.grams)}
        weights = array("f")
        weights.frombytes(base64.b64decode(self.weights_f32))
        if sys.byteorder != "little":
            weights.byteswap()
        if len(weights) != len(self.grams) * len(self.classes):
            raise ValueError(f"{len(weights)} weights for {len(self.grams)} grams × {len(self.classes)} classes")
        self._weights = weights
        # The base64 text is only the file's form of the array: kept as well, it was 1.4 MB of the
        # helper's memory beside the 1 MB array. A dump encodes the array again (_weights_text).
        self.weights_f32 = ""

    @field_serializer("weights_f32")
    def _weights_text(self, _kept: str) -> str:
        weights = array("f", self._weights)
        if sys.byteorder != "little":
            weights.byteswap()
        return base64.b64encode(weights.tobytes()).decode("ascii")

    def p_case(self, grams: set[str]) -> float:
        """The probability that the text is a case of any kind (1 − P(no case))."""
        matched = [self._rows[g] for g in self._rows.keys() & grams]
        scale = 1.0 / math.sqrt(len(matched)) if matched else 0.0
        logits = list(self.bias)
        if matched:
            width, weights = len(self.classes), self._weights
            starts = [r * width for r in matched]
            logits = [b + sum(weights[s + c] for s in starts) * scale for c, b in enumerate(self.bias)]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        return 1.0 - exps[self.classes.index(NO_CASE)] / sum(exps)

    def says_no_case(self, folded: str, *, live: bool = False) -> bool:
        """On the folded text (``text_prep.fold``); never for a text longer than MAX_CHARS. ``live``:
        the text shows a live case's mark (a countdown, 请上传, 待商家举证): then only a model far
        surer of "no case" holds it back (LIVE_FACTOR of the threshold)."""
        if len(folded) > MAX_CHARS:
            return False
        return self.p_case(folded_features(folded)) < self.threshold * (LIVE_FACTOR if live else 1.0)


def training_digest(rows: list[tuple[str, str]]) -> str:
    """What a model was trained from: the (text, class) pairs in order."""
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
