"""Where a command works, declared once and resolved once: ``--state-dir``, ``--root``, ``--rules``.

The evidence root of a command that works on the helper's folder (``sort``, ``undo``, ``status``)
comes, in this order, from ``--root``, from the helper running on the same state directory (so
``juzheng sort`` while the helper serves ``--root X`` sorts X), then from ``JUZHENG_ROOT`` or the
default folder. ``juzheng serve`` itself takes ``--root`` or the default.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..instance import read_info
from ..paths import default_root, default_state_dir

STATE_DIR_HELP = "助手的状态目录（数据库、配对信息；默认：系统的用户数据目录；环境变量 JUZHENG_STATE_DIR）"
ROOT_HELP = "证据文件夹（默认：正在运行的助手所用的文件夹，否则 文档/举证助手；环境变量 JUZHENG_ROOT）"
SERVE_ROOT_HELP = "证据文件夹（默认：文档/举证助手；环境变量 JUZHENG_ROOT）"
RULES_HELP = "规则目录（默认：随程序附带的规则；环境变量 JUZHENG_RULES）"

RootSource = Literal["option", "running_helper", "default"]


def add_state_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", metavar="DIR", help=STATE_DIR_HELP)


def add_root_option(parser: argparse.ArgumentParser, *, serve: bool = False) -> None:
    parser.add_argument("--root", metavar="DIR", help=SERVE_ROOT_HELP if serve else ROOT_HELP)


def add_rules_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", metavar="DIR", default=os.environ.get("JUZHENG_RULES"), help=RULES_HELP)


def add_location_options(parser: argparse.ArgumentParser, *, serve: bool = False) -> None:
    """``--state-dir``, ``--root`` and ``--rules``, with the same names and help everywhere."""
    add_state_dir_option(parser)
    add_root_option(parser, serve=serve)
    add_rules_option(parser)


def state_dir_from(args: argparse.Namespace) -> Path:
    value = getattr(args, "state_dir", None)
    return Path(value) if value else default_state_dir()


@dataclass(frozen=True)
class Locations:
    state_dir: Path
    root: Path
    root_source: RootSource
    helper: dict[str, Any] | None  # the running helper's helper.json, when one answers


def resolve(args: argparse.Namespace, *, follow_helper: bool = True) -> Locations:
    """The state directory and evidence root a command works on (see the module docstring)."""
    state_dir = state_dir_from(args)
    helper = running_helper(state_dir) if follow_helper else None
    if getattr(args, "root", None):
        return Locations(state_dir, Path(args.root), "option", helper)
    if helper is not None and helper.get("root"):
        return Locations(state_dir, Path(helper["root"]), "running_helper", helper)
    return Locations(state_dir, default_root(), "default", helper)


def running_helper(state_dir: Path) -> dict[str, Any] | None:
    """The helper.json of the helper running on ``state_dir``; None when none answers (a crash
    leaves the file behind, so the port is asked)."""
    info = read_info(state_dir)
    if info is None:  # no helper has run here since its last clean stop: no HTTP client to import
        return None
    from .pair_cmd import _alive  # the CLI's one HTTP probe of the helper

    return info if _alive(info) else None
