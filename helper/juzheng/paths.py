"""Where things live by default, per OS, through platformdirs (no hard-coded POSIX paths)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "juzheng"
ROOT_FOLDER_NAME = "举证助手"
INBOX = "收件箱"
UNSORTED = "待分类"
DUPLICATES = ".重复"
TRASH = ".回收站"
DEFAULT_PORT = 17817


def default_root() -> Path:
    """``<Documents>/举证助手``, or ``JUZHENG_ROOT``."""
    env = os.environ.get("JUZHENG_ROOT")
    return Path(env) if env else Path(platformdirs.user_documents_dir()) / ROOT_FOLDER_NAME


def default_state_dir() -> Path:
    """The per-user data dir (``%LOCALAPPDATA%\\juzheng`` on Windows), or ``JUZHENG_STATE_DIR``."""
    env = os.environ.get("JUZHENG_STATE_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_port() -> int:
    env = os.environ.get("JUZHENG_PORT")
    return int(env) if env else DEFAULT_PORT
