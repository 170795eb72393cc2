"""``juzheng rules list|check|schema``, ``juzheng check``, ``juzheng deadline``, ``juzheng detect``."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from ..rules import Evidence, RulebookError, compute_deadlines, evaluate, load_rulebook, recognise
from ..cases.deadline_sources import resolve_deadline
from ..rules.deadline_text import parse_deadline_text
from ..rules.deadlines import LEVEL_LABELS, make_deadline
from ..rules.schema import rules_schema_text
from .common import add_rules_option, fail, parse_time, print_json, require_id, rulebook_from


def register(sub) -> None:
    rules = sub.add_parser("rules", help="规则库：列出、检查、导出 JSON Schema")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="子命令", required=True)
    p = rules_sub.add_parser("list", help="列出全部场景")
    add_rules_option(p)
    p.add_argument("--platform", help="只列出某个平台")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)
    p = rules_sub.add_parser("check", help="检查规则目录，列出每个错误（文件:行: 字段: 原因）")
    p.add_argument("dir", nargs="?", help="规则目录（默认：随程序附带的 rules/）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_check)
    p = rules_sub.add_parser("schema", help="输出规则文件的 JSON Schema")
    p.add_argument("--write", metavar="FILE", help="写入文件而不是打印")
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("check", help="某个场景还缺哪些凭证")
    add_rules_option(p)
    p.add_argument("--scenario", required=True)
    p.add_argument("--have", action="append", default=[], metavar="KIND", help="已有的凭证类型，可重复")
    p.add_argument("--now", help="当前时间（ISO 8601），用于有效期判断")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_check_scenario)

    p = sub.add_parser("deadline", help="举证截止时间与紧急程度")
    add_rules_option(p)
    p.add_argument("--scenario", required=True)
    p.add_argument("--from", dest="start", required=True, metavar="ISO8601", help="平台发起举证要求的时间")
    p.add_argument("--page", metavar="TEXT", help="页面上的倒计时或截止时间文字（如 剩余 10小时22分）：与申请时间比较，取较早的")
    p.add_argument("--now", metavar="ISO8601")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_deadline)

    p = sub.add_parser("detect", help="从平台的举证要求文字识别场景")
    add_rules_option(p)
    p.add_argument("--platform", required=True)
    p.add_argument("--text-file", required=True, metavar="FILE", help="文字文件（UTF-8），- 表示标准输入")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_detect)


def cmd_list(args) -> int:
    book = rulebook_from(args)
    if args.platform:
        require_id(args.platform, book.platforms, "平台")
    rows = [
        {"id": s.id, "platform": book.scenario_platform[s.id], "label": s.label, "common_practice": s.common_practice}
        for s in book.scenarios.values()
        if not args.platform or book.scenario_platform[s.id] == args.platform
    ]
    if args.json:
        print_json(rows)
        return 0
    for platform in book.platforms.values():
        mine = [r for r in rows if r["platform"] == platform.id]
        if mine:
            print(f"{platform.label}（{platform.id}）")
            for r in mine:
                mark = " [通用做法，非平台规则]" if r["common_practice"] else ""
                print(f"  {r['id']:<44} {r['label']}{mark}")
    return 0


def cmd_check(args) -> int:
    try:
        book = load_rulebook(args.dir)
    except RulebookError as exc:
        if args.json:
            print_json({"ok": False, "errors": [e.__dict__ for e in exc.errors]})
        else:
            sys.stderr.write(f"规则有 {len(exc.errors)} 处错误：\n" + "\n".join(f"  {e}" for e in exc.errors) + "\n")
        return 1
    summary = {"ok": True, "platforms": len(book.platforms), "kinds": len(book.kinds), "scenarios": len(book.scenarios), "digest": book.digest}
    if args.json:
        print_json(summary)
    else:
        print(f"规则检查通过：{summary['platforms']} 个平台，{summary['kinds']} 种凭证，{summary['scenarios']} 个场景。")
    return 0


def cmd_schema(args) -> int:
    text = rules_schema_text()
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_check_scenario(args) -> int:
    book = rulebook_from(args)
    scenario = require_id(args.scenario, book.scenarios, "场景")
    for kind in args.have:
        require_id(kind, book.kinds, "凭证类型")
    now = parse_time(args.now, "--now") if args.now else datetime.now(timezone.utc)
    result = evaluate(book, scenario, [Evidence(kind=k, generated_at=now) for k in args.have], now)
    if args.json:
        data = {
            "scenario": scenario,
            "complete": result.complete,
            "options": [o.kinds for o in result.options],
            "missing": [o.missing for o in result.options],
            "mode": result.mode,
            "warnings": [w.model_dump() for w in result.warnings],
            "advice": result.advice,
            "source_label": result.source_label,
        }
        print_json(data)
        return 0
    print(f"{result.label}（{scenario}）")
    print("以下任选其一：" if result.mode == "any_of" else "需全部提供：")
    for i, option in enumerate(result.options, 1):
        marks = "，".join(f"{'✔' if it.state == 'done' else '✘'} {it.label}" for it in option.items)
        print(f"  {i}. {marks}{'  ← 已齐全' if option.complete else ''}")
    for w in result.warnings:
        if not (result.advice and w.message.endswith(result.advice)):
            print(f"  ⚠ {w.message}")
    print(result.source_label)
    if not result.complete:
        print("结论：凭证不全。")
    elif result.advice:
        print(f"结论：凭证已齐全，可以提交；{result.advice}。")
    else:
        print("结论：凭证已齐全，可以提交。")
    return 0


def cmd_deadline(args) -> int:
    book = rulebook_from(args)
    scenario = require_id(args.scenario, book.scenarios, "场景")
    start = parse_time(args.start, "--from")
    now = parse_time(args.now, "--now") if args.now else datetime.now(timezone.utc)
    deadlines = compute_deadlines(book.scenarios[scenario], book.platform_of(scenario), start, now)
    first = deadlines[0]
    page = parse_deadline_text(args.page, now) if args.page else None
    if args.page and page is None:
        print(f"读不出 --page 的时间：{args.page!r}（例如 剩余 10小时22分、2026-12-02 14:30）", file=sys.stderr)
        return 2
    resolved = resolve_deadline(page=page, request=first.deadline_at)
    if resolved.source == "page" and resolved.deadline_at is not None:
        first = make_deadline(first.id, first.label, resolved.deadline_at, now, book.platform_of(scenario).levels, first.kinds)
    if args.json:
        print_json(
            {
                "deadline_at": first.deadline_at.isoformat(),
                "remaining_seconds": first.remaining_seconds,
                "level": first.level,
                "deadlines": [d.model_dump(mode="json") for d in deadlines],
                "deadline_source": resolved.source,
                "deadline_conflict": resolved.conflict.model_dump(mode="json") if resolved.conflict else None,
            }
        )
        return 0
    if resolved.conflict:
        print(resolved.conflict.message)
    for d in deadlines:
        hours, rest = divmod(max(d.remaining_seconds, 0), 3600)
        print(f"{d.label}：{d.deadline_at:%Y-%m-%d %H:%M}（剩余 {hours} 小时 {rest // 60} 分，{LEVEL_LABELS[d.level]}）")
    return 0


def cmd_detect(args) -> int:
    book = rulebook_from(args)
    platform = require_id(args.platform, book.platforms, "平台")
    try:
        text = sys.stdin.read() if args.text_file == "-" else Path(args.text_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"无法读取文字文件 {args.text_file}：{exc}")
    found = recognise(book, platform, text)
    if args.json:
        print_json(found.model_dump())
        return 0
    if found.scenario:
        print(f"识别为：{book.scenarios[found.scenario].label}（{found.scenario}），把握 {found.confidence:.0%}")
        print("依据：" + "、".join(found.matched))
    else:
        print(f"未能确定场景：{found.note}。" if found.note else "未能确定场景，请自行选择。")
    others = [c for c in found.candidates if c.scenario != found.scenario]
    if others:
        print("可能是：")
        for c in others:
            words = f"（{'、'.join(c.words[:3])}）" if c.words else ""
            print(f"  {c.label}（{c.scenario}）分数 {c.score:g}{words}")
    return 0
