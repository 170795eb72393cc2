"""The Windows start files, checked as far as a Linux machine can: parsed, linted, type-checked.

What is NOT run here: the scripts themselves (no PowerShell can be installed from the registries this
machine reaches), winreg, pythonw and the Windows tray. The parse uses the tree-sitter PowerShell
grammar; the structure checks read that tree, so they fail when the script's logic moves.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.windows_lint import commands, enclosing_if_conditions, lint_cmd, parse_powershell, powershell_problems, walk
from juzheng import desktop

REPO = Path(__file__).resolve().parents[1]
START_CMD = REPO / "举证助手.cmd"
RUN_PS1 = REPO / "scripts" / "run.ps1"


# -- 举证助手.cmd -------------------------------------------------------------------------------
def test_start_cmd_lints_clean():
    assert lint_cmd(START_CMD.read_bytes()) == []


def test_start_cmd_bypasses_the_policy_for_this_script_only():
    text = START_CMD.read_bytes().decode("ascii")
    call = next(line for line in text.splitlines() if "-File" in line)
    assert "-ExecutionPolicy Bypass" in call and "-NoProfile" in call
    script = re.search(r'-File "%~dp0([^"]+)"', call).group(1)
    assert (REPO / script.replace("\\", "/")).is_file()
    # Never changes the machine's or the user's policy.
    assert "Set-ExecutionPolicy" not in text and "Set-ExecutionPolicy" not in RUN_PS1.read_text(encoding="utf-8-sig")
    assert re.search(r"exit /b %JZ_RC%", text)  # the script's exit code reaches whoever ran the .cmd


@pytest.mark.parametrize(
    "bad, problem",
    [
        (b"@echo off\nchcp 65001 >nul\n", "CRLF"),
        (b"@echo off\r\necho \xe4\xb8\xad\r\nchcp 65001\r\n", "non-ASCII before chcp"),
        (b"@echo off\r\nchcp 65001\r\n\"x.exe\" -File \"%~dp0a.ps1\r\n", "unbalanced"),
        (b"@echo off\r\nchcp 65001\r\npowershell -File %~dp0scripts\\run.ps1\r\n", "outside quotes"),
        (b"chcp 65001\r\n", "@echo off"),
        (b"@echo off\r\nchcp 65001", "last line"),
    ],
)
def test_cmd_linter_catches_what_breaks_cmd(bad, problem):
    assert any(problem in p for p in lint_cmd(bad)), lint_cmd(bad)


def test_autostart_startup_folder_cmd_lints_clean(tmp_path):
    """The .cmd the helper writes into the Startup folder, with a Chinese user folder."""
    python = r"C:\Users\张 三\举证助手\.venv\Scripts\pythonw.exe"
    entry = desktop.plan_autostart([python, "-m", "juzheng", "serve"], system="Windows", method="startup_folder", env={"APPDATA": str(tmp_path)})
    assert lint_cmd(entry.content.encode("utf-8")) == []
    written: dict[Path, str] = {}

    class Files:
        def read(self, path):
            return written.get(path)

        def write(self, path, text):
            written[path] = text

        def remove(self, path):
            return written.pop(path, None) is not None

    desktop.install(entry, files=Files())
    assert lint_cmd(written[Path(entry.location)].encode("utf-8")) == []
    assert desktop.installed(entry, files=Files()) == entry.content
    assert desktop.uninstall(entry, files=Files()) and not written


def test_autostart_run_key_uses_pythonw(tmp_path):
    """Windows autostart starts the helper without a console: pythonw.exe next to python.exe."""
    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    (scripts / "python.exe").write_bytes(b"")
    (scripts / "pythonw.exe").write_bytes(b"")
    command = desktop.helper_command(system="Windows", python=str(scripts / "python.exe"))
    assert Path(command[0]).name == "pythonw.exe" and command[1:] == ["-m", "juzheng", "serve"]
    values: dict[str, str] = {}

    class Registry:
        def get(self, name):
            return values.get(name)

        def set(self, name, value):
            values[name] = value

        def delete(self, name):
            return values.pop(name, None) is not None

    entry = desktop.plan_autostart(command, system="Windows")
    desktop.install(entry, registry=Registry())
    assert values == {"juzheng": subprocess.list2cmdline(command)}
    assert desktop.uninstall(entry, registry=Registry()) and values == {}


# -- scripts/run.ps1 -----------------------------------------------------------------------------
def test_run_ps1_parses_and_needs_no_powershell_7():
    assert powershell_problems(RUN_PS1.read_bytes()) == []


@pytest.mark.parametrize(
    "bad",
    [b'if ($a -eq 1 { "x" }\n', b"$x = @(1, 2\n", b"$a = $b ?? 1\n", b"Test-Path x && Write-Host y\n", b'$s = "never closed\n'],
)
def test_powershell_check_catches_errors_and_ps7_only_syntax(bad):
    assert powershell_problems(bad)


def test_run_ps1_is_utf8_with_bom_and_crlf():
    data = RUN_PS1.read_bytes()
    # Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page: the Chinese would break.
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in data.replace(b"\r\n", b"")
    data.decode("utf-8")


def test_run_ps1_installs_only_when_the_project_changed():
    source = RUN_PS1.read_bytes()
    tree = parse_powershell(source)
    installs = [n for n in walk(tree.root_node) if n.type == "command" and b"pip install" in n.text]
    # The install with the ocr extra, and the plain fallback when that fails: both only on a changed project.
    assert 1 <= len(installs) <= 2
    assert enclosing_if_conditions(installs[0]) == ["$want -ne $have"]
    assert all("$want -ne $have" in enclosing_if_conditions(n) for n in installs)
    # $want is the hash of pyproject.toml; $have is the stamp written after a successful install.
    text = source.decode("utf-8-sig")
    assert re.search(r'\$want = \(Get-FileHash -Algorithm SHA256 \(Join-Path \$Root "pyproject.toml"\)\)\.Hash', text)
    stamp_writes = [n for n in commands(source, "Set-Content") if b"$Stamp" in n.text]
    assert len(stamp_writes) == 1 and enclosing_if_conditions(stamp_writes[0]) == ["$want -ne $have"]
    assert stamp_writes[0].start_byte > installs[0].start_byte  # only after pip succeeded


def test_run_ps1_starts_the_helper_windowless():
    source = RUN_PS1.read_bytes()
    (start,) = commands(source, "Start-Process")
    assert b"-FilePath $VenvPythonw" in start.text
    assert re.search(r'\$VenvPythonw = Join-Path \$Venv "Scripts\\pythonw.exe"', source.decode("utf-8-sig"))
    # Autostart is turned on once, and the script says how to turn it off.
    text = source.decode("utf-8-sig")
    assert "-m juzheng autostart on" in text and "autostart off" in text


def test_run_ps1_finds_python_three_ways_and_says_what_to_install():
    text = RUN_PS1.read_bytes().decode("utf-8-sig")
    assert "Get-Command py.exe" in text and "Get-Command python.exe -All" in text
    assert "PythonSoftwareFoundation.Python.3" in text  # the Store's package
    assert "sys.version_info >= (3, 11)" in text
    assert "python.org/downloads/windows" in text and "Microsoft Store" in text and "Add python.exe to PATH" in text


# -- the helper's Windows and macOS code paths, type-checked here -------------------------------
@pytest.mark.parametrize("platform", ["win32", "darwin", "linux"])
@pytest.mark.subprocess  # a mypy run per platform
def test_mypy_on_the_os_specific_code(platform):
    # The command scripts/lint runs (the project's [tool.mypy] files, the platform's own cache):
    # after the lint it is an incremental check, which still re-reads every changed source.
    pytest.importorskip("mypy")
    lint = (REPO / "scripts" / "lint").read_text(encoding="utf-8")
    assert '--platform "$platform" --cache-dir ".mypy_cache/$platform"' in lint and "linux win32 darwin" in lint
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--platform", platform, "--cache-dir", f".mypy_cache/{platform}", "--no-error-summary"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_open_url_opens_only_local_pages():
    opened: list[str] = []
    desktop.open_url("http://127.0.0.1:5000/open?t=x", opener=lambda u: opened.append(u) or True)
    assert opened == ["http://127.0.0.1:5000/open?t=x"]
    with pytest.raises(desktop.DesktopError):
        desktop.open_url("https://evil.example/", opener=lambda u: True)
    with pytest.raises(desktop.DesktopError, match="没有找到可用的浏览器"):
        desktop.open_url("http://127.0.0.1:5000/", opener=lambda u: False)
