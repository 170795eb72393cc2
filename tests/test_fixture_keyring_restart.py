"""The test Secret Service comes back after its daemon dies (the fixture's own behaviour)."""

from __future__ import annotations

import shutil
import signal
import subprocess

import pytest

pytestmark = pytest.mark.subprocess


def _store_and_read(env: dict[str, str]) -> str:
    tool = shutil.which("secret-tool")
    if tool is None:
        pytest.skip("secret-tool is not installed (scripts/test installs libsecret-tools)")
    attrs = ["service", "juzheng-restart", "username", "probe"]
    subprocess.run([tool, "store", "--label=probe", *attrs], input=b"secret", env=env, check=True, timeout=10)
    return subprocess.run([tool, "lookup", *attrs], env=env, capture_output=True, check=True, timeout=10).stdout.decode()


def test_a_dead_daemon_is_replaced_at_the_next_env(secret_service):
    before = secret_service.address
    assert _store_and_read(secret_service.env) == "secret"
    secret_service.keyring.send_signal(signal.SIGABRT)  # what the GLib assertion does
    secret_service.keyring.wait(timeout=10)
    env = secret_service.env  # a fresh bus and daemon
    assert secret_service.restarts == 1 and secret_service.address != before
    assert secret_service.keyring.poll() is None
    assert _store_and_read(env) == "secret"
