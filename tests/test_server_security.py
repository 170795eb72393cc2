"""Every security rule of the local API, each with its own test, against the real ``juzheng serve``."""

from __future__ import annotations

import hmac
import http.client
import json

import pytest

from juzheng import API_VERSION
from juzheng.pairing import Auth
from juzheng.server.routes import ROUTES

OTHER_EXTENSION = "chrome-extension://" + "ponmlkjihgfedcba" * 2
PROTECTED = [r for r in ROUTES if r.auth == "token"]


def raw(helper, method: str, target: str, headers: dict[str, str] | None = None, body: bytes | None = None, host: bool = True):
    """http.client without any client-side path cleaning; ``host=False`` sends no Host header."""
    conn = http.client.HTTPConnection("127.0.0.1", helper.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=not host, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def concrete(path: str) -> str:
    return path.replace("{case_id}", "1").replace("{evidence_id}", "1")


# -- 401 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_every_protected_route_needs_a_token(module_helper, route):
    response = module_helper.request(route.method, concrete(route.path), json_body={}, auth=False)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.json()


def test_wrong_token_is_401(module_helper):
    token = module_helper.token
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (forged, "ext.x.y", "", "Bearer", token + "x"):
        response = module_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {bad}"}, auth=False)
        assert response.status == 401, bad


def test_token_in_other_scheme_or_query_is_not_accepted(module_helper):
    token = module_helper.token
    assert module_helper.request("GET", "/api/cases", headers={"Authorization": f"Basic {token}"}, auth=False).status == 401
    assert module_helper.request("GET", f"/api/cases?token={token}", auth=False).status == 401


def test_extension_token_cannot_call_admin_routes(module_helper):
    for path in ("/api/pair/code", "/api/pair/revoke"):
        assert module_helper.request("POST", path).status == 401


def test_public_routes_need_no_token(module_helper):
    assert module_helper.request("GET", "/api/health", auth=False).status == 200
    assert module_helper.request("GET", "/api/openapi.json", auth=False).status == 200


# -- Origin -------------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:8000", "http://localhost", "null", "file://", "https://mms.pinduoduo.com"])
@pytest.mark.parametrize("path", ["/api/cases", "/api/health", "/api/rules"])
def test_web_origin_is_403_even_with_a_token(module_helper, origin, path):
    response = module_helper.request("GET", path, headers={"Origin": origin})
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_pairing_from_a_web_origin_or_without_origin_is_403(module_helper):
    for headers in ({"Origin": "https://evil.example"}, {}):
        response = module_helper.request("POST", "/api/pair", json_body={"code": "123456"}, headers=headers, auth=False)
        assert response.status == 403


def test_another_extension_origin_is_403_with_a_valid_token(module_helper):
    response = module_helper.request("GET", "/api/cases", headers={"Origin": OTHER_EXTENSION})
    assert response.status == 403


def test_admin_routes_refuse_any_origin(module_helper):
    response = module_helper.request("POST", "/api/pair/code", headers={"Origin": module_helper.origin}, auth=False)
    assert response.status == 403


# -- CORS ---------------------------------------------------------------------------------------
def test_cors_names_only_the_paired_origin(module_helper):
    response = module_helper.request("GET", "/api/cases", headers={"Origin": module_helper.origin})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == module_helper.origin
    assert response.headers["Vary"] == "Origin"
    # No Origin (the service worker's GETs): no CORS headers at all.
    plain = module_helper.request("GET", "/api/cases")
    assert "Access-Control-Allow-Origin" not in plain.headers


def test_preflight_only_for_the_paired_origin(module_helper):
    ok = module_helper.request("OPTIONS", "/api/cases/detect", headers={"Origin": module_helper.origin, "Access-Control-Request-Method": "POST"}, auth=False)
    assert ok.status == 204
    assert ok.headers["Access-Control-Allow-Origin"] == module_helper.origin
    for origin in (OTHER_EXTENSION, "https://evil.example"):
        refused = module_helper.request("OPTIONS", "/api/cases/detect", headers={"Origin": origin}, auth=False)
        assert refused.status == 403
        assert "Access-Control-Allow-Origin" not in refused.headers


def test_no_response_ever_carries_wildcard_cors(module_helper):
    origins = [None, module_helper.origin, OTHER_EXTENSION, "https://evil.example"]
    for route in ROUTES:
        for origin in origins:
            headers = {"Origin": origin} if origin else {}
            r = module_helper.request(route.method, concrete(route.path), headers=headers, json_body={} if route.method != "GET" else None)
            assert r.headers.get("Access-Control-Allow-Origin") in (None, module_helper.origin), (route.path, origin)


# -- Host (DNS rebinding) -----------------------------------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1", "localhost", "127.0.0.1:1", "127.0.0.1.nip.io:{port}", "localhost.evil.example:{port}", "0.0.0.0:{port}"])
def test_foreign_host_header_is_403(module_helper, host):
    status, headers, body = raw(module_helper, "GET", "/api/health", {"Host": host.format(port=module_helper.port)}, host=False)
    assert status == 403
    assert "Host" in json.loads(body)["error"]


def test_missing_host_header_is_403(module_helper):
    # HTTP/1.1 requires Host: aiohttp's parser refuses it (400) before our middleware (403) would.
    status, _, _ = raw(module_helper, "GET", "/api/health", host=False)
    assert status in (400, 403)


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_loopback_host_headers_are_accepted(module_helper, host):
    status, _, _ = raw(module_helper, "GET", "/api/health", {"Host": host.format(port=module_helper.port)}, host=False)
    assert status == 200


# -- path normalisation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    [
        "//api/cases",
        "///api/cases",
        "/api//cases",
        "/api/health/../cases",
        "/api/health/%2e%2e/cases",
        "/api/health/%2E%2E/cases",
        "/api/health/%252e%252e/cases",
        "/api/health%2f..%2fcases",
        "/api/health%5c..%5ccases",
        "/api/./cases",
        "/api/health/./../rules",
    ],
)
def test_non_canonical_paths_cannot_skip_auth(module_helper, target):
    status, _, _ = raw(module_helper, "GET", target, {"Host": f"127.0.0.1:{module_helper.port}"}, host=False)
    assert status == 401
    # With a token, a non-canonical path is refused rather than guessed at.
    status, _, body = raw(
        module_helper, "GET", target, {"Host": f"127.0.0.1:{module_helper.port}", "Authorization": f"Bearer {module_helper.token}"}, host=False
    )
    assert status == 400
    assert "/api/" in json.loads(body)["error"]


def test_canonical_public_path_with_dots_still_needs_token_when_it_leaves_health(module_helper):
    # /api/cases/../health is /api/health: public, but refused as non-canonical, never served as cases.
    status, _, body = raw(module_helper, "GET", "/api/cases/../health", {"Host": f"127.0.0.1:{module_helper.port}"}, host=False)
    assert status == 400


# -- constant-time comparisons ------------------------------------------------------------------
def test_tokens_and_codes_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    auth = Auth(b"k" * 32)
    token = auth.issue_token()
    calls.clear()
    assert auth.check_token(token)
    assert calls, "token check must use hmac.compare_digest"
    calls.clear()
    assert not auth.check_token(token[:-1] + "x")
    assert calls
    auth.new_code()
    calls.clear()
    with pytest.raises(Exception):
        auth.redeem("000000" if auth._code != "000000" else "111111")
    assert calls, "pairing code check must use hmac.compare_digest"


# -- tickets ------------------------------------------------------------------------------------
def test_ticket_is_single_use_and_expires():
    now = [1000.0]
    auth = Auth(b"k" * 32, clock=lambda: now[0])
    ticket, ttl = auth.new_ticket()
    assert ttl == 30
    assert auth.use_ticket(ticket)
    assert not auth.use_ticket(ticket)  # single use
    late, _ = auth.new_ticket()
    now[0] += 30.5
    assert not auth.use_ticket(late)  # expired
    assert not auth.use_ticket("")


def test_event_socket_needs_a_ticket_not_a_token(module_helper):
    # Without a WebSocket upgrade the middleware still refuses before anything else.
    assert module_helper.request("GET", "/api/events").status == 401
    assert module_helper.request("GET", f"/api/events?ticket={module_helper.token}").status == 401


# -- protocol version ---------------------------------------------------------------------------
def test_older_extension_gets_412_saying_update_the_extension(module_helper):
    response = module_helper.request("GET", "/api/cases", headers={"X-Juzheng-Api": str(API_VERSION - 1)})
    assert response.status == 412
    assert "更新浏览器扩展" in response.json()["error"]


def test_newer_extension_gets_412_saying_update_the_helper(module_helper):
    response = module_helper.request("GET", "/api/health", headers={"X-Juzheng-Api": str(API_VERSION + 1)})
    assert response.status == 412
    assert "更新本地助手" in response.json()["error"]


def test_garbage_api_version_is_412_and_matching_is_fine(module_helper):
    assert module_helper.request("GET", "/api/cases", headers={"X-Juzheng-Api": "v1"}).status == 412
    assert module_helper.request("GET", "/api/cases", headers={"X-Juzheng-Api": str(API_VERSION)}).status == 200


def test_every_response_names_the_helper_version(module_helper):
    for path, auth in (("/api/health", False), ("/api/cases", False), ("/api/nope", True), ("/api/cases", True)):
        response = module_helper.request("GET", path, auth=auth)
        assert response.headers.get("X-Juzheng-Version"), (path, response.status)
    status, headers, _ = raw(module_helper, "GET", "/api/health", {"Host": "evil.example"}, host=False)
    assert status == 403 and headers.get("X-Juzheng-Version")


# -- body limits and validation -----------------------------------------------------------------
def test_oversized_json_body_is_413(module_helper):
    body = json.dumps({"platform": "pinduoduo", "order_id": "1", "page_text": "字" * (1024 * 1024)}).encode()
    response = module_helper.request("POST", "/api/cases/detect", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert "error" in response.json()


def test_malformed_json_is_400_with_detail(module_helper):
    response = module_helper.request("POST", "/api/cases/detect", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status == 400
    data = response.json()
    assert data["error"] and data["detail"] and data["detail"][0]["type"] == "json_invalid"


def test_schema_violation_is_400_with_pydantic_detail(module_helper):
    response = module_helper.request("POST", "/api/cases/detect", json_body={"platform": "pinduoduo", "order_id": "", "bogus": 1})
    assert response.status == 400
    detail = response.json()["detail"]
    locs = {tuple(d["loc"]) for d in detail}
    assert ("order_id",) in locs and ("bogus",) in locs
    assert all({"loc", "msg", "type"} <= set(d) for d in detail)


def test_unknown_route_and_method_are_json_errors(module_helper):
    missing = module_helper.request("GET", "/api/nope")
    assert missing.status == 404 and "error" in missing.json()
    wrong = module_helper.request("PUT", "/api/cases")
    assert wrong.status == 405 and "error" in wrong.json()


# -- no-cors probes from web pages (no Origin header, but Sec-Fetch-Site) -------------------------
# A page's <img src>, <script src> or fetch(mode: "no-cors") GET carries no Origin, so the Origin
# check alone let any site learn that the helper is installed from /api/health's answer.
@pytest.mark.parametrize("site", ["cross-site", "same-site", "same-origin"])
@pytest.mark.parametrize("path", ["/api/health", "/api/openapi.json", "/api/cases", "/api/nope", "/"])
def test_web_page_no_cors_probe_gets_no_answer_on_every_route(module_helper, site, path):
    """Even a 403 would resolve the page's fetch(no-cors) and reveal the helper: it gets no HTTP answer."""
    try:
        status, headers, body = raw(module_helper, "GET", path, {
            "Host": f"127.0.0.1:{module_helper.port}", "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image",
        }, host=False)
    except (http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine):
        return
    pytest.fail(f"{path} answered a web page's probe: {status} {headers} {body[:200]!r}")


def test_extension_requests_with_fetch_metadata_are_served(module_helper):
    # The extension's service worker: Sec-Fetch-Site none (host permission) or cross-site with its Origin.
    for extra in ({"Sec-Fetch-Site": "none"}, {"Sec-Fetch-Site": "cross-site", "Origin": module_helper.origin}):
        status, _, body = raw(module_helper, "GET", "/api/health", {"Host": f"127.0.0.1:{module_helper.port}", **extra}, host=False)
        assert status == 200, (extra, body)
    assert module_helper.request("GET", "/api/health", auth=False).status == 200  # the CLI: no fetch metadata
