"""The OCR worker's start options per OS: the Windows flags are computed (and checked) off Windows too."""

from __future__ import annotations

import subprocess
import sys

import pytest

from juzheng.reader.process_flags import BELOW_NORMAL_PRIORITY_CLASS, CREATE_NO_WINDOW, worker_creationflags


def test_windows_worker_has_no_window_and_below_normal_priority() -> None:
    flags = worker_creationflags("win32")
    assert flags == 0x08000000 | 0x00004000
    assert flags & CREATE_NO_WINDOW and flags & BELOW_NORMAL_PRIORITY_CLASS
    # no other bit: e.g. DETACHED_PROCESS would cut the worker's pipes
    assert flags & ~(CREATE_NO_WINDOW | BELOW_NORMAL_PRIORITY_CLASS) == 0


@pytest.mark.parametrize("platform", ["linux", "darwin", "freebsd14", "cygwin"])
def test_elsewhere_popen_gets_no_creationflags(platform: str) -> None:
    # POSIX Popen raises ValueError for any non-zero creationflags
    assert worker_creationflags(platform) == 0


@pytest.mark.skipif(sys.platform != "win32", reason="subprocess defines the Win32 constants only on Windows")
def test_constants_are_the_ones_subprocess_defines() -> None:  # pragma: no cover - Windows only
    if sys.platform == "win32":
        assert CREATE_NO_WINDOW == subprocess.CREATE_NO_WINDOW
        assert BELOW_NORMAL_PRIORITY_CLASS == subprocess.BELOW_NORMAL_PRIORITY_CLASS


def test_this_platforms_flags_are_accepted_by_popen() -> None:
    # the flags computed for the running OS start a real process
    proc = subprocess.Popen([sys.executable, "-c", "pass"], creationflags=worker_creationflags(sys.platform))
    assert proc.wait(30) == 0
