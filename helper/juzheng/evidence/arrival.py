"""When a file reached the inbox: the time the focus of a case is compared with.

A file on the pending list arrived when it was first seen. Otherwise the inode's change time
(Windows: creation time) is when it was written or moved into the inbox; the modification time is
not, since copying from a phone or another folder keeps it.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path


def arrival(path: Path, relpath: str, pending_since: dict[str, datetime], st: os.stat_result | None = None) -> datetime | None:
    """``st``: the file's stat when the caller has one (a regular file's lstat is its stat)."""
    seen = pending_since.get(relpath)
    if seen is not None:
        return seen if seen.tzinfo else seen.replace(tzinfo=timezone.utc)
    if st is None:
        try:
            st = os.stat(path)
        except OSError:
            return None
    return datetime.fromtimestamp(st.st_ctime, tz=timezone.utc)
