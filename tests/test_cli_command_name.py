"""The banner names a command that works: ``juzheng`` only when PATH finds this very program."""

from __future__ import annotations

import sys
from pathlib import Path

from juzheng.cli.command_name import command_name


def _program(tmp_path: Path, name: str = "juzheng") -> Path:
    exe = tmp_path / "venv" / "bin" / name
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return exe


def test_on_path_it_is_the_short_name(tmp_path: Path) -> None:
    exe = _program(tmp_path)
    assert command_name(str(exe), which=lambda name: str(exe)) == "juzheng"


def test_off_path_it_is_the_full_path_that_exists(tmp_path: Path) -> None:
    exe = _program(tmp_path)
    named = command_name(str(exe), which=lambda name: None)
    assert Path(named) == exe.resolve() and Path(named).exists()


def test_another_juzheng_on_path_is_not_taken_for_this_one(tmp_path: Path) -> None:
    exe = _program(tmp_path)
    other = tmp_path / "other" / "juzheng"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\n")
    assert command_name(str(exe), which=lambda name: str(other)) == str(exe.resolve())


def test_a_folder_with_spaces_is_quoted(tmp_path: Path) -> None:
    exe = _program(tmp_path / "My Documents")
    assert command_name(str(exe), which=lambda name: None) == f'"{exe.resolve()}"'


def test_run_as_a_module_names_the_interpreter(tmp_path: Path) -> None:
    assert command_name(str(tmp_path / "__main__.py"), which=lambda name: None).endswith("-m juzheng")
    assert sys.executable in command_name(str(tmp_path / "__main__.py"), which=lambda name: None)


def test_the_command_the_running_helper_names_works(helper_factory) -> None:
    import re
    import shlex
    import subprocess
    import time

    helper = helper_factory(pair=False)
    deadline = time.monotonic() + 60
    while "命令行：" not in helper.output():
        assert time.monotonic() < deadline, helper.output()
        time.sleep(0.1)
    named = re.search(r"命令行：(.+?) status（状态）", helper.output())
    assert named, helper.output()
    done = subprocess.run(
        [*shlex.split(named.group(1)), "status", "--state-dir", str(helper.state_dir), "--json"],
        capture_output=True, text=True, timeout=120, env=helper.env,
    )
    assert done.returncode == 0, done.stderr
