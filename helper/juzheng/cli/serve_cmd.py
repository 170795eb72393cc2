"""``juzheng serve``: run the helper on 127.0.0.1 until Ctrl-C / SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Literal

from aiohttp import web

from .. import __version__
from ..instance import AlreadyRunning, InstanceLock, clear_info, read_info, write_info
from ..pairing import SecretUnavailable
from ..paths import default_port, default_root
from ..rules import DEFAULT_RULES_DIR, RulebookError
from ..store import StateUnavailable
from ..store.health import classify_write_error
from . import exit_codes
from .common import fail
from .command_name import command_name
from .locations import add_location_options, state_dir_from

log = logging.getLogger("juzheng")


def register(sub) -> None:
    p = sub.add_parser("serve", help="启动本地助手（只监听 127.0.0.1）")
    add_location_options(p, serve=True)
    p.add_argument("--port", type=int, metavar="N", help="端口（默认 17817；环境变量 JUZHENG_PORT）")
    p.add_argument("--no-tray", action="store_true", help="不显示托盘图标（截止提醒通知照常发送）；无图形界面时会自动以无界面方式运行")
    p.add_argument("--no-notify", action="store_true", help="不发送桌面截止提醒通知")
    p.add_argument(
        "--insecure-file-secret",
        action="store_true",
        help="没有系统钥匙串时，把配对密钥存到状态目录的 secret.key 文件（有风险：能读取该文件的人可冒充扩展）",
    )
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    root = Path(args.root) if args.root else default_root()
    state_dir = state_dir_from(args)
    try:
        port = args.port if args.port is not None else default_port()
    except ValueError:
        fail(f"JUZHENG_PORT 不是数字：{os.environ.get('JUZHENG_PORT')!r}")
    if not 1 <= port <= 65535:
        fail(f"端口必须在 1–65535 之间，收到 {port}")
    rules_dir = Path(args.rules) if args.rules else DEFAULT_RULES_DIR

    lock = InstanceLock(state_dir)
    try:
        lock.acquire()
    except OSError as exc:
        refused = classify_write_error(exc, state_dir)
        fail(refused.message if refused else f"无法使用状态目录 {state_dir}：{exc}", exit_codes.STATE_DIR)
    except AlreadyRunning:
        info = read_info(state_dir) or {}
        where = f"（进程 {info.get('pid')}，端口 {info.get('port')}）" if info else ""
        fail(f"另一个举证助手已在使用状态目录 {state_dir}{where}。同一时间只能运行一个；如需再开一个，请换一个 --state-dir。", exit_codes.ALREADY_RUNNING)
    try:
        return _serve(args, root, state_dir, port, rules_dir)
    finally:
        clear_info(state_dir)
        lock.release()


def _serve(args, root: Path, state_dir: Path, port: int, rules_dir: Path) -> int:
    from ..runtime import Runtime
    from ..server import create_app

    backend: Literal["keyring", "file"] = "file" if args.insecure_file_secret else "keyring"
    try:
        runtime = Runtime.build(root=root, state_dir=state_dir, rules_dir=rules_dir, secret_backend=backend)
    except SecretUnavailable as exc:
        fail(str(exc), exit_codes.NO_SECRET_STORE)
    except StateUnavailable as exc:
        fail(exc.message, exit_codes.STATE_DIR)
    except RulebookError as exc:
        fail(f"规则文件有 {len(exc.errors)} 处错误，助手无法启动：\n" + "\n".join(f"  {e}" for e in exc.errors), exit_codes.FAILED)
    if backend == "file":
        log.warning("配对密钥保存在文件 %s（--insecure-file-secret）：请勿把状态目录同步或分享给他人", state_dir / "secret.key")
    level_seconds = float(os.environ.get("JUZHENG_LEVEL_CHECK_SECONDS", "30"))
    app = create_app(runtime, level_check_seconds=level_seconds)
    try:
        return asyncio.run(_run(app, runtime, port, backend, args))
    except KeyboardInterrupt:  # Windows without a signal handler: Ctrl-C lands here
        return 0


async def _run(app: web.Application, runtime, port: int, backend: str, args) -> int:
    from ..server.connections import KEEPALIVE_TIMEOUT, GuardedSite, header_timeout_from_env

    runner = web.AppRunner(app, handle_signals=False, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT)
    await runner.setup()  # starts the runtime (cleanup contexts)
    # reuse_address left to asyncio: on POSIX it only skips TIME_WAIT, on Windows it stays off (it would
    # let us share a port another program holds). The guarded site times out and caps slow sockets.
    from ..server.fast_path import FastPath
    from ..server.routes import ROUTES

    site = GuardedSite(runner, "127.0.0.1", port, header_timeout=header_timeout_from_env(), fast=FastPath(app, ROUTES))
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1), 10048):
            fail(
                f"端口 {port} 已被其他程序占用，助手没有启动（不会自动换端口）。\n"
                f"换一个端口：juzheng serve --port {port + 1}（或设置环境变量 JUZHENG_PORT={port + 1}），\n"
                f"并在浏览器扩展的「选项」页面把助手端口改成同一个数字。",
                exit_codes.PORT_TAKEN,
            )
        fail(f"无法监听 127.0.0.1:{port}：{exc}", exit_codes.PORT_TAKEN)
    url = f"http://127.0.0.1:{port}"
    status_runner = await _start_status_page(runtime)
    write_info(
        runtime.state_dir,
        {
            "pid": os.getpid(),
            "port": port,
            "url": url,
            "version": __version__,
            "secret_backend": backend,
            "keyring_service": getattr(runtime.secrets, "service", None),
            "root": str(runtime.root),
            "status_port": runtime.status_page.port if runtime.status_page is not None else None,
        },
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    _install_signal_handlers(stop)
    if not args.no_notify:
        runtime.enable_notifications()  # the one deadline notifier; the tray adds its balloon as fallback
    # The tray's 退出 runs on the icon thread: hand the stop to this loop. Without the icon the
    # controller still runs headless (it restores 暂停整理 and keeps the tray state).
    wanted = not (args.no_tray and args.no_notify)
    tray = _start_tray(runtime, quit=lambda: loop.call_soon_threadsafe(stop.set), show_icon=not args.no_tray, notify=not args.no_notify) if wanted else None
    print(
        f"举证助手 {__version__} 已启动：{url}  证据文件夹：{runtime.root}  "
        f"配对：在浏览器扩展的「选项」页点「开始配对」，再在弹出的本机页面点「允许」。"
        f"命令行：{command_name()} status（状态）、{command_name()} pair（配对码）。按 Ctrl-C 停止。",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        print("举证助手正在停止…", flush=True)
        if tray is not None:
            try:
                tray.stop()
            except Exception:
                log.exception("stopping the tray failed")
        if status_runner is not None:
            await status_runner.cleanup()
        await runner.cleanup()
    print("举证助手已停止。", flush=True)
    return 0


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            # Windows: no loop signal handlers; a plain handler wakes the loop thread-safely.
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))


async def _start_status_page(runtime) -> web.AppRunner | None:
    """The local status page (pairing confirmations, paired browsers); the helper runs without it."""
    from ..pairing.status_page import start_status_page

    try:
        _page, status_runner = await start_status_page(runtime)
    except OSError:
        log.exception("本机状态页无法启动：配对请改用配对码（托盘「配对」或 juzheng pair）")
        return None
    return status_runner


def _start_tray(runtime, quit, show_icon: bool = True, notify: bool = True):
    """The tray when it is installed and a tray host exists; the helper never needs it."""
    try:
        from ..tray import start_tray
    except Exception:  # not installed yet, or no display (pystray raises non-ImportErrors)
        log.info("托盘不可用，以无界面方式运行")
        return None
    try:
        return start_tray(runtime, quit=quit, show_icon=show_icon, notify=notify)
    except Exception:
        log.exception("托盘启动失败，以无界面方式运行")
        return None
