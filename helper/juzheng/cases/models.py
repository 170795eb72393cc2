"""What goes in and out of the case service: pydantic models shared by the API, the tray and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..rules import Checklist
from ..rules.deadline_text import BEIJING, MAX_YEAR, MIN_YEAR, plausible
from ..rules.deadlines import Level
from ..evidence.duplicates import DuplicateNote
from ..evidence.links import LinkItem
from ..evidence.packet import Packet
from ..rules.models import UploadLimit
from ..rules.recognition import Abstention
from .deadline_sources import DeadlineCandidate, DeadlineConflict, DeadlineSource


def _beijing_if_naive(value: datetime | None) -> datetime | None:
    # The platforms show Beijing time; a time sent without an offset means that.
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=BEIJING)
    if not plausible(value):
        raise ValueError(f"时间 {value.isoformat() if value else value} 不合理：年份应在 {MIN_YEAR}–{MAX_YEAR} 之间，请核对页面上的时间")
    return value


DisplayLevel = Literal["ok", "warn", "urgent", "overdue", "estimate"]
AwareTime = Annotated[datetime, AfterValidator(_beijing_if_naive)]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]


PageState = Literal["requested", "submitted", "closed", "won", "lost"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DetectRequest(Request):
    """What a page adapter extracted from an after-sale page."""

    platform: ShortText = Field(description="平台 ID：taobao、tmall、pinduoduo、douyin", examples=["pinduoduo"])
    platform_source: Literal["page", "seller"] = Field(
        default="page",
        description="平台从哪里来：page（网址或页面文字）、seller（卖家为该店铺选定的淘宝/天猫）；"
        "为 seller 时，该订单在另一平台下的案子改到此平台",
    )
    url: Annotated[str, Field(max_length=4000)] = ""
    order_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_\-]+$")]
    aftersale_id: Annotated[str, Field(max_length=64, pattern=r"^[0-9A-Za-z_\-]*$")] = ""
    deadline_text: LongText | None = Field(default=None, description="页面上的截止/剩余时间文字，例如 剩余举证时间 1天23小时59分")
    remaining_text: LongText | None = Field(default=None, description="同 deadline_text（页面上的剩余时间）")
    deadline_at: AwareTime | None = Field(default=None, description="页面给出的绝对截止时间（ISO 8601；无时区按北京时间）")
    request_at: AwareTime | None = Field(default=None, description="平台发起举证要求的时间（已知时）")
    request_text: LongText | None = Field(default=None, description="平台的举证要求原文，用于识别场景")
    page_text: LongText | None = Field(default=None, description="页面其余文字，用于识别场景")
    scenario: ShortText | None = Field(default=None, description="页面已明确的场景 ID（可选）")
    tracking_number: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="页面上的快递单号/运单号/退货单号（如有）"
    )
    recipient_text: ShortText | None = Field(
        default=None, description="页面上的收货人/收件人信息（姓名、电话，常为打码形式，如 张** 138****5678）"
    )
    signed_text: ShortText | None = Field(default=None, description="页面上的签收时间（如 2024-11-05 10:20）")
    shipped_text: ShortText | None = Field(default=None, description="页面上的发货时间")
    history_text: LongText | None = Field(
        default=None,
        description="页面的协商历史/售后日志/服务进度（带时间的记录），助手从中读出平台发起举证的时间",
    )
    page_state: PageState | None = Field(
        default=None,
        description="页面显示的售后状态：requested（待商家举证/要求举证）、submitted（已举证/待平台处理）、"
        "closed（退款成功/售后关闭/已撤销）、won（商家胜诉）、lost（买家胜诉）",
    )


class CasePatch(Request):
    """A seller's correction. ``scenario`` set here is never overwritten by later detections."""

    scenario: ShortText | None = None
    status: Literal["open", "submitted", "closed"] | None = None
    outcome: Literal["won", "lost"] | None = None
    tracking_number: Annotated[str, Field(max_length=64)] | None = None
    request_at: AwareTime | None = None
    buyer_evidence_at: AwareTime | None = None
    deadline_at: AwareTime | None = Field(
        default=None, description="卖家照平台页面填写的截止时间（来源记为 seller）；null 表示撤销卖家填写的时间"
    )


class CaseAction(Request):
    """The seller's word on where a case stands: evidence sent, or the platform decided."""

    action: Literal["submitted", "won", "lost", "closed", "reopen"] = Field(
        description="submitted 标记已提交；won/lost 已结案（赢/输）；closed 已结案（不记输赢）；reopen 重新打开"
    )


class ConfirmRequest(Request):
    """Tick (or untick) one field check of an evidence kind."""

    kind: ShortText
    field: ShortText
    confirmed: bool = True


class KindRequest(Request):
    """The seller confirms a suggested kind, or picks another (确认 / 改为…): the file moves there."""

    kind: ShortText


class TextEvidenceRequest(Request):
    """A text kind such as a 旺旺举证号, with when it was generated."""

    kind: ShortText
    value: Annotated[str, Field(min_length=1, max_length=2000)]
    generated_at: AwareTime | None = Field(default=None, description="生成时间（举证号有效期从此算起）")
    covers_from: AwareTime | None = Field(default=None, description="举证号覆盖的最早聊天日期")


class FocusRequest(Request):
    case_id: int = Field(ge=1, le=2**62)
    ended: bool = Field(default=False, description="案子的标签页已关闭：结束关注")


class ScenarioChoice(BaseModel):
    id: str
    label: str


class EvidenceItem(BaseModel):
    id: int
    kind: str | None
    kind_label: str | None
    filename: str | None
    path: str | None = Field(description="证据文件夹内的相对路径（/ 分隔）")
    value: str | None
    how: str
    added_at: datetime
    generated_at: datetime | None = None
    size: int | None = None
    url: str | None = Field(description="取文件的地址（需带令牌）；文字类凭证为 null")
    warnings: list[str] = Field(default_factory=list, description="图片检查提示（过小、模糊、重复），不阻止提交")
    suggested_kind: str | None = Field(default=None, description="待分类图片：离线识别出的可能类型，待卖家确认或改为其他类型")
    suggested_kind_label: str | None = None
    read: ReadSummary | None = Field(default=None, description="图片里读到的内容（本机离线识别）；未识别为 null")


class ReadSummary(BaseModel):
    order_ids: list[str]
    tracking_numbers: list[str]
    prompt: str | None = Field(default=None, description="给卖家看的一句话，例如 这张像是快递红章证明（单号 SF…）")
    rejected: str | None = Field(default=None, description="像平台不认的材料时的提示（如财务章、搜索引擎截图）")


class AutoChecked(BaseModel):
    kind: str
    field: str


class PendingItem(BaseModel):
    path: str
    reason: str
    seen_at: datetime


class RecognitionCandidate(BaseModel):
    scenario: str
    label: str = Field(description="卖家看到的场景名称，可直接作为「可能是：…」的选项")
    score: float
    words: list[str] = Field(description="文字中与该场景相符的词，最有力的在前")


class RecognitionInfo(BaseModel):
    scenario: str | None
    matched: list[str]
    runner_up: str | None = None
    score: float = 0
    confidence: float = Field(default=0, description="0–1；未识别（交给卖家选择）时为 0")
    candidates: list[RecognitionCandidate] = Field(default_factory=list, description="最可能的两三个场景，按分数从高到低")
    # Carried to the overlay so an unsure reading shows as a guess, not as a blank: the seller sees
    # why nothing was named and taps one of the candidates.
    abstained: Abstention | None = Field(
        default=None, description="未识别的原因（no_dispute/ordinary/note/about/weak/close/unsure/unlikely）；识别出场景时为 null"
    )
    note: str = Field(default="", description="未识别时给卖家看的原因（中文）；识别出场景时为空")


class CaseView(BaseModel):
    id: int
    platform: str
    platform_label: str
    order_id: str
    aftersale_id: str
    scenario: str | None
    scenario_label: str | None
    scenario_source: Literal["detected", "seller"]
    scenarios_for_platform: list[ScenarioChoice]
    status: str
    outcome: str | None
    url: str | None
    tracking_number: str | None
    request_at: datetime | None
    request_source: Literal["page", "seller", "first_seen"] = Field(
        default="first_seen", description="request_at 的来源：页面历史记录、卖家填写、或首次打开的时间"
    )
    deadline_at: datetime | None
    deadline_source: DeadlineSource | None = Field(
        default=None,
        description="截止时间来源：page（页面倒计时/截止时间）、request（按页面上的申请时间推算）、"
        "seller（卖家填写）、estimate（按首次打开时间+举证时长估算，仅供参考）",
    )
    deadline_note: str | None = Field(default=None, description="估算时给卖家看的说明")
    deadline_conflict: DeadlineConflict | None = Field(
        default=None, description="两个来源相差超过几分钟时：采用较早的，并说明"
    )
    deadline_candidates: list[DeadlineCandidate] = Field(default_factory=list, description="各来源的截止时间")
    level: Level | None = Field(description="按截止时间算的紧急程度（提醒用）；显示请用 display_level")
    display_level: DisplayLevel | None = Field(
        default=None, description="显示用：同 level，但估算且未到提醒线时为 estimate（不显示为绿色）"
    )
    checklist: Checklist | None = Field(description="场景未识别时为 null：请卖家在 scenarios_for_platform 中选择")
    evidence: list[EvidenceItem]
    unsorted: list[EvidenceItem] = Field(default_factory=list, description="本订单文件夹中尚未分类的文件（待分类）")
    pending: list[PendingItem] = Field(description="收件箱中未能归档的文件及原因")
    upload: UploadLimit | None = Field(description="该平台（该场景）举证上传限制：张数、类型、每张大小、是否只能提交一次")
    packets: list[Packet] = Field(default_factory=list, description="清单每组凭证放进上传框的文件（含需转换的）与放不进的原因")
    duplicates: list[DuplicateNote] = Field(default_factory=list, description="放入收件箱但与本订单已有文件完全相同、移到 .重复 的文件")
    links: list[LinkItem] = Field(
        default_factory=list, description="本订单文件夹中的快捷方式/链接：助手不读取、不上传、不计入清单，请放入文件本身"
    )
    updated_at: datetime
    computed_at: datetime
    recognition: RecognitionInfo | None = None
    auto_checked: list[AutoChecked] = Field(default_factory=list, description="由图片内容自动勾选的核对要点（自动核对），卖家可取消")
    created: bool | None = Field(default=None, description="仅 detect：本次是否新建了案子")

    def summary(self) -> CaseSummary:
        """The list's row of this case: the view's own fields, plus how complete its checklist is."""
        checklist = self.checklist
        return CaseSummary(
            **self.model_dump(include=set(CaseSummary.model_fields) - {"deadline_conflict", "complete", "missing"}),
            deadline_conflict=self.deadline_conflict is not None,
            complete=checklist.complete if checklist else None,
            missing=min((len(o.missing) for o in checklist.options), default=None) if checklist else None,
        )


class CaseSummary(BaseModel):
    id: int
    platform: str
    order_id: str
    aftersale_id: str
    scenario: str | None
    scenario_label: str | None
    status: str
    deadline_at: datetime | None
    deadline_source: DeadlineSource | None = None
    deadline_conflict: bool = False
    level: Level | None
    display_level: DisplayLevel | None = None
    outcome: str | None = None
    complete: bool | None
    missing: int | None = Field(description="最接近齐全的一组还缺几项")
