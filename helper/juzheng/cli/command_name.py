"""The command a seller can type to reach this helper: ``juzheng`` when it is on PATH, else its full path.

``scripts/run`` and 举证助手.cmd start the helper from the project's own virtual environment, which is not on
the user's PATH; a banner that said "run juzheng pair" would name a command that does not exist there.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path


def command_name(argv0: str | None = None, which: Callable[[str], str | None] = shutil.which) -> str:
    """``juzheng`` if that name on PATH is this program; else the absolute path of this program (quoted when it
    has spaces, as a Windows user's profile folder often does)."""
    program = Path(argv0 if argv0 is not None else sys.argv[0])
    on_path = which("juzheng")
    if on_path and _same(Path(on_path), program):
        return "juzheng"
    if program.stem.lower() != "juzheng" or not program.exists():
        # Run as ``python -m juzheng``: the interpreter with -m is what works.
        return f"{_quoted(sys.executable)} -m juzheng"
    return _quoted(str(program.resolve()))


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _quoted(text: str) -> str:
    return f'"{text}"' if " " in text else text
