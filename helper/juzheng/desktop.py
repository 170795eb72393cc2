"""Everything that differs between Windows, macOS and Linux desktops, in this one module.

- ``open_folder(path)``: Explorer (``os.startfile``), Finder (``open``), or ``xdg-open``.
- Autostart at login: Windows HKCU ``...\\CurrentVersion\\Run`` value (default; no console window)
  or a ``.cmd`` in the Startup folder; macOS a LaunchAgent plist; Linux an XDG autostart
  ``.desktop`` file. ``plan_autostart`` is pure (system, command, home, env → an entry);
  ``install``/``uninstall``/``installed`` apply it through an injectable file writer and registry,
  so every OS's path runs in tests without touching the real registry or the real home.
- ``tray_needs_main_thread``: macOS only draws status items from the main thread.

``winreg`` is imported only inside the Windows registry writer; nothing here calls a POSIX-only API.
"""

from __future__ import annotations

import os
import platform
import plistlib
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

APP_LABEL = "举证助手"
AUTOSTART_NAME = "juzheng"  # file stem / registry value name: ASCII so every tool shows it cleanly
LAUNCH_AGENT_LABEL = "com.juzheng.helper"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"

System = Literal["Windows", "Darwin", "Linux"]
Method = Literal["run_key", "startup_folder", "launch_agent", "xdg"]


class DesktopError(Exception):
    """A desktop action failed; the message says what the seller can do (zh-CN)."""


def current_system() -> System:
    name = platform.system()
    if name in ("Windows", "Darwin"):
        return name  # type: ignore[return-value]
    return "Linux"  # the BSDs and other X11/Wayland desktops follow freedesktop.org as Linux does


# == opening folders ===============================================================================
def open_folder(path: Path, *, system: System | None = None, run: Callable[[Sequence[str]], None] | None = None) -> None:
    """Show ``path`` in the OS file manager (created first if missing). Raises :class:`DesktopError`.

    ``run`` launches a command without waiting (tests inject one; default: a detached Popen).
    """
    system = system or current_system()
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DesktopError(f"无法创建文件夹 {path}：{exc}") from exc
    try:
        if system == "Windows" and run is None:
            os.startfile(str(path))  # type: ignore[attr-defined]  # exists on Windows only
            return
        command = {"Windows": ["explorer", str(path)], "Darwin": ["open", str(path)]}.get(system, ["xdg-open", str(path)])
        (run or _spawn)(command)
    except (OSError, AttributeError) as exc:
        raise DesktopError(f"无法打开文件夹 {path}：{exc}。请在文件管理器中手动打开它。") from exc


def _spawn(command: Sequence[str]) -> None:
    # Detached: the file manager must outlive neither the tray's thread nor wait on it.
    subprocess.Popen(
        list(command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True
    )


def open_url(url: str, *, opener: Callable[[str], bool] | None = None) -> None:
    """Open a local page (the status page) in the seller's default browser. Raises :class:`DesktopError`.

    ``webbrowser`` picks the default browser on every OS (``os.startfile`` on Windows, ``open`` on
    macOS, ``xdg-open`` on Linux); ``opener`` replaces it in tests.
    """
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise DesktopError(f"只打开本机地址，收到 {url[:60]}")
    if opener is None:
        import webbrowser

        opener = webbrowser.open
    try:
        ok = opener(url)
    except Exception as exc:  # webbrowser raises webbrowser.Error, OSError, or the opener's own
        raise DesktopError(f"无法打开浏览器：{exc}。请从托盘菜单再试一次。") from exc
    if not ok:
        raise DesktopError("没有找到可用的浏览器来打开本机状态页。请从托盘菜单再试一次。")


def tray_needs_main_thread(system: System | None = None) -> bool:
    """AppKit status items must be created and run on the main thread; the helper's is asyncio's."""
    return (system or current_system()) == "Darwin"


# == autostart =====================================================================================
def helper_command(extra: Sequence[str] = (), *, system: System | None = None, python: str | None = None) -> list[str]:
    """The command that starts the helper at login: this Python, ``-m juzheng serve``, options.

    On Windows ``pythonw.exe`` (next to ``python.exe``) is preferred: it opens no console window.
    """
    system = system or current_system()
    exe = Path(python or sys.executable)
    if system == "Windows" and exe.name.lower() == "python.exe":
        windowless = exe.with_name("pythonw.exe")
        if windowless.exists():
            exe = windowless
    return [str(exe), "-m", "juzheng", "serve", *extra]


@dataclass(frozen=True)
class AutostartEntry:
    system: System
    method: Method
    location: str  # a file path, or ``HKCU\<RUN_KEY>\<name>`` for the registry
    content: str  # the file's text, or the registry value (a Windows command line)
    name: str = AUTOSTART_NAME

    @property
    def is_registry(self) -> bool:
        return self.method == "run_key"


def plan_autostart(
    command: Sequence[str],
    *,
    system: System | None = None,
    method: Method | None = None,
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> AutostartEntry:
    """Where and what to write so ``command`` runs at login. Pure: reads only its arguments."""
    system = system or current_system()
    env = os.environ if env is None else env
    home = Path(home) if home is not None else Path.home()
    if system == "Windows":
        method = method or "run_key"
        line = subprocess.list2cmdline(list(command))
        if method == "run_key":
            return AutostartEntry(system, "run_key", f"HKCU\\{RUN_KEY}\\{AUTOSTART_NAME}", line)
        if method != "startup_folder":
            raise DesktopError(f"Windows 不支持自启动方式 {method}，可选：run_key、startup_folder")
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        startup = appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
        # chcp 65001: cmd.exe reads a .cmd in the OEM code page; Chinese paths need UTF-8.
        text = f"@echo off\r\nchcp 65001 >nul\r\nstart \"{APP_LABEL}\" /b {line}\r\n"
        return AutostartEntry(system, "startup_folder", str(startup / f"{AUTOSTART_NAME}.cmd"), text)
    if method not in (None, "launch_agent", "xdg"):
        raise DesktopError(f"{system} 不支持自启动方式 {method}")
    if system == "Darwin":
        plist = {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "KeepAlive": False,  # a stop from the tray's 退出 must stay a stop
            "ProcessType": "Interactive",
        }
        text = plistlib.dumps(plist, fmt=plistlib.FMT_XML).decode("utf-8")
        return AutostartEntry(system, "launch_agent", str(home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"), text)
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    text = "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            f"Name={APP_LABEL}",
            "Comment=售后举证清单、证据整理与截止提醒",
            f"Exec={desktop_exec(command)}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )
    return AutostartEntry(system, "xdg", str(config / "autostart" / f"{AUTOSTART_NAME}.desktop"), text)


def desktop_exec(command: Sequence[str]) -> str:
    """An ``Exec=`` value per the Desktop Entry spec: quote what needs it, escape ``"`$\\``, double ``%``."""
    out = []
    for arg in command:
        arg = arg.replace("%", "%%")
        if arg and not any(ch in arg for ch in ' \t\n\r"\'\\><~|&;$*?#()`='):
            out.append(arg)
            continue
        escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        # The .desktop parser applies the string escapes (\\ \n \t \r) before splitting: double the
        # backslashes, and write control characters as escapes (a raw newline would end the line).
        escaped = escaped.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
        out.append('"' + escaped + '"')
    return " ".join(out)


class FileWriter(Protocol):
    def read(self, path: Path) -> str | None: ...
    def write(self, path: Path, text: str) -> None: ...
    def remove(self, path: Path) -> bool: ...


class RegistryWriter(Protocol):
    """The HKCU Run key: value name → command line."""

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> bool: ...


class LocalFiles:
    """The real file system; writes are atomic (temp file + ``os.replace``)."""

    def read(self, path: Path) -> str | None:
        try:
            return Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write(self, path: Path, text: str) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        # newline="": keep the \r\n a .cmd needs, and write \n files unchanged on Windows.
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)

    def remove(self, path: Path) -> bool:
        try:
            Path(path).unlink()
            return True
        except FileNotFoundError:
            return False


class WindowsRunKey:
    """HKCU\\...\\Run through ``winreg`` (Windows only; per user, no administrator rights)."""

    def __init__(self, key: str = RUN_KEY) -> None:
        import winreg  # noqa: PLC0415  # only exists on Windows

        # Any: typeshed declares winreg for win32 only, and this module is checked for all three OSes.
        self._winreg: Any = winreg
        self._key = key

    def get(self, name: str) -> str | None:
        try:
            with self._winreg.OpenKey(self._winreg.HKEY_CURRENT_USER, self._key) as key:
                value, _ = self._winreg.QueryValueEx(key, name)
                return str(value)
        except FileNotFoundError:
            return None

    def set(self, name: str, value: str) -> None:
        with self._winreg.CreateKeyEx(self._winreg.HKEY_CURRENT_USER, self._key, 0, self._winreg.KEY_SET_VALUE) as key:
            self._winreg.SetValueEx(key, name, 0, self._winreg.REG_SZ, value)

    def delete(self, name: str) -> bool:
        try:
            with self._winreg.OpenKey(self._winreg.HKEY_CURRENT_USER, self._key, 0, self._winreg.KEY_SET_VALUE) as key:
                self._winreg.DeleteValue(key, name)
                return True
        except FileNotFoundError:
            return False


def _registry(registry: RegistryWriter | None) -> RegistryWriter:
    if registry is not None:
        return registry
    try:
        return WindowsRunKey()
    except ImportError as exc:  # asked to write the Run key on a system without one
        raise DesktopError("只有 Windows 有注册表启动项；请改用 --method startup_folder") from exc


def install(entry: AutostartEntry, *, files: FileWriter | None = None, registry: RegistryWriter | None = None) -> None:
    try:
        if entry.is_registry:
            _registry(registry).set(entry.name, entry.content)
        else:
            (files or LocalFiles()).write(Path(entry.location), entry.content)
    except OSError as exc:
        raise DesktopError(f"无法写入自启动项 {entry.location}：{exc}") from exc


def uninstall(entry: AutostartEntry, *, files: FileWriter | None = None, registry: RegistryWriter | None = None) -> bool:
    """Remove the entry; False when there was none."""
    try:
        if entry.is_registry:
            return _registry(registry).delete(entry.name)
        return (files or LocalFiles()).remove(Path(entry.location))
    except OSError as exc:
        raise DesktopError(f"无法删除自启动项 {entry.location}：{exc}") from exc


def installed(entry: AutostartEntry, *, files: FileWriter | None = None, registry: RegistryWriter | None = None) -> str | None:
    """What is written at the entry's location now (None: nothing)."""
    if entry.is_registry:
        return _registry(registry).get(entry.name)
    return (files or LocalFiles()).read(Path(entry.location))
