"""``juzheng read FILE [--json]``: what the helper reads in an image, offline, and what it makes of it.

The same worker process and the same deciding as the inbox sorter; the known cases (and their
tracking numbers) come from the store in the state dir when there is one. Nothing is moved.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..evidence.classify_text import CaseRef, decide

from ..reader.client import ReaderClient, WorkerUnavailable
from ..reader.engine import missing_parts
from ..store import DB_NAME, open_store
from . import exit_codes
from .common import add_rules_option, fail, print_json, rulebook_from
from .locations import add_state_dir_option, state_dir_from

EXIT_NO_OCR = exit_codes.NO_OCR


def register(sub) -> None:
    p = sub.add_parser("read", help="离线识别一张图片：订单号、快递单号、证据类型（不移动文件）")
    p.add_argument("file", metavar="FILE", help="图片文件（jpg、png、webp…）")
    add_state_dir_option(p)  # its cases' tracking numbers place what the image reads
    add_rules_option(p)
    p.add_argument("--json", action="store_true", help="输出 JSON：order_ids、tracking_numbers、kind、kind_candidates、text …")
    p.set_defaults(handler=cmd_read)


def cmd_read(args) -> int:
    path = Path(args.file)
    if not path.is_file():
        fail(f"找不到文件 {args.file}：请检查路径")
    book = rulebook_from(args)
    missing = missing_parts()
    if missing:
        message = "图片识别未安装（可选组件 ocr）：运行 scripts/run 或 pip install \"juzheng[ocr]\" 安装后再试"
        if args.json:
            print_json({"available": False, "missing": missing, "message": message, "order_ids": [], "tracking_numbers": [],
                        "kind": None, "kind_candidates": [], "text": ""})
            return EXIT_NO_OCR
        fail(message, code=EXIT_NO_OCR)
    state_dir = state_dir_from(args)
    cases: list[CaseRef] = []
    if (state_dir / DB_NAME).exists():
        store = open_store(state_dir)
        try:
            cases = [CaseRef.of(c) for c in store.list_cases(status=None)]
        finally:
            store.close()
    with tempfile.TemporaryDirectory(prefix="juzheng-read-") as cache:
        client = ReaderClient(Path(cache))
        try:
            reply = client.read(path.resolve())
        except WorkerUnavailable:
            fail("图片识别组件无法启动：请重新运行 scripts/run 安装（可选组件 ocr）", code=EXIT_NO_OCR)
        finally:
            client.stop()
    if not reply.ok:
        fail(f"无法读取这张图片（{reply.error}）：请确认它是 jpg、png、webp、heic 图片或 PDF，且没有损坏", code=1)
    d = decide(reply.lines, reply.signals, path.name, book, cases)
    text = "\n".join(line.text for line in reply.lines)
    out = {
        "order_ids": d.order_ids,
        "tracking_numbers": [t.number for t in d.tracking_numbers],
        "kind": d.kind,
        "kind_candidates": [{"kind": k.kind, "score": k.score} for k in d.kind_candidates],
        "text": text,
        "available": True,
        "carriers": {t.number: t.carrier for t in d.tracking_numbers},
        "suggested_kind": d.suggested_kind,
        "rejected": d.rejected.model_dump() if d.rejected else None,
        "platform": d.platform,
        "order_id": d.order_id,
        "placed_by": d.order_by,
        "reason": d.reason,
        "signals": reply.signals.model_dump(),
        "cpu_seconds": reply.cpu_seconds,
    }
    if args.json:
        print_json(out)
        return 0
    kinds = {k.id: k.label for k in book.kinds.values()}
    lines = [f"订单号：{'、'.join(d.order_ids) or '（未读到）'}",
             f"快递单号：{'、'.join(f'{t.number}（{t.carrier}）' for t in d.tracking_numbers) or '（未读到）'}"]
    if d.kind:
        lines.append(f"证据类型：{kinds.get(d.kind, d.kind)}")
    elif d.suggested_kind:
        lines.append(f"证据类型：可能是{kinds.get(d.suggested_kind, d.suggested_kind)}（不确定）")
    if d.rejected:
        lines.append(f"注意：像{d.rejected.label}，{d.rejected.reason}")
    lines.append(f"归档：{d.platform} / {d.order_id}" if d.order_id else f"归档：留在收件箱（{d.reason}）")
    print("\n".join(lines))
    return 0


__all__ = ["cmd_read"]
