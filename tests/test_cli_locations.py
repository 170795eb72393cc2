"""One place resolves where a command works: --state-dir, --root, --rules, and the running helper's folder."""

from __future__ import annotations

import json

import pytest

from fixtures.cli import run_cli
from fixtures.evidence import PDD_ORDER
from juzheng.cli import locations
from juzheng.cli.main import build_parser
from juzheng.instance import write_info
from juzheng.paths import INBOX


def _helper_on(state, root, monkeypatch, alive: bool = True) -> None:
    write_info(state, {"pid": 1, "port": 1, "url": "http://127.0.0.1:1", "root": str(root)})
    monkeypatch.setattr("juzheng.cli.pair_cmd._alive", lambda info: alive)


def test_every_command_declares_the_locations_the_same_way():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    seen: dict[str, set[str]] = {}
    for name, command in sub.choices.items():
        if name == "autostart":  # its --root/--state-dir are values written into the login entry
            continue
        for action in command._actions:
            if action.dest in ("state_dir", "root", "rules"):
                seen.setdefault(action.dest, set()).add(action.help)
    assert seen["state_dir"] == {locations.STATE_DIR_HELP}
    assert seen["rules"] == {locations.RULES_HELP}
    assert seen["root"] <= {locations.ROOT_HELP, locations.SERVE_ROOT_HELP}


def test_root_comes_from_the_option_then_the_running_helper_then_the_default(tmp_path, monkeypatch):
    state, served = tmp_path / "state", tmp_path / "served"
    state.mkdir()
    monkeypatch.setenv("JUZHENG_ROOT", str(tmp_path / "default"))
    args = build_parser().parse_args(["sort", "--state-dir", str(state)])
    assert locations.resolve(args).root_source == "default"
    _helper_on(state, served, monkeypatch)
    where = locations.resolve(args)
    assert (where.root, where.root_source) == (served, "running_helper")
    explicit = build_parser().parse_args(["sort", "--state-dir", str(state), "--root", str(tmp_path / "x")])
    assert locations.resolve(explicit).root == tmp_path / "x"
    monkeypatch.setattr("juzheng.cli.pair_cmd._alive", lambda info: False)  # helper.json left by a crash
    assert locations.resolve(args).root == tmp_path / "default"


def test_sort_while_the_helper_runs_sorts_the_helpers_folder(tmp_path, monkeypatch):
    state, served = tmp_path / "state", tmp_path / "served"
    state.mkdir()
    (served / INBOX).mkdir(parents=True)
    (served / INBOX / f"{PDD_ORDER} 红章证明.jpg").write_bytes(b"stamp")
    monkeypatch.setenv("JUZHENG_ROOT", str(tmp_path / "default"))
    _helper_on(state, served, monkeypatch)
    done = run_cli("sort", "--dry-run", "--json", "--state-dir", str(state))
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert [(p["src"], p["dest"]) for p in plan] == [
        (f"{INBOX}/{PDD_ORDER} 红章证明.jpg", f"拼多多/{PDD_ORDER}/快递红章证明/{PDD_ORDER} 红章证明.jpg")
    ]
    assert not (tmp_path / "default").exists()


@pytest.mark.parametrize("argv", [["rules", "check", "/nonexistent-rules-dir"], ["pair", "--state-dir", "{tmp}"]])
def test_exit_codes_have_one_meaning(argv, tmp_path):
    from juzheng.cli import exit_codes

    codes = [v for k, v in vars(exit_codes).items() if k.isupper()]
    assert len(codes) == len(set(codes))
    done = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in argv])
    expected = exit_codes.NOT_RUNNING if argv[0] == "pair" else exit_codes.FAILED
    assert done.returncode == expected, done.stderr
