"""The single-instance lock and the private files in the state dir."""

from __future__ import annotations

import os

import pytest

from juzheng.instance import AlreadyRunning, InstanceLock, clear_info, read_info, write_info, write_private_file


def test_second_lock_on_the_same_state_dir_is_refused_until_released(tmp_path):
    first = InstanceLock(tmp_path)
    first.acquire()
    with pytest.raises(AlreadyRunning):
        InstanceLock(tmp_path).acquire()
    first.release()
    with InstanceLock(tmp_path):
        pass


def test_private_file_is_user_only_and_replaced_atomically(tmp_path):
    path = tmp_path / "state" / "secret.key"
    write_private_file(path, "one")
    write_private_file(path, "two")
    assert path.read_text(encoding="utf-8") == "two"
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temp file left
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600


def test_info_round_trip_and_clear(tmp_path):
    assert read_info(tmp_path) is None
    write_info(tmp_path, {"port": 17817, "pid": 1})
    assert read_info(tmp_path) == {"port": 17817, "pid": 1}
    clear_info(tmp_path)
    assert read_info(tmp_path) is None
    (tmp_path / "helper.json").write_text("{broken", encoding="utf-8")
    assert read_info(tmp_path) is None
