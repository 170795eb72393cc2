"""On start: complete or roll back every move a crash left ``planned`` in the journal.

What may be on disk for a planned move src → dest, and what we do:

| src | dest | meaning | action |
|---|---|---|---|
| yes | no | crashed before the move | roll back (nothing to undo) |
| yes | same file (hard link) | crashed between link and unlink | remove src → done |
| yes | bytes = journaled sha, src too | copy finished, src not removed | remove src → done |
| yes | a strict prefix of src / empty | copy interrupted | remove the partial dest → rolled back |
| yes | other bytes | the name belongs to someone else | leave both → rolled back |
| no | yes | moved, crashed before journaling 'done' | done |
| no | no | both gone (removed by hand) | failed |

An upload (src '') whose file is complete is done; a partial one (our own bytes) is removed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..store import Move, SqliteStore
from .mover import CHUNK, UPLOAD_SRC, remove_quietly, sha256_file


@dataclass(frozen=True)
class Recovered:
    move: Move
    outcome: str  # 'done' | 'rolled_back' | 'failed' | 'stuck'
    detail: str


def recover(store: SqliteStore, moves: list[Move] | None = None) -> list[Recovered]:
    """Resolve ``moves`` (default: every planned move). Safe to run any number of times."""
    results: list[Recovered] = []
    for move in moves if moves is not None else store.moves_in_state("planned"):
        outcome, detail = _resolve(move)
        if outcome != "stuck":
            # An undo move is finished as 'undone', so it never shows up as something to undo again.
            done_state = "undone" if move.batch.startswith("undo:") and outcome == "done" else outcome
            note = "中断后恢复：" + ({"done": "已完成", "rolled_back": "已回滚", "failed": "无法完成"}[outcome])
            store.finish_move(move.id, done_state, f"{note}（{detail}）" if detail else note)  # type: ignore[arg-type]
        results.append(Recovered(move, outcome, detail))
    return results


def _resolve(move: Move) -> tuple[str, str]:
    dest = Path(move.dest)
    if move.src == UPLOAD_SRC:
        if not dest.exists():
            return "rolled_back", "上传未写入"
        if _sha_or_none(dest) == move.sha256:
            return "done", ""
        return ("rolled_back", "删除了未写完的上传文件") if remove_quietly(dest) else ("stuck", "无法删除未写完的上传文件")
    src = Path(move.src)
    src_exists, dest_exists = src.exists(), os.path.lexists(dest)
    if src_exists and not dest_exists:
        return "rolled_back", ""
    if not src_exists and dest_exists:
        return "done", ""
    if not src_exists and not dest_exists:
        return "failed", "源文件和目标文件都已不在"
    try:
        if os.path.samefile(src, dest):
            return ("done", "") if remove_quietly(src) else ("stuck", "源文件正被占用")
    except OSError:
        pass
    dest_sha = _sha_or_none(dest)
    if dest_sha == move.sha256 and _sha_or_none(src) == move.sha256:
        return ("done", "") if remove_quietly(src) else ("stuck", "源文件正被占用")
    if _is_partial_copy(dest, src):
        return ("rolled_back", "删除了未复制完的副本") if remove_quietly(dest) else ("stuck", "无法删除未复制完的副本")
    return "rolled_back", "目标文件名已被另一个文件占用，未改动"


def _is_partial_copy(partial: Path, whole: Path) -> bool:
    """True when ``partial`` holds a strict prefix of ``whole``'s bytes (an interrupted copy)."""
    try:
        if partial.stat().st_size >= whole.stat().st_size:
            return False
        with open(partial, "rb") as a, open(whole, "rb") as b:
            while chunk := a.read(CHUNK):
                if b.read(len(chunk)) != chunk:
                    return False
        return True
    except OSError:
        return False


def _sha_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


