"""Pairing, lockout, revocation, and running ``juzheng serve`` itself (lock, port, keyring, signals)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from juzheng.pairing import Auth, PairingError
from juzheng.pairing.auth import LOCK_SECONDS, MAX_WRONG_CODES
from juzheng.pairing.identity import OWN_EXTENSION_ID, extension_id_from_key

from fixtures.helper_process import DEFAULT_ORIGIN, REPO, make_helper

OTHER_EXTENSION = "chrome-extension://" + "ponmlkjihgfedcba" * 2
OWN_ORIGIN = f"chrome-extension://{OWN_EXTENSION_ID}"


def new_code(helper) -> str:
    done = helper.cli("pair", "--json", "--state-dir", str(helper.state_dir))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["code"]


def redeem(helper, code: str, origin: str = DEFAULT_ORIGIN):
    return helper.request("POST", "/api/pair", json_body={"code": code}, headers={"Origin": origin}, auth=False)


def test_pair_json_prints_a_six_digit_code_valid_ten_minutes(running_helper):
    done = running_helper.cli("pair", "--json", "--state-dir", str(running_helper.state_dir))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"code", "expires_at"}
    assert len(data["code"]) == 6 and data["code"].isdigit()
    expires = datetime.fromisoformat(data["expires_at"])
    assert timedelta(minutes=9) < expires - datetime.now(timezone.utc) <= timedelta(minutes=10)


def test_pair_text_output_tells_where_to_type_it(running_helper):
    done = running_helper.cli("pair", "--state-dir", str(running_helper.state_dir))
    assert done.returncode == 0
    assert "配对码" in done.stdout and "选项" in done.stdout


def test_code_is_single_use_and_token_works(running_helper):
    code = new_code(running_helper)
    first = redeem(running_helper, code)
    assert first.status == 200
    token = first.json()["token"]
    assert first.json()["origin"] == DEFAULT_ORIGIN
    again = redeem(running_helper, code)
    assert again.status == 403
    ok = running_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {token}"}, auth=False)
    assert ok.status == 200


def test_wrong_codes_from_one_origin_do_not_lock_out_another(running_helper):
    """Another program sending wrong codes must not lock the seller's own extension out."""
    code = new_code(running_helper)
    wrong = "000000" if code != "000000" else "111111"
    for attempt in range(1, MAX_WRONG_CODES):
        r = redeem(running_helper, wrong, OTHER_EXTENSION)
        assert r.status == 403
        assert r.json()["attempts_left"] == MAX_WRONG_CODES - attempt
    locked = redeem(running_helper, wrong, OTHER_EXTENSION)
    assert locked.status == 429 and locked.json()["code"] == "pair_rate_limited"
    assert "秒后再试" in locked.json()["error"]
    # That origin waits, even with the right code; the code itself is still good for the others.
    assert redeem(running_helper, code, OTHER_EXTENSION).status == 429
    assert redeem(running_helper, code).status == 200


def test_origin_lock_doubles_and_expires():
    now = [0.0]
    auth = Auth(b"k" * 32, clock=lambda: now[0])
    code = auth.new_code().code
    wrong = "000000" if code != "000000" else "111111"

    def burn() -> None:
        for _ in range(MAX_WRONG_CODES):
            with pytest.raises(PairingError):
                auth.redeem(wrong, "chrome-extension://x")

    burn()
    with pytest.raises(PairingError) as info:
        auth.redeem(code, "chrome-extension://x")
    assert info.value.code == "pair_rate_limited"
    now[0] += LOCK_SECONDS + 1
    burn()  # five more tries after the first wait, then twice as long
    now[0] += LOCK_SECONDS + 1
    with pytest.raises(PairingError) as info:
        auth.redeem(code, "chrome-extension://x")
    assert info.value.code == "pair_rate_limited"
    now[0] += LOCK_SECONDS
    assert auth.check_token(auth.redeem(code, "chrome-extension://x"))


@pytest.mark.helper_options(origin=OWN_ORIGIN, env={"JUZHENG_EXTENSION_IDS": ""})
def test_only_our_own_extension_id_may_pair(running_helper):
    """Another extension (or a local program posing as one) is refused before it can try a code."""
    code = new_code(running_helper)
    for _ in range(MAX_WRONG_CODES + 2):
        refused = redeem(running_helper, code, OTHER_EXTENSION)
        assert refused.status == 403 and refused.json()["code"] == "pair_refused"
        assert "不是举证助手扩展" in refused.json()["error"]
    asked = running_helper.request("POST", "/api/pair/ask", json_body={"browser": "x"}, headers={"Origin": OTHER_EXTENSION}, auth=False)
    assert asked.status == 403
    ok = redeem(running_helper, code, OWN_ORIGIN)
    assert ok.status == 200 and ok.json()["origin"] == OWN_ORIGIN


@pytest.mark.helper_options(origin=OWN_ORIGIN, env={"JUZHENG_EXTENSION_IDS": ""})
def test_the_seller_can_allow_another_extension_id(running_helper):
    other_id = OTHER_EXTENSION.split("//")[1]
    done = running_helper.cli("pair", "--allow", other_id, "--json", "--state-dir", str(running_helper.state_dir))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"allowed": [other_id]}
    assert redeem(running_helper, new_code(running_helper), OTHER_EXTENSION).status == 200
    bad = running_helper.cli("pair", "--allow", "https://evil.example", "--state-dir", str(running_helper.state_dir))
    assert bad.returncode == 2 and "扩展 ID 格式不对" in bad.stderr


def test_own_extension_id_is_the_one_the_manifest_key_gives():
    manifest = json.loads((REPO / "extension" / "manifest.json").read_text(encoding="utf-8"))
    assert extension_id_from_key(manifest["key"]) == OWN_EXTENSION_ID


def test_expired_code_is_refused():
    now = [0.0]
    auth = Auth(b"k" * 32, clock=lambda: now[0])
    issued = auth.new_code()
    now[0] += 10 * 60 + 1
    with pytest.raises(PairingError) as info:
        auth.redeem(issued.code)
    assert info.value.code == "pair_refused" and "过期" in info.value.message


def test_two_browsers_stay_paired_and_cors_names_each(running_helper):
    token_a = running_helper.token
    token_b = redeem(running_helper, new_code(running_helper), OTHER_EXTENSION).json()["token"]
    for token, origin in ((token_a, DEFAULT_ORIGIN), (token_b, OTHER_EXTENSION)):
        r = running_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {token}", "Origin": origin}, auth=False)
        assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == origin
    web = running_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {token_a}", "Origin": "https://evil.example"}, auth=False)
    assert web.status == 403 and "Access-Control-Allow-Origin" not in web.headers


def test_revoke_invalidates_every_token(running_helper):
    old = running_helper.token
    done = running_helper.cli("pair", "--revoke", "--state-dir", str(running_helper.state_dir))
    assert done.returncode == 0, done.stderr
    assert "重新配对" in done.stdout
    assert running_helper.request("GET", "/api/cases").status == 401
    assert running_helper.request("GET", "/api/health").json()["paired"] is False
    running_helper.pair()
    assert running_helper.token != old
    assert running_helper.request("GET", "/api/cases").status == 200


def test_revoke_while_stopped_still_invalidates(running_helper):
    running_helper.stop()
    done = running_helper.cli("pair", "--revoke", "--state-dir", str(running_helper.state_dir))
    assert done.returncode == 0, done.stderr
    running_helper.start()
    assert running_helper.request("GET", "/api/cases").status == 401
    assert running_helper.request("GET", "/api/health").json()["paired"] is False


def test_restart_keeps_token_cases_and_pairing(running_helper):
    body = {"platform": "pinduoduo", "order_id": "201123-000000000000001", "request_text": "买家反馈未收到商品"}
    created = running_helper.request("POST", "/api/cases/detect", json_body=body).json()
    running_helper.restart()
    again = running_helper.request("GET", f"/api/cases/{created['id']}")
    assert again.status == 200
    assert again.json()["scenario"] == created["scenario"] == "pinduoduo.not_received"
    assert again.json()["deadline_at"] == created["deadline_at"]
    assert running_helper.request("GET", "/api/health").json()["paired"] is True


def test_pair_without_a_running_helper_says_start_it(secret_service, tmp_path):
    helper = make_helper(tmp_path, secret_service.env)
    done = helper.cli("pair", "--state-dir", str(helper.state_dir))
    assert done.returncode == 6  # juzheng.cli.exit_codes.NOT_RUNNING (3 is ALREADY_RUNNING)
    assert "juzheng serve" in done.stderr


# -- juzheng serve ------------------------------------------------------------------------------
def serve(helper, *extra: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(helper.command() + list(extra), env=helper.env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_no_keyring_refuses_to_start_with_a_fix(secret_service, tmp_path):
    helper = make_helper(tmp_path, secret_service.env, env={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"})
    done = serve(helper)
    assert done.returncode == 4
    assert "钥匙串" in done.stderr and "--insecure-file-secret" in done.stderr
    assert not (helper.state_dir / "juzheng.sqlite3").exists()


def test_insecure_file_secret_is_an_explicit_opt_in(secret_service, tmp_path):
    helper = make_helper(tmp_path, secret_service.env, env={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"}, args=["--insecure-file-secret"])
    helper.start()
    try:
        secret = helper.state_dir / "secret.key"
        assert secret.exists()
        if os.name == "posix":
            assert secret.stat().st_mode & 0o777 == 0o600
        helper.pair()
        assert helper.request("GET", "/api/cases").status == 200
        assert "secret.key" in helper.output()
    finally:
        helper.stop()


def test_second_instance_on_the_same_state_dir_exits(running_helper):
    other = make_helper(running_helper.state_dir.parent / "second", running_helper.env, state_dir=running_helper.state_dir)
    done = serve(other)
    assert done.returncode == 3
    assert "已在使用" in done.stderr and str(running_helper.port) in done.stderr
    assert running_helper.request("GET", "/api/health").status == 200


def test_port_taken_is_reported_never_silently_changed(secret_service, tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        helper = make_helper(tmp_path, secret_service.env, port=port)
        done = serve(helper)
    assert done.returncode == 5
    assert str(port) in done.stderr and "--port" in done.stderr and "选项" in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signals_stop_cleanly(helper_factory, sig):
    helper = helper_factory(pair=False)
    state_dir = helper.state_dir
    assert (state_dir / "helper.json").exists()
    code = helper.stop(sig)
    assert code == 0
    assert "已停止" in helper.output()
    assert "Traceback" not in helper.output()
    assert not (state_dir / "helper.json").exists()


def test_environment_variables_configure_serve(secret_service, tmp_path):
    helper = make_helper(tmp_path, secret_service.env)
    helper.env.update(
        JUZHENG_ROOT=str(tmp_path / "env-root"), JUZHENG_STATE_DIR=str(tmp_path / "env-state"), JUZHENG_PORT=str(helper.port)
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "juzheng", "serve", "--no-tray", "--no-notify", "--rules", str(helper.rules_dir)],
        env=helper.env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "env-state" / "helper.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        info = json.loads((tmp_path / "env-state" / "helper.json").read_text(encoding="utf-8"))
        assert info["port"] == helper.port
        assert (tmp_path / "env-root").is_dir()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert f"127.0.0.1:{helper.port}" in out


def test_serve_with_the_tray_runs_headless_without_a_display(helper_factory):
    helper = helper_factory(tray=True, env={"DISPLAY": ""})
    assert helper.request("GET", "/api/cases").status == 200
    assert helper.stop() == 0
    assert "Traceback" not in helper.output()


def test_broken_rules_at_start_are_listed_with_file_and_line(secret_service, tmp_path):
    helper = make_helper(tmp_path, secret_service.env)
    path = helper.rules_dir / "platforms" / "pinduoduo.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("evidence_window:", "evidence_windw:", 1), encoding="utf-8")
    done = serve(helper)
    assert done.returncode == 1
    assert "pinduoduo.yaml:" in done.stderr and "evidence_windw" in done.stderr


def test_bad_port_setting_is_explained(secret_service, tmp_path):
    helper = make_helper(tmp_path, secret_service.env)
    done = subprocess.run(
        [sys.executable, "-m", "juzheng", "serve", "--no-tray", "--no-notify", "--state-dir", str(helper.state_dir)],
        env={**helper.env, "JUZHENG_PORT": "abc"}, cwd=REPO, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 2 and "JUZHENG_PORT" in done.stderr
    done = serve(helper, "--port", "70000")
    assert done.returncode == 2 and "1–65535" in done.stderr


def test_sigterm_with_an_open_event_socket_stops_without_waiting_out_the_socket(helper_factory):
    """The extension keeps /api/events open all day: stopping the helper must not wait for it to hang up."""
    import asyncio

    import aiohttp

    helper = helper_factory()
    ticket = helper.request("POST", "/api/events/ticket", headers={"Origin": helper.origin}).json()["ticket"]

    async def hold_socket_while_stopping() -> tuple[int | None, object]:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"{helper.url}/api/events?ticket={ticket}", headers={"Origin": helper.origin})
            helper.process.send_signal(signal.SIGTERM)
            message = await asyncio.wait_for(ws.receive(), timeout=20)  # the helper closes it, not a timeout
            code = await asyncio.to_thread(helper.process.wait, 20)
            return code, message.type

    code, message_type = asyncio.run(hold_socket_while_stopping())
    assert message_type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert code == 0
    assert "Traceback" not in helper.output()


# -- pairing by confirmation, and the local status page -------------------------------------------
class StatusPage:
    """The seller's side, as a browser would be: one-time URL → cookie → forms with the CSRF token."""

    def __init__(self, helper) -> None:
        done = helper.cli("pair", "--page", "--json", "--state-dir", str(helper.state_dir))
        assert done.returncode == 0, done.stderr
        self.open_url = json.loads(done.stdout)["url"]
        parts = urllib.parse.urlsplit(self.open_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        with self.opener.open(self.open_url, timeout=10) as r:
            assert r.status == 200 and r.url == self.origin + "/"

    def html(self) -> str:
        with self.opener.open(self.origin + "/", timeout=10) as r:
            return r.read().decode("utf-8")

    def csrf(self) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', self.html()).group(1)

    def post(self, path: str, fields: dict[str, str], *, origin: str | None = "self", csrf: str | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode({"csrf": self.csrf() if csrf is None else csrf, **fields}).encode()
        request = urllib.request.Request(self.origin + path, data=body, method="POST")
        if origin is not None:
            request.add_header("Origin", self.origin if origin == "self" else origin)
        try:
            with self.opener.open(request, timeout=10) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")


def ask(helper, origin: str = DEFAULT_ORIGIN, browser: str = "Chrome · Windows"):
    return helper.request("POST", "/api/pair/ask", json_body={"browser": browser}, headers={"Origin": origin}, auth=False)


def ask_status(helper, created: dict, origin: str = DEFAULT_ORIGIN):
    body = {"id": created["id"], "secret": created["secret"]}
    return helper.request("POST", "/api/pair/ask/status", json_body=body, headers={"Origin": origin}, auth=False)


def ask_id_on_page(html: str) -> list[str]:
    return re.findall(r'data-ask-id="([^"]+)"', html)


def test_ask_then_allow_on_the_status_page_hands_the_token_once(running_helper):
    created = ask(running_helper)
    assert created.status == 201
    data = created.json()
    assert data["question"] == "允许 其他扩展（ID abcdefghijklmnopabcdefghijklmnop） 连接本机助手？"
    assert ask_status(running_helper, data).json()["state"] == "pending"
    page = StatusPage(running_helper)
    html = page.html()
    assert ask_id_on_page(html) == [data["id"]] and "Chrome · Windows" in html
    status, html = page.post("/answer", {"ask": data["id"], "answer": "allow"})
    assert status == 200 and "已允许" in html
    approved = ask_status(running_helper, data).json()
    assert approved["state"] == "approved" and approved["token"].startswith("ext.")
    r = running_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {approved['token']}"}, auth=False)
    assert r.status == 200
    assert ask_status(running_helper, data).status == 404  # handed out once, then forgotten
    assert "Chrome · Windows" in page.html()  # listed under 已配对的浏览器


def test_ask_denied_gives_no_token(running_helper):
    data = ask(running_helper).json()
    page = StatusPage(running_helper)
    status, html = page.post("/answer", {"ask": data["id"], "answer": "deny"})
    assert status == 200 and "已拒绝" in html
    denied = ask_status(running_helper, data).json()
    assert denied["state"] == "denied" and denied["token"] is None


def test_only_the_asking_extension_can_collect(running_helper):
    data = ask(running_helper).json()
    assert ask_status(running_helper, {**data, "secret": "x" * 32}).status == 404
    assert ask_status(running_helper, data, OTHER_EXTENSION).status == 404
    assert running_helper.request("POST", "/api/pair/ask/status", json_body={"id": data["id"], "secret": data["secret"]}, auth=False).status == 403


def test_asks_are_rate_limited_per_origin(running_helper):
    for _ in range(3):
        assert ask(running_helper).status == 201
    assert ask(running_helper).status == 429
    assert ask(running_helper, OTHER_EXTENSION).status == 201  # the other origin is not held back


def test_revoke_one_of_two_browsers_on_the_status_page(running_helper):
    token_a = running_helper.token
    token_b = redeem(running_helper, new_code(running_helper), OTHER_EXTENSION).json()["token"]
    page = StatusPage(running_helper)
    ids = re.findall(r'data-browser-id="([^"]+)"', page.html())
    assert len(ids) == 2
    b_id = token_b.split(".")[1]
    status, html = page.post("/revoke", {"browser": b_id})
    assert status == 200 and "已撤销" in html
    assert running_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {token_b}"}, auth=False).status == 401
    assert running_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {token_a}"}, auth=False).status == 200
    assert running_helper.request("GET", "/api/health").json()["paired"] is True


class KeptConnection:
    """One kept-alive connection, as a browser holds one: every request on the same socket."""

    def __init__(self, helper) -> None:
        import http.client

        self.conn = http.client.HTTPConnection("127.0.0.1", helper.port, timeout=10)
        self.conn.connect()
        self.sock = self.conn.sock

    def status(self, token: str) -> int:
        self.conn.request("GET", "/api/cases", headers={"Authorization": f"Bearer {token}"})
        response = self.conn.getresponse()
        response.read()
        assert self.conn.sock is self.sock, "the connection was not kept: the test would prove nothing"
        return response.status


def test_a_token_taken_on_a_kept_connection_still_dies_at_once(running_helper):
    """A token verified once on a connection is not verified again there while nothing changed;
    removing its browser or revoking every token must still log it out on that very connection."""
    token_a = running_helper.token
    token_b = redeem(running_helper, new_code(running_helper), OTHER_EXTENSION).json()["token"]
    kept = KeptConnection(running_helper)
    assert [kept.status(token_b) for _ in range(3)] == [200, 200, 200]
    scope, nonce, mac = token_b.split(".")
    forged = f"{scope}.{nonce}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}"
    assert kept.status(forged) == 401  # another token on the same connection: checked in full
    assert kept.status(token_b) == 200
    status, html = StatusPage(running_helper).post("/revoke", {"browser": nonce})
    assert status == 200 and "已撤销" in html
    assert kept.status(token_b) == 401
    assert kept.status(token_a) == 200
    done = running_helper.cli("pair", "--revoke", "--state-dir", str(running_helper.state_dir))
    assert done.returncode == 0, done.stderr
    assert kept.status(token_a) == 401


def test_status_page_refuses_what_is_not_the_seller(running_helper):
    data = ask(running_helper).json()
    page = StatusPage(running_helper)
    # The one-time URL works once.
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(page.open_url, timeout=10)
    assert info.value.code == 403
    # No session cookie (a web page, another program that guessed the port): nothing.
    for path in ("/", "/state"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(page.origin + path, timeout=10)
        assert info.value.code == 403
    # With the cookie but from another origin, without Origin, or without the CSRF token: refused.
    assert page.post("/answer", {"ask": data["id"], "answer": "allow"}, origin="https://evil.example")[0] == 403
    assert page.post("/answer", {"ask": data["id"], "answer": "allow"}, origin=None)[0] == 403
    assert page.post("/answer", {"ask": data["id"], "answer": "allow"}, csrf="wrong")[0] == 403
    assert ask_status(running_helper, data).json()["state"] == "pending"
    # DNS rebinding: another Host name for the same port.
    request = urllib.request.Request(page.origin + "/", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as info:
        page.opener.open(request, timeout=10)
    assert info.value.code == 403
    # It cannot be framed (clickjacking 允许).
    with page.opener.open(page.origin + "/", timeout=10) as r:
        assert r.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    cookie = next(iter(page.jar))
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "Strict"


def test_status_page_url_needs_the_admin_token(running_helper):
    assert running_helper.request("POST", "/api/pair/page", auth=False).status == 401
    assert running_helper.request("POST", "/api/pair/page", headers={"Origin": running_helper.origin}, auth=False).status == 403


def test_pairing_again_replaces_the_browsers_entry(running_helper):
    """A browser that pairs again hands in its old token: it is listed once, the old token is dead."""
    old = running_helper.token
    body = {"code": new_code(running_helper), "browser": "Chrome · Windows", "previous": old}
    again = running_helper.request("POST", "/api/pair", json_body=body, headers={"Origin": DEFAULT_ORIGIN}, auth=False)
    assert again.status == 200
    new = again.json()["token"]
    assert running_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {old}"}, auth=False).status == 401
    assert running_helper.request("GET", "/api/cases", headers={"Authorization": f"Bearer {new}"}, auth=False).status == 200
    page = StatusPage(running_helper)
    assert re.findall(r'data-browser-id="([^"]+)"', page.html()) == [new.split(".")[1]]
    # By confirmation too: the old token goes with the poll that collects the new one.
    created = ask(running_helper).json()
    page.post("/answer", {"ask": created["id"], "answer": "allow"})
    status = running_helper.request(
        "POST", "/api/pair/ask/status", json_body={"id": created["id"], "secret": created["secret"], "previous": new},
        headers={"Origin": DEFAULT_ORIGIN}, auth=False,
    ).json()
    assert status["state"] == "approved"
    assert re.findall(r'data-browser-id="([^"]+)"', page.html()) == [status["token"].split(".")[1]]
