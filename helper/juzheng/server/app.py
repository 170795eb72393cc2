"""The aiohttp application factory: middlewares, routes, and the background parts as cleanup contexts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from ..runtime import Runtime
from .context import OPENAPI, RUNTIME
from .events_ws import close_event_sockets, event_hub_context
from .openapi import openapi_document
from .routes import ROUTES, add_routes
from .middleware import api_middleware
from .security import JSON_LIMIT, ROUTE_POLICY, RoutePolicy

log = logging.getLogger(__name__)
LEVEL_CHECK_SECONDS = 30.0
_POLICY = RoutePolicy.of(ROUTES)


_openapi_built: list[dict[str, Any]] = []


def _openapi() -> dict[str, Any]:
    """Built on first request, not at start-up: pydantic's schema generation takes a while."""
    if not _openapi_built:
        _openapi_built.append(openapi_document(ROUTES))
    return _openapi_built[0]


def create_app(runtime: Runtime, *, manage_runtime: bool = True, level_check_seconds: float = LEVEL_CHECK_SECONDS) -> web.Application:
    """``manage_runtime``: start the runtime's background parts with the app and stop them after."""
    # One middleware: refusals and bugs alike leave as JSON, every answer with the common headers.
    app = web.Application(middlewares=[api_middleware], client_max_size=JSON_LIMIT)
    app[RUNTIME] = runtime
    app[ROUTE_POLICY] = _POLICY
    app[OPENAPI] = _openapi
    add_routes(app)
    if manage_runtime:
        app.cleanup_ctx.append(_runtime_context)
    app.cleanup_ctx.append(event_hub_context)
    app.on_shutdown.append(close_event_sockets)
    app.cleanup_ctx.append(_level_checker(level_check_seconds))
    return app


async def _runtime_context(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    await asyncio.to_thread(runtime.start)
    yield
    await asyncio.to_thread(runtime.stop)


def _level_checker(interval: float):
    async def context(app: web.Application) -> AsyncIterator[None]:
        cases = app[RUNTIME].cases

        async def loop() -> None:
            while True:
                try:
                    await asyncio.to_thread(cases.check_levels)
                except Exception:  # a bad case must not stop the reminders of every other case
                    log.exception("level check failed")
                await asyncio.sleep(interval)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context
