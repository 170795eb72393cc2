"""Where a file lives under the evidence root, and names that are safe on every OS.

Layout (what a seller sees in Explorer/Finder)::

    <root>/收件箱/                                     files dropped by the seller
    <root>/<platform label>/<order id>/<kind label>/   sorted files
    <root>/<platform label>/<order id>/待分类/         order known, kind not
    <root>/.重复/                                       identical bytes already filed for that order
    <root>/.回收站/                                     trashed files (never deleted)

Folder names come from the rulebook labels, so what the seller reads is what the checklist says.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePath

from ..paths import DUPLICATES, INBOX, TRASH, UNSORTED
from ..rules import Rulebook

# Windows refuses these in any name; a file synced from a phone or a Mac may carry them anyway.
_FORBIDDEN = {'<': '＜', '>': '＞', ':': '：', '"': '＂', '/': '／', '\\': '＼', '|': '｜', '?': '？', '*': '＊'}
_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?$", re.IGNORECASE)
# NTFS allows 255 UTF-16 units per name, ext4/APFS 255 bytes; a Chinese character is 3 UTF-8 bytes.
# Keep room for a " (123)" collision suffix.
MAX_NAME_BYTES = 230

# Names that are still being written or are editor/OS litter: never touched until renamed.
_PARTIAL_SUFFIXES = (".crdownload", ".part", ".partial", ".tmp", ".download", ".opdownload", ".swp", ".filepart")
_LITTER = {"thumbs.db", "desktop.ini", ".ds_store", "icon\r"}

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".heic", ".heif", ".tif", ".tiff"}
VIDEO_EXT = {".mp4", ".mov", ".avi", ".mkv", ".m4v", ".3gp", ".wmv", ".flv", ".webm", ".mpg", ".mpeg"}
PDF_EXT = {".pdf"}


def suffix_of(name: str) -> str:
    """``PurePath(name).suffix``, without building a path for a plain name (a sort asks several times
    per file, and pathlib's parsing cost more than the answer). A name with a separator or a drive
    colon goes through pathlib, whose reading of those differs between Windows and POSIX."""
    if "/" in name or "\\" in name or ":" in name:
        return PurePath(name).suffix
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def media_of(name: str) -> str:
    """'image', 'video', 'pdf' or 'other', from the extension."""
    ext = suffix_of(name).lower()
    if ext in IMAGE_EXT:
        return "image"
    if ext in VIDEO_EXT:
        return "video"
    if ext in PDF_EXT:
        return "pdf"
    return "other"


def is_ignored_name(name: str) -> bool:
    """Partial downloads, Office lock files (~$x.docx), hidden files and OS litter."""
    lower = name.lower()
    return (
        lower.endswith(_PARTIAL_SUFFIXES)
        or name.startswith("~$")
        or name.startswith(".")
        or lower in _LITTER
    )


# Forbidden characters to their look-alikes, control characters dropped: one str.translate (a
# Python loop over each character cost a sort 70 µs per file).
_SAFE_CHARS: dict[int, str | None] = {ord(k): v for k, v in _FORBIDDEN.items()} | dict.fromkeys([*range(0x20), 0x7F])


def safe_name(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file or folder name valid on Windows, macOS and Linux, keeping the seller's words.

    Forbidden characters become their full-width look-alikes (readable, not '_'), control
    characters are dropped, trailing dots/spaces (silently stripped by Windows) are removed,
    reserved device names get a prefix, and overlong names are cut before the extension.
    """
    name = unicodedata.normalize("NFC", name).translate(_SAFE_CHARS)
    name = name.strip().rstrip(". ")
    if not name or name in {".", ".."}:
        name = "未命名"
    if _RESERVED.match(name):
        name = "_" + name
    return _truncate(name, max_bytes)


def _truncate(name: str, max_bytes: int) -> str:
    if len(name.encode("utf-8")) <= max_bytes and len(name) <= 240:
        return name
    path = PurePath(name)
    suffix = path.suffix if len(path.suffix) <= 16 else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    budget = max_bytes - len(suffix.encode("utf-8"))
    out: list[str] = []
    used = 0
    for ch in stem:
        size = len(ch.encode("utf-8"))
        if used + size > budget or len(out) >= 240 - len(suffix):
            break
        out.append(ch)
        used += size
    return ("".join(out).rstrip(". ") or "未命名") + suffix


def numbered(name: str, n: int) -> str:
    """``photo.jpg`` → ``photo (2).jpg``: the name used when ``name`` is taken."""
    if n <= 1:
        return name
    suffix = suffix_of(name)
    suffix = suffix if len(suffix) <= 16 else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    return f"{stem} ({n}){suffix}"


def rel(root: Path, path: Path) -> str:
    """The path relative to the root, '/' separated, as the store keeps it.

    Raises ValueError when ``path`` is not under ``root``. A path that starts with the root's own
    spelling is cut as a string (four calls per sorted file; pathlib's parsing was a tenth of the
    sorter's time): the same answer, as both are normalised Paths and relative_to compares parts
    (anything else, e.g. another letter case on Windows, goes through pathlib)."""
    if isinstance(path, Path) and isinstance(root, Path):
        text, base = str(path), str(root)
        if not base.endswith(os.sep):
            base += os.sep
        if text.startswith(base) and len(text) > len(base):
            return text[len(base):].replace(os.sep, "/")
    return Path(path).relative_to(root).as_posix()


@dataclass(frozen=True)
class Location:
    """What a path under the root means for the index."""

    area: str  # 'inbox' | 'order' | 'duplicates' | 'trash' | 'other'
    platform: str | None = None
    order_id: str | None = None
    kind: str | None = None  # None inside an order: 待分类 (or loose in the order folder)


class Layout:
    """Folder names for one rulebook; rebuilt cheaply when the rules change."""

    def __init__(self, root: Path, rulebook: Rulebook) -> None:
        self.root = Path(root)
        self.rulebook = rulebook
        self._platform_by_folder = {safe_name(p.label): p.id for p in rulebook.platforms.values()}
        self._kind_by_folder = {safe_name(k.label): k.id for k in rulebook.kinds.values()}
        self._kind_dirs: dict[tuple[str, str, str | None], Path] = {}  # a batch files many files per order

    @property
    def inbox(self) -> Path:
        return self.root / INBOX

    @property
    def duplicates(self) -> Path:
        return self.root / DUPLICATES

    @property
    def trash(self) -> Path:
        return self.root / TRASH

    def platform_folder(self, platform: str) -> str:
        found = self.rulebook.platforms.get(platform)
        return safe_name(found.label if found else platform)

    def kind_folder(self, kind: str | None) -> str:
        if kind is None:
            return UNSORTED
        found = self.rulebook.kinds.get(kind)
        return safe_name(found.label if found else kind)

    def order_dir(self, platform: str, order_id: str) -> Path:
        return self.root / self.platform_folder(platform) / safe_name(order_id)

    def kind_dir(self, platform: str, order_id: str, kind: str | None) -> Path:
        key = (platform, order_id, kind)
        found = self._kind_dirs.get(key)
        if found is None:
            found = self._kind_dirs[key] = self.order_dir(platform, order_id) / self.kind_folder(kind)
        return found

    def locate(self, relpath: str) -> Location:
        """Read a root-relative path back into (platform, order, kind)."""
        parts = relpath.split("/")
        top = parts[0]
        if top == INBOX:
            return Location("inbox")
        if top == DUPLICATES:
            return Location("duplicates")
        if top == TRASH:
            return Location("trash")
        platform = self._platform_by_folder.get(top)
        if platform is None or len(parts) < 3:
            return Location("other")
        order_id = parts[1]
        if len(parts) == 3:  # loose in the order folder: the order is known, the kind is not
            return Location("order", platform, order_id, None)
        if len(parts) != 4:
            return Location("other")  # deeper folders are the seller's own structure: not indexed
        folder = parts[2]
        if folder == UNSORTED:
            return Location("order", platform, order_id, None)
        kind = self._kind_by_folder.get(folder)
        if kind is None:
            return Location("other")
        return Location("order", platform, order_id, kind)

    def is_platform_folder(self, name: str) -> bool:
        return name in self._platform_by_folder
