"""Pure deciding from what an image reads: order and tracking numbers, the kind, where it goes.

No I/O. Input is the OCR text (lines with their confidence), the image's cheap signals, the file
name, the rulebook and the known cases; output is a :class:`TextDecision` that says what was read,
which kinds it looks like, and either where it goes or why it stays in the inbox.

Placement never guesses: an order number places the file when its platform is certain (a
structured id read clearly, a known case with that id, or a platform named in the image or the
screenshot's app id); a tracking number places it when exactly one known case ships under it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from ..reader.protocol import Signals, TextLine
from ..rules import Rulebook
from .classify import _id_regex
from .field_checks import CaseFacts, shown_checks

if TYPE_CHECKING:
    from ..store.records import Case

CONFIDENT_POINTS = 7.0  # the kind is taken without asking at this many points …
CONFIDENT_MARGIN = 3.0  # … and this far ahead of the runner-up
CLEAR_LINE = 0.9  # an order id no known case confirms must be read at least this clearly


@dataclass(frozen=True)
class CaseRef:
    platform: str
    order_id: str
    tracking_number: str | None = None
    case_id: int | None = None
    recipient_name: str | None = None  # as the page showed it (often masked)
    recipient_phone: str | None = None
    signed_at: datetime | None = None

    @classmethod
    def of(cls, case: Case) -> CaseRef:
        return cls(
            case.platform, case.order_id, case.tracking_number, case.id,
            case.recipient_name, case.recipient_phone, case.signed_at,
        )


class TrackingNumber(BaseModel):
    number: str
    carrier: str  # zh-CN carrier name


class KindScore(BaseModel):
    kind: str
    score: float = Field(description="0–1, how strongly the image reads as this kind")
    points: float


class Rejected(BaseModel):
    kind: str  # the kind it looks like
    label: str  # what it actually is
    reason: str  # zh-CN, what to get instead


class TextDecision(BaseModel):
    order_ids: list[str] = Field(default_factory=list)
    tracking_numbers: list[TrackingNumber] = Field(default_factory=list)
    platform_hint: str | None = None
    kind: str | None = None  # taken (confident)
    suggested_kind: str | None = None  # the best candidate, confident or not
    kind_candidates: list[KindScore] = Field(default_factory=list)
    rejected: Rejected | None = None
    platform: str | None = None
    order_id: str | None = None
    order_by: Literal["read_order", "read_tracking"] | None = None
    reason: str | None = None  # zh-CN: why it stays in the inbox
    auto_checks: list[str] = Field(default_factory=list, description="field checks of the kind the text confirms (any case)")
    case_checks: dict[int, list[str]] = Field(default_factory=dict, description="case id → the field checks it confirms for that case")


# -- carriers ---------------------------------------------------------------------------------------
# (carrier, pattern, needs context): bare digit runs count only with a 单号 label or the carrier's
# name in the text, or when a known case ships under that number.
_CARRIERS: list[tuple[str, str, tuple[str, ...], bool]] = [
    ("顺丰速运", r"SF\d{12,13}", ("顺丰",), False),
    ("圆通速递", r"YT\d{13,15}", ("圆通",), False),
    ("极兔速递", r"JT\d{13}", ("极兔",), False),
    ("京东物流", r"JD[A-Z]{0,2}\d{11,14}", ("京东",), False),
    ("EMS", r"E[A-Z]\d{9}CN", ("EMS", "邮政"), False),
    ("中通快递", r"7[3-8]\d{12}", ("中通",), True),
    ("申通快递", r"77\d{13}", ("申通",), True),
    ("韵达快递", r"(?:30|31|33|43|46|60)\d{11}", ("韵达",), True),
    ("EMS", r"1[01]\d{11}", ("EMS", "邮政"), True),
]
_TRACKING_LABEL = re.compile(r"(运单|快递单|物流单|单号|运单号|快递单号|退货单号|面单)")
_ORDER_LABEL = re.compile(r"(订单|订单号|订单编号|主订单)")
_APP_IDS = {
    "com.xunmeng.merchant": "pinduoduo", "com.xunmeng.pinduoduo": "pinduoduo",
    "com.taobao.qianniu": "taobao", "com.taobao.taobao": "taobao", "com.tmall.wireless": "tmall",
    "com.ss.android.merchant": "douyin", "com.ss.android.ugc.aweme": "douyin", "com.jinritemai": "douyin",
}
# Words that name a platform in its own UI (千牛 is Taobao's seller app, 抖店/飞鸽 Douyin's).
_UI_WORDS = {"千牛": "taobao", "旺旺": "taobao", "淘宝": "taobao", "天猫": "tmall", "拼多多": "pinduoduo",
             "多多": "pinduoduo", "抖店": "douyin", "抖音": "douyin", "飞鸽": "douyin"}

REASON_NOTHING = "图片里没有读到订单号，也没有读到已知案子的快递单号：请在文件名中加上订单号，或先在浏览器中打开该售后单"
REASON_UNMATCHED = "图片里读到快递单号 {numbers}，但没有哪个售后单用这个单号：请在文件名中加上订单号，或先在浏览器中打开该售后单"
REASON_BARE = "图片里读到的数字 {number} 像订单号，但看不出是哪个平台的：请在文件名中加上订单号和平台名"
REASON_UNCLEAR = "图片里的订单号 {number} 看不太清，没有据此归档：请在文件名中写上订单号"
REASON_SEVERAL = "图片里有多个订单号（{numbers}）：请在文件名中写明这份证据属于哪个订单"
REASON_CONFLICT = "图片里的订单号 {order} 与快递单号 {tracking} 所属的订单不一致：请在文件名中写明订单号"
REASON_FAILED = "图片读取失败（{detail}）：请在文件名中加上订单号"


def normalise(text: str) -> str:
    """Full-width to ASCII, spaces inside numbers removed, dash look-alikes between digits made '-'."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=[0-9A-Z])[ \u3000](?=[0-9])", "", text)
    text = re.sub(r"(?<=\d{6})[一—–_~－](?=\d{15})", "-", text)
    return text


def decide(
    lines: Sequence[TextLine],
    signals: Signals,
    filename: str,
    rulebook: Rulebook,
    cases: Iterable[CaseRef] = (),
) -> TextDecision:
    cases = list(cases)
    norm = [normalise(line.text) for line in lines]
    text = "\n".join(norm)
    flat = text.replace("\n", " ")
    hint = _platform_hint(filename, text, rulebook)
    orders = _order_ids(norm, lines, rulebook)
    tracking = _tracking_numbers(norm, text, cases)
    candidates, rejected = _kinds(flat, signals, rulebook)
    decision = TextDecision(
        order_ids=[o for o, _ in orders], tracking_numbers=tracking, platform_hint=hint,
        kind_candidates=candidates, rejected=rejected,
    )
    if candidates:
        decision.suggested_kind = rejected.kind if rejected else candidates[0].kind
        top = candidates[0].points
        runner = candidates[1].points if len(candidates) > 1 else 0.0
        if rejected is None and top >= CONFIDENT_POINTS and top - runner >= CONFIDENT_MARGIN:
            decision.kind = candidates[0].kind
    _place(decision, orders, tracking, hint, rulebook, cases)
    if decision.order_id is not None:
        kind = decision.kind or decision.suggested_kind
        decision.case_checks = _auto_checks(kind, flat, decision, rulebook, cases)
        decision.auto_checks = [f for f in dict.fromkeys(f for checks in decision.case_checks.values() for f in checks)]
    return decision


def failed(detail: str) -> TextDecision:
    return TextDecision(reason=REASON_FAILED.format(detail=detail))


# -- numbers ----------------------------------------------------------------------------------------
def _order_ids(norm: list[str], lines: Sequence[TextLine], rulebook: Rulebook) -> list[tuple[str, float]]:
    """Order-id-shaped tokens with the confidence of the line they were read on."""
    found: dict[str, float] = {}
    spans: dict[str, tuple[int, int, int]] = {}
    # A chat bubble or a narrow column wraps a long number onto the next line: read it joined too.
    joined = [
        norm[i] + norm[i + 1] for i in range(len(norm) - 1)
        if re.search(r"[\d-]$", norm[i]) and re.match(r"\d", norm[i + 1])
    ]
    rows = [*norm, *joined]
    scores = [line.score for line in lines] + [
        min(lines[i].score, lines[i + 1].score) for i in range(len(norm) - 1)
        if re.search(r"[\d-]$", norm[i]) and re.match(r"\d", norm[i + 1])
    ]
    for index, line in enumerate(rows):
        for platform in rulebook.platforms.values():
            for match in _id_regex(platform.order_id_pattern).finditer(line):
                token = match.group(0)
                score = scores[index] if index < len(scores) else 0.0
                found[token] = max(found.get(token, 0.0), score)
                spans.setdefault(token, (index, *match.span()))
    # a token inside a longer one (the 15 digits of a Pinduoduo id) is no id of its own
    return [
        (t, s) for t, s in found.items()
        if not any(t != o and t in o for o in found)
        and not _looks_like_time(t)
    ]


def _looks_like_time(token: str) -> bool:
    return token.isdigit() and len(token) in (14, 17) and token.startswith("20")


def _tracking_numbers(norm: list[str], text: str, cases: list[CaseRef]) -> list[TrackingNumber]:
    known = {c.tracking_number.upper() for c in cases if c.tracking_number}
    out: dict[str, TrackingNumber] = {}
    for line in norm:
        upper = line.upper()
        labelled = bool(_TRACKING_LABEL.search(line))
        for carrier, pattern, names, needs_context in _CARRIERS:
            for match in re.finditer(rf"(?<![0-9A-Z]){pattern}(?![0-9])", upper):
                number = match.group(0)
                if number in out:
                    continue
                if needs_context and not (labelled or number in known or any(n in text for n in names)):
                    continue
                out[number] = TrackingNumber(number=number, carrier=carrier)
    return list(out.values())


def _platform_hint(filename: str, text: str, rulebook: Rulebook) -> str | None:
    lowered = filename.lower()
    for app, platform in _APP_IDS.items():
        if app in lowered and platform in rulebook.platforms:
            return platform
    seen = {p for word, p in _UI_WORDS.items() if word in text and p in rulebook.platforms}
    if "tmall" in seen:
        seen.discard("taobao")  # 天猫 pages still say 淘宝 here and there
    return next(iter(seen)) if len(seen) == 1 else None


# -- placement --------------------------------------------------------------------------------------
def _place(
    decision: TextDecision, orders: list[tuple[str, float]], tracking: list[TrackingNumber],
    hint: str | None, rulebook: Rulebook, cases: list[CaseRef],
) -> None:
    resolved: dict[tuple[str, str], str] = {}
    problems: list[str] = []
    for token, score in orders:
        platforms = {p.id for p in rulebook.platforms.values() if _id_regex(p.order_id_pattern).fullmatch(token)}
        by_case = {c.platform for c in cases if c.order_id == token and c.platform in platforms}
        if len(by_case) > 1 and hint in by_case:
            by_case = {hint}
        if len(by_case) == 1:
            resolved[(by_case.pop(), token)] = "case"
        elif score < CLEAR_LINE:
            problems.append(REASON_UNCLEAR.format(number=token))
        elif len(platforms) == 1 and not token.isdigit():
            resolved[(next(iter(platforms)), token)] = "shape"
        elif hint in platforms:
            resolved[(hint, token)] = "hint"
        else:
            problems.append(REASON_BARE.format(number=token))
    by_tracking = {(c.platform, c.order_id) for t in tracking for c in cases if c.tracking_number and c.tracking_number.upper() == t.number}
    if len(resolved) > 1:
        decision.reason = REASON_SEVERAL.format(numbers="、".join(t for _, t in resolved))
        return
    if len(resolved) == 1:
        (platform, order_id), _how = next(iter(resolved.items()))
        if by_tracking and (platform, order_id) not in by_tracking:
            tracking_text = "、".join(t.number for t in tracking)
            decision.reason = REASON_CONFLICT.format(order=order_id, tracking=tracking_text)
            return
        decision.platform, decision.order_id, decision.order_by = platform, order_id, "read_order"
        return
    if len(by_tracking) == 1:
        decision.platform, decision.order_id = next(iter(by_tracking))
        decision.order_by = "read_tracking"
        return
    if len(by_tracking) > 1:
        decision.reason = REASON_SEVERAL.format(numbers="、".join(o for _, o in sorted(by_tracking)))
        return
    if problems:
        decision.reason = problems[0]
    elif tracking:
        decision.reason = REASON_UNMATCHED.format(numbers="、".join(t.number for t in tracking))
    else:
        decision.reason = REASON_NOTHING


# -- kinds ------------------------------------------------------------------------------------------
def _points(words: dict[str, float], flat: str) -> float:
    lowered = flat.lower()
    return sum(weight for word, weight in words.items() if word.lower() in lowered)


def _score(points: float) -> float:
    return round(1.0 - math.exp(-max(points, 0.0) / 5.0), 3)


def _kinds(flat: str, signals: Signals, rulebook: Rulebook) -> tuple[list[KindScore], Rejected | None]:
    active = {"red_stamp": signals.red_circles > 0, "camera": signals.camera is not None, "screenshot": signals.screenshot}
    scored: list[KindScore] = []
    looks: list[tuple[float, Rejected]] = []
    for kind in rulebook.kinds.values():
        cues = kind.read_cues
        if kind.form != "file" or cues is None:
            continue
        for look in cues.look_alikes:
            look_points = _points(look.words, flat)
            if look_points >= look.min_score:
                looks.append((look_points, Rejected(kind=kind.id, label=look.label, reason=look.reason)))
        if cues.requires_any and not any(w.lower() in flat.lower() for w in cues.requires_any):
            continue
        points = _points(cues.words, flat) + sum(w for s, w in cues.signals.items() if active.get(s))
        if points < cues.min_score:
            continue
        scored.append(KindScore(kind=kind.id, score=_score(points), points=round(points, 2)))
    scored.sort(key=lambda k: -k.points)
    # A look-alike counts when it is what the image reads as: nothing else, or its own kind on top.
    looks = [(p, r) for p, r in looks if not scored or scored[0].kind == r.kind]
    rejected = max(looks, key=lambda pr: pr[0])[1] if looks else None
    return scored, rejected


def _auto_checks(kind: str | None, flat: str, decision: TextDecision, rulebook: Rulebook, cases: list[CaseRef]) -> dict[int, list[str]]:
    """Per case of the placed order: the field checks the image itself shows (the case's tracking
    number, recipient, delivery date). Each case is checked against what it knows itself."""
    if kind is None or kind not in rulebook.kinds:
        return {}
    fields = [f.id for f in rulebook.kinds[kind].fields]
    read = [t.number for t in decision.tracking_numbers]
    out: dict[int, list[str]] = {}
    for index, case in enumerate(cases):
        if (case.platform, case.order_id) != (decision.platform, decision.order_id):
            continue
        facts = CaseFacts(
            tracking_numbers=frozenset({case.tracking_number.upper()} if case.tracking_number else ()),
            recipient_name=case.recipient_name, recipient_phone=case.recipient_phone, signed_at=case.signed_at,
        )
        checks = shown_checks(fields, flat, read, facts)
        if checks:
            out[case.case_id if case.case_id is not None else -1 - index] = checks
    return out
