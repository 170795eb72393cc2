"""``GET /api/openapi.json``, written from the route table and the pydantic models (OpenAPI 3.1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .. import API_VERSION, __version__
from .api import Route
from .schemas import ErrorBody, EventMessage

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "请求有误（JSON 无效或不符合模型；detail 为 pydantic 错误）",
    401: "缺少或无效的令牌",
    403: "Origin、Host 或配对码被拒绝",
    404: "找不到",
    412: "接口版本不一致（X-Juzheng-Api）",
    413: "请求体过大",
    415: "不支持的内容类型",
    429: "配对码错误次数过多，已锁定",
    503: "证据文件夹服务暂不可用",
}


def openapi_document(routes: Sequence[Route]) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorBody, EventMessage}
    for route in routes:
        models.update(m for m in (route.body, route.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    keys: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m, "validation") for m in ordered] + [(m, "serialization") for m in ordered]
    refs, top = models_json_schema(keys, ref_template=REF)
    schemas: dict[str, Any] = top.get("$defs", {})

    def ref(model, mode: JsonSchemaMode) -> dict[str, Any]:
        return refs[(model, mode)]

    paths: dict[str, Any] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, ref)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "举证助手 本地接口 (juzheng helper API)",
            "version": __version__,
            "description": (
                "只监听 127.0.0.1。除 GET /api/health、GET /api/openapi.json、POST /api/pair 外都需要 "
                "Authorization: Bearer <令牌>。带网页 Origin 的请求一律 403；Host 必须是 127.0.0.1/localhost/[::1] 加端口。"
                f"扩展发送 X-Juzheng-Api: {API_VERSION}，不一致返回 412。每个响应都带 X-Juzheng-Version。"
            ),
            "x-api-version": API_VERSION,
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "POST /api/pair 得到的扩展令牌"},
                "admin": {"type": "http", "scheme": "bearer", "description": "本机命令行自动生成的管理令牌"},
                "ticket": {"type": "apiKey", "in": "query", "name": "ticket", "description": "POST /api/events/ticket 得到的一次性 ticket"},
            },
        },
    }


def _operation(route: Route, ref) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "parameters": [
            {"name": p.name, "in": p.where, "required": p.required if p.where == "query" else True, "schema": p.schema, "description": p.description}
            for p in route.params
        ],
        "responses": {},
    }
    if route.auth != "public":
        op["security"] = [{route.auth: []}]
    else:
        op["security"] = []
    content: dict[str, Any] = {}
    if route.body is not None:
        content["application/json"] = {"schema": ref(route.body, "validation")}
    if route.multipart is not None:
        content["multipart/form-data"] = {"schema": route.multipart}
    if content:
        op["requestBody"] = {"required": True, "content": content}
    if route.websocket:
        op["responses"]["101"] = {
            "description": "WebSocket：每条消息是一个事件",
            "content": {"application/json": {"schema": ref(EventMessage, "serialization")}},
        }
    elif route.raw_response is not None:
        op["responses"][str(route.status)] = {"description": "文件内容", "content": route.raw_response}
    elif route.response is not None:
        schema = ref(route.response, "serialization")
        if route.response_list:
            schema = {"type": "array", "items": schema}
        op["responses"][str(route.status)] = {"description": "成功", "content": {"application/json": {"schema": schema}}}
    else:
        op["responses"][str(route.status)] = {"description": "成功", "content": {"application/json": {"schema": {"type": "object"}}}}
    errors = set(route.errors) | {400, 412, 413} | ({401} if route.auth != "public" else set())
    for status in sorted(errors):
        op["responses"][str(status)] = {
            "description": ERROR_TEXT.get(status, "错误"),
            "content": {"application/json": {"schema": ref(ErrorBody, "serialization")}},
        }
    return op
