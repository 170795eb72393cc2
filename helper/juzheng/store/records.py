"""What the store holds, as pydantic records shared by every caller."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

EvidenceHow = Literal["sorted", "uploaded", "hand", "text", "converted"]  # converted: made beside an original for a platform box
MoveState = Literal["planned", "done", "rolled_back", "failed", "undone"]


class CaseKey(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    platform: str
    order_id: str
    aftersale_id: str = ""


class Case(CaseKey):
    id: int
    scenario: str | None = None
    scenario_source: Literal["detected", "seller"] = "detected"
    request_at: datetime | None = None
    buyer_evidence_at: datetime | None = None
    deadline_at: datetime | None = None
    deadline_source: Literal["page", "request", "seller", "estimate"] | None = None
    page_deadline_at: datetime | None = None
    seller_deadline_at: datetime | None = None
    request_source: Literal["page", "seller", "first_seen"] = "first_seen"
    tracking_number: str | None = None
    recipient_name: str | None = None  # as the page shows it, often masked (张**)
    recipient_phone: str | None = None  # as the page shows it, often masked (138****5678)
    signed_at: datetime | None = None  # 签收时间 on the page
    shipped_at: datetime | None = None  # 发货时间 on the page
    url: str | None = None
    request_text: str | None = None
    status: Literal["open", "submitted", "closed"] = "open"
    outcome: Literal["won", "lost"] | None = None
    created_at: datetime
    updated_at: datetime


class EvidenceRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    id: int | None = None
    platform: str
    order_id: str
    kind: str | None = Field(default=None, description="None: the file sits in 待分类")
    path: str | None = Field(default=None, description="relative to the evidence root, '/' separated")
    value: str | None = None
    generated_at: datetime | None = None
    covers_from: datetime | None = None
    sha256: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    how: EvidenceHow
    added_at: datetime


class StoredEvidence(EvidenceRecord):
    """An evidence record as the store returns it: it has its row id."""

    id: int


class SortedFile(NamedTuple):
    """A file the sorter has just placed, as the indexer hands it to the store (a row, not a model:
    the store builds the record it returns)."""

    platform: str
    order_id: str
    kind: str | None
    path: str
    sha256: str | None
    size: int
    mtime_ns: int


class Move(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    id: int
    batch: str
    src: str
    dest: str
    sha256: str
    size: int
    state: MoveState
    error: str | None = None
    created_at: datetime
    finished_at: datetime | None = None


class PendingFile(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    path: str
    reason: str
    seen_at: datetime


class Event(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    id: int
    at: datetime
    type: str
    case_id: int | None = None
    payload: dict


class PairedBrowser(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    id: str = Field(description="令牌中的随机编号（不是令牌本身）")
    name: str = Field(description="扩展报告的浏览器名称，例如 Chrome · Windows")
    origin: str
    paired_at: datetime


class DuplicateFile(BaseModel):
    """A file the sorter set aside in ``.重复/`` because its order already had the same bytes."""

    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    platform: str
    order_id: str
    path: str = Field(description="重复文件现在的位置（.重复/ 下）")
    same_as: str = Field(description="本订单里已有的相同文件")
    at: datetime


class UndoIntent(BaseModel):
    """An undo begun and not yet finished: ``move_id`` is being put back by the move in ``batch``."""

    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    move_id: int
    batch: str
