"""Where things live by default, per OS, through platformdirs (no hard-coded POSIX paths)."""

from __future__ import annotations

import os
from pathlib import Path

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
    if env:
        return Path(env)
    import platformdirs  # here: a command given its folders need not import it

    return Path(platformdirs.user_documents_dir()) / ROOT_FOLDER_NAME


def default_state_dir() -> Path:
    """The per-user data dir (``%LOCALAPPDATA%\\juzheng`` on Windows), or ``JUZHENG_STATE_DIR``."""
    env = os.environ.get("JUZHENG_STATE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_port() -> int:
    env = os.environ.get("JUZHENG_PORT")
    return int(env) if env else DEFAULT_PORT
