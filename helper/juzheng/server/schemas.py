"""Request and response bodies of the API that are not case models (those live in ``juzheng.cases``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..store import StoreProblem


class ErrorBody(BaseModel):
    error: str = Field(description="给卖家看的中文说明")
    detail: list[Any] = Field(default_factory=list, description="pydantic 校验错误（400 时）")
    code: str = Field(description="错误的稳定代码，客户端据此判断（例如 no_live_case 售后已结束不建案、origin_not_paired 扩展未配对），不要匹配 error 的文字")


class Health(BaseModel):
    app: Literal["juzheng"] = "juzheng"
    version: str
    api_version: int
    rules_digest: str
    rules_error: str | None
    paired: bool
    notifies: bool = Field(default=False, description="助手自己发送截止提醒（桌面通知或托盘气泡）；为 true 时扩展不再重复提醒")
    problems: list[StoreProblem] = Field(default_factory=list, description="数据目录或数据库的问题（已满、只读、数据库损坏后已重建），卖家可据此处理")


class RulesResponse(BaseModel):
    digest: str
    kinds: list[dict[str, Any]]
    platforms: list[dict[str, Any]] = Field(description="含 pages（页面适配器）与 scenarios")


class PairCode(BaseModel):
    code: str
    expires_at: datetime


class Revoked(BaseModel):
    revoked: bool


class Ticket(BaseModel):
    ticket: str
    expires_in: float = Field(description="有效秒数（一次性）")


class Focus(BaseModel):
    case_id: int
    at: datetime
    since: datetime | None = None
    ended: bool = False


class EventMessage(BaseModel):
    """One message on the ``/api/events`` WebSocket."""

    id: int
    type: str = Field(description="case、evidence、pending、level、rules")
    case_id: int | None
    payload: dict[str, Any]
    at: datetime
