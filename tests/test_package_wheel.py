"""The package installs like one: a wheel built from the checkout, installed into a fresh venv outside
it, gives a working ``juzheng`` that carries its own rulebook (no checkout, no rules/ beside it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.subprocess, pytest.mark.timeout(600)]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=540)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_a_built_wheel_in_a_clean_venv_runs_juzheng_rules(tmp_path):
    dist = tmp_path / "dist"
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", dist, REPO, cwd=tmp_path)
    assert "warn" not in built.stderr.lower(), built.stderr  # the license field and friends
    (wheel,) = dist.glob("juzheng-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n for n in names if n.startswith("juzheng/shipped_rules/"))
    repo_rules = sorted(
        "juzheng/shipped_rules/" + p.relative_to(REPO / "rules").as_posix()
        for p in (REPO / "rules").rglob("*") if p.suffix in (".yaml", ".json")
    )
    assert shipped == repo_rules

    target = tmp_path / "clean venv"
    venv.create(target, with_pip=False)
    python = target / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check", wheel, cwd=tmp_path)
    juzheng = target / ("Scripts" if os.name == "nt" else "bin") / ("juzheng.exe" if os.name == "nt" else "juzheng")
    # Away from the checkout, with nothing of it on the path.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUZHENG_RULES", "VIRTUAL_ENV")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    check = run(juzheng, "rules", "check", cwd=elsewhere, env=env)
    assert "规则检查通过" in check.stdout
    listed = json.loads(run(juzheng, "rules", "list", "--json", cwd=elsewhere, env=env).stdout)
    assert "pinduoduo.not_received" in {row["id"] for row in listed}
    human = run(juzheng, "rules", "list", cwd=elsewhere, env=env)
    assert "拼多多" in human.stdout
    where = run(python, "-c", "from juzheng.rules import DEFAULT_RULES_DIR; print(DEFAULT_RULES_DIR)", cwd=elsewhere, env=env)
    assert Path(where.stdout.strip()).is_relative_to(target), where.stdout  # its own copy, not the checkout's
