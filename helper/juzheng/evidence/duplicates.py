"""Files the sorter set aside in ``.重复/`` because the order already had the same bytes.

The sorter notes each one here, so the case view can say 「已有相同文件：…」 where the seller looks
instead of the file silently vanishing from the inbox into a hidden folder.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..store import SqliteStore, utcnow
from ..store.records import DuplicateFile


class DuplicateNote(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    path: str = Field(description="重复文件现在的位置（.重复/ 下）")
    same_as: str = Field(description="本订单里已有的相同文件")
    message: str = Field(description="已有相同文件：…")
    at: datetime


def note_duplicate(store: SqliteStore, platform: str, order_id: str, path: str, same_as: str) -> None:
    # Every note is kept (a row per file in .重复/, which keeps every file too): the 500-note cap
    # belonged to the JSON blob, rewritten whole on every note.
    store.add_duplicate(DuplicateFile(platform=platform, order_id=order_id, path=path, same_as=same_as, at=utcnow()))


def duplicates_for(store: SqliteStore, platform: str, order_id: str, limit: int = 20) -> list[DuplicateNote]:
    """The order's duplicates, newest first, as the case view shows them."""
    return [
        DuplicateNote(path=d.path, same_as=d.same_as, message=f"已有相同文件：{d.same_as.rsplit('/', 1)[-1]}", at=d.at)
        for d in store.duplicates(platform, order_id, limit)
    ]
