"""Typed keys of what the aiohttp application carries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)
# The OpenAPI document of the app's route table, built on first use.
OPENAPI: web.AppKey[Callable[[], dict[str, Any]]] = web.AppKey("openapi")
