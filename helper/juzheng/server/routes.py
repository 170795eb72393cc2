"""Handlers of the HTTP API, one per route, and the route table they form."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from .. import API_VERSION, __version__
from ..cases import (
    CaseAction,
    CasePatch,
    CaseSummary,
    CaseView,
    ConfirmRequest,
    DetectRequest,
    EvidenceItem,
    FocusRequest,
    TextEvidenceRequest,
)
from .api import CASE_ID, EVIDENCE_ID, BadRequest, Param, Route, in_thread, json_response, path_int, read_model
from .context import OPENAPI, RUNTIME
from .errors import error_response
from .events_ws import events_handler
from .pairing_routes import (
    AskCreated,
    AskRequest,
    AskStatus,
    AskStatusRequest,
    PairRequest,
    PairResponse,
    StatusPageUrl,
    ask,
    ask_status,
    pair,
    pair_code,
    pair_revoke,
    status_page_url,
)
from .schemas import Focus, Health, PairCode, Revoked, RulesResponse, Ticket
from .security import UPLOAD_LIMIT
from .submit_routes import SUBMIT_ROUTES

# -- health, rules, pairing -------------------------------------------------------------------
async def health(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    return json_response(
        Health(
            version=__version__,
            api_version=API_VERSION,
            rules_digest=rt.rules.digest,
            rules_error=rt.rules.error,
            paired=bool(rt.paired_origins),
            notifies=rt.notifies,
            problems=rt.store.problems(),
        )
    )


async def openapi(request: web.Request) -> web.Response:
    # The document is built from the table by the app (server/app.py): this module and openapi.py
    # need not know each other.
    return json_response(request.app[OPENAPI]())


_rules_cache: dict[str, bytes] = {}


async def rules(request: web.Request) -> web.Response:
    book = request.app[RUNTIME].rules.get()
    etag = f'"{book.digest}"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    body = _rules_cache.get(book.digest)
    if body is None:
        body = json.dumps({"digest": book.digest, **book.to_json()}, ensure_ascii=False).encode()
        _rules_cache.clear()
        _rules_cache[book.digest] = body
    response = json_response(body)
    response.headers["ETag"] = etag
    return response


async def events_ticket(request: web.Request) -> web.Response:
    ticket, ttl = request.app[RUNTIME].auth.new_ticket()
    return json_response(Ticket(ticket=ticket, expires_in=ttl))


# -- cases ------------------------------------------------------------------------------------
async def detect(request: web.Request) -> web.Response:
    body = await read_model(request, DetectRequest)
    view = await in_thread(request.app[RUNTIME].cases.detect, body)
    return json_response(view, status=201 if view.created else 200)


def _list_status(request: web.Request) -> str | None:
    status = request.query.get("status", "open")
    if status not in ("open", "submitted", "closed", "all"):
        raise BadRequest(400, "status 应为 open、submitted、closed 或 all", [{"loc": ["query", "status"], "msg": "invalid", "type": "enum"}])
    return None if status == "all" else status


def cached_list(request: web.Request) -> bytes | None:
    """Nothing changed since the last list: the same bytes, without a hop to a worker thread."""
    return request.app[RUNTIME].cases.cached_list_json(_list_status(request))


async def list_cases(request: web.Request) -> web.Response:
    data = cached_list(request)
    if data is None:
        data = await in_thread(request.app[RUNTIME].cases.list_json, _list_status(request))
    return json_response(data)


def cached_case(request: web.Request) -> bytes | None:
    """A cached view is bytes in memory: answered at once."""
    return request.app[RUNTIME].cases.cached_view_json(path_int(request, "case_id"))


async def get_case(request: web.Request) -> web.Response:
    data = cached_case(request)
    if data is None:
        # Building a view may read files (image checks), which must never stall every other
        # request and the signal handlers: off the loop.
        data = await in_thread(request.app[RUNTIME].cases.view_json, path_int(request, "case_id"))
    return json_response(data)


async def patch_case(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    body = await read_model(request, CasePatch)
    return json_response(await in_thread(request.app[RUNTIME].cases.patch, case_id, body))


async def case_action(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    body = await read_model(request, CaseAction)
    return json_response(await in_thread(request.app[RUNTIME].cases.act, case_id, body))


async def confirm(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    body = await read_model(request, ConfirmRequest)
    return json_response(await in_thread(request.app[RUNTIME].cases.confirm, case_id, body))


async def focus(request: web.Request) -> web.Response:
    body = await read_model(request, FocusRequest)
    result = await in_thread(request.app[RUNTIME].cases.set_focus, body.case_id, body.ended)
    return json_response(Focus(**result))


async def add_evidence(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    cases = request.app[RUNTIME].cases
    content_type = request.content_type
    if content_type == "application/json":
        body = await read_model(request, TextEvidenceRequest)
        item = await in_thread(cases.add_text, case_id, body)
        return json_response(item, status=201)
    if content_type != "multipart/form-data":
        raise BadRequest(415 if content_type else 400, "请用 multipart/form-data 上传文件（字段 kind 与 file），或用 JSON 提交文字类凭证")
    kind, filename, data = await _read_upload(request)
    item = await in_thread(cases.add_file, case_id, kind, filename, data)
    return json_response(item, status=201)


async def _read_upload(request: web.Request) -> tuple[str, str, bytes]:
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, HttpProcessingError) as exc:
        raise BadRequest(400, f"multipart 请求体无法解析：{exc}") from exc
    kind: str | None = None
    filename: str | None = None
    data: bytes | None = None
    total = 0  # every byte of every part counts: a chunked body has no Content-Length to check

    async def read_part(part: BodyPartReader, cap: int, what: str) -> bytes:
        nonlocal total
        chunks = []
        size = 0
        while chunk := await part.read_chunk(256 * 1024):
            total += len(chunk)
            size += len(chunk)
            if total > UPLOAD_LIMIT:
                raise BadRequest(413, f"上传过大，上限 {UPLOAD_LIMIT // (1024 * 1024)} MB")
            if size > cap:
                raise BadRequest(400, f"字段 {what} 过长")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):  # a nested multipart: not ours
                raise BadRequest(400, "不支持嵌套的 multipart")
            name = part.name
            if name == "kind":
                kind = (await read_part(part, 1024, "kind")).decode("utf-8").strip()
            elif name == "file":
                filename = part.filename or "upload"
                data = await read_part(part, UPLOAD_LIMIT, "file")
            else:
                await read_part(part, 64 * 1024, str(name)[:40])  # unknown fields: drained and ignored
    except BadRequest:
        raise
    except (ValueError, AssertionError, UnicodeDecodeError, LookupError, HttpProcessingError) as exc:
        raise BadRequest(400, f"multipart 请求体无法解析：{str(exc).splitlines()[0][:200]}") from exc
    missing = [n for n, v in (("kind", kind), ("file", data)) if not v]
    if missing:
        raise BadRequest(
            400,
            "上传缺少字段：" + "、".join(missing) + "（需要 kind 与 file）",
            [{"loc": ["body", n], "msg": "field required", "type": "missing"} for n in missing],
        )
    safe_name = PurePosixPath(_decoded_filename(filename or "upload").replace("\\", "/")).name or "upload"
    return kind or "", safe_name[:200], data or b""


def _decoded_filename(name: str) -> str:
    """Some clients (aiohttp, curl --form-string) percent-encode a UTF-8 file name; browsers send it raw."""
    if "%" not in name:
        return name
    try:
        return unquote(name, errors="strict")
    except UnicodeDecodeError:
        return name


async def remove_evidence(request: web.Request) -> web.Response:
    case_id = path_int(request, "case_id")
    evidence_id = path_int(request, "evidence_id")
    await in_thread(request.app[RUNTIME].cases.remove_evidence, case_id, evidence_id)
    return json_response({"removed": True, "evidence_id": evidence_id})


async def evidence_file(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    case_id = path_int(request, "case_id")
    evidence_id = path_int(request, "evidence_id")
    record = await in_thread(rt.cases.evidence_file, case_id, evidence_id)
    path = safe_file(rt.root, record.path or "")
    if path is None:
        return error_response(404, "文件不在证据文件夹内或已不存在（可能被移动或删除）")
    response = web.FileResponse(path)
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(path.name)}"
    return response


def safe_file(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names inside ``root``, or None: no ``..``, no absolute or drive paths,
    no encoded or back-slash separators, no symlink leading out of the root."""
    if not relative or "\\" in relative or "\x00" in relative:
        return None
    parts = relative.split("/")  # the store's form; PurePosixPath would quietly drop "." and "//"
    if relative.startswith("/") or any(p in ("..", ".", "") for p in parts) or ":" in parts[0]:
        return None
    base = Path(root).resolve()
    try:
        target = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


FILE_RESPONSE = {"*/*": {"schema": {"type": "string", "format": "binary"}}}  # image, video or PDF as stored
UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["kind", "file"],
    "properties": {"kind": {"type": "string", "description": "凭证类型 ID"}, "file": {"type": "string", "format": "binary"}},
}

CORE_ROUTES: list[Route] = [
    Route("GET", "/api/health", health, "助手状态、版本、规则摘要、是否已配对", auth="public", response=Health),
    Route("GET", "/api/openapi.json", openapi, "本接口文档（OpenAPI 3.1）", auth="public"),
    Route("GET", "/api/rules", rules, "规则库（含页面适配器 pages 与凭证类型 kinds）", response=RulesResponse),
    Route("POST", "/api/pair", pair, "用配对码换取令牌（仅举证助手扩展或卖家允许的扩展）", auth="public", extension_only=True, body=PairRequest, response=PairResponse, errors=(403, 429)),
    Route("POST", "/api/pair/ask", ask, "请求配对：助手请卖家在电脑上确认（允许/拒绝）", auth="public", extension_only=True, body=AskRequest, response=AskCreated, status=201, errors=(403, 429)),
    Route("POST", "/api/pair/ask/status", ask_status, "查询配对请求：等待中、已允许（附令牌，只给一次）或已拒绝", auth="public", extension_only=True,
          body=AskStatusRequest, response=AskStatus, errors=(403, 404)),
    Route("POST", "/api/pair/code", pair_code, "生成一次性配对码（仅本机命令行）", auth="admin", response=PairCode),
    Route("POST", "/api/pair/revoke", pair_revoke, "作废全部令牌（仅本机命令行）", auth="admin", response=Revoked),
    Route("POST", "/api/pair/page", status_page_url, "状态页的一次性地址（仅本机命令行）", auth="admin", response=StatusPageUrl, errors=(503,)),
    Route("POST", "/api/events/ticket", events_ticket, "WebSocket 一次性 ticket（30 秒）", response=Ticket),
    Route("GET", "/api/events", events_handler, "事件 WebSocket：?ticket=…&since=<事件编号>", auth="ticket", websocket=True,
          params=(Param("ticket", "query", {"type": "string"}, "一次性 ticket"),
                  Param("since", "query", {"type": "integer", "minimum": 0}, "补发此编号之后的事件", required=False))),
    Route("POST", "/api/cases/detect", detect, "根据页面内容识别/更新案子，返回清单（已结束的售后不建案：404 code=no_live_case）",
          body=DetectRequest, response=CaseView, errors=(400, 404)),
    Route("GET", "/api/cases", list_cases, "案子列表（按截止时间）", response=CaseSummary, response_list=True,
          params=(Param("status", "query", {"type": "string", "enum": ["open", "submitted", "closed", "all"]}, "默认 open", required=False),),
          cached=cached_list),
    Route("GET", "/api/cases/{case_id}", get_case, "案子详情与举证清单", response=CaseView, params=(CASE_ID,), errors=(404,),
          cached=cached_case),
    Route("PATCH", "/api/cases/{case_id}", patch_case, "卖家更正场景或状态（场景来源记为 seller，以后不会被自动识别覆盖）",
          body=CasePatch, response=CaseView, params=(CASE_ID,), errors=(400, 404)),
    Route("POST", "/api/cases/{case_id}/evidence", add_evidence, "添加凭证：multipart 上传文件（kind + file），或 JSON 提交文字类凭证",
          body=TextEvidenceRequest, multipart=UPLOAD_SCHEMA, response=EvidenceItem, status=201, params=(CASE_ID,), errors=(400, 404, 413, 415, 503)),
    Route("DELETE", "/api/cases/{case_id}/evidence/{evidence_id}", remove_evidence, "移除凭证（文件移到 .回收站，不会删除）",
          params=(CASE_ID, EVIDENCE_ID), errors=(404, 503)),
    Route("POST", "/api/cases/{case_id}/action", case_action, "卖家标记：已提交（submitted）、已结案赢/输（won/lost）、已结案（closed）、重新打开（reopen）",
          body=CaseAction, response=CaseView, params=(CASE_ID,), errors=(400, 404)),
    Route("POST", "/api/cases/{case_id}/confirm", confirm, "勾选/取消核对项", body=ConfirmRequest, response=CaseView, params=(CASE_ID,), errors=(400, 404)),
    Route("GET", "/api/cases/{case_id}/files/{evidence_id}", evidence_file, "取证据文件", params=(CASE_ID, EVIDENCE_ID),
          raw_response=FILE_RESPONSE, errors=(404,)),
    Route("POST", "/api/focus", focus, "卖家正在查看的案子（整理器据此归档无订单号的文件）", body=FocusRequest, response=Focus, errors=(400, 404)),
]

# Every endpoint of the API, the one declaration that registers handlers, writes OpenAPI and sets
# the security middleware's policy.
ROUTES: list[Route] = [*CORE_ROUTES, *SUBMIT_ROUTES]


def add_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler)
