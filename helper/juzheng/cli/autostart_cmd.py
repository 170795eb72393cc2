"""``juzheng autostart on|off [--dry-run]``: start the helper at login (Windows, macOS, Linux).

What is written where lives in ``juzheng.desktop`` (the one module for OS differences).
"""

from __future__ import annotations

from .. import desktop
from .common import fail, print_json

METHODS = ("run_key", "startup_folder", "launch_agent", "xdg")


def register(sub) -> None:
    p = sub.add_parser("autostart", help="登录时自动启动助手（on 开启 / off 关闭）")
    p.add_argument("action", choices=("on", "off"), help="on：开启；off：关闭")
    p.add_argument("--dry-run", action="store_true", help="只显示将写入/删除的内容，不做改动")
    p.add_argument(
        "--method",
        choices=METHODS,
        help="Windows：run_key（注册表启动项，默认，无窗口）或 startup_folder（启动文件夹）；macOS 与 Linux 无需选择",
    )
    p.add_argument("--root", metavar="DIR", help="自启动时使用的证据文件夹（默认同 juzheng serve）")
    p.add_argument("--state-dir", metavar="DIR", help="自启动时使用的状态目录（默认同 juzheng serve）")
    p.add_argument("--port", type=int, metavar="N", help="自启动时使用的端口（默认同 juzheng serve）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    p.set_defaults(handler=cmd_autostart)


def cmd_autostart(args) -> int:
    extra: list[str] = []
    for flag, value in (("--root", args.root), ("--state-dir", args.state_dir), ("--port", args.port)):
        if value is not None:
            extra += [flag, str(value)]
    command = desktop.helper_command(extra)
    methods: list = [args.method]
    if args.action == "off" and args.method is None and desktop.current_system() == "Windows":
        methods = ["run_key", "startup_folder"]  # turn off whichever way it was turned on
    try:
        entries = [desktop.plan_autostart(command, method=m) for m in methods]
        changed: list[bool | None] = []
        for entry in entries:
            if args.dry_run:
                changed.append(None)
            elif args.action == "on":
                desktop.install(entry)
                changed.append(True)
            else:
                changed.append(desktop.uninstall(entry))
    except desktop.DesktopError as exc:
        fail(str(exc), 1)
    if args.json:
        print_json(
            {
                "action": args.action,
                "dry_run": args.dry_run,
                "entries": [
                    {"system": e.system, "method": e.method, "location": e.location, "content": e.content, "changed": c}
                    for e, c in zip(entries, changed, strict=True)
                ],
            }
        )
        return 0
    for entry, did in zip(entries, changed, strict=True):
        where = "注册表启动项 " if entry.is_registry else ""
        if args.dry_run:
            verb = "将写入" if args.action == "on" else "将删除"
            print(f"（演习，未做改动）{verb}{where}{entry.location}：\n{entry.content}")
        elif args.action == "on":
            print(f"已开启登录时自动启动：{where}{entry.location}")
            print("下次登录时助手会自动运行；关闭：juzheng autostart off")
        elif did:
            print(f"已关闭登录时自动启动（已删除 {where}{entry.location}）")
        else:
            print(f"登录时自动启动本来就是关闭的（{where}{entry.location} 不存在）")
    return 0
