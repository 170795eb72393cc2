"""Entry point of ``juzheng``: builds the parser from the command modules and runs one."""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__

# Each module registers its sub-commands; adding a command group is one line here.
COMMAND_MODULES = [
    "juzheng.cli.rules_cmd",
    "juzheng.cli.serve_cmd",
    "juzheng.cli.pair_cmd",
    "juzheng.cli.sort_cmd",
    "juzheng.cli.pack_cmd",
    "juzheng.cli.status_cmd",
    "juzheng.cli.autostart_cmd",
    "juzheng.cli.read_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="juzheng", description="举证助手：售后举证清单、证据整理与截止提醒")
    parser.add_argument("--version", action="version", version=f"juzheng {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="命令")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    _utf8_console()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return int(args.handler(args) or 0)


def _utf8_console() -> None:
    # Windows consoles default to a legacy code page; Chinese output must not crash there.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure:
            try:
                reconfigure(encoding="utf-8", errors="replace")
            except (OSError, ValueError):
                pass
