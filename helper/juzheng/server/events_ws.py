"""``GET /api/events``: the event bus pushed to WebSocket clients as it happens.

The bus calls subscribers on the publisher's thread (the watcher's, a worker's); the hub hands each
event to the server's loop with ``call_soon_threadsafe`` and fans it out to per-client queues. A
client that stops reading is dropped rather than letting its queue grow without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, WSMsgType, web

from ..store.records import Event
from .context import RUNTIME
from .security import stamp

log = logging.getLogger(__name__)
QUEUE_SIZE = 1000
HEARTBEAT_SECONDS = 25.0
REPLAY_LIMIT = 500


def event_json(event: Event) -> str:
    return json.dumps(
        {"id": event.id, "type": event.type, "case_id": event.case_id, "payload": event.payload, "at": event.at.isoformat()},
        ensure_ascii=False,
        default=str,
    )


class EventHub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queues: set[asyncio.Queue[str | None]] = set()
        self.sockets: set[web.WebSocketResponse] = set()

    def on_event(self, event: Event) -> None:
        """Bus subscriber: may run on any thread."""
        message = event_json(event)
        try:
            self._loop.call_soon_threadsafe(self._fanout, message)
        except RuntimeError:  # loop already closed during shutdown
            pass

    def _fanout(self, message: str) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A stuck client: end its stream (None) so it reconnects with ?since= and catches up.
                self._queues.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    def add(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues.add(queue)
        return queue

    def remove(self, queue: asyncio.Queue[str | None]) -> None:
        self._queues.discard(queue)


EVENT_HUB = web.AppKey("event_hub", EventHub)


async def event_hub_context(app: web.Application) -> AsyncIterator[None]:
    hub = EventHub(asyncio.get_running_loop())
    app[EVENT_HUB] = hub
    unsubscribe = app[RUNTIME].bus.subscribe(hub.on_event)
    yield
    unsubscribe()
    await close_event_sockets(app)


async def close_event_sockets(app: web.Application) -> None:
    """on_shutdown: open sockets would otherwise hold aiohttp's graceful stop for its whole timeout."""
    hub = app.get(EVENT_HUB)
    if hub is None:
        return
    for ws in list(hub.sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"helper shutting down")


async def events_handler(request: web.Request) -> web.StreamResponse:
    """Authenticated by the middleware (single-use ticket); Origin checked there too."""
    hub = request.app[EVENT_HUB]
    since_text = request.query.get("since")
    since: int | None = None
    if since_text is not None:
        if not since_text.isascii() or not since_text.isdigit() or len(since_text) > 18:
            from .errors import error_response

            return error_response(400, "since 必须是非负整数（上次收到的事件编号）")
        since = int(since_text)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=64 * 1024)
    if not ws.can_prepare(request).ok:
        from .errors import error_response

        return error_response(400, "这是 WebSocket 接口：请以 WebSocket 方式连接")
    queue = hub.add()  # subscribe before replaying, so nothing falls between the two
    stamp(request, ws)  # prepared here, before the middleware sees it
    try:
        await ws.prepare(request)
    except ConnectionResetError:  # the client left during the handshake (a tab closed, a reload)
        hub.remove(queue)  # else its queue would keep collecting every event for no one
        return ws
    hub.sockets.add(ws)
    sender = asyncio.create_task(_send(ws, queue, request, since))
    try:
        async for msg in ws:  # clients send nothing meaningful; reading handles ping/close
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        hub.remove(queue)
        hub.sockets.discard(ws)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
    return ws


async def _send(ws: web.WebSocketResponse, queue: asyncio.Queue[str | None], request: web.Request, since: int | None) -> None:
    last = since or 0
    if since is not None:
        store = request.app[RUNTIME].store
        for event in await asyncio.to_thread(store.events_since, since, REPLAY_LIMIT):
            await ws.send_str(event_json(event))
            last = event.id
    while True:
        message = await queue.get()
        if message is None:
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow; reconnect with since")
            return
        # Skip what the replay already sent.
        if since is not None and json.loads(message)["id"] <= last:
            continue
        await ws.send_str(message)
