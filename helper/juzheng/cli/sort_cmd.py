"""``juzheng sort [--root DIR] [--state-dir DIR] [--dry-run]`` and ``juzheng undo [--last N]``.

The same engine as the running helper, once, without the watcher or the server. Both can run while
the helper runs: every file move in any process holds the sorter lock for that one file.
"""

from __future__ import annotations

import gc
import re
import sys
import unicodedata

from ..events import EventBus
from ..store import open_store
from . import exit_codes
from .common import fail, print_json, rulebook_from
from .locations import add_location_options, resolve

_ACTIONS = {"move": "移入", "duplicate": "重复", "pending": "待处理", "held": "保留", "skip": "跳过"}
_STATUS = {
    "planned": "计划", "done": "完成", "changed": "文件又被修改，未移动", "vanished": "文件已不在",
    "busy": "文件被占用", "stuck": "文件被占用，稍后完成", "pending": "留在收件箱", "held": "留在收件箱", "skipped": "跳过",
}


def register(sub) -> None:
    p = sub.add_parser("sort", help="整理收件箱一次（--dry-run 只列出计划，不移动文件）")
    _common(p)
    p.add_argument("--dry-run", action="store_true", help="只打印整理计划，不移动任何文件")
    p.set_defaults(handler=cmd_sort)
    p = sub.add_parser("undo", help="撤销最近的整理（把文件放回原处）")
    _common(p)
    p.add_argument("--last", type=int, default=1, metavar="N", help="撤销最近 N 批（默认 1）")
    p.set_defaults(handler=cmd_undo)


def _common(p) -> None:
    add_location_options(p)
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _service(args, create: bool):
    from ..evidence import EvidenceService  # imported here: `juzheng rules …` need not load watchdog

    where = resolve(args)  # the running helper's folder when one runs on this state directory
    root = where.root
    if not root.is_dir():
        if not create:
            fail(f"证据文件夹不存在：{root}")
        root.mkdir(parents=True, exist_ok=True)
    book = rulebook_from(args, where.state_dir)
    store = open_store(where.state_dir)
    return EvidenceService(root, store, lambda: book, EventBus(store), watch=False), store


def cmd_sort(args) -> int:
    service, store = _service(args, create=not args.dry_run)
    # A sort makes a handful of objects per file and almost no cycles: the cyclic collector's passes
    # over them were ~4 % of a 5,000-file sort (perf). One run, then the process ends.
    gc.disable()
    try:
        items = service.sort_once(dry_run=args.dry_run, progress=None if args.json else _progress_bar, defer_hashes=True)
    finally:
        gc.enable()
        store.close()
    if args.json:
        print_json([i.model_dump() for i in items])
        return 0
    if not items:
        print("收件箱是空的，没有要整理的文件。")
        return 0
    headers = ["文件", "动作", "去向", "说明"]
    rows = []
    for item in items:
        state = "" if args.dry_run else f"[{_STATUS.get(item.status, item.status)}] "
        rows.append([item.src, _ACTIONS.get(item.action, item.action), item.dest or "—", state + (item.reason or "")])
    print(("整理计划（未移动任何文件）" if args.dry_run else "整理结果") + f"：共 {len(items)} 个文件")
    print(_table(headers, rows))
    moved = sum(1 for i in items if i.status == "done")
    if not args.dry_run:
        print(f"已移动 {moved} 个；留在收件箱 {sum(1 for i in items if i.action in ('pending', 'held'))} 个。撤销：juzheng undo")
    return 0


def cmd_undo(args) -> int:
    if args.last < 1:
        fail("--last 必须至少为 1")
    service, store = _service(args, create=False)
    try:
        items = service.undo(args.last)
    finally:
        store.close()
    if args.json:
        print_json([i.model_dump() for i in items])
        return 0
    if not items:
        print("没有可以撤销的整理。")
        return 0
    for item in items:
        if item.status == "undone":
            print(f"已放回：{item.from_path} → {item.to_path}")
        else:
            print(f"无法放回：{item.from_path}（{item.detail or item.status}）")
    return exit_codes.OK if all(i.status == "undone" for i in items) else exit_codes.FAILED


def _progress_bar(done: int, total: int | None) -> None:
    if not sys.stderr.isatty():
        return
    if total is None:
        sys.stderr.write(f"\r正在清点文件：{done}")
    else:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r正在建立索引 [{'█' * filled}{'░' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
    sys.stderr.flush()


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _width(text: str) -> int:
    # Only the non-ASCII characters are looked up (order numbers, extensions and counters are
    # ASCII): the table of a 5,000-file sort looked up a million characters one by one.
    if text.isascii():
        return len(text)
    return len(text) + sum(map(_WIDE.__getitem__, _NON_ASCII.findall(text)))


class _WideChars(dict[str, int]):
    """1 for a character two columns wide, else 0, looked up once per character (a table of
    20,000 rows met the same few hundred CJK characters 190,000 times)."""

    def __missing__(self, ch: str) -> int:
        wide = self[ch] = 1 if unicodedata.east_asian_width(ch) in "WF" else 0
        return wide


_WIDE = _WideChars()


def _table(headers: list[str], rows: list[list[str]]) -> str:
    # Each width once, and none for the last column, which is not padded (its zh-CN notes were a
    # quarter of the table's cost); the action column's few words are measured once each.
    actions: dict[str, int] = {}

    def measured(row: list[str]) -> list[tuple[str, int]]:
        first, action, *middle, _last = row
        if action not in actions:
            actions[action] = _width(action)
        return [(first, _width(first)), (action, actions[action]), *((c, _width(c)) for c in middle), (row[-1], 0)]

    cells = [measured(r) for r in [headers, *rows]]
    widths = [max(r[i][1] for r in cells) for i in range(len(headers))]

    def line(row: list[tuple[str, int]]) -> str:
        return "  ".join(c + " " * (w - cw) if w else c for (c, cw), w in zip(row, widths, strict=True)).rstrip()

    rule = [("-" * max(w, 4), max(w, 4)) for w in widths]
    return "\n".join([line(cells[0]), line(rule), *(line(r) for r in cells[1:])])
