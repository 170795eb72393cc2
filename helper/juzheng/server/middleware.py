"""The API's one middleware: admission, the handler, errors as JSON, the headers every answer carries.

One layer rather than one per concern: each aiohttp middleware is another call frame and coroutine
on every request, and a response-prepare signal another coroutine (measured on a cached
``GET /api/cases/{id}``: the security and error middlewares and the signal cost as much as the
handler and aiohttp's parsing together). What each step decides stays in its own module:
``security.admit`` (who may ask), ``errors.response_for`` (how a failure reads), ``security.stamp``
(the common headers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .errors import response_for
from .security import admit, stamp

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        refused = admit(request)
        response = await handler(request) if refused is None else refused
    except Exception as exc:
        answer = response_for(request, exc)
        if answer is None:
            if isinstance(exc, web.HTTPException):
                stamp(request, exc)  # a redirect or a handler's own JSON error leaves stamped too
            raise
        response = answer
    if not response.prepared:
        stamp(request, response)
    return response
