"""The rulebook as pydantic models: what the YAML files in ``rules/`` may say.

The models validate one file at a time; references between files (an option naming a kind) are
checked by the loader, which knows where each value sits in its file.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")


def parse_duration(value: object) -> timedelta:
    """'48h', '3d', '1d12h', '30m' → timedelta; rule authors write durations as text."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("时长必须写成文本，例如 48h、3d、1d12h、30m / a duration is text such as 48h, 3d, 30m")
    match = _DURATION.match(value)
    if not match or not any(match.groups()):
        raise ValueError(f"无法识别的时长 {value!r}，请写成 48h、3d、1d12h 或 30m 的形式")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    result = timedelta(days=days, hours=hours, minutes=minutes)
    if result <= timedelta(0):
        raise ValueError(f"时长必须大于 0：{value!r}")
    return result


def format_duration(value: timedelta) -> str:
    total = int(value.total_seconds()) // 60
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "".join(parts) or "0m"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(\d+d)?(\d+h)?(\d+m)?$", "examples": ["48h", "3d"]}),
]
Id = Annotated[str, Field(pattern=ID_PATTERN)]
KindId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
PlatformId = Literal["taobao", "tmall", "pinduoduo", "douyin"]


class Strict(BaseModel):
    # Validators are built on first validation (reading YAML), not at import: a rulebook from the
    # cache (see loader.py) never validates, and building the 57 models cost ~0.1 s of start-up.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Provenance(Strict):
    """Where a rule comes from, so a seller can tell platform rule from common practice."""

    source: Literal["seed", "common_practice", "public_source"]
    seed: str | None = Field(default=None, pattern=r"^\d{3}$", description="seed article number, e.g. 002")
    note: str | None = None


class FieldCheck(Strict):
    """One thing to verify on a piece of evidence before sending it."""

    id: KindId
    label: str
    platforms: list[PlatformId] = Field(default_factory=list, description="empty: applies everywhere")


class TextValidity(Strict):
    """Time limits of a text kind such as a 旺旺举证号."""

    valid_for: Duration = Field(description="how long the value stays valid after it was generated")
    covers: Duration | None = Field(default=None, description="how far back the chats it covers may go")
    provenance: Provenance


Signal = Literal["red_stamp", "camera", "screenshot"]
CueWeights = Annotated[dict[Annotated[str, Field(min_length=1, max_length=40)], Annotated[float, Field(ge=-20, le=20)]], Field(min_length=1)]


class LookAlike(Strict):
    """Something that reads like this kind but the platforms refuse (a search engine's tracking page, a 财务章)."""

    label: str
    reason: str = Field(description="zh-CN, what the seller should get instead")
    words: CueWeights
    min_score: float = Field(default=4, ge=0)


class ReadCues(Strict):
    """How the kind reads in an image's text (offline OCR) and its cheap signals; points add up."""

    words: CueWeights
    signals: dict[Signal, Annotated[float, Field(ge=-20, le=20)]] = Field(default_factory=dict)
    requires_any: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list, description="at least one of these must be read")
    min_score: float = Field(default=4, ge=0, description="fewer points: not a candidate")
    look_alikes: list[LookAlike] = Field(default_factory=list)


class EvidenceKind(Strict):
    id: KindId
    label: str
    form: Literal["file", "text"] = "file"
    media: list[Literal["image", "video", "pdf"]] = Field(default_factory=lambda: ["image", "pdf"])  # type: ignore[arg-type]
    keywords: list[str] = Field(min_length=1, description="file-name keywords; the longest match wins")
    how_to_obtain: list[str] = Field(min_length=1)
    fields: list[FieldCheck] = Field(default_factory=list, description="what makes it valid")
    validity: TextValidity | None = None
    read_cues: ReadCues | None = Field(default=None, description="text and image cues for unnamed photos and screenshots")
    provenance: Provenance


class ToolName(Strict):
    """A screenshot tool's default file name: what the tool made, never who was talked to."""

    tool: str = Field(description="the tool, as a seller knows it (QQ截图、微信截图、Snipaste…)")
    pattern: str = Field(description="regex matched against the file name without its extension")
    provenance: Provenance


class KindsFile(Strict):
    kinds: list[EvidenceKind] = Field(min_length=1)
    screenshot_names: list[ToolName] = Field(
        default_factory=list,
        description="default names of screenshot tools; cut from the name before kind keywords are looked for",
    )


class Option(Strict):
    """One alternative: every kind listed is needed."""

    kinds: list[KindId] = Field(min_length=1)
    note: str | None = None
    provenance: Provenance


class Rejection(Strict):
    """Evidence the platform refuses for this scenario."""

    kind: KindId | None = Field(default=None, description="a kind of the rulebook, or none for things that are no kind")
    what: str
    reason: str
    provenance: Provenance


class Stage(Strict):
    """A staged deadline (三包大家电: visit within 72 h, report within 72 h after the visit)."""

    id: KindId
    label: str
    window: Duration
    after: str = Field(default="request", description="'request' or the id of an earlier stage")
    kinds: list[KindId] = Field(default_factory=list)


class DeadlineRule(Strict):
    window: Duration | None = Field(default=None, description="default: the platform's evidence window")
    stages: list[Stage] = Field(default_factory=list)
    total: Duration | None = Field(default=None, description="cap on the whole process, from the request")
    after_buyer_evidence: Duration | None = Field(
        default=None, description="extra time granted once the buyer has been asked for evidence"
    )
    provenance: Provenance


class Stricter(Strict):
    """Where sources differ, the looser reading counts as complete but the checklist cautions toward this."""

    kinds: list[KindId] = Field(min_length=2, description="the kinds the stricter reading wants together")
    quote: str = Field(description="the platform's own words asking for them, quoted to the seller")
    provenance: Provenance


class Scenario(Strict):
    id: Id
    label: str
    requires: list[Option] = Field(min_length=1)
    deadline: DeadlineRule | None = None
    on_timeout: str
    rejected: list[Rejection] = Field(default_factory=list)
    stricter: Stricter | None = None
    wording: list[str] = Field(min_length=1, description="key phrases of the platform's request, for recognition")
    requires_mention: list[str] = Field(
        default_factory=list,
        description="considered only when the text says one of these (三包大家电: 大家电、冰箱…); empty: always",
    )
    ruled_out_by: list[str] = Field(
        default_factory=list,
        description="never named when the text says one of these: they show its premise false (a buyer who has sent "
        "the goods back has received them: 买家已退货 rules out 未收到货); it may still be offered as a guess",
    )
    shared_wording: list[str] = Field(
        default_factory=list,
        description="phrases this scenario shares on purpose with a sibling of its platform: they describe it but never decide",
    )
    request_text: str | None = Field(default=None, description="the platform's request as quoted in the source")
    explanation: str = Field(description="举证说明 template; {order_id} and {tracking_number} are filled in")
    common_practice: bool = Field(default=False, description="reuses common evidence sets, not a platform rule")
    based_on: str | None = Field(default=None, description="scenario whose evidence set this one reuses")
    provenance: Provenance


_BYTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)
_UNIT = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def parse_bytes(value: object) -> int:
    """'500KB', '5MB', 2048 → bytes; rule authors write sizes the way the platforms print them."""
    if isinstance(value, bool):
        raise ValueError("大小必须写成 500KB、5MB 这样的文本或字节数")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str) and (match := _BYTES.match(value)):
        result = int(float(match.group(1)) * _UNIT[(match.group(2) or "b").lower()])
    else:
        raise ValueError(f"无法识别的大小 {value!r}，请写成 500KB、5MB 或字节数")
    if result <= 0:
        raise ValueError(f"大小必须大于 0：{value!r}")
    return result


def format_bytes(value: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if value % size == 0:
            return f"{value // size}{unit}"
    return f"{value}B"


ByteSize = Annotated[
    int,
    BeforeValidator(parse_bytes),
    PlainSerializer(format_bytes, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?\s*(B|KB|MB|GB)?$", "examples": ["500KB", "5MB"]}),
]
Media = Literal["image", "video", "pdf"]


class UploadOverride(Strict):
    """What one scenario's upload box takes when it differs from the platform's usual box."""

    max_files: int | None = Field(default=None, ge=1)
    accepts: list[Media] | None = Field(default=None, min_length=1)
    max_bytes: ByteSize | None = Field(default=None, description="per file")
    single_submission: bool | None = None
    video_entry: bool | None = None
    provenance: Provenance


class UploadLimit(Strict):
    """The platform's evidence upload box: what it takes, how much, and whether a second try exists."""

    max_files: int = Field(ge=1)
    accepts: list[Media] = Field(min_length=1)
    max_bytes: ByteSize | None = Field(default=None, description="per file; larger images are recompressed")
    single_submission: bool = False
    video_entry: bool = Field(default=False, description="videos go through a separate 上传视频 entry of the page")
    explanation_max_chars: int | None = Field(default=None, ge=20, description="longest 举证说明 the page takes")
    explanation_provenance: Provenance | None = None
    scenarios: dict[Annotated[str, Field(pattern=ID_PATTERN)], UploadOverride] = Field(
        default_factory=dict, description="scenario id → what differs for that scenario's box"
    )
    provenance: Provenance

    def for_scenario(self, scenario_id: str | None) -> UploadLimit:
        """The box of one scenario: the platform's, with that scenario's differences applied."""
        override = self.scenarios.get(scenario_id or "")
        if override is None:
            return self.model_copy(update={"scenarios": {}})
        changes = {k: v for k, v in override.model_dump(exclude={"provenance"}).items() if v is not None}
        changes.update(provenance=override.provenance, scenarios={})
        if "max_bytes" in changes:
            changes["max_bytes"] = override.max_bytes
        return self.model_copy(update=changes)


class LabelRule(Strict):
    """A field of the page found by its visible label, never by CSS class names."""

    labels: list[str] = Field(min_length=1)
    value_pattern: str | None = Field(default=None, description="regex the value must match (first group if any)")


class PageAdapter(Strict):
    """How the extension reads one kind of after-sale page of this platform."""

    id: KindId
    hosts: list[str] = Field(min_length=1, description="host names (a leading '*.' matches sub-domains)")
    path_hint: str | None = Field(default=None, description="regex on the path; the whole host is matched anyway")
    url_params: dict[Literal["order_id", "aftersale_id", "case_ref"], list[str]] = Field(
        default_factory=dict,
        description="query parameters naming the case: order_id, aftersale_id, or case_ref (an id of this page's own, "
        "e.g. a work order's: the page is one case, and its id stands for the after-sale id only where the page shows none)",
    )
    order_id: LabelRule
    aftersale_id: LabelRule | None = None
    remaining: LabelRule | None = None
    deadline: LabelRule | None = None
    request_text: LabelRule | None = None
    request_markers: list[str] = Field(default_factory=list, description="phrases whose surrounding text is the request")


class Levels(Strict):
    warn_before: Duration = Field(default=timedelta(hours=12))
    urgent_before: Duration = Field(default=timedelta(hours=2))


class Platform(Strict):
    id: PlatformId
    label: str
    evidence_window: Duration
    window_provenance: Provenance
    levels: Levels = Field(default_factory=Levels)
    order_id_pattern: str = Field(description="regex of this platform's order ids")
    name_words: list[str] = Field(min_length=1, description="words in a file name that name this platform")
    upload: UploadLimit | None = None
    pages: list[PageAdapter] = Field(default_factory=list)
    scenarios: list[Scenario] = Field(min_length=1)


class PlatformFile(Strict):
    platform: Platform


class SynonymGroup(Strict):
    """Words sellers and pages use for one idea; recognition reads every variant as the canonical word."""

    canonical: str = Field(min_length=1)
    variants: list[str] = Field(min_length=1)
    atomic: bool = Field(
        default=False,
        description="match the word only whole: 未收到 must not half-match 收到 (收到的商品 is no 未收到商品)",
    )


class ShopMarker(Strict):
    """A shop's cases shown on another platform's pages (天猫 orders on refund2.taobao.com and 千牛)."""

    shop: PlatformId
    seen_on: list[PlatformId] = Field(min_length=1, description="the platforms whose pages also show this shop's cases")
    words: list[str] = Field(min_length=1, description="words on the page that say the case is this shop's")


class AboutDisputes(Strict):
    """Signs that a text talks *about* disputes without being one: a shop's figures page, a rule
    page quoting reasons, a report, a training note, a case already closed. They have every cue of a
    case; what gives them away is the kind of page. A sign of a live case (a countdown, a request to
    upload, a case's own number) outweighs them all: a live case may quote a rule or show a figure."""

    overview: list[str] = Field(
        default_factory=list,
        description="headings and menus of pages and writings about many cases (数据中心、服务指标、规则中心、周报、培训、FAQ…)",
    )
    closed: list[str] = Field(default_factory=list, description="a case's end state (已完成、已关闭、已撤销、处理完…)")
    duties: list[str] = Field(
        default_factory=list,
        description="what a rule or an adviser says must be done (卖家应、商家须、先核实…): after 「<reporter>…的，」 or "
        "「…时，」 in one sentence it makes a rule's sentence (买家未收到货的，卖家应提供…); the reporters are the vocabulary's own",
    )
    advice: list[str] = Field(
        default_factory=list,
        description="words opening general advice (遇到、碰到、凡是…): directly followed by a reporter (遇到顾客说…) "
        "it is about any buyer, not one (遇到个买家 is one)",
    )
    figure_notes: list[str] = Field(
        default_factory=list,
        description="what, right after a figure's name (the vocabulary's figure_suffixes: 率、占比), makes the text "
        "define the figure (品质退款率说明：指…、纠纷率的定义)",
    )
    one_case: list[str] = Field(
        default_factory=list,
        description="words pointing at one case (这单、有个顾客…): they outweigh the signs of a text about many cases "
        "(overview, figures, a rule's or adviser's sentence), not a closed state",
    )
    min_figures: int = Field(default=2, ge=1, description="this many figures (percentages, counts) make a figures page or a report")
    count_units: list[str] = Field(
        default_factory=list,
        description="units of a count of cases (2 单、7 笔): a digit run followed by one is a figure (件 is not one: "
        "「买了3件只收到2件」 is a case)",
    )
    live: list[str] = Field(
        default_factory=list,
        description="what a live case's page or telling shows (剩余、请上传、售后单号、平台让我们…): any of them and "
        "the text is a case, whatever else it shows",
    )
    live_negators: list[str] = Field(
        default_factory=list,
        description="words that, right before a live mark, say it is absent (无平台介入、没有平台介入、不用上传凭证): "
        "that mark then shows no live case",
    )
    genre: list[str] = Field(
        default_factory=list,
        description="marks of a kind of text that is never one case (a job advert, a live-stream script, a seller's "
        "question before any case): they list the back office's words as skills, so they outweigh the live marks; only "
        "a pointer at one case (one_case) outweighs them. A shop's promise (包退) is an overview word: a buyer quotes it in a case",
    )
    resolved: list[str] = Field(
        default_factory=list,
        description="what the buyer or the shop did that ended a case (已经确认收货、撤销了申请、不退了…): unlike "
        "``closed`` it may run on into the sentence",
    )
    state_labels: list[str] = Field(
        default_factory=list,
        description="labels of a case's state (状态、处理结果…): a closed word as their value (售后状态：已完成) ends the "
        "case even where the page still shows a live case's marks (its 投诉编号, 平台介入) as chrome",
    )
    suppliers: list[str] = Field(
        default_factory=list,
        description="the shop's suppliers (厂家、供应商…): a text naming one and no buyer is the shop's own quarrel upstream, "
        "never a buyer's case, whatever dispute words it uses",
    )
    product_shares: list[str] = Field(
        default_factory=list,
        description="words that make a percentage near them a product's (含量、成分、羊毛、折…), not a statistic",
    )


class ConfidenceBin(Strict):
    """One step of the confidence calibration: texts whose raw strength is at least ``raw_from`` had
    their top candidate right this often on the tuning parts of the dev set."""

    raw_from: float = Field(ge=0, le=1, description="lower edge of the bin on the raw 0–1 strength (score and lead)")
    accuracy: float = Field(ge=0, le=1, description="observed share of right top candidates in the bin (smoothed, isotonic)")
    texts: int = Field(ge=0, description="how many tuning texts fell in the bin")


class Vocabulary(Strict):
    """What recognition needs beyond the scenarios: synonyms, negation, and which page fields say most."""

    groups: list[SynonymGroup] = Field(default_factory=list)
    filler: list[str] = Field(default_factory=list, description="words dropped before matching (的、了…): they only add rewording noise")
    negation_after: list[str] = Field(default_factory=list, description="words that deny what precedes them in the clause (没有问题…)")
    questions: list[str] = Field(default_factory=list, description="words that make a clause a question (会不会…): asked, not claimed")
    negation: list[str] = Field(default_factory=list, description="words after which a mention does not count (不是、并非…)")
    strong_fields: list[str] = Field(default_factory=list, description="labels whose value names the dispute (退款原因…)")
    weak_fields: list[str] = Field(default_factory=list, description="labels whose value says little (售后类型…)")
    ordinary: list[str] = Field(
        default_factory=list,
        description="everyday shop and after-sale wording that is no dispute (七天无理由, 退款成功…); a text closer to it than to a scenario gets none",
    )
    note_titles: list[str] = Field(
        default_factory=list,
        description="words that, opening a text, make it a note about cases (客服培训、新人须知): it names scenarios without being one",
    )
    shop_markers: list[ShopMarker] = Field(default_factory=list)
    dispute_cues: list[str] = Field(
        default_factory=list,
        description="words that say an after-sale request or dispute is under way (退款、售后单、介入、举证、买家反馈…): "
        "a text with none of them (a product page, an order list, small talk) is about no scenario",
    )
    dispute_reasons: list[str] = Field(
        default_factory=list,
        description="a buyer's reason (空包、少件、质量问题…), with every variant of its synonym group: stated, it is a cue too",
    )
    reporters: list[str] = Field(
        default_factory=list,
        description="who states a dispute's reason (买家、顾客、用户…): one of them followed by a word of ``reports`` is a cue",
    )
    reports: list[str] = Field(default_factory=list, description="how the reason is stated (说、反馈、称、表示、投诉…)")
    figure_suffixes: list[str] = Field(
        default_factory=list,
        description="what turns a cue into a shop figure (纠纷退款率、介入率、退货率): a cue followed within two "
        "characters by one of these is a statistic on a data page, not a dispute under way",
    )
    abbreviations: dict[str, str] = Field(
        default_factory=dict,
        description="sellers' pinyin initials (zl=质量, tk=退款…): read as their word where no other Latin letter "
        "touches them (so zl inside a product code or an English word stays as it is)",
    )
    hypothetical: list[str] = Field(
        default_factory=list,
        description="words that put what follows in the clause as a fear, not an event (免得顾客说描述不符、以免被投诉): "
        "a cue after one of them in its clause is no dispute under way",
    )
    stock_words: list[str] = Field(
        default_factory=list,
        description="the shop's own stock-keeping (盘点、库存、入库…): a text whose only signal is a reason word "
        "(少了三箱) and that says one of these is about stock, not a buyer's dispute",
    )
    shortfall_words: list[str] = Field(
        default_factory=list,
        description="words that, right before a count of items (只有9个、只剩4瓶), say fewer arrived than were bought: "
        "read as 少件",
    )
    item_units: list[str] = Field(
        default_factory=list,
        description="one-character units of a count of goods (个、支、瓶…), for shortfall_words",
    )
    about: AboutDisputes = Field(default_factory=AboutDisputes)
    calibration: list[ConfidenceBin] = Field(
        default_factory=list,
        description="raw strength → observed accuracy, set on the tuning parts of the dev set (scripts in tests/recognition_devset)",
    )


class SynonymsFile(Strict):
    synonyms: Vocabulary


RuleFile = KindsFile | PlatformFile | SynonymsFile
