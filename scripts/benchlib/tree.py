"""A realistic sorted evidence tree: ``<platform label>/<order id>/<kind label>/files``.

Order ids in each platform's own format, the kinds its scenarios ask for (plus 待分类), one to six
files per kind with the names phones, WeChat and screenshot tools give. Files are small: the index
never reads their bytes, only names, sizes and times, so size would only cost disk.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

from juzheng.evidence.layout import Layout
from juzheng.paths import INBOX
from juzheng.rules import Rulebook

MARKER = ".bench-tree"


@dataclass(frozen=True)
class Tree:
    root: Path
    files: int
    folders: int
    orders: int


def order_id(platform: str, rng: random.Random) -> str:
    if platform == "pinduoduo":
        return f"2{rng.randint(30101, 51231):05d}-{rng.randrange(10**14, 10**15)}"
    if platform == "douyin":
        return str(rng.randrange(4 * 10**18, 5 * 10**18))
    if platform == "tmall":
        return str(rng.randrange(3 * 10**18, 4 * 10**18))
    return str(rng.randrange(2 * 10**18, 4 * 10**18))  # taobao


def file_name(order: str, kind_keyword: str, n: int, rng: random.Random) -> str:
    stamp = f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    clock = f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}"
    shape = rng.randrange(6)
    if shape == 0:
        return f"IMG_{stamp}_{clock}_{n}.jpg"
    if shape == 1:
        return f"微信图片_{stamp}{clock}_{n}.jpg"
    if shape == 2:
        return f"Screenshot_{stamp}-{clock}_{n}.png"
    if shape == 3:
        return f"{order} {kind_keyword} {n}.jpg"
    if shape == 4:
        return f"mmexport{rng.randrange(10**12, 10**13)}.jpg"
    return f"VID_{stamp}_{clock}_{n}.mp4"


def kinds_by_platform(book: Rulebook) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for platform in book.platforms.values():
        kinds: set[str] = set()
        for scenario in platform.scenarios:
            for option in scenario.requires:
                kinds.update(option.kinds)
        out[platform.id] = sorted(k for k in kinds if book.kinds[k].form == "file") or sorted(
            k.id for k in book.kinds.values() if k.form == "file"
        )
    return out


def build(root: Path, book: Rulebook, files: int, seed: int = 20261123) -> Tree:
    """Create ``files`` files under ``root`` (reused when a tree of that size is already there)."""
    marker = root / INBOX / MARKER
    if marker.exists() and marker.read_text().strip() == f"{files} {seed}":
        return _count(root, files)
    rng = random.Random(seed)
    layout = Layout(root, book)
    (root / INBOX).mkdir(parents=True, exist_ok=True)
    kinds = kinds_by_platform(book)
    platforms = sorted(book.platforms)
    made = folders = orders = 0
    while made < files:
        platform = platforms[orders % len(platforms)]
        order = order_id(platform, rng)
        orders += 1
        chosen: list[str | None] = rng.sample(kinds[platform], k=min(len(kinds[platform]), rng.randint(2, 4)))
        if rng.random() < 0.15:
            chosen.append(None)  # 待分类: the order is known, the kind is not
        for kind in chosen:
            folder = layout.kind_dir(platform, order, kind)
            folder.mkdir(parents=True, exist_ok=True)
            folders += 1
            keyword = book.kinds[kind].keywords[0] if kind else "截图"
            for n in range(rng.randint(1, 6)):
                if made >= files:
                    break
                path = folder / file_name(order, keyword, n, rng)
                with open(path, "xb") as fh:
                    fh.write(rng.randbytes(rng.randint(100, 2000)))
                made += 1
    marker.write_text(f"{files} {seed}")
    return Tree(root=root, files=made, folders=folders, orders=orders)


def _count(root: Path, expected: int) -> Tree:
    files = folders = 0
    orders: set[str] = set()
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = Path(folder).relative_to(root).parts
        if rel and rel[0] == INBOX:
            continue
        if len(rel) == 3:
            folders += 1
            orders.add("/".join(rel[:2]))
        files += len(names)
    if files != expected:
        raise RuntimeError(f"the tree under {root} has {files} files, expected {expected}: remove it and run again")
    return Tree(root=root, files=files, folders=folders, orders=len(orders))
