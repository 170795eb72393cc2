"""The pairing routes: by code, by asking the seller (confirm at the helper), and the admin side.

Only an allowed extension origin may pair (our own id, or one the seller allowed): the security
middleware admits these routes only with an extension Origin, and every handler here checks the
allow-list before anything else, so another extension cannot even spend the code's tries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ..pairing import PairingError
from ..pairing.asks import PairingAsks, expires_at
from .api import BadRequest, in_thread, json_response, read_model
from .context import RUNTIME
from .errors import domain_response, error_response


class PairRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^\s*\d{6}\s*$", description="托盘「配对」或 juzheng pair 给出的 6 位配对码")
    browser: str | None = Field(default=None, max_length=200, description="浏览器名称（显示在「已配对的浏览器」中）")
    previous: str = Field(default="", max_length=200, description="这个浏览器之前的令牌：配对成功后它被撤销，列表里不会重复")


class PairResponse(BaseModel):
    token: str
    origin: str = Field(description="已记住的扩展来源")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    browser: str | None = Field(default=None, max_length=200, description="浏览器名称，例如 Chrome · Windows")


class AskCreated(BaseModel):
    id: str
    secret: str = Field(description="查询结果时需要；只有发起请求的扩展知道")
    question: str = Field(description="助手向卖家显示的问题")
    extension_id: str
    expires_at: datetime


class AskStatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=64)
    secret: str = Field(max_length=128)
    previous: str = Field(default="", max_length=200, description="这个浏览器之前的令牌：允许后它被撤销")


class AskStatus(BaseModel):
    state: Literal["pending", "approved", "denied"]
    token: str | None = Field(default=None, description="state=approved 时给出，只给一次")
    message: str


class StatusPageUrl(BaseModel):
    url: str = Field(description="一次性地址（2 分钟内有效，只能打开一次）")


def _asks(request: web.Request) -> PairingAsks:
    asks = request.app[RUNTIME].asks
    if asks is None:  # a Runtime built by hand without pairing
        raise BadRequest(503, "配对服务未启用")
    return asks


def _refused(exc: PairingError) -> web.Response:
    return domain_response(exc)


def _allowed(request: web.Request) -> web.Response | None:
    origin = request.headers["Origin"]  # the middleware admits these routes only with an extension Origin
    try:
        _asks(request).require_allowed(origin)
    except PairingError as exc:
        return _refused(exc)
    return None


async def pair(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    body = await read_model(request, PairRequest)
    refused = _allowed(request)
    if refused is not None:
        return refused
    origin = request.headers["Origin"]
    try:
        token = await in_thread(rt.auth.redeem, body.code, origin, body.browser)
    except PairingError as exc:
        return _refused(exc)
    await in_thread(_replace, rt, body.previous, token)
    await in_thread(rt.set_paired_origin, origin)
    return json_response(PairResponse(token=token, origin=origin))


async def ask(request: web.Request) -> web.Response:
    body = await read_model(request, AskRequest)
    origin = request.headers["Origin"]
    try:
        created = await in_thread(_asks(request).ask, origin, body.browser)
    except PairingError as exc:
        return _refused(exc)
    return json_response(
        AskCreated(id=created.id, secret=created.secret, question=created.question, extension_id=created.extension_id, expires_at=expires_at(created)),
        status=201,
    )


async def ask_status(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    body = await read_model(request, AskStatusRequest)
    origin = request.headers["Origin"]
    try:
        found = _asks(request).collect(body.id, body.secret, origin)
    except PairingError as exc:
        return _refused(exc)
    if found.state == "approved":
        await in_thread(_replace, rt, body.previous, found.token)
        await in_thread(rt.set_paired_origin, origin)
        return json_response(AskStatus(state="approved", token=found.token, message="已允许：扩展已与本机助手配对。"))
    if found.state == "denied":
        return json_response(AskStatus(state="denied", message="助手拒绝了这次配对。如果是您本人操作，请重新开始配对并点「允许」。"))
    return json_response(AskStatus(state="pending", message="请在电脑上弹出的「举证助手」窗口中点「允许」。"))


def _replace(rt, previous: str | None, token: str | None) -> None:
    """A browser that pairs again hands in its old token: that entry goes, so the list holds each
    browser once. Only a token that is still valid counts (it proves it is the same browser)."""
    if previous and token and previous != token and rt.auth.check_token(previous):
        rt.revoke_browser(previous.split(".")[1])


async def pair_code(request: web.Request) -> web.Response:
    from .schemas import PairCode

    issued = request.app[RUNTIME].auth.new_code()
    return json_response(PairCode(code=issued.code, expires_at=issued.expires_at))


async def pair_revoke(request: web.Request) -> web.Response:
    from .schemas import Revoked

    await in_thread(request.app[RUNTIME].revoke)
    return json_response(Revoked(revoked=True))


async def status_page_url(request: web.Request) -> web.Response:
    page = request.app[RUNTIME].status_page
    if page is None:
        return error_response(503, "状态页没有运行（助手以测试方式启动时没有状态页）", code="status_page_unavailable")
    return json_response(StatusPageUrl(url=page.one_time_url()))
