"""Links in order folders: recorded, shown to the seller, never read.

A symlink (or on Windows a junction or other reparse point, or a ``.lnk`` shortcut, which is an
ordinary file that names another) in ``<平台>/<订单>/<类型>/`` points somewhere the seller did not put
into the evidence folder: hashing it reads through to its target (a link to ``/dev/zero`` never
ends), moving it moves the link and not the photo, and attaching it would hand the page bytes from
outside the root. So a link is never evidence: it gets a row in ``evidence_links`` (not in
``evidence``), so no checklist item, packet, duplicate check or attach ever sees it, and the case
view lists it with the reason, so the seller can put the file itself there instead.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..store import SqliteStore, utcnow
from .layout import Location

LINK_REASON = "这是一个快捷方式/链接，举证助手不会读取或上传它，请放入文件本身"
SHORTCUT_SUFFIXES = (".lnk",)  # Windows shortcut files: regular files that only name another
# Windows reparse tags with this bit name another place (symlinks, junctions, mount points). Others
# hold the file's own bytes: OneDrive/cloud placeholders (Documents is often synced), dedup, WOF
# compression; those are ordinary evidence, or a OneDrive-synced evidence folder would be all links.
NAME_SURROGATE = 0x20000000
REPARSE_POINT = 0x400  # FILE_ATTRIBUTE_REPARSE_POINT (stat has it only on Windows)


class LinkItem(BaseModel):
    """A link found in this order's folder, listed so the seller knows it was not read."""

    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    path: str = Field(description="相对证据文件夹的路径（/ 分隔）")
    name: str
    kind: str | None = Field(description="所在类型文件夹；null 表示待分类")
    reason: str = LINK_REASON


def names_another_place(file_attributes: int, reparse_tag: int) -> bool:
    """A Windows entry (its attributes and reparse tag) that is a link, junction or mount point."""
    return bool(file_attributes & REPARSE_POINT and reparse_tag & NAME_SURROGATE)


def is_link_stat(st: os.stat_result, name: str = "") -> bool:
    """A stat taken without following links (``lstat``) names a link, a reparse point or a shortcut."""
    if stat.S_ISLNK(st.st_mode):
        return True
    if sys.platform == "win32":
        # Junctions and mount points are reparse points that islink() misses.
        if names_another_place(st.st_file_attributes, st.st_reparse_tag):
            return True
    return stat.S_ISREG(st.st_mode) and name.lower().endswith(SHORTCUT_SUFFIXES)


def is_link_entry(entry: os.DirEntry[str]) -> bool:
    """A directory entry that is a symlink or (Windows) a reparse point such as a junction.

    ``.lnk`` shortcuts are regular files and are told apart by their name where they are indexed."""
    if entry.is_symlink():
        return True
    if sys.platform == "win32":
        if not entry.stat(follow_symlinks=False).st_file_attributes & stat.FILE_ATTRIBUTE_REPARSE_POINT:
            return False
        st = os.lstat(entry.path)  # rare: read the tag itself
        return names_another_place(st.st_file_attributes, st.st_reparse_tag)
    return False


def is_link(path: Path | str) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return is_link_stat(st, os.path.basename(str(path)))


def record_link(store: SqliteStore, relpath: str, loc: Location) -> bool:
    """Record (or re-place) the link at ``relpath``; True when the row is new or changed."""
    with store.transaction() as db:
        row = db.execute("SELECT platform, order_id, kind FROM evidence_links WHERE path=?", (relpath,)).fetchone()
        if row is not None and (row[0], row[1], row[2]) == (loc.platform, loc.order_id, loc.kind):
            return False
        db.execute(
            "INSERT OR REPLACE INTO evidence_links (path, platform, order_id, kind, seen_at) VALUES (?,?,?,?,?)",
            (relpath, loc.platform, loc.order_id, loc.kind, utcnow().isoformat()),
        )
    return True


def forget_links(store: SqliteStore, relpath: str) -> list[tuple[str, str, str]]:
    """Remove the link rows at or under ``relpath``; (platform, order, path) of each removed.

    Read first: called for every file the watcher indexes or forgets, and almost always there is
    no link row, so no write transaction is opened for nothing."""
    like = relpath.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
    where = "path=? OR path LIKE ? ESCAPE '\\'"
    rows = store._all(f"SELECT platform, order_id, path FROM evidence_links WHERE {where}", (relpath, like))
    if rows:
        with store.transaction() as db:
            db.execute(f"DELETE FROM evidence_links WHERE {where}", (relpath, like))
    return [(r[0], r[1], r[2]) for r in rows]


def link_paths(store: SqliteStore) -> set[str]:
    return {r[0] for r in store._all("SELECT path FROM evidence_links")}


def links_for(store: SqliteStore, platform: str, order_id: str) -> list[LinkItem]:
    rows = store._all(
        "SELECT path, kind FROM evidence_links WHERE platform=? AND order_id=? ORDER BY path", (platform, order_id)
    )
    return [LinkItem(path=r["path"], name=r["path"].rsplit("/", 1)[-1], kind=r["kind"]) for r in rows]
