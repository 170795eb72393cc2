"""4a. First index of a large sorted tree against ``find`` over the same tree.

The index is the helper's own ``Indexer.reconcile`` (what ``EvidenceService`` runs on start) into a
fresh store, with its event bus, exactly as a first start on an existing folder does. ``find -type f``
lists the same files. Both run warm (the tree was just written and walked once), alternating, and
the median of the repeats is reported. ``find -printf '%s %T@ %p'`` (which, like the index, needs each
file's size and time) is reported alongside.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from typing import Any

from .results import Figure, Target
from .tree import Tree, build

TARGET_RATIO = 4.0  # issue 15: first index ≤ 4× find


def tree_for(session: Any, files: int) -> Tree:
    from juzheng.rules import load_rulebook

    started = time.monotonic()
    tree = build(session.workdir / "tree" / "证据", load_rulebook(), files)
    print(f"   tree: {tree.files} files in {tree.folders} folders, {tree.orders} orders ({time.monotonic() - started:.0f} s)", flush=True)
    return tree


def _find(root: str, *extra: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(["find", root, "-type", "f", *extra], capture_output=True, check=True)
    return time.perf_counter() - started, done.stdout.count(b"\n")


def _reconcile(tree: Tree, scratch: str) -> tuple[float, int]:
    from juzheng.events import EventBus
    from juzheng.evidence.indexer import Indexer
    from juzheng.evidence.layout import Layout
    from juzheng.rules import load_rulebook
    from juzheng.store import open_store

    book = load_rulebook()
    store = open_store(tempfile.mkdtemp(prefix="index-state-", dir=scratch))
    try:
        indexer = Indexer(store, EventBus(store))
        started = time.perf_counter()
        report = indexer.reconcile(Layout(tree.root, book))
        return time.perf_counter() - started, report.added
    finally:
        store.close()


def measure(tree: Tree, session: Any, repeats: int = 3) -> Figure:
    root = str(tree.root)
    _find(root)  # warm the dentry and inode caches for both
    finds, finds_stat, indexes = [], [], []
    added = 0
    for _ in range(repeats):
        seconds, _listed = _find(root)
        finds.append(seconds)
        finds_stat.append(_find(root, "-printf", "%s %T@ %p\\n")[0])
        seconds, added = _reconcile(tree, str(session.workdir))
        indexes.append(seconds)
    if added != tree.files:
        raise RuntimeError(f"the index added {added} files, the tree has {tree.files}")
    index_s, find_s = statistics.median(indexes), statistics.median(finds)
    return Figure(
        id="first_index_s", title=f"first index of {tree.files:,} files", unit="s", stat="median",
        value=index_s,
        details={"files": tree.files, "folders": tree.folders, "orders": tree.orders, "repeats": repeats,
                 "index_runs": ",".join(f"{s:.2f}" for s in indexes), "find_runs": ",".join(f"{s:.2f}" for s in finds),
                 "find_with_stat_s": statistics.median(finds_stat), "files_per_s": tree.files / index_s},
        baseline=find_s, baseline_title="(find -type f)",
        baseline_why="find -type f over the same tree, warm, alternating with the index runs",
        target=Target(on="ratio", op="<=", limit=TARGET_RATIO),
    ).judge()
