"""Hypothesis on the rule loader: any edit of a rule file loads or is refused with a located error."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juzheng.rules import DEFAULT_RULES_DIR, RulebookError, load_rulebook

pytestmark = pytest.mark.slow  # hundreds of generated rule files

SOURCE = (DEFAULT_RULES_DIR / "platforms" / "pinduoduo.yaml").read_text(encoding="utf-8")
LINES = SOURCE.splitlines()
FRAGMENTS = ["", ":", "- ", "  ", "[", "]", "{", "'", '"', "48 h", "0h", "nope_kind", "id:", "\t", "！", "&a", "*a", "%", "@"]


_COPY = Path(tempfile.mkdtemp(prefix="juzheng-rules-fuzz-")) / "rules"
shutil.copytree(DEFAULT_RULES_DIR, _COPY)


def load_with(text: str):
    (_COPY / "platforms" / "pinduoduo.yaml").write_text(text, encoding="utf-8")
    return load_rulebook(_COPY)


def assert_located(exc: RulebookError, text: str) -> None:
    assert exc.errors
    for error in exc.errors:
        assert error.file and error.message
        if error.file.endswith("pinduoduo.yaml") and error.line is not None:
            assert 1 <= error.line <= max(len(text.splitlines()), 1) + 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    line=st.integers(min_value=0, max_value=len(LINES) - 1),
    column=st.integers(min_value=0, max_value=40),
    fragment=st.sampled_from(FRAGMENTS),
    delete=st.booleans(),
)
def test_mutated_rule_file_never_crashes(line, column, fragment, delete):
    lines = list(LINES)
    if delete:
        del lines[line]
    else:
        target = lines[line]
        lines[line] = target[:column] + fragment + target[column:]
    text = "\n".join(lines) + "\n"
    try:
        load_with(text)
    except RulebookError as exc:
        assert_located(exc, text)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_refused_cleanly(text):
    try:
        load_with(text)
    except RulebookError as exc:
        assert_located(exc, text)
