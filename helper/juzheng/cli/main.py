"""Entry point of ``juzheng``: builds the parser from the command modules and runs one."""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__

# Each module registers its sub-commands; adding a command group is one entry here. The names are
# listed so that running one command imports only its module: `juzheng sort` must not pay for the
# server, the tray or the OCR client (half a second of imports on a slow machine).
COMMANDS: dict[str, str] = {
    "rules": "juzheng.cli.rules_cmd",
    "deadline": "juzheng.cli.rules_cmd",
    "detect": "juzheng.cli.rules_cmd",
    "check": "juzheng.cli.rules_cmd",
    "serve": "juzheng.cli.serve_cmd",
    "pair": "juzheng.cli.pair_cmd",
    "sort": "juzheng.cli.sort_cmd",
    "undo": "juzheng.cli.sort_cmd",
    "pack": "juzheng.cli.pack_cmd",
    "status": "juzheng.cli.status_cmd",
    "autostart": "juzheng.cli.autostart_cmd",
    "read": "juzheng.cli.read_cmd",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (``command`` given) one holding only that command's module."""
    parser = argparse.ArgumentParser(prog="juzheng", description="举证助手：售后举证清单、证据整理与截止提醒")
    parser.add_argument("--version", action="version", version=f"juzheng {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="命令")
    modules = [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def _command_of(argv: list[str]) -> str | None:
    """The sub-command named first, when no top-level option precedes it (those need the full parser)."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    _utf8_console()
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_command_of(argv))
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
