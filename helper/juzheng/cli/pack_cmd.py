"""``juzheng pack CASE [--zip] [--out DIR] [--option N]``: export a case's packet for pasting into
the platform or sending to a colleague — the files the platform accepts (converted beside the
originals where needed), a contact sheet image and the filled explanation.

CASE is the case number shown by ``juzheng status``, or an order id. Runs beside the helper: file
writes hold the same sorter lock.
"""

from __future__ import annotations

from pathlib import Path

from ..events import EventBus

from ..store import open_store
from .common import fail, print_json, rulebook_from
from .locations import add_location_options, resolve


def register(sub) -> None:
    p = sub.add_parser("pack", help="打包导出一个案子的举证材料（可提交的文件、总览图、举证说明）")
    p.add_argument("case", metavar="CASE", help="案子编号，或订单号")
    p.add_argument("--zip", action="store_true", help="打包成 .zip（默认导出为文件夹）")
    p.add_argument("--out", metavar="DIR", help="导出到哪个文件夹（默认：证据文件夹/导出）")
    p.add_argument("--option", type=int, metavar="N", help="导出第 N 组凭证（从 1 开始；默认选可提交的一组）")
    add_location_options(p)
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(handler=cmd_pack)


def cmd_pack(args) -> int:
    from ..cases import CaseError, CaseService
    from ..cases.submit import pack_case
    from ..evidence import EvidenceService

    where = resolve(args)  # the running helper's folder when one serves this state directory
    root = where.root
    if not root.is_dir():
        fail(f"证据文件夹不存在：{root}")
    if args.option is not None and args.option < 1:
        fail("--option 从 1 开始")
    book = rulebook_from(args)
    store = open_store(where.state_dir)
    try:
        bus = EventBus(store)
        evidence = EvidenceService(root, store, lambda: book, bus, watch=False)
        cases = CaseService(store, lambda: book, bus, evidence=evidence)
        case_id = _case_id(store, args.case)
        try:
            result = pack_case(
                cases, case_id, as_zip=args.zip, option=args.option - 1 if args.option else None,
                out_dir=Path(args.out) if args.out else None,
            )
        except CaseError as exc:
            fail(exc.message, code=1)
        finally:
            cases.close()
    finally:
        store.close()
    if args.json:
        print_json(result.model_dump())
        return 0
    print(f"已导出到：{result.path}")
    print(f"  {result.contact_sheet}（总览图）、{result.explanation_file}（举证说明）")
    for name in result.files:
        print(f"  {name}")
    for problem in result.problems:
        print(f"  ⚠ {problem}")
    if not result.ready:
        print("注意：这组凭证还不能直接提交（见 举证说明.txt 里的“还缺”和“没能放入的文件”）。")
    return 0


def _case_id(store, value: str) -> int:
    text = value.strip()
    if text.isdigit() and len(text) < 10 and store.get_case(int(text)) is not None:
        return int(text)
    found = store.cases_for_order(text)
    if not found:
        fail(f"没有找到案子 {value!r}：请用 `juzheng status` 里的案子编号，或完整的订单号")
    open_cases = [c for c in found if c.status == "open"] or found
    if len({c.platform for c in open_cases}) > 1:
        fail(f"订单号 {value} 在多个平台都有案子：请改用案子编号")
    return open_cases[-1].id
