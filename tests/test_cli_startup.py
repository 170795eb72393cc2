"""One command imports only its own module: `juzheng sort` does not pay for the server, tray or OCR."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from juzheng.cli.main import COMMAND_MODULES, COMMANDS, build_parser


def test_the_command_table_is_what_the_modules_register() -> None:
    registered: dict[str, str] = {}
    for module in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        registered.update(dict.fromkeys(sub.choices, module))
    assert registered == COMMANDS


def test_one_command_parser_parses_like_the_whole_one() -> None:
    argv = ["sort", "--dry-run"]
    assert vars(build_parser("sort").parse_args(argv)).keys() == vars(build_parser().parse_args(argv)).keys()


PROBE = """
import json, sys
from juzheng.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = ("aiohttp", "juzheng.tray", "juzheng.server", "juzheng.reader", "PIL", "rapidocr", "onnxruntime")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.startswith(heavy))))
"""


@pytest.mark.subprocess
@pytest.mark.parametrize("argv", [["sort", "--help"], ["undo", "--help"], ["pair", "--help"]])
def test_sorting_and_pairing_import_no_server_tray_or_ocr(argv: list[str]) -> None:
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


SORT_PROBE = """
import json, sys
from juzheng.cli.main import main
main(sys.argv[1:])
print(json.dumps(sorted(sys.modules)))
"""
# Sorting never reads an image, watches a folder, serves, or reads the rule files' YAML while its
# cached rulebook is current; each of these cost `juzheng sort` tens of milliseconds of start-up.
# On an empty inbox nothing is validated, so no pydantic validator is built (the first build loads
# pydantic's plugin machinery and importlib.metadata: a model built eagerly at import cost 0.1–0.2 s),
# and the shipped rulebook is found without importlib.metadata.
NOT_FOR_SORTING = {
    "PIL", "watchdog", "aiohttp", "numpy", "juzheng.server", "juzheng.tray", "juzheng.reader", "juzheng.rulebook_holder",
    "yaml", "zhconv", "pkg_resources", "juzheng.rules.compile", "juzheng.rules.text_prep", "juzheng.rules.recognition",
    "juzheng.rules.evaluation", "juzheng.evidence.observer", "platformdirs", "difflib", "urllib.request",
    "importlib.metadata", "pydantic.plugin._loader", "email",
}


def _unwanted(modules: set[str]) -> list[str]:
    """The modules of NOT_FOR_SORTING (or inside one of them) that were imported."""
    return sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in NOT_FOR_SORTING))


@pytest.mark.subprocess
def test_sorting_an_inbox_imports_nothing_it_does_not_use(tmp_path) -> None:
    import os
    import shutil
    import time

    from juzheng.paths import INBOX
    from juzheng.rules import DEFAULT_RULES_DIR

    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    for path in rules.rglob("*.yaml"):  # settled files: a rule file written just now is not cached
        os.utime(path, (time.time() - 3600,) * 2)
    root = tmp_path / "证据"
    (root / INBOX).mkdir(parents=True)
    (root / INBOX / "淘宝 2481875865670130684 底单 1.jpg").write_bytes(b"\xff\xd8\xff\xe0 photo \xff\xd9")
    argv = ["sort", "--root", str(root), "--state-dir", str(tmp_path / "state"), "--rules", str(rules)]
    import juzheng

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUZHENG_")}
    env["PYTHONPATH"] = str(Path(juzheng.__file__).parents[1])  # the code under test, not whatever is installed
    loaded = []
    for _ in range(2):  # the first run reads the rule files and caches the rulebook; the second uses the cache
        out = subprocess.run([sys.executable, "-c", SORT_PROBE, *argv], capture_output=True, text=True, timeout=120, check=True, env=env)
        loaded.append(set(json.loads(out.stdout.strip().splitlines()[-1])))
    assert "yaml" in loaded[0]
    assert _unwanted(loaded[1]) == []  # the second run: the inbox is empty, the rulebook cached
    assert any(p.is_file() for p in (root / "淘宝").rglob("*.jpg"))  # it did sort the file
