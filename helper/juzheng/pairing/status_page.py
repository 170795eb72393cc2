"""The local status page: confirm pairing, see and revoke paired browsers, without a terminal.

It is where the seller answers 「允许 举证助手扩展 连接本机助手？」, so no web page and no other
extension may ever act on it. It runs on its own 127.0.0.1 port (not the API's), and:

- it is opened only through a one-time URL that the tray (or ``juzheng pair --page``, which holds
  the keyring secret) mints: ``/open?t=…`` — valid 2 minutes, used once — which sets an HttpOnly,
  ``SameSite=Strict`` session cookie and redirects to ``/``; without that cookie every page is 403;
- every change is a POST that needs the session cookie, the session's CSRF token in the form, and
  an ``Origin`` equal to the page's own (cross-site form posts and ``fetch`` from a web page fail
  all three); ``Sec-Fetch-Site``, when sent, must be ``same-origin``;
- the Host must be 127.0.0.1 or localhost with this port (DNS rebinding);
- it may not be framed (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``), so a page cannot
  trick a click on 允许; no script runs but its own (``script-src 'self'``).
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from .auth import PairingError
from .identity import OWN_EXTENSION_ID

if TYPE_CHECKING:  # the runtime imports every part of the helper, this page among them
    from ..runtime import Runtime

log = logging.getLogger(__name__)

OPEN_TTL_SECONDS = 120.0
SESSION_TTL_SECONDS = 8 * 3600.0
MAX_SESSIONS = 8
MAX_OPEN_TOKENS = 16
COOKIE = "jz_status"
FORM_LIMIT = 8 * 1024

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it Chromium sends "Origin: null" on the page's own form posts.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass
class _Session:
    csrf: str
    expires: float
    seen: float = 0.0


@dataclass
class StatusPage:
    """Owns the one-time tokens and sessions; ``app()`` is the aiohttp application that serves it."""

    runtime: Runtime
    clock: Callable[[], float] = time.monotonic
    port: int = 0
    _open: dict[str, float] = field(default_factory=dict)
    _sessions: dict[str, _Session] = field(default_factory=dict)

    # -- who may open it ------------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def one_time_url(self) -> str:
        now = self.clock()
        self._open = {t: exp for t, exp in self._open.items() if exp > now}
        while len(self._open) >= MAX_OPEN_TOKENS:
            del self._open[min(self._open, key=self._open.__getitem__)]
        token = secrets.token_urlsafe(24)
        self._open[token] = now + OPEN_TTL_SECONDS
        return f"{self.origin}/open?t={token}"

    def recently_viewed(self, seconds: float = 6.0) -> bool:
        """A status page is open and polling: no need to open another for a new pairing ask."""
        now = self.clock()
        return any(now - s.seen < seconds and s.expires > now for s in self._sessions.values())

    def _session(self, request: web.Request) -> _Session | None:
        sid = request.cookies.get(COOKIE, "")
        session = self._sessions.get(sid) if 0 < len(sid) < 100 else None
        if session is None or session.expires < self.clock():
            return None
        return session

    # -- the application ------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=FORM_LIMIT)
        app.router.add_get("/open", self._open_page)
        app.router.add_get("/", self._index)
        app.router.add_get("/state", self._state)
        app.router.add_get("/page.css", self._css)
        app.router.add_get("/page.js", self._js)
        app.router.add_post("/answer", self._answer)
        app.router.add_post("/code", self._code)
        app.router.add_post("/revoke", self._revoke)
        app.router.add_post("/allow", self._allow)
        app.router.add_post("/disallow", self._disallow)
        app.on_response_prepare.append(_headers)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        host = (request.headers.get("Host") or "").lower()
        if host not in (f"127.0.0.1:{self.port}", f"localhost:{self.port}"):
            return _refuse(403, "Host 不被接受")
        if request.path == "/open":
            return await handler(request)
        session = self._session(request)
        if session is None:
            return _refuse(403, "请从托盘图标（或 juzheng pair --page）打开状态页：这个地址只能由助手打开。")
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin not in (self.origin, f"http://localhost:{self.port}"):
                return _refuse(403, "拒绝：请求不是来自状态页本身")
            if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
                return _refuse(403, "拒绝：跨站请求")
            form = await request.post()
            if not hmac.compare_digest(str(form.get("csrf", "")).encode(), session.csrf.encode()):
                return _refuse(403, "页面已过期，请刷新后再试")
        session.seen = self.clock()
        return await handler(request)

    async def _open_page(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("t", "")
        expires = self._open.pop(token, None) if 0 < len(token) < 100 else None
        if expires is None or expires < self.clock():
            return _refuse(403, "这个地址已用过或已过期：请从托盘图标重新打开状态页。")
        now = self.clock()
        self._sessions = {k: s for k, s in self._sessions.items() if s.expires > now}
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[min(self._sessions, key=lambda k: self._sessions[k].expires)]
        sid = secrets.token_urlsafe(24)
        self._sessions[sid] = _Session(csrf=secrets.token_urlsafe(24), expires=now + SESSION_TTL_SECONDS, seen=now)
        response = web.HTTPSeeOther("/")
        response.set_cookie(COOKIE, sid, httponly=True, samesite="Strict", path="/", max_age=int(SESSION_TTL_SECONDS))
        return response

    async def _state(self, request: web.Request) -> web.Response:
        """What the page shows, as a fingerprint: page.js reloads when it changes."""
        rt = self.runtime
        code = rt.auth.current_code()
        parts = [a.id for a in rt.asks.pending()] + [b.id for b in rt.paired_browsers()] + [code.code if code else ""]
        return web.json_response({"version": "|".join(parts)})

    async def _index(self, request: web.Request) -> web.Response:
        session = self._session(request)
        assert session is not None
        return web.Response(text=render(self.runtime, session.csrf, request.query.get("msg", "")), content_type="text/html")

    # -- actions --------------------------------------------------------------------------------
    async def _answer(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        allow = form.get("answer") == "allow"
        try:
            ask = self.runtime.asks.answer(str(form.get("ask", "")), allow)
        except PairingError as exc:
            return _back(exc.message)
        who = f"{ask.extension_label}（{ask.browser_name}）"
        return _back(f"已允许 {who} 连接本机助手。" if allow else f"已拒绝 {who} 的配对请求。")

    async def _code(self, request: web.Request) -> web.StreamResponse:
        issued = self.runtime.auth.new_code()
        return _back(f"新的配对码：{issued.code}（10 分钟内有效）")

    async def _revoke(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        browser_id = str(form.get("browser", ""))
        names = {b.id: b.name for b in self.runtime.paired_browsers()}
        if not self.runtime.revoke_browser(browser_id):
            return _back("没有这个已配对的浏览器（可能已撤销）。")
        return _back(f"已撤销「{names.get(browser_id, '浏览器')}」：它需要重新配对才能连接。")

    async def _allow(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        try:
            self.runtime.policy.allow([str(form.get("extension", ""))])
        except ValueError as exc:
            return _back(str(exc))
        return _back("已允许这个扩展 ID 发起配对（每次配对仍需您确认）。")

    async def _disallow(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        self.runtime.policy.disallow(str(form.get("extension", "")))
        return _back("已移除这个扩展 ID。")

    async def _css(self, request: web.Request) -> web.Response:
        return web.Response(text=CSS, content_type="text/css")

    async def _js(self, request: web.Request) -> web.Response:
        return web.Response(text=JS, content_type="text/javascript")


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value


def _refuse(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=page_shell("举证助手", f'<p class="error">{html.escape(message)}</p>'), content_type="text/html")


def _back(message: str) -> web.StreamResponse:
    from urllib.parse import quote

    return web.HTTPSeeOther("/?msg=" + quote(message[:200]))


# -- rendering (pure) -------------------------------------------------------------------------------
def page_shell(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        '<link rel="stylesheet" href="/page.css"></head><body><main>'
        f'<header><span class="logo">证</span><h1>{html.escape(title)}</h1></header>{body}</main>'
        '<script src="/page.js"></script></body></html>'
    )


def _local(dt: datetime) -> str:
    return dt.astimezone().strftime("%Y-%m-%d %H:%M")


def render(rt: Runtime, csrf: str, message: str = "") -> str:
    e = html.escape
    token = f'<input type="hidden" name="csrf" value="{e(csrf)}">'
    out = []
    if message:
        out.append(f'<p class="message" role="status" data-role="message">{e(message)}</p>')
    asks = rt.asks.pending()
    out.append('<section class="card"><h2>配对请求</h2>')
    if not asks:
        out.append('<p class="muted">没有等待确认的配对请求。在浏览器扩展的「选项」页点「开始配对」后，请求会出现在这里。</p>')
    for ask in asks:
        warn = "" if ask.extension_id == OWN_EXTENSION_ID else '<p class="error">注意：这不是举证助手官方扩展的 ID。只有您自己安装的扩展才应允许。</p>'
        out.append(
            f'<div class="ask" data-role="ask" data-ask-id="{e(ask.id)}"><p class="question">{e(ask.question)}</p>'
            f'<p class="muted">浏览器：{e(ask.browser_name)} · 扩展 ID：<code>{e(ask.extension_id)}</code> · 请求时间：{e(_local(ask.created_at))}</p>{warn}'
            f'<form method="post" action="/answer">{token}<input type="hidden" name="ask" value="{e(ask.id)}">'
            '<button name="answer" value="allow" data-role="allow">允许</button> '
            '<button name="answer" value="deny" class="secondary" data-role="deny">拒绝</button></form></div>'
        )
    code = rt.auth.current_code()
    code_text = f'配对码：<strong data-role="code">{e(code.code)}</strong>（{e(_local(code.expires_at))} 前有效）' if code else "也可以用 6 位配对码配对："
    out.append(
        f'<p class="muted">{code_text}</p><form method="post" action="/code">{token}'
        '<button class="secondary" data-role="new-code">生成配对码</button></form></section>'
    )
    out.append('<section class="card"><h2>已配对的浏览器</h2>')
    browsers = rt.paired_browsers()
    if not browsers:
        out.append('<p class="muted">还没有配对的浏览器。</p>')
    else:
        out.append("<table><thead><tr><th>浏览器</th><th>配对时间</th><th>扩展</th><th></th></tr></thead><tbody>")
        for b in browsers:
            ext = b.origin.split("://", 1)[-1]
            label = "举证助手扩展" if ext == OWN_EXTENSION_ID else f"扩展 {ext}"
            out.append(
                f'<tr data-role="browser" data-browser-id="{e(b.id)}"><td>{e(b.name)}</td><td>{e(_local(b.paired_at))}</td><td>{e(label)}</td>'
                f'<td><form method="post" action="/revoke">{token}<input type="hidden" name="browser" value="{e(b.id)}">'
                '<button class="secondary" data-role="revoke">撤销</button></form></td></tr>'
            )
        out.append("</tbody></table>")
    out.append("</section>")
    allowed = rt.policy.seller_allowed()
    rows = "".join(
        f'<li><code>{e(i)}</code> <form method="post" action="/disallow" class="inline">{token}'
        f'<input type="hidden" name="extension" value="{e(i)}"><button class="secondary">移除</button></form></li>'
        for i in allowed
    )
    out.append(
        '<section class="card"><h2>允许其他扩展</h2><p class="muted">默认只接受举证助手扩展（ID '
        f'<code>{OWN_EXTENSION_ID}</code>）。从应用商店安装的版本 ID 可能不同：在浏览器的扩展管理页找到它的 ID，填在这里。</p>'
        f'<ul>{rows}</ul><form method="post" action="/allow">{token}'
        '<input name="extension" maxlength="64" placeholder="32 位扩展 ID" aria-label="扩展 ID"> <button class="secondary">允许</button></form></section>'
    )
    return page_shell("举证助手 · 本机状态", "".join(out))


CSS = """
body { font: 15px/1.6 system-ui, "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif; background: #f6f8fa; color: #1f2328; margin: 0; }
main { max-width: 640px; margin: 24px auto; padding: 0 16px; }
header { display: flex; align-items: center; gap: 10px; }
.logo { display: inline-grid; place-items: center; width: 32px; height: 32px; border-radius: 8px; background: #cf222e; color: #fff; font-weight: 700; }
h1 { font-size: 20px; margin: 0; } h2 { font-size: 16px; margin: 0 0 8px; }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 16px; margin: 16px 0; }
.question { font-size: 17px; font-weight: 600; margin: 0 0 4px; }
.muted { color: #57606a; font-size: 13px; } .error { color: #cf222e; } .message { background: #dafbe1; border-radius: 6px; padding: 8px 12px; }
button { font: inherit; padding: 6px 16px; border-radius: 6px; border: 1px solid #1a7f37; background: #1f883d; color: #fff; cursor: pointer; }
button.secondary { background: #f6f8fa; color: #1f2328; border-color: #d0d7de; }
table { width: 100%; border-collapse: collapse; font-size: 14px; } td, th { text-align: left; padding: 4px 6px; border-top: 1px solid #eaeef2; }
form.inline { display: inline; } input { font: inherit; padding: 5px 8px; border: 1px solid #d0d7de; border-radius: 6px; width: 300px; }
code { font-size: 12px; }
"""

# Reload when something changed (a new ask, a revoke from the tray), so the page never shows stale buttons.
JS = """
(function () {
  "use strict";
  let seen = null;
  async function check() {
    try {
      const r = await fetch("/state", { cache: "no-store", credentials: "same-origin" });
      if (!r.ok) return;
      const v = (await r.json()).version;
      if (seen !== null && v !== seen) location.replace("/");
      seen = v;
    } catch (_) { /* the helper stopped: keep the page as it is */ }
  }
  check();
  setInterval(check, 1500);
})();
"""


STATUS_PAGE_CONNECTIONS = 64  # one seller's browser: a few tabs of this page at most


async def start_status_page(runtime: Runtime, port: int = 0) -> tuple[StatusPage, web.AppRunner]:
    """Serve the status page on 127.0.0.1 (a free port unless given); stop with ``runner.cleanup()``."""
    from ..server.connections import KEEPALIVE_TIMEOUT, GuardedSite, header_timeout_from_env

    page = StatusPage(runtime)
    runner = web.AppRunner(page.app(), handle_signals=False, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT)
    await runner.setup()
    # Guarded like the API's port and with a small cap of its own: the process shares one descriptor
    # limit, and slow sockets against this port would otherwise starve the extension's.
    site = GuardedSite(runner, "127.0.0.1", port, limit=STATUS_PAGE_CONNECTIONS, header_timeout=header_timeout_from_env())
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    page.port = int(sockets[0].getsockname()[1]) if sockets else port
    runtime.status_page = page
    return page, runner
