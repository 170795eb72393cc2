"""Layout names, the no-overwrite mover and crash recovery, on real temp folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from fixtures.evidence import sha
from juzheng.evidence import mover as mover_module
from juzheng.evidence.layout import is_ignored_name, numbered, safe_name
from juzheng.evidence.mover import FileState, Mover, new_batch, sha256_file
from juzheng.evidence.recovery import recover
from juzheng.store import open_store

WINDOWS_FORBIDDEN = set('<>:"/\\|?*')


# -- names ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [
    "红章 证明.jpg", "a:b*c?.png", 'x"y<z>|.pdf', "CON.txt", "nul", "trailing dot. ", "😀 聊天截图 🎉.png",
    "长" * 220 + ".jpg", "a" * 300 + ".jpeg", "tab\there\n.jpg",
])
def test_safe_name_is_valid_everywhere(name, tmp_path):
    safe = safe_name(name)
    assert not WINDOWS_FORBIDDEN & set(safe)
    assert all(ord(c) >= 32 for c in safe)
    assert safe == safe.rstrip(". ")
    assert safe.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
    assert len(safe.encode()) <= 230
    if name.endswith((".jpg", ".jpeg", ".png", ".pdf")):
        assert Path(safe).suffix == Path(name.strip()).suffix
    (tmp_path / safe).write_bytes(b"ok")  # the OS accepts it, even with the (n) suffix added
    (tmp_path / numbered(safe, 123)).write_bytes(b"ok")


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_safe_name_property(name):
    safe = safe_name(name)
    assert safe and not WINDOWS_FORBIDDEN & set(safe) and safe not in {".", ".."}
    assert len(safe.encode()) <= 230 and len(safe) <= 240
    assert safe_name(safe) == safe  # idempotent: a sorted file keeps its name on the next pass


def test_numbered_keeps_the_extension():
    assert numbered("photo.jpg", 2) == "photo (2).jpg"
    assert numbered("无扩展名", 3) == "无扩展名 (3)"
    assert numbered("photo.jpg", 1) == "photo.jpg"


def test_partial_and_editor_names_are_ignored():
    for name in ["a.jpg.crdownload", "b.part", "c.tmp", "~$报告.docx", ".DS_Store", "Thumbs.db", "x.JPG.PART"]:
        assert is_ignored_name(name), name
    assert not is_ignored_name("红章.jpg")


# -- the mover -----------------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "state")
    yield s
    s.close()


def _src(tmp_path: Path, name: str = "红章.jpg", data: bytes = b"evidence bytes") -> tuple[Path, FileState, str]:
    path = tmp_path / "inbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path, FileState.of(path), sha256_file(path)


@pytest.mark.parametrize("use_links", [True, False], ids=["link", "copy"])
def test_move_journals_and_keeps_bytes_and_mtime(tmp_path, store, use_links):
    src, state, digest = _src(tmp_path)
    os.utime(src, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    state = FileState.of(src)
    result = Mover(store, use_links=use_links).move(src, tmp_path / "dest", "红章.jpg", batch=new_batch(), expect=state, sha256=digest)
    assert result.status == "moved" and not src.exists()
    assert sha(result.dest) == digest and FileState.of(result.dest) == state
    (move,) = store.moves_in_state("done")
    assert move.src == str(src) and move.dest == str(result.dest) and move.sha256 == digest


def test_the_mover_knows_its_own_echoes_once(tmp_path, store):
    """The watcher asks the mover whether a created/deleted event is its own move's: each path once,
    and a move that did not happen leaves nothing that could hide the seller's next event."""
    src, state, digest = _src(tmp_path)
    mover = Mover(store)
    result = mover.move(src, tmp_path / "dest", "红章.jpg", batch="b", expect=state, sha256=digest)
    assert mover.echoes.consume(result.dest, "created") and mover.echoes.consume(src, "deleted")
    assert not mover.echoes.consume(result.dest, "created")  # a later event on it is the seller's
    other, state2, digest2 = _src(tmp_path, "改过.jpg")
    other.write_bytes(b"changed after planning")
    failed = mover.move(other, tmp_path / "dest", "改过.jpg", batch="b", expect=state2, sha256=digest2)
    assert failed.status == "changed"
    assert not mover.echoes.consume(other, "deleted") and not mover.echoes.consume(tmp_path / "dest" / "改过.jpg", "created")
    written = mover.write_new(b"upload", tmp_path / "dest", "上传.jpg", batch="u")
    assert not mover.echoes.consume(written.dest, "modified") and mover.echoes.consume(written.dest, "created")


@pytest.mark.parametrize("use_links", [True, False], ids=["link", "copy"])
def test_collision_gets_a_number_and_never_overwrites(tmp_path, store, use_links):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "红章.jpg").write_bytes(b"someone else's")
    (dest / "红章 (2).jpg").write_bytes(b"and another")
    src, state, digest = _src(tmp_path)
    result = Mover(store, use_links=use_links).move(src, dest, "红章.jpg", batch="b", expect=state, sha256=digest)
    assert result.dest == dest / "红章 (3).jpg"
    assert (dest / "红章.jpg").read_bytes() == b"someone else's"
    assert (dest / "红章 (2).jpg").read_bytes() == b"and another"


@pytest.mark.parametrize("use_links", [True, False], ids=["link", "copy"])
def test_race_name_appears_between_check_and_final_step(tmp_path, store, use_links, monkeypatch):
    """Another program creates the name after our free-name check: the final step must fail, not replace."""
    dest = tmp_path / "dest"
    src, state, digest = _src(tmp_path)
    real_lexists = os.path.lexists
    raced = []

    def lexists_then_race(path):
        free = not real_lexists(path)
        if free and not raced:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(b"the racer")  # appears right after we looked
            raced.append(path)
            return False
        return not free

    monkeypatch.setattr(mover_module.os.path, "lexists", lexists_then_race)
    result = Mover(store, use_links=use_links).move(src, dest, "红章.jpg", batch="b", expect=state, sha256=digest)
    assert (dest / "红章.jpg").read_bytes() == b"the racer"
    assert result.dest == dest / "红章 (2).jpg" and sha(result.dest) == digest
    assert [m.error for m in store.moves_in_state("failed")] == ["目标文件名刚被占用，换用下一个编号"]


@pytest.mark.parametrize("use_links", [True, False], ids=["link", "copy"])
def test_a_file_that_changed_since_planning_is_left_alone(tmp_path, store, use_links):
    src, state, digest = _src(tmp_path)
    src.write_bytes(b"the seller kept writing")
    result = Mover(store, use_links=use_links).move(src, tmp_path / "dest", "红章.jpg", batch="b", expect=state, sha256=digest)
    assert result.status == "changed" and src.read_bytes() == b"the seller kept writing"
    assert not list((tmp_path / "dest").iterdir())


def test_changed_during_the_move_is_caught_by_the_hash(tmp_path, store, monkeypatch):
    """Same size and mtime but other bytes after the link (a rewrite within one mtime tick)."""
    src, state, digest = _src(tmp_path)
    real_link = os.link

    def link_and_rewrite(a, b):
        real_link(a, b)
        with open(a, "r+b") as fh:
            fh.write(b"X")
        os.utime(a, ns=(state.mtime_ns, state.mtime_ns))

    monkeypatch.setattr(mover_module.os, "link", link_and_rewrite)
    result = Mover(store).move(src, tmp_path / "dest", "红章.jpg", batch="b", expect=state, sha256=digest)
    assert result.status == "changed" and src.read_bytes().startswith(b"X")
    assert not list((tmp_path / "dest").iterdir())


def test_no_hard_links_falls_back_to_a_verified_copy(tmp_path, store, monkeypatch):
    """FAT/exFAT drives and another filesystem (EXDEV) have no hard links between src and dest."""
    def no_links(a, b):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(mover_module.os, "link", no_links)
    src, state, digest = _src(tmp_path, data=os.urandom(3 * 1024 * 1024 + 7))
    result = Mover(store).move(src, tmp_path / "dest", "红章.jpg", batch="b", expect=state, sha256=digest)
    assert result.status == "moved" and not src.exists() and sha(result.dest) == digest


def test_write_new_never_overwrites(tmp_path, store):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a.jpg").write_bytes(b"old")
    result = Mover(store).write_new(b"new", dest, "a.jpg", batch="u")
    assert (dest / "a.jpg").read_bytes() == b"old" and result.dest.read_bytes() == b"new"


# -- recovery ------------------------------------------------------------------------------------------
def _planned(store, src: Path, dest: Path, digest: str, size: int) -> None:
    store.journal_move("sort:x", str(src), str(dest), digest, size)


def test_recovery_crash_before_the_move_rolls_back(tmp_path, store):
    src, state, digest = _src(tmp_path)
    _planned(store, src, tmp_path / "dest" / "红章.jpg", digest, state.size)
    (r,) = recover(store)
    assert r.outcome == "rolled_back" and sha(src) == digest


def test_recovery_crash_between_link_and_unlink_completes(tmp_path, store):
    src, state, digest = _src(tmp_path)
    dest = tmp_path / "dest" / "红章.jpg"
    dest.parent.mkdir()
    os.link(src, dest)
    _planned(store, src, dest, digest, state.size)
    (r,) = recover(store)
    assert r.outcome == "done" and not src.exists() and sha(dest) == digest
    assert store.moves_in_state("done")


def test_recovery_interrupted_copy_removes_the_partial_copy(tmp_path, store):
    src, state, digest = _src(tmp_path, data=b"0123456789" * 1000)
    dest = tmp_path / "dest" / "红章.jpg"
    dest.parent.mkdir()
    dest.write_bytes(b"0123456789" * 400)
    _planned(store, src, dest, digest, state.size)
    (r,) = recover(store)
    assert r.outcome == "rolled_back" and not dest.exists() and sha(src) == digest


def test_recovery_finished_copy_removes_the_source(tmp_path, store):
    src, state, digest = _src(tmp_path)
    dest = tmp_path / "dest" / "红章.jpg"
    dest.parent.mkdir()
    dest.write_bytes(src.read_bytes())
    _planned(store, src, dest, digest, state.size)
    assert recover(store)[0].outcome == "done" and not src.exists() and sha(dest) == digest


def test_recovery_leaves_a_foreign_file_at_the_destination(tmp_path, store):
    src, state, digest = _src(tmp_path)
    dest = tmp_path / "dest" / "红章.jpg"
    dest.parent.mkdir()
    dest.write_bytes(b"somebody else's, longer than ours ............")
    _planned(store, src, dest, digest, state.size)
    assert recover(store)[0].outcome == "rolled_back"
    assert sha(src) == digest and dest.read_bytes().startswith(b"somebody")


def test_recovery_move_done_but_not_journaled(tmp_path, store):
    src, state, digest = _src(tmp_path)
    dest = tmp_path / "dest" / "红章.jpg"
    dest.parent.mkdir()
    os.replace(src, dest)
    _planned(store, src, dest, digest, state.size)
    assert recover(store)[0].outcome == "done"


def test_recovery_partial_upload_is_removed_and_a_complete_one_kept(tmp_path, store):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "partial.jpg").write_bytes(b"half")
    (dest / "whole.jpg").write_bytes(b"whole")
    store.journal_move("upload:1", "", str(dest / "partial.jpg"), sha256_file(dest / "whole.jpg"), 5)
    store.journal_move("upload:2", "", str(dest / "whole.jpg"), sha256_file(dest / "whole.jpg"), 5)
    outcomes = [r.outcome for r in recover(store)]
    assert outcomes == ["rolled_back", "done"]
    assert not (dest / "partial.jpg").exists() and (dest / "whole.jpg").exists()
    assert recover(store) == []  # nothing planned is left: running it again changes nothing
