"""Typed keys of what the aiohttp application carries."""

from __future__ import annotations

from aiohttp import web

from ..runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)
