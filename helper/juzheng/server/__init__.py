"""The local HTTP/WebSocket API (aiohttp): app factory, security middleware, routes, events, OpenAPI."""

from .app import create_app

__all__ = ["create_app"]
