"""Routes of the way from the folder to the platform: the packet to attach, the export, the inbox
offer and giving a file its kind. Part of the route table :data:`.routes.ROUTES`.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from ..cases import EvidenceItem
from ..cases.submit import (
    KindRequest,
    OfferRequest,
    PackRequest,
    PackResult,
    PacketRequest,
    PreparedPacket,
    answer_offer,
    inbox_offer,
    pack_case,
    prepare_packet,
    set_kind,
)
from ..evidence.offer import InboxOffer, OfferAnswer
from ..focus import load_focus
from .api import CASE_ID, EVIDENCE_ID, Route, in_thread, json_response, path_int, read_model
from .context import RUNTIME

async def packet(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    body = await read_model(request, PacketRequest)
    return json_response(await in_thread(prepare_packet, request.app[RUNTIME].cases, case_id, body.option))


async def pack(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    body = await read_model(request, PackRequest)
    result = await in_thread(lambda: pack_case(request.app[RUNTIME].cases, case_id, as_zip=body.zip, option=body.option))
    return json_response(result, status=201)


async def get_offer(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    return json_response(await in_thread(inbox_offer, request.app[RUNTIME].cases, case_id))


async def post_offer(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    body = await read_model(request, OfferRequest)
    return json_response(await in_thread(answer_offer, request.app[RUNTIME].cases, case_id, body))


async def evidence_kind(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    evidence_id = path_int(request, "evidence_id")
    body = await read_model(request, KindRequest)
    return json_response(await in_thread(set_kind, request.app[RUNTIME].cases, case_id, evidence_id, body))


class FocusNow(BaseModel):
    case_id: int | None = Field(description="正在关注的案子；没有时为 null")
    since: datetime | None = None
    at: datetime | None = Field(default=None, description="最近一次续期（标签页可见时每分钟一次）")
    active: bool


async def get_focus(request: web.Request) -> web.Response:
    cases = request.app[RUNTIME].cases
    state = await in_thread(load_focus, cases.store)
    if state is None or state.ended_at is not None:
        return json_response(FocusNow(case_id=None, active=False))
    return json_response(FocusNow(case_id=state.case_id, since=state.since, at=state.at, active=state.active(cases.clock())))


SUBMIT_ROUTES: list[Route] = [
    Route("GET", "/api/focus", get_focus, "当前关注的案子（浏览器中可见的案子标签页）", response=FocusNow),
    Route("POST", "/api/cases/{case_id}/packet", packet, "准备放进平台上传框的一组文件（需要时在原文件旁生成 JPEG/压缩版），附缺项与注意事项",
          body=PacketRequest, response=PreparedPacket, params=(CASE_ID,), errors=(400, 404, 409, 503)),
    Route("POST", "/api/cases/{case_id}/pack", pack, "打包导出：可提交的文件、总览图和填好的举证说明（文件夹或 zip）",
          body=PackRequest, response=PackResult, status=201, params=(CASE_ID,), errors=(400, 404, 409, 503)),
    Route("GET", "/api/cases/{case_id}/inbox-offer", get_offer, "打开案子前就在收件箱里等着的文件（同平台、名字里没有订单号），供卖家决定是否归到本案",
          response=InboxOffer, params=(CASE_ID,), errors=(404, 503)),
    Route("POST", "/api/cases/{case_id}/inbox-offer", post_offer, "接受（整理进本案）或拒绝收件箱文件的归档提问",
          body=OfferRequest, response=OfferAnswer, params=(CASE_ID,), errors=(400, 404, 503)),
    Route("POST", "/api/cases/{case_id}/evidence/{evidence_id}/kind", evidence_kind, "把文件归为某类凭证（移动文件，不覆盖；可撤销）",
          body=KindRequest, response=EvidenceItem, params=(CASE_ID, EVIDENCE_ID), errors=(400, 404, 409, 503)),
]
