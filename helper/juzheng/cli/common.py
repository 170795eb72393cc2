"""Small pieces every command uses: JSON output, rulebook loading, friendly ID errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn

from ..rules import Rulebook, RulebookError, load_rulebook
from . import exit_codes
from .locations import add_rules_option  # noqa: F401  (re-exported: the commands import it from here)


PLATFORM_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def rulebook_from(args, cache_dir: Path | None = None) -> Rulebook:
    """The rulebook of ``--rules`` (or the shipped one); ``cache_dir``: a state directory that keeps
    it between runs (see :func:`juzheng.rules.loader.load_rulebook`)."""
    try:
        return load_rulebook(args.rules, cache_dir=cache_dir)
    except RulebookError as exc:
        fail(f"规则文件有错误，无法继续：\n{exc}", code=exit_codes.FAILED)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = exit_codes.USAGE) -> NoReturn:
    sys.stderr.write(message.rstrip() + "\n")
    raise SystemExit(code)


def require_id(value: str, known: Iterable[str], what: str) -> str:
    known = sorted(known)
    if value in known:
        return value
    import difflib  # here: only a mistyped ID needs it (it cost juzheng sort's start-up 10 ms)

    close = difflib.get_close_matches(value, known, n=5, cutoff=0.4)
    close += [k for k in known if value and (value in k or k.startswith(value.split(".")[0] + ".")) and k not in close][: 5 - len(close)]
    hint = "、".join(close) if close else "、".join(known[:8]) + ("…" if len(known) > 8 else "")
    fail(f"未知的{what} {value!r}。最接近的是：{hint}\n（用 `juzheng rules list` 查看全部）")


def parse_time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{name} 不是 ISO 8601 时间：{value!r}（例如 2026-11-23T18:00:00+08:00）")
    # The platforms show Beijing time; a time typed without an offset means that.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=PLATFORM_TZ)
