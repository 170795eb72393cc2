"""What the tray shows, as a pure function of the helper's state: colour, tooltip, menu.

``tray_state(TrayInputs) -> TrayState`` reads no clock, no store and no OS: the tray, the
notifier's fallback and ``juzheng status`` all call it with values they gathered themselves, so the
icon and the terminal can never disagree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from ..rules.deadlines import LEVEL_LABELS, LEVEL_ORDER, Level

Colour = Literal["green", "amber", "red", "grey"]
MenuAction = Literal["open_root", "open_inbox", "pair", "show_pairing_code", "toggle_pause", "undo", "quit"]

# The most pressing level decides the colour; overdue stays red (it still needs the seller).
LEVEL_COLOURS: dict[Level, Colour] = {"ok": "green", "warn": "amber", "urgent": "red", "overdue": "red"}
COLOUR_LABELS: dict[Colour, str] = {"green": "绿色", "amber": "黄色", "red": "红色", "grey": "灰色"}
SEP = " · "


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must carry a UTC offset")
    return value


AwareTime = Annotated[datetime, AfterValidator(_aware)]


class CaseDeadline(BaseModel):
    """One open case as the tray needs it: its level and deadline (both None when unknown)."""

    case_id: int
    level: Level | None = None
    deadline_at: AwareTime | None = None
    estimate: bool = Field(default=False, description="截止时间是估算的（页面未给出）：不显示为绿色")
    conflict: bool = Field(default=False, description="两个来源的截止时间相互矛盾（已按较早的提醒）")


class PairedBrowserEntry(BaseModel):
    """One paired browser as the tray's 已配对的浏览器 submenu shows it."""

    id: str
    name: str
    paired_at: AwareTime


class PairAskEntry(BaseModel):
    """A pairing ask waiting for the seller: 「允许 举证助手扩展 连接本机助手？」."""

    id: str
    question: str
    browser_name: str


class TrayInputs(BaseModel):
    """Everything the tray state depends on. ``cases`` are the OPEN cases only."""

    now: AwareTime
    cases: list[CaseDeadline] = Field(default_factory=list)
    pending: int = Field(default=0, ge=0, description="收件箱中未能归档（待分类）的文件数")
    paused: bool = False
    rules_error: str | None = None
    helper_running: bool = True
    sorter_available: bool = Field(default=True, description="证据文件夹整理服务是否在本助手中运行")
    can_undo: bool = Field(default=False, description="移动记录中是否还有可撤销的整理")
    root_exists: bool = True
    paired_browsers: list[PairedBrowserEntry] = Field(default_factory=list)
    pair_asks: list[PairAskEntry] = Field(default_factory=list)


class MenuEntry(BaseModel):
    action: MenuAction
    label: str
    enabled: bool


class TrayState(BaseModel):
    colour: Colour
    level: Level | None = Field(description="最紧迫的案子的等级；没有案子或都没有截止时间时为 null")
    tooltip: str
    reasons: list[str] = Field(description="图标为灰色的原因（整理已暂停、规则文件有错误）")
    open_cases: int
    nearest_deadline_at: datetime | None
    nearest_remaining: str | None = Field(description="最近截止的剩余时间，例如 5小时3分；已超时为 已超时 1小时2分")
    pending: int
    paused: bool
    rules_error: str | None
    menu: list[MenuEntry]
    # The tray's own submenus; not part of `juzheng status --json`, which cannot see the live helper's pairing.
    browsers: list[PairedBrowserEntry] = Field(default_factory=list, exclude=True)
    asks: list[PairAskEntry] = Field(default_factory=list, exclude=True)

    def entry(self, action: MenuAction) -> MenuEntry:
        return next(e for e in self.menu if e.action == action)


def format_remaining(delta: timedelta) -> str:
    """``5小时3分`` (whole minutes, rounded down like the platforms' countdowns); ``3分`` under an hour."""
    minutes = int(abs(delta).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}小时{minutes}分" if hours else f"{minutes}分"
    return text if delta >= timedelta(0) else f"已超时 {text}"


def worst_level(cases: list[CaseDeadline]) -> Level | None:
    levels = [c.level for c in cases if c.level is not None]
    if not levels:
        return None
    worst: Level = max(levels, key=lambda lv: LEVEL_ORDER[lv])
    return worst


def tray_state(inputs: TrayInputs) -> TrayState:
    level = worst_level(inputs.cases)
    reasons = []
    if inputs.rules_error:
        reasons.append("规则文件有错误")
    if inputs.paused:
        reasons.append("整理已暂停")
    # Grey says "the helper is not doing its job right now", which outranks any deadline colour;
    # the tooltip still carries the counts and the nearest deadline.
    colour: Colour = "grey" if reasons else LEVEL_COLOURS[level or "ok"]
    estimates = sum(1 for c in inputs.cases if c.estimate)
    conflicts = sum(1 for c in inputs.cases if c.conflict)
    if colour == "green" and estimates:
        colour = "amber"  # a guessed deadline is never shown as safe

    deadlines = [c.deadline_at for c in inputs.cases if c.deadline_at is not None]
    nearest = min(deadlines) if deadlines else None
    remaining = format_remaining(nearest - inputs.now) if nearest is not None else None
    parts = [
        f"{len(inputs.cases)} 个待举证",
        f"最近截止 {remaining}" if remaining else "暂无截止时间",
        f"{inputs.pending} 个文件待分类",
        *([f"{estimates} 个截止时间为估算，请以平台为准"] if estimates else []),
        *([f"{conflicts} 个截止时间来源不一致，已按较早的提醒"] if conflicts else []),
        *reasons,
    ]
    if inputs.pair_asks:
        parts.insert(0, f"{len(inputs.pair_asks)} 个配对请求待确认")
    if not inputs.helper_running:
        parts.append("助手未运行")
    return TrayState(
        colour=colour,
        level=level,
        tooltip=SEP.join(parts),
        reasons=reasons,
        open_cases=len(inputs.cases),
        nearest_deadline_at=nearest,
        nearest_remaining=remaining,
        pending=inputs.pending,
        paused=inputs.paused,
        rules_error=inputs.rules_error,
        menu=_menu(inputs),
        browsers=inputs.paired_browsers,
        asks=inputs.pair_asks,
    )


def _menu(inputs: TrayInputs) -> list[MenuEntry]:
    sorter = inputs.helper_running and inputs.sorter_available
    return [
        MenuEntry(action="open_root", label="打开证据文件夹", enabled=inputs.root_exists),
        MenuEntry(action="open_inbox", label="打开收件箱", enabled=inputs.root_exists),
        # Pairing lives in the running helper's memory only (asks, codes, the status page).
        MenuEntry(action="pair", label="配对…", enabled=inputs.helper_running),
        MenuEntry(action="show_pairing_code", label="显示配对码", enabled=inputs.helper_running),
        MenuEntry(action="toggle_pause", label="恢复整理" if inputs.paused else "暂停整理", enabled=sorter),
        MenuEntry(action="undo", label="撤销上次整理", enabled=sorter and inputs.can_undo),
        MenuEntry(action="quit", label="退出", enabled=inputs.helper_running),
    ]


def level_label(level: Level | None) -> str:
    return LEVEL_LABELS[level] if level else "无截止时间"
