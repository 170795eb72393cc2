"""Moving an order's whole folder to another platform folder: ``<淘宝>/<订单>/…`` → ``<天猫>/<订单>/…``
when the seller says the shop is a Tmall shop (one Alibaba order id space, so it is the same order).

File by file through the mover (journaled, one batch, so ``juzheng undo`` puts them back; never
overwriting: a name already taken in the target gets the mover's `` (2)`` suffix), each file's record
carried along by the indexer. Links are never moved (they are not evidence: see :mod:`.links`).
Text evidence has no file: its record is relabelled. Folders left empty are removed (only empty
ones: ``rmdir`` refuses anything else), so the seller does not see a stale 淘宝 folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .layout import Layout, rel
from .mover import FileState, is_regular, new_batch, sha256_file

if TYPE_CHECKING:
    from .service import EvidenceService


@dataclass
class OrderMove:
    batch: str
    moved: list[tuple[str, str]] = field(default_factory=list)  # (from, to), root-relative
    left: list[tuple[str, str]] = field(default_factory=list)  # (file, why) not moved: busy, changed


def move_order(service: EvidenceService, old_platform: str, new_platform: str, order_id: str) -> OrderMove:
    layout = Layout(service.root, service.rulebook_provider())
    src_dir = layout.order_dir(old_platform, order_id)
    dest_dir = layout.order_dir(new_platform, order_id)
    report = OrderMove(batch=new_batch("marketplace"))
    with service.lock:
        for src in sorted(_files(src_dir)):
            target = dest_dir / src.parent.relative_to(src_dir)
            try:
                state = FileState.of(src)
                sha = sha256_file(src)
            except OSError as exc:
                report.left.append((rel(service.root, src), str(exc)))
                continue
            try:
                result = service.mover.move(src, target, src.name, batch=report.batch, expect=state, sha256=sha)
            except OSError as exc:  # the target refused it (disk full, read-only): the file stays, whole
                report.left.append((rel(service.root, src), str(exc)))
                continue
            if result.status != "moved" or result.dest is None:
                report.left.append((rel(service.root, src), result.detail or result.status))
                continue
            service.indexer.moved(layout, src, result.dest)
            report.moved.append((rel(service.root, src), rel(service.root, result.dest)))
        for record in service.store.evidence_for_order(old_platform, order_id):
            if record.path is None:  # text evidence (a 举证号): no file, the order's label moves
                service.store.update_evidence(record.id, platform=new_platform)
        _remove_empty(src_dir)
    return report


def _files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for here, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(here, d))]
        found.extend(Path(here) / n for n in names if is_regular(Path(here) / n))
    return found


def _remove_empty(folder: Path) -> None:
    if not folder.is_dir():
        return
    for here, _dirs, _names in sorted(os.walk(folder, followlinks=False), key=lambda w: -len(w[0])):
        try:
            os.rmdir(here)
        except OSError:
            pass  # not empty (a link, a file left behind): it stays
