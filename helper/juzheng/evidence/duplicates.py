"""Files the sorter set aside in ``.重复/`` because the order already had the same bytes.

The sorter notes each one here, so the case view can say 「已有相同文件：…」 where the seller looks
instead of the file silently vanishing from the inbox into a hidden folder.
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..store import SqliteStore, utcnow

SETTING = "evidence.duplicates"
KEEP = 500  # notes kept in all (oldest dropped): the folder itself keeps every file


class DuplicateNote(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    path: str = Field(description="重复文件现在的位置（.重复/ 下）")
    same_as: str = Field(description="本订单里已有的相同文件")
    message: str = Field(description="已有相同文件：…")
    at: datetime


def note_duplicate(store: SqliteStore, platform: str, order_id: str, path: str, same_as: str) -> None:
    notes = _read(store)
    notes.append({"platform": platform, "order_id": order_id, "path": path, "same_as": same_as, "at": utcnow().isoformat()})
    store.set_setting(SETTING, json.dumps(notes[-KEEP:], ensure_ascii=False))


def duplicates_for(store: SqliteStore, platform: str, order_id: str, limit: int = 20) -> list[DuplicateNote]:
    out = []
    for note in reversed(_read(store)):
        if note.get("platform") == platform and note.get("order_id") == order_id:
            name = str(note["same_as"]).rsplit("/", 1)[-1]
            try:
                out.append(DuplicateNote(path=note["path"], same_as=note["same_as"], message=f"已有相同文件：{name}", at=note["at"]))
            except (KeyError, ValueError):
                continue
            if len(out) >= limit:
                break
    return out


def _read(store: SqliteStore) -> list[dict]:
    raw = store.get_setting(SETTING)
    try:
        data = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []
