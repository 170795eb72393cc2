"""Pairing, lockout, revocation, and running ``juzheng serve`` itself (lock, port, keyring, signals)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from juzheng.pairing import Auth, PairingError
from juzheng.pairing.auth import MAX_WRONG_CODES

from fixtures.helper_process import DEFAULT_ORIGIN, REPO, make_helper

OTHER_EXTENSION = "chrome-extension://" + "ponmlkjihgfedcba" * 2


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


def test_five_wrong_codes_lock_pairing_until_a_new_code(running_helper):
    code = new_code(running_helper)
    wrong = "000000" if code != "000000" else "111111"
    for attempt in range(1, MAX_WRONG_CODES):
        r = redeem(running_helper, wrong)
        assert r.status == 403
        assert r.json()["attempts_left"] == MAX_WRONG_CODES - attempt
    locked = redeem(running_helper, wrong)
    assert locked.status == 429
    # Locked: even the right code is refused now.
    assert redeem(running_helper, code).status == 429
    fresh = new_code(running_helper)
    assert redeem(running_helper, fresh).status == 200


def test_expired_code_is_refused():
    now = [0.0]
    auth = Auth(b"k" * 32, clock=lambda: now[0])
    issued = auth.new_code()
    now[0] += 10 * 60 + 1
    with pytest.raises(PairingError) as info:
        auth.redeem(issued.code)
    assert info.value.status == 403 and "过期" in info.value.message


def test_pairing_remembers_the_origin_and_cors_follows_it(running_helper):
    assert running_helper.request("GET", "/api/health").json()["paired"] is True
    token_b = redeem(running_helper, new_code(running_helper), OTHER_EXTENSION).json()["token"]
    headers = {"Authorization": f"Bearer {token_b}"}
    now_b = running_helper.request("GET", "/api/cases", headers={**headers, "Origin": OTHER_EXTENSION}, auth=False)
    assert now_b.status == 200 and now_b.headers["Access-Control-Allow-Origin"] == OTHER_EXTENSION
    assert running_helper.request("GET", "/api/cases", headers={**headers, "Origin": DEFAULT_ORIGIN}, auth=False).status == 403


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
