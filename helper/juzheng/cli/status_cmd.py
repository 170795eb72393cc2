"""``juzheng status [--json]``: what the tray shows, for a terminal or a script.

Reads the store in the state dir directly, so it works whether or not the helper runs; levels come
from the case service (``juzheng.cases``), the colour, tooltip and menu from the tray's pure
``tray_state``. Nothing is written, except that opening the store applies pending migrations.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..cases import CaseService, CaseSummary
from ..cases.deadline_sources import SOURCE_LABELS
from ..events import EventBus
from ..instance import read_info
from ..paths import default_root
from ..rules import Rulebook, RulebookError, level_for, load_rulebook
from ..rules.deadlines import LEVEL_LABELS, Level
from ..rules.models import Levels
from ..store import DB_NAME, SqliteStore, StoreProblem, open_store, utcnow
from ..store.health import PROBLEM_LABELS, probe_directory
from ..tray.runtime_glue import PAUSED_SETTING
from ..tray.state import COLOUR_LABELS, CaseDeadline, TrayInputs, TrayState, format_remaining, tray_state
from .common import parse_time, print_json
from .helper_problems import running_helper_problems
from .locations import add_location_options, state_dir_from
from .pair_cmd import _alive


class HelperInfo(BaseModel):
    running: bool
    url: str | None = None
    pid: int | None = None
    version: str | None = None


class CaseLine(BaseModel):
    id: int
    platform: str
    platform_label: str
    order_id: str
    aftersale_id: str
    scenario: str | None
    scenario_label: str | None
    deadline_at: datetime | None
    deadline_source: str | None = None
    deadline_conflict: bool = False
    remaining: str | None
    level: Level | None
    complete: bool | None
    missing: int | None


class PendingLine(BaseModel):
    path: str
    reason: str
    seen_at: datetime


class ReaderLine(BaseModel):
    """Reading unnamed images (offline OCR): installed or not, how many read, how many waiting."""

    available: bool
    missing: list[str]
    read: int  # distinct images read so far (cached by content)
    waiting: int  # inbox files waiting for their reading
    message: str


class StatusReport(TrayState):
    """The tray's state plus what a terminal can show in full."""

    now: datetime
    helper: HelperInfo
    state_dir: str
    root: str
    cases: list[CaseLine]
    pending_files: list[PendingLine]
    problems: list[StoreProblem] = Field(default_factory=list)
    reader: ReaderLine | None = None


def register(sub) -> None:
    p = sub.add_parser("status", help="查看状态：待举证案子、最近截止、待分类文件（与托盘一致；助手未运行也可用）")
    add_location_options(p)
    p.add_argument("--now", metavar="ISO8601", help="按此时间计算剩余时间（默认：现在）")
    p.add_argument("--json", action="store_true", help="输出 JSON（字段见 StatusReport）")
    p.set_defaults(handler=cmd_status)


def cmd_status(args) -> int:
    state_dir = state_dir_from(args)
    now = parse_time(args.now, "--now") if args.now else utcnow()
    report = build_report(state_dir, now, rules_dir=args.rules, root=Path(args.root) if args.root else None)
    if args.json:
        print_json(report.model_dump(mode="json"))
    else:
        print(render(report))
    return 0


def build_report(state_dir: Path, now: datetime, *, rules_dir: str | Path | None = None, root: Path | None = None) -> StatusReport:
    info = read_info(state_dir)
    helper = HelperInfo(running=False)
    if info is not None and _alive(info):
        helper = HelperInfo(running=True, url=info.get("url"), pid=info.get("pid"), version=info.get("version"))
    root = root or (Path(info["root"]) if info and info.get("root") else default_root())

    book: Rulebook | None = None
    rules_error = None
    try:
        book = load_rulebook(rules_dir)
    except RulebookError as exc:
        rules_error = f"规则文件有 {len(exc.errors)} 处错误：\n" + "\n".join(f"  {e}" for e in exc.errors)

    cases: list[CaseLine] = []
    pending: list[PendingLine] = []
    paused = can_undo = False
    problems: list[StoreProblem] = []
    if state_dir.is_dir():
        refused = probe_directory(state_dir)
        if refused is not None:
            problems.append(StoreProblem(code=refused.code, message=refused.message))
    reader = None
    if (state_dir / DB_NAME).exists():  # no store yet: nothing to report, and nothing created
        store = open_store(state_dir, repair=False)  # never swap the database under a running helper
        problems.extend(p for p in store.problems() if p.code not in {q.code for q in problems})
        try:
            cases = _cases(store, book, now)
            pending = [PendingLine(**p.model_dump()) for p in store.list_pending()]
            paused = store.get_setting(PAUSED_SETTING) == "1"
            can_undo = bool(store.last_batches(1))
            reader = _reader_line(store, pending)
        finally:
            store.close()
    if helper.running:
        problems.extend(p for p in running_helper_problems(helper.url) if p.code not in {q.code for q in problems})

    state = tray_state(
        TrayInputs(
            now=now,
            cases=[
                CaseDeadline(
                    case_id=c.id, level=c.level, deadline_at=c.deadline_at,  # type: ignore[arg-type]
                    estimate=c.deadline_source == "estimate", conflict=c.deadline_conflict,
                )
                for c in cases
            ],
            pending=len(pending),
            paused=paused,
            rules_error=rules_error,
            helper_running=helper.running,
            can_undo=can_undo,
            root_exists=root.is_dir(),
            problems=[PROBLEM_LABELS.get(p.code, p.message) for p in problems],
        )
    )
    return StatusReport(
        **state.model_dump(),
        now=now,
        helper=helper,
        state_dir=str(state_dir),
        root=str(root),
        cases=cases,
        pending_files=pending,
        problems=problems,
        reader=reader,
    )


def _reader_line(store: SqliteStore, pending: list[PendingLine]) -> ReaderLine:
    from ..reader.engine import missing_parts
    from ..reader.service import REASON_READING, ReaderService
    from ..store.readings import reading_count

    missing = missing_parts()
    waiting = sum(1 for p in pending if p.reason == REASON_READING)
    message = ReaderService.message_for(not missing, waiting, reading_count(store))
    return ReaderLine(available=not missing, missing=missing, read=reading_count(store), waiting=waiting, message=message)


def _cases(store: SqliteStore, book: Rulebook | None, now: datetime) -> list[CaseLine]:
    if book is not None:
        service = CaseService(store, lambda: book, EventBus(store), clock=lambda: now)
        try:
            summaries = service.summaries("open")
        finally:
            service.close()
        labels: dict[str, str] = {p.id: p.label for p in book.platforms.values()}
        return [_line(s, labels.get(s.platform, s.platform), now) for s in summaries]
    # Without a valid rulebook no checklist can be computed: show the stored deadlines, levelled
    # with the default thresholds, so the seller still sees what is about to expire.
    lines = []
    for case in store.list_cases("open"):
        level = level_for(case.deadline_at - now, Levels()) if case.deadline_at else None
        lines.append(
            CaseLine(
                id=case.id, platform=case.platform, platform_label=case.platform, order_id=case.order_id,
                aftersale_id=case.aftersale_id, scenario=case.scenario, scenario_label=None,
                deadline_at=case.deadline_at, remaining=_remaining(case.deadline_at, now), level=level,
                complete=None, missing=None,
            )
        )
    return lines


def _line(summary: CaseSummary, platform_label: str, now: datetime) -> CaseLine:
    return CaseLine(
        **summary.model_dump(exclude={"status"}),
        platform_label=platform_label,
        remaining=_remaining(summary.deadline_at, now),
    )


def _remaining(deadline: datetime | None, now: datetime) -> str | None:
    return format_remaining(deadline - now) if deadline is not None else None


def render(report: StatusReport) -> str:
    running = f"运行中（{report.helper.url}）" if report.helper.running else "未运行（运行 juzheng serve 启动）"
    level = f"，{LEVEL_LABELS[report.level]}" if report.level else ""  # type: ignore[index]
    lines = [f"举证助手：{running}    状态：{COLOUR_LABELS[report.colour]}{level}", report.tooltip]
    if report.rules_error:
        lines.append(report.rules_error)
    lines.extend(f"注意：{p.message}" for p in report.problems)
    if report.cases:
        lines.append("")
        lines.append("待举证：")
        for case in report.cases:
            tag = LEVEL_LABELS[case.level] if case.level else "无截止"  # type: ignore[index]
            parts: list[Any] = [f"  [{tag}] #{case.id} {case.platform_label} 订单 {case.order_id}"]
            parts.append(case.scenario_label or "（场景未识别）")
            if case.remaining:
                parts.append(case.remaining if case.remaining.startswith("已超时") else f"剩余 {case.remaining}")
                if case.deadline_source in SOURCE_LABELS:
                    parts.append(f"（{SOURCE_LABELS[case.deadline_source]}）")
            if case.deadline_conflict:
                parts.append("截止时间来源不一致，已按较早的计")
            if case.complete:
                parts.append("凭证已齐")
            elif case.missing:
                parts.append(f"还缺 {case.missing} 项")
            lines.append("  ".join(parts))
    if report.pending_files:
        lines.append("")
        lines.append("收件箱中待分类的文件：")
        lines.extend(f"  {p.path}：{p.reason}" for p in report.pending_files)
    if report.reader is not None:
        lines.append("")
        lines.append(f"图片识别：{report.reader.message}")
    lines.append("")
    lines.append(f"证据文件夹：{report.root}")
    return "\n".join(lines)
