"""Giving a file of an order its kind in one action: the overlay's 「归为…」 and drag, and a file
renamed inside ``<order>/待分类/``. The file moves through the mover (journaled, never
overwriting; ``juzheng undo`` puts it back) and keeps its record.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from ..errors import Conflict, Invalid, NotFound
from ..paths import UNSORTED
from ..store import Case, EvidenceRecord
from .classify import best_keyword, cut_tool_names
from .layout import Layout, media_of, rel
from .mover import FileState, new_batch, sha256_file

if TYPE_CHECKING:
    from .service import EvidenceService

_MEDIA_ZH = {"image": "图片", "video": "视频", "pdf": "PDF", "other": "此类"}


class AssignError(Invalid):
    """The file cannot be given that kind; the message says why (zh-CN)."""


def assign_kind(service: EvidenceService, case: Case, evidence_id: int, kind_id: str) -> EvidenceRecord:
    book = service.rulebook_provider()
    record = service.store.get_evidence(evidence_id)
    if record is None or (record.platform, record.order_id) != (case.platform, case.order_id):
        raise NotFound(f"这个案子没有编号为 {evidence_id} 的文件")
    if not record.path:
        raise AssignError("文字类凭证没有文件可移动")
    kind = book.kinds.get(kind_id)
    if kind is None:
        raise AssignError(f"未知的凭证类型 {kind_id!r}")
    if kind.form != "file":
        raise AssignError(f"{kind.label}是文字类凭证，不能放文件")
    media = media_of(record.path)
    if media not in kind.media:
        raise AssignError(f"{kind.label}不接受{_MEDIA_ZH[media]}文件")
    if record.kind == kind_id:
        return record
    return _move(service, Layout(service.root, book), record, kind_id)


def _move(service: EvidenceService, layout: Layout, record: EvidenceRecord, kind_id: str) -> EvidenceRecord:
    src = service.root / (record.path or "")
    with service.lock:
        try:
            state = FileState.of(src)
            sha = sha256_file(src)
        except FileNotFoundError as exc:
            raise Conflict("文件已不在原处（可能刚被移动或删除），请刷新后再试") from exc
        dest_dir = layout.kind_dir(record.platform, record.order_id, kind_id)
        result = service.mover.move(src, dest_dir, src.name, batch=new_batch("assign"), expect=state, sha256=sha)
        if result.status != "moved" or result.dest is None:
            raise Conflict(f"文件没有移动：{result.detail or '文件正在被改动或被占用，请稍后再试'}")
        service.indexer.moved(layout, src, result.dest)  # keeps the record's id, publishes the move
        moved = service.store.evidence_by_path(rel(service.root, result.dest))
    return moved or record.model_copy(update={"kind": kind_id, "path": rel(service.root, result.dest)})


def resort_renamed(service: EvidenceService, layout: Layout, path: Path) -> EvidenceRecord | None:
    """A file renamed inside ``<order>/待分类/`` whose new name says its kind: file it there."""
    try:
        relpath = rel(service.root, path)
    except ValueError:
        return None
    parts = relpath.split("/")
    if len(parts) != 4 or parts[2] != UNSORTED or not path.is_file():
        return None
    book = layout.rulebook
    stem, _tool = cut_tool_names(PurePath(parts[3]).stem, book)
    found = best_keyword(stem, book)
    if found is None or media_of(parts[3]) not in book.kinds[found[0]].media:
        return None
    record = service.store.evidence_by_path(relpath)
    if record is None:
        return None
    return _move(service, layout, record, found[0])
