"""Opening folders in the OS file manager: the command per OS, and a real spawn on Linux."""

from __future__ import annotations

import os
import sys
import time

import pytest

from juzheng import desktop
from juzheng.desktop import DesktopError, open_folder


@pytest.mark.parametrize(
    ("system", "program"), [("Linux", "xdg-open"), ("Darwin", "open"), ("Windows", "explorer")]
)
def test_command_per_os_and_the_folder_is_created(tmp_path, system, program):
    target = tmp_path / "举证助手" / "收件箱"
    calls: list[list[str]] = []
    open_folder(target, system=system, run=calls.append)
    assert calls == [[program, str(target)]]
    assert target.is_dir()


def test_a_launcher_failure_says_what_to_do(tmp_path):
    def broken(command):
        raise FileNotFoundError(2, "No such file", command[0])

    with pytest.raises(DesktopError, match="请在文件管理器中手动打开"):
        open_folder(tmp_path / "x", system="Linux", run=broken)


def test_a_folder_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DesktopError, match="无法创建文件夹"):
        open_folder(blocker / "sub", system="Linux", run=lambda c: None)


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="spawns xdg-open from PATH")
def test_really_spawns_xdg_open(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "opened.txt"
    script = bin_dir / "xdg-open"
    script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{record}"\n', encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    target = tmp_path / "证据 文件夹"
    open_folder(target)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the shell creates the file before it writes to it
        if record.exists() and record.read_text(encoding="utf-8"):
            break
        time.sleep(0.02)
    assert record.read_text(encoding="utf-8") == str(target)


def test_tray_main_thread_rule():
    assert desktop.tray_needs_main_thread("Darwin") is True
    assert desktop.tray_needs_main_thread("Windows") is False
    assert desktop.tray_needs_main_thread("Linux") is False
