"""The route table: one entry per endpoint, used both to register handlers and to write OpenAPI.

Keeping both in one list is what keeps ``/api/openapi.json`` honest.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from .errors import BadRequest
from .security import JSON_LIMIT

Auth = Literal["public", "token", "admin", "ticket"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["path", "query"]
    schema: dict[str, Any]
    description: str = ""
    required: bool = True


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    auth: Auth = "token"
    # A public route that only a browser extension may call (pairing: the handler then applies the allow-list).
    extension_only: bool = False
    body: type[BaseModel] | None = None
    multipart: dict[str, Any] | None = None  # schema of a multipart/form-data body
    response: type[BaseModel] | None = None
    response_list: bool = False
    status: int = 200
    errors: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    raw_response: dict[str, Any] | None = None  # media type → schema, for files
    websocket: bool = False
    # The answer when it is ready in memory (bytes), else None: such a GET is answered by the
    # connection itself, before aiohttp (server/fast_path.py); the handler stays the full form.
    cached: Callable[[Any], bytes | None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


CASE_ID = Param("case_id", "path", {"type": "integer", "minimum": 1}, "案子编号")
EVIDENCE_ID = Param("evidence_id", "path", {"type": "integer", "minimum": 1}, "凭证编号")


async def read_model(request: web.Request, model: type[M]) -> M:
    """Parse a JSON body into ``model``: 400 with pydantic's detail, 413 when too large."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise BadRequest(413, f"请求体过大，上限 {JSON_LIMIT // 1024} KB") from exc
    if not raw.strip():
        raise BadRequest(400, "缺少 JSON 请求体", [{"loc": ["body"], "msg": "body required", "type": "missing"}])
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        # loc/msg/type only: the input may be bytes that are not UTF-8, or large; ctx may hold exceptions.
        detail = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        if any(d.get("type") == "json_invalid" for d in detail):
            raise BadRequest(400, "请求体不是有效的 JSON", detail) from exc
        raise BadRequest(400, "请求内容不符合要求：" + _summary(detail), detail) from exc


def _summary(detail: list[dict[str, Any]]) -> str:
    parts = []
    for d in detail[:3]:
        loc = ".".join(str(x) for x in d.get("loc", ())) or "body"
        parts.append(f"{loc}: {d.get('msg')}")
    return "；".join(parts)


def path_int(request: web.Request, name: str) -> int:
    value = request.match_info.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) < 1:
        raise BadRequest(
            400, f"{name} 必须是正整数，收到 {value[:30]!r}", [{"loc": ["path", name], "msg": "must be a positive integer", "type": "int_parsing"}]
        )
    return int(value)


def json_response(data: BaseModel | list[BaseModel] | dict[str, Any] | bytes, status: int = 200) -> web.Response:
    if isinstance(data, bytes):
        body = data
    elif isinstance(data, BaseModel):
        body = data.model_dump_json().encode()
    elif isinstance(data, list):
        body = b"[" + b",".join(item.model_dump_json().encode() for item in data) + b"]"
    else:
        body = json.dumps(data, ensure_ascii=False, default=str).encode()
    return web.Response(body=body, status=status, content_type="application/json")


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Store writes may wait on the sorter's lock: keep them off the event loop."""
    return await asyncio.to_thread(fn, *args)
