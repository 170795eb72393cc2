"""Recognition's text folding reads zhconv's table without pkg_resources (12 MB of the helper's memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import juzheng

PROBE = """
import hashlib, json, sys
if sys.argv[1] == "preloaded":
    import pkg_resources  # something else of the process imported it first: zhconv then uses it
from juzheng.rules import text_prep
table = json.dumps(sorted(text_prep._TO_SIMPLIFIED.items()), ensure_ascii=False).encode()
print(json.dumps({"pkg_resources": "pkg_resources" in sys.modules, "size": len(text_prep._TO_SIMPLIFIED),
                  "digest": hashlib.sha256(table).hexdigest(), "fold": text_prep.fold("買家說簽收題目")}, ensure_ascii=False))
"""


def _probe(mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUZHENG_")}
    env["PYTHONPATH"] = str(Path(juzheng.__file__).parents[1])
    env["PYTHONWARNINGS"] = "ignore"  # pkg_resources warns that it is deprecated
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, encoding="utf-8",
                         timeout=120, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.subprocess
def test_folding_text_does_not_import_pkg_resources() -> None:
    plain = _probe("plain")
    assert plain["pkg_resources"] is False
    assert plain["fold"] == "买家说签收题目"
    assert plain["size"] > 2000  # the whole per-character table, not an empty one


@pytest.mark.subprocess
def test_the_table_is_the_same_whichever_way_zhconv_opens_its_file() -> None:
    plain, preloaded = _probe("plain"), _probe("preloaded")
    assert preloaded["pkg_resources"] is True
    assert (plain["size"], plain["digest"]) == (preloaded["size"], preloaded["digest"])


@pytest.mark.subprocess
def test_zhconvs_phrase_tables_are_let_go_once_the_character_table_is_built() -> None:
    probe = """
import json, sys
from juzheng.rules import text_prep
from zhconv import zhconv  # the module whose globals hold its tables
held = [zhconv.zhcdicts is not None, zhconv.dict_zhcn is not None, "zh-cn" in zhconv.pfsdict]
again = zhconv.convert("簽收", "zh-cn")  # zhconv still works: it reloads what it needs
print(json.dumps({"held": held, "again": again, "fold": text_prep.fold("簽收")}, ensure_ascii=False))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUZHENG_")}
    env["PYTHONPATH"] = str(Path(juzheng.__file__).parents[1])
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, encoding="utf-8", timeout=120, check=True, env=env)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"held": [False, False, False], "again": "签收", "fold": "签收"}
