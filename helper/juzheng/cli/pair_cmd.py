"""``juzheng pair [--json] [--revoke] [--page] [--allow ID]``: a pairing code, the status page, or revoke all.

Sellers pair without this command (options page → 「允许」 at the helper); it stays for scripts.

How the CLI authenticates to its own helper: it reads ``helper.json`` in the state dir (port and
which secret store the helper uses), loads the same secret (OS keyring, or the opted-in file) and
mints a short admin token with it (``adm.<nonce>.<hmac>``). Only the same OS user can read that
secret, and admin routes refuse any request that carries an Origin, so no web page can mint codes.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .. import __version__
from ..instance import read_info
from ..pairing import FileSecretStore, KeyringSecretStore, SecretUnavailable, mint_token
from . import exit_codes
from .common import fail, print_json
from .locations import add_state_dir_option, state_dir_from


def register(sub) -> None:
    p = sub.add_parser("pair", help="获取扩展配对码（需助手正在运行），或作废全部令牌")
    add_state_dir_option(p)
    p.add_argument("--json", action="store_true", help='输出 {"code": ..., "expires_at": ...}')
    p.add_argument("--revoke", action="store_true", help="作废所有已发出的令牌（所有浏览器都需要重新配对）")
    p.add_argument("--page", action="store_true", help="打开本机状态页（确认配对请求、查看和撤销已配对的浏览器）；--json 时只输出一次性地址")
    p.add_argument("--allow", metavar="ID", action="append", help="允许另一个扩展 ID 发起配对（例如从应用商店安装的版本）；可重复")
    p.set_defaults(handler=cmd_pair)


def cmd_pair(args) -> int:
    state_dir = state_dir_from(args)
    if args.allow:
        return _allow(state_dir, args)
    info = read_info(state_dir)
    if info is None or not _alive(info):
        if args.revoke:
            return _revoke_offline(state_dir, info, args)
        fail(f"举证助手没有在运行（状态目录 {state_dir}）。请先运行 juzheng serve，再运行 juzheng pair。", exit_codes.NOT_RUNNING)
    store = _secret_store(info, state_dir)
    try:
        key = store.load_or_create()
    except SecretUnavailable as exc:
        fail(str(exc), exit_codes.NO_SECRET_STORE)
    token = mint_token(key, "adm")
    if args.page:
        url = _post(info, "/api/pair/page", token)["url"]
        if args.json:
            print_json({"url": url})
            return 0
        import webbrowser

        opened = webbrowser.open(url)
        print(("已在浏览器中打开本机状态页：" if opened else "请在浏览器中打开（2 分钟内有效，只能打开一次）：") + url)
        return 0
    path = "/api/pair/revoke" if args.revoke else "/api/pair/code"
    data = _post(info, path, token)
    if args.revoke:
        if args.json:
            print_json(data)
        else:
            print("已作废所有令牌：浏览器扩展需要重新配对（运行 juzheng pair 获取新配对码）。")
        return 0
    if args.json:
        print_json({"code": data["code"], "expires_at": data["expires_at"]})
    else:
        print(f"配对码：{data['code']}（10 分钟内有效，只能使用一次）")
        print("请在浏览器扩展的「选项」页面输入这 6 位数字。")
    return 0


def _allow(state_dir: Path, args) -> int:
    """The allow-list lives in the store; the running helper reads it at every pairing attempt."""
    from ..pairing.identity import ExtensionPolicy
    from ..store import open_store

    db = open_store(state_dir)
    try:
        policy = ExtensionPolicy(db)
        try:
            allowed = policy.allow(args.allow)
        except ValueError as exc:
            fail(str(exc), 2)
    finally:
        db.close()
    if args.json:
        print_json({"allowed": allowed})
    else:
        print("已允许这些扩展 ID 发起配对（每次配对仍需在助手中确认）：" + "、".join(allowed))
    return 0


def _secret_store(info: dict[str, Any], state_dir: Path):
    if info.get("secret_backend") == "file":
        return FileSecretStore(state_dir)
    return KeyringSecretStore(info.get("keyring_service") or os.environ.get("JUZHENG_KEYRING_SERVICE", "juzheng"))


def _alive(info: dict[str, Any]) -> bool:
    """helper.json is removed on a clean stop; after a crash it stays, so ask the port."""
    try:
        with urllib.request.urlopen(_request(info, "/api/health", method="GET"), timeout=3) as response:
            return response.headers.get("X-Juzheng-Version") is not None
    except (OSError, ValueError):
        return False


def _request(info: dict[str, Any], path: str, *, method: str, token: str | None = None) -> urllib.request.Request:
    port = int(info["port"])
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=b"" if method == "POST" else None)
    request.add_header("User-Agent", f"juzheng-cli/{__version__}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    return request


def _post(info: dict[str, Any], path: str, token: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(_request(info, path, method="POST", token=token), timeout=15) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read().decode("utf-8")).get("error", "")
        except ValueError:
            message = ""
        if exc.code == 401:
            fail("助手拒绝了本机管理令牌：钥匙串中的密钥与正在运行的助手不一致。请重启助手（juzheng serve）后再试。", exit_codes.FAILED)
        fail(f"助手返回错误 {exc.code}：{message}", exit_codes.FAILED)
    except (OSError, ValueError) as exc:
        fail(f"无法连接举证助手（端口 {info.get('port')}）：{exc}", exit_codes.NOT_RUNNING)


def _revoke_offline(state_dir: Path, info: dict[str, Any] | None, args) -> int:
    """The helper is not running: rotate the secret directly, and forget the paired extension."""
    from ..pairing.browsers import PAIRED_ORIGIN_SETTING
    from ..store import open_store

    rotated = []
    problems = []
    stores = [FileSecretStore(state_dir)] if (state_dir / "secret.key").exists() else []
    if (info or {}).get("secret_backend") != "file":
        stores.append(_secret_store(info or {}, state_dir))
    for store in stores:
        try:
            store.rotate()
            rotated.append(store)
        except SecretUnavailable as exc:
            problems.append(str(exc))
    if not rotated:
        fail("\n".join(problems) or "没有找到配对密钥", exit_codes.NO_SECRET_STORE)
    db = open_store(state_dir)
    try:
        db.set_setting(PAIRED_ORIGIN_SETTING, "")
        db.set_paired_browsers([])
    finally:
        db.close()
    if args.json:
        print_json({"revoked": True})
    else:
        print("已作废所有令牌（助手未运行，已直接更换密钥）：浏览器扩展需要重新配对。")
    return 0
