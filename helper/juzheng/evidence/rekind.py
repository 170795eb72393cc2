"""The seller's answer to a suggested kind (确认 / 改为…): move a filed file into that kind's folder.

Same guarantees as every other move: journaled, never overwriting (a twin name is numbered),
under the sorter lock, the index updated, the change published. Raises ``EvidenceError`` (zh-CN)
for what the seller can fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..events import EVIDENCE_CHANGED
from ..store import EvidenceRecord
from .indexer import payload
from .layout import Layout, media_of, rel
from .mover import FileState, new_batch, sha256_file

if TYPE_CHECKING:
    from .service import EvidenceService


def file_under_kind(service: EvidenceService, evidence_id: int, kind: str) -> EvidenceRecord:
    from .service import EvidenceError

    rulebook = service.rulebook_provider()
    record = service.store.get_evidence(evidence_id)
    if record is None or not record.path:
        raise EvidenceError(f"没有编号为 {evidence_id} 的文件")
    found = rulebook.kinds.get(kind)
    if found is None:
        raise EvidenceError(f"未知的证据类型 {kind!r}")
    if found.form != "file":
        raise EvidenceError(f"{found.label}是文字类凭证，不能放文件")
    if media_of(record.path) not in found.media:
        raise EvidenceError(f"{found.label}不接受这种文件")
    if record.kind == kind:
        return record
    layout = Layout(service.root, rulebook)
    src = service.root / record.path
    with service.lock:
        try:
            state = FileState.of(src)
            sha = sha256_file(src)
        except FileNotFoundError as exc:
            raise EvidenceError("文件已不在原处（可能被移动或删除），请刷新后再试") from exc
        dest_dir = layout.kind_dir(record.platform, record.order_id, kind)
        service.sorter.own_paths.add(str(src))
        result = service.mover.move(src, dest_dir, src.name, batch=new_batch("kind"), expect=state, sha256=sha)
        if result.status != "moved" or result.dest is None:
            raise EvidenceError(f"无法移动文件：{result.detail or result.status}")
        service.sorter.own_paths.add(str(result.dest))
        service._after_hand_move(layout, src, Path(result.dest))
        moved = service.store.evidence_by_path(rel(service.root, Path(result.dest)))
    if moved is None:
        raise EvidenceError("文件已移动，但未能登记：请刷新后再试")
    service.bus.publish(EVIDENCE_CHANGED, payload(moved, "added"))
    return moved
