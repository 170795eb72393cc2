"""One command imports only its own module: `juzheng sort` does not pay for the server, tray or OCR."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

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
