"""Pure classification of a file name into (platform, order id, kind), or why it cannot be placed.

No I/O: the caller passes the known cases and the case in focus. Placement order:

1. an order id in the file name: a structured id (Pinduoduo ``YYMMDD-`` + 15 digits) stands on its
   own; a bare long number counts only when a known case has that order id or a platform word
   (淘宝/天猫/拼多多/抖音, tb/tmall/pdd/dy, from the rulebook's ``name_words``) says whose it is;
2. otherwise the case in focus in the browser, if the seller looked at it within the last 10 minutes;
3. the kind from the rulebook keywords (longest wins) and the file type (a video for a scenario that
   takes an unpacking video), after cutting screenshot tools' default names (``screenshot_names``).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..focus import FOCUS_WINDOW
from ..rules import Rulebook
from .layout import media_of, suffix_of

FOCUS_CLOCK_SKEW = timedelta(minutes=1)  # browser and helper clocks are the same machine, but be lenient
VIDEO_KIND = "unpacking_video"


@dataclass(frozen=True)
class KnownCase:
    platform: str
    order_id: str
    scenario: str | None = None


@dataclass(frozen=True)
class Focus:
    """The case the seller has open in the browser, and when they looked at it."""

    case: KnownCase
    at: datetime
    since: datetime | None = None  # when this look at the case began: earlier files are only offered


OrderBy = Literal["name", "name_and_case", "name_and_word", "focus", "read_order", "read_tracking"]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a file goes. Not a boundary type: built per file from the rulebook's own values and the
    literals below (a pydantic model cost a sort 5 µs per file), never parsed from outside."""

    platform: str
    order_id: str
    kind: str | None  # None: 待分类
    order_by: OrderBy
    kind_by: Literal["keyword", "video", "none", "read"]
    keyword: str | None = None
    note: str | None = None  # why the kind stayed unknown, for the seller


class Unplaced(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    code: Literal["no_order", "unknown_number", "ambiguous_order", "several_orders", "empty", "reading", "read_nothing"]
    reason: str  # zh-CN: what the seller can do


# -- reasons a seller reads (API, overlay, tray, `juzheng status`) ----------------------------------
REASON_NO_ORDER = "文件名里没有订单号，也没有正在查看的售后单：请在文件名中加上订单号，或先在浏览器中打开该售后单"
REASON_UNKNOWN_NUMBER = (
    "文件名里的数字 {number} 像订单号，但不知道是哪个平台的：请在文件名里加上平台名（如“淘宝”“天猫”“抖音”），"
    "或先在浏览器中打开该订单的售后单"
)
REASON_AMBIGUOUS = "订单号 {number} 可能属于{platforms}：请在文件名里加上平台名（如“淘宝”“天猫”“抖音”）"
REASON_SEVERAL = "文件名里有多个订单号（{numbers}）：请只保留这份证据所属的订单号"
REASON_EMPTY = "文件是空的（0 字节），可能还没写完：写完后会自动整理"
NOTE_NO_KIND = "文件名里没有证据类型的关键词，已放入“待分类”：可在文件名中写明类型（如“红章证明”“聊天截图”）或手动移入对应文件夹"
NOTE_WRONG_MEDIA = "文件名写的是“{label}”，但该类证据不接受{media}文件，已放入“待分类”"
NOTE_TOOL_NAME = (
    "“{tool}”是截图或聊天软件起的默认文件名，看不出是哪类证据，已放入“待分类”：可在浮层里用「归为…」选择类型，"
    "或在文件名里写明（如“聊天截图”“物流记录”）"
)
_MEDIA_ZH = {"image": "图片", "video": "视频", "pdf": "PDF", "other": "此类"}


def classify(
    filename: str,
    rulebook: Rulebook,
    known: Iterable[KnownCase] = (),
    focus: Focus | None = None,
    now: datetime | None = None,
    arrived_at: datetime | None = None,
) -> Placement | Unplaced:
    """Where ``filename`` belongs. ``now`` is required for focus to count (pure: no clock here).

    The focus places only files that ``arrived_at`` the inbox after the seller opened the case:
    opening a case never sweeps up what was already waiting.
    """
    stem, tool = cut_tool_names(_stem(filename), rulebook)
    known = list(known)
    order = _order_from_name(stem, rulebook, known)
    if isinstance(order, Unplaced):
        return order
    if order is not None:
        platform, order_id, order_by = order
        cases = [c for c in known if c.platform == platform and c.order_id == order_id]
    elif (
        focus is not None and now is not None and _focus_fresh(focus, now) and focus.case.platform in rulebook.platforms
        and not _arrived_before(arrived_at, focus)
    ):
        platform, order_id, order_by = focus.case.platform, focus.case.order_id, "focus"
        cases = [focus.case]
    else:
        return Unplaced(code="no_order", reason=REASON_NO_ORDER)
    kind, kind_by, keyword, note = _kind(filename, stem, rulebook, cases)
    if kind is None and tool is not None and keyword is None:
        note = NOTE_TOOL_NAME.format(tool=tool)
    return Placement(platform=platform, order_id=order_id, kind=kind, order_by=order_by, kind_by=kind_by, keyword=keyword, note=note)


def _stem(filename: str) -> str:
    """The name without its extension, after the folders it sits in inside the inbox.

    A seller may drop a folder named after the order (``240101-…/红章.jpg``): folder names count.
    """
    parts = [p for p in filename.replace("\\", "/").split("/") if p]
    if not parts:
        return ""
    name = parts[-1]
    suffix = suffix_of(name)
    stem = name[: -len(suffix)] if suffix and len(suffix) <= 16 else name
    return "/".join([*parts[:-1], stem])


def cut_tool_names(stem: str, rulebook: Rulebook) -> tuple[str, str | None]:
    """The name with screenshot tools' default parts removed, and the first tool found.

    「QQ截图2024…」 names the tool, not a QQ chat; the app id of an Android screenshot
    (``com.tencent.mobileqq``) names the app on screen, which is no cue of the kind either.
    """
    found: str | None = None
    for tool in rulebook.screenshot_names:
        cut = _tool_regex(tool.pattern).sub(" ", stem)
        if cut != stem:
            found = found or tool.tool
            stem = cut
    return stem, found


@lru_cache(maxsize=64)
def _tool_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _looks_like_timestamp(token: str) -> bool:
    """20241123183012 or 20241123183012123: screenshot tools name files like this, it is no order id."""
    if not token.isdigit() or not 14 <= len(token) <= 17:
        return False
    try:
        stamp = datetime.strptime(token[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return 2000 <= stamp.year <= 2099


def _arrived_before(arrived_at: datetime | None, focus: Focus) -> bool:
    # Both times come from this machine's clock (ctime, the pending list, the helper). No tolerance:
    # a file that arrived the moment the case was opened is offered, never filed without asking.
    return arrived_at is not None and focus.since is not None and arrived_at < focus.since


def _focus_fresh(focus: Focus, now: datetime) -> bool:
    age = now - focus.at
    return -FOCUS_CLOCK_SKEW <= age <= FOCUS_WINDOW


# -- order ids ----------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _id_regex(pattern: str) -> re.Pattern[str]:
    # Rule authors may anchor the pattern for whole-value checks; inside a file name it is a token,
    # bounded by anything but a digit (so a 15-digit run is not read out of a 25-digit one).
    body = pattern
    if body.startswith("^"):
        body = body[1:]
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    return re.compile(rf"(?<!\d)(?:{body})(?!\d)")


@dataclass(frozen=True)
class _NameMatcher:
    """The rulebook's name cues compiled once (a sort classifies thousands of names with one rulebook)."""

    # (order id regex, platforms sharing that pattern), in the order the platforms first use it:
    # taobao, tmall and douyin share one pattern, searched once instead of three times.
    id_patterns: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]
    # platform → one regex of all its name words (any word found ⇔ the alternation found).
    word_patterns: tuple[tuple[str, re.Pattern[str]], ...]
    # (keyword lowered, its length, kind, keyword) of the file kinds, longest first and, among equal
    # lengths, in kinds.yaml order: the first found is what the longest-wins scan would pick.
    keywords: tuple[tuple[str, int, str, str], ...]


_MATCHERS: weakref.WeakKeyDictionary[Rulebook, _NameMatcher] = weakref.WeakKeyDictionary()
_last: list[tuple[Rulebook, _NameMatcher]] = []  # the one rulebook of a sort, without the weak-dict lookup


def _matcher(rulebook: Rulebook) -> _NameMatcher:
    if _last and _last[0][0] is rulebook:
        return _last[0][1]
    found = _MATCHERS.get(rulebook)
    if found is None:
        found = _MATCHERS[rulebook] = _compile_matcher(rulebook)
    _last[:] = [(rulebook, found)]
    return found


def _compile_matcher(rulebook: Rulebook) -> _NameMatcher:
    by_pattern: dict[str, list[str]] = {}
    for platform in rulebook.platforms.values():
        by_pattern.setdefault(platform.order_id_pattern, []).append(platform.id)
    words = []
    for platform in rulebook.platforms.values():
        if platform.name_words:
            joined = "|".join(f"(?:{_word_source(w)})" for w in platform.name_words)
            words.append((platform.id, re.compile(joined)))
    ranked = sorted(
        ((-len(keyword), k, n, keyword) for k, kind in enumerate(rulebook.kinds.values()) if kind.form == "file"
         for n, keyword in enumerate(kind.keywords) if keyword),
    )
    kind_ids = list(rulebook.kinds)
    return _NameMatcher(
        id_patterns=tuple((_id_regex(pattern), tuple(ids)) for pattern, ids in by_pattern.items()),
        word_patterns=tuple(words),
        keywords=tuple((keyword.lower(), -neg, kind_ids[k], keyword) for neg, k, _n, keyword in ranked),
    )


def _word_source(word: str) -> str:
    # 'dy' must not be read out of 'body', nor 'tb' out of 'htbox': latin words stand alone.
    escaped = re.escape(word)
    if word.isascii():
        return rf"(?i:(?<![A-Za-z]){escaped}(?![A-Za-z]))"
    return escaped


def _platform_words(stem: str, rulebook: Rulebook) -> set[str]:
    return {pid for pid, pattern in _matcher(rulebook).word_patterns if pattern.search(stem)}


def platform_words(filename: str, rulebook: Rulebook) -> set[str]:
    """The platforms a file name names by word (淘宝、pdd…), screenshot tools' default names cut first."""
    return _platform_words(cut_tool_names(_stem(filename), rulebook)[0], rulebook)


def _order_from_name(
    stem: str, rulebook: Rulebook, known: list[KnownCase]
) -> tuple[str, str, OrderBy] | Unplaced | None:
    # Every platform whose pattern matches each token of the name.
    tokens: dict[str, set[str]] = {}
    spans: dict[str, tuple[int, int]] = {}
    for pattern, platform_ids in _matcher(rulebook).id_patterns:
        for match in pattern.finditer(stem):
            tokens.setdefault(match.group(0), set()).update(platform_ids)
            spans.setdefault(match.group(0), match.span())
    # A token inside a longer token (the 15 digits of a Pinduoduo id) is not an id of its own
    # (a name with one token, the common case, has none inside another).
    if len(tokens) > 1:
        tokens = {
            t: p for t, p in tokens.items()
            if not any(t != o and spans[o][0] <= spans[t][0] and spans[t][1] <= spans[o][1] for o in tokens)
        }
    tokens = {
        t: p for t, p in tokens.items()
        if not (_looks_like_timestamp(t) and not any(c.order_id == t for c in known))
    }
    if not tokens:
        return None
    words = _platform_words(stem, rulebook)
    resolved: dict[tuple[str, str], OrderBy] = {}
    problems: list[Unplaced] = []
    for token, platforms in sorted(tokens.items(), key=lambda kv: spans[kv[0]]):
        by_case = {c.platform for c in known if c.order_id == token and c.platform in platforms}
        if len(by_case) > 1 and words & by_case:
            by_case &= words
        if len(by_case) == 1:
            resolved[(by_case.pop(), token)] = "name_and_case"
            continue
        by_word = platforms & words
        if len(by_word) == 1:
            resolved[(by_word.pop(), token)] = "name_and_word"
            continue
        candidates = by_case or by_word or platforms
        if len(candidates) == 1 and not token.isdigit():
            # A structured id (digits and separators) names its platform by its shape alone.
            resolved[(next(iter(candidates)), token)] = "name"
            continue
        if len(candidates) > 1 and (by_case or by_word or not token.isdigit()):
            labels = "、".join(rulebook.platforms[p].label for p in sorted(candidates))
            problems.append(Unplaced(code="ambiguous_order", reason=REASON_AMBIGUOUS.format(number=token, platforms=labels)))
        else:
            # A bare long number with no known case and no platform word is never guessed.
            problems.append(Unplaced(code="unknown_number", reason=REASON_UNKNOWN_NUMBER.format(number=token)))
    if len(resolved) > 1:
        numbers = "、".join(token for _, token in resolved)
        return Unplaced(code="several_orders", reason=REASON_SEVERAL.format(numbers=numbers))
    if len(resolved) == 1:
        (platform_id, token), how = next(iter(resolved.items()))
        return platform_id, token, how
    return problems[0]


# -- kinds --------------------------------------------------------------------------------------------
def _kind(
    filename: str, stem: str, rulebook: Rulebook, cases: list[KnownCase]
) -> tuple[str | None, Literal["keyword", "video", "none"], str | None, str | None]:
    media = media_of(filename)
    best = best_keyword(stem, rulebook)
    if best is not None:
        kind_id, keyword = best
        kind = rulebook.kinds[kind_id]
        if media in kind.media:
            return kind_id, "keyword", keyword, None
        return None, "none", keyword, NOTE_WRONG_MEDIA.format(label=kind.label, media=_MEDIA_ZH[media])
    if media == "video" and VIDEO_KIND in rulebook.kinds and _takes_video(rulebook, cases):
        return VIDEO_KIND, "video", None, None
    return None, "none", None, NOTE_NO_KIND


def best_keyword(text: str, rulebook: Rulebook) -> tuple[str, str] | None:
    """(kind, keyword) of the longest keyword found in ``text``; file kinds only.

    Ties between kinds are broken by the kind order in kinds.yaml (the rule file warns authors to
    avoid ties; a stable answer is still better than a random one).
    """
    lowered = text.lower()
    for lowered_keyword, _length, kind_id, keyword in _matcher(rulebook).keywords:  # longest first
        if lowered_keyword in lowered:
            return kind_id, keyword
    return None


def _takes_video(rulebook: Rulebook, cases: list[KnownCase]) -> bool:
    for case in cases:
        scenario = rulebook.scenarios.get(case.scenario or "")
        if scenario and any(VIDEO_KIND in option.kinds for option in scenario.requires):
            return True
    return False
