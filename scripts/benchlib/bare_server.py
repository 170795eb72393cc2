"""The API benchmark's baseline: a bare aiohttp handler answering GET /api/cases/{id} with fixed bytes.

Run as a subprocess, the same way the helper runs (same Python, same aiohttp, default event loop, no
access log): ``python bare_server.py --port N --body FILE``. Prints ``ready`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from aiohttp import web


def app_for(body: bytes) -> web.Application:
    async def case(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/cases/{case_id}", case)
    app.router.add_get("/api/cases", case)  # the list rows serve the helper's list bytes the same way
    return app


async def serve(port: int, body: bytes) -> None:
    runner = web.AppRunner(app_for(body), handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--body", type=Path, required=True)
    args = p.parse_args()
    asyncio.run(serve(args.port, args.body.read_bytes()))


if __name__ == "__main__":
    main()
