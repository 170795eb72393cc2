"""Autostart on every OS, written into temp dirs (and a fake registry): never the real home or registry."""

from __future__ import annotations

import json
import os
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juzheng import desktop
from juzheng.desktop import AutostartEntry, DesktopError, LocalFiles, desktop_exec, helper_command, plan_autostart

COMMAND = ["/opt/py thon/bin/python", "-m", "juzheng", "serve", "--root", "/home/卖家/举证 助手", "--port", "17900"]


def parse_exec(value: str) -> list[str]:
    """The Desktop Entry spec's reading of ``Exec=``: string unescape, then quoting rules, then %%."""
    unescaped, i = [], 0
    while i < len(value):  # 1. the string-level escapes (\\ \s \n \t \r)
        if value[i] == "\\" and i + 1 < len(value):
            unescaped.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(value[i + 1], "\\" + value[i + 1]))
            i += 2
        else:
            unescaped.append(value[i])
            i += 1
    text = "".join(unescaped)
    args, current, quoted, i, has = [], [], False, 0, False
    while i < len(text):  # 2. split on spaces outside double quotes; \" \` \$ \\ inside them
        ch = text[i]
        if quoted:
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
                current.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted, has = True, True
        elif ch == " ":
            if current or has:
                args.append("".join(current))
            current, has = [], False
        else:
            current.append(ch)
        i += 1
    if current or has:
        args.append("".join(current))
    return [a.replace("%%", "%") for a in args]  # 3. field codes


class FakeRegistry:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> bool:
        return self.values.pop(name, None) is not None


# -- Linux --------------------------------------------------------------------------------------
def test_linux_xdg_autostart_in_home(tmp_path):
    entry = plan_autostart(COMMAND, system="Linux", home=tmp_path, env={})
    assert entry.method == "xdg"
    path = tmp_path / ".config" / "autostart" / "juzheng.desktop"
    assert entry.location == str(path)
    desktop.install(entry)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\nType=Application\nName=举证助手\n")
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert parse_exec(exec_line[len("Exec="):]) == COMMAND
    assert "Terminal=false" in text
    assert desktop.installed(entry) == text
    assert desktop.uninstall(entry) is True
    assert not path.exists()
    assert desktop.uninstall(entry) is False
    assert desktop.installed(entry) is None


def test_linux_respects_xdg_config_home(tmp_path):
    entry = plan_autostart(["python"], system="Linux", home=tmp_path / "home", env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert Path(entry.location) == tmp_path / "cfg" / "autostart" / "juzheng.desktop"


@pytest.mark.parametrize(
    "args",
    [
        ["plain", "-m", "x"],
        ["with space", 'quote"d', "back\\slash", "dollar$HOME", "back`tick", "100%", "单引号'", "a=b", ""],
    ],
)
def test_desktop_exec_round_trips(args):
    assert parse_exec(desktop_exec(args)) == args


# -- macOS --------------------------------------------------------------------------------------
def test_macos_launch_agent(tmp_path):
    entry = plan_autostart(COMMAND, system="Darwin", home=tmp_path)
    path = tmp_path / "Library" / "LaunchAgents" / "com.juzheng.helper.plist"
    assert entry.method == "launch_agent" and entry.location == str(path)
    desktop.install(entry)
    plist = plistlib.loads(path.read_bytes())
    assert plist["Label"] == "com.juzheng.helper"
    assert plist["ProgramArguments"] == COMMAND
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] is False
    assert desktop.uninstall(entry) and not path.exists()


# -- Windows ------------------------------------------------------------------------------------
def test_windows_run_key_through_an_injected_registry(tmp_path):
    registry = FakeRegistry()
    entry = plan_autostart(COMMAND, system="Windows", home=tmp_path, env={})
    assert entry.method == "run_key" and entry.is_registry
    assert entry.location == r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\juzheng"
    desktop.install(entry, registry=registry)
    assert registry.values == {"juzheng": subprocess.list2cmdline(COMMAND)}
    assert registry.values["juzheng"].startswith('"/opt/py thon/bin/python" -m juzheng serve --root "/home/卖家/举证 助手"')
    assert desktop.installed(entry, registry=registry) == registry.values["juzheng"]
    assert desktop.uninstall(entry, registry=registry) is True
    assert registry.values == {}
    assert desktop.uninstall(entry, registry=registry) is False


def test_windows_startup_folder_under_appdata(tmp_path):
    appdata = tmp_path / "AppData" / "Roaming"
    entry = plan_autostart(COMMAND, system="Windows", method="startup_folder", home=tmp_path, env={"APPDATA": str(appdata)})
    path = appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / "juzheng.cmd"
    assert entry.location == str(path)
    desktop.install(entry)
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 3 and b"\n" not in raw.replace(b"\r\n", b"")  # cmd.exe wants CRLF
    text = raw.decode("utf-8")  # chcp 65001 makes cmd.exe read it as UTF-8
    assert text.splitlines()[1] == "chcp 65001 >nul"
    assert text.splitlines()[2] == 'start "举证助手" /b ' + subprocess.list2cmdline(COMMAND)
    assert desktop.uninstall(entry) and not path.exists()


def test_windows_startup_folder_without_appdata_uses_home(tmp_path):
    entry = plan_autostart(["python"], system="Windows", method="startup_folder", home=tmp_path, env={})
    assert entry.location.startswith(str(tmp_path / "AppData" / "Roaming" / "Microsoft"))


def test_windows_prefers_pythonw(tmp_path):
    (tmp_path / "python.exe").write_bytes(b"")
    (tmp_path / "pythonw.exe").write_bytes(b"")
    command = helper_command(["--port", "1"], system="Windows", python=str(tmp_path / "python.exe"))
    assert command == [str(tmp_path / "pythonw.exe"), "-m", "juzheng", "serve", "--port", "1"]
    (tmp_path / "pythonw.exe").unlink()
    assert helper_command(system="Windows", python=str(tmp_path / "python.exe"))[0] == str(tmp_path / "python.exe")


def test_the_real_registry_is_only_reachable_on_windows():
    entry = AutostartEntry("Windows", "run_key", "HKCU\\…\\juzheng", "x")
    if sys.platform == "win32":
        pytest.skip("this machine has a real registry; the test must not touch it")
    with pytest.raises(DesktopError, match="只有 Windows"):
        desktop.install(entry)


def test_unknown_methods_are_refused(tmp_path):
    with pytest.raises(DesktopError):
        plan_autostart(["x"], system="Windows", method="xdg", home=tmp_path, env={})
    with pytest.raises(DesktopError):
        plan_autostart(["x"], system="Linux", method="run_key", home=tmp_path, env={})


def test_writes_are_atomic_and_leave_no_temp_file(tmp_path):
    target = tmp_path / "a" / "b.desktop"
    LocalFiles().write(target, "one")
    LocalFiles().write(target, "two")
    assert target.read_text(encoding="utf-8") == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.desktop"]


# -- the command ------------------------------------------------------------------------------
def juzheng(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CONFIG_HOME",)}
    env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "juzheng", "autostart", *args], capture_output=True, text=True, encoding="utf-8", env=env, timeout=60
    )


@pytest.mark.subprocess
@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the CLI run writes the Linux entry; other OSes are covered above")
def test_cli_on_off_dry_run(tmp_path):
    path = tmp_path / ".config" / "autostart" / "juzheng.desktop"
    dry = juzheng(tmp_path, "on", "--dry-run", "--port", "17900")
    assert dry.returncode == 0, dry.stderr
    assert "演习" in dry.stdout and "--port 17900" in dry.stdout and not path.exists()

    on = juzheng(tmp_path, "on", "--json", "--state-dir", str(tmp_path / "state dir"))
    assert on.returncode == 0, on.stderr
    data = json.loads(on.stdout)
    assert data["entries"][0]["location"] == str(path) and data["entries"][0]["changed"] is True
    exec_line = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("Exec="))
    assert parse_exec(exec_line[5:])[1:] == ["-m", "juzheng", "serve", "--state-dir", str(tmp_path / "state dir")]

    off = juzheng(tmp_path, "off")
    assert off.returncode == 0 and "已关闭" in off.stdout and not path.exists()
    again = juzheng(tmp_path, "off")
    assert again.returncode == 0 and "本来就是关闭的" in again.stdout


@pytest.mark.subprocess
def test_cli_refuses_a_wrong_method(tmp_path):
    result = juzheng(tmp_path, "on", "--method", "run_key")
    if sys.platform == "win32":
        pytest.skip("run_key is valid on Windows")
    assert result.returncode == 1
    assert "不支持自启动方式 run_key" in result.stderr


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12), min_size=1, max_size=5))
def test_desktop_exec_round_trips_anything(args):
    line = desktop_exec(args)
    assert "\n" not in line and "\r" not in line
    assert parse_exec(line) == args
