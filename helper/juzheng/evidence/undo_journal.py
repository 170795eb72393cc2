"""The undo of one file as a journaled step, so a crash in the middle never leaves it half done.

Undoing a sorted file is three writes: the file moves back into the inbox (the move journal covers
that), its original move is marked undone, and the file is marked held so the sorter leaves it
alone. A kill between them (power cut, task manager during ``juzheng undo``) left a file in the
inbox that nothing held, and the next start sorted it straight back. Before the first write the
intent is recorded here; on start, :func:`complete` finishes the bookkeeping of every intent whose
file did move, and drops the others.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..events import PENDING_CHANGED, EventBus
from ..paths import INBOX
from ..store import SqliteStore
from ..store.records import UndoIntent
from .layout import rel
from .sorter import REASON_HELD, hold

log = logging.getLogger(__name__)


def begin(store: SqliteStore, move_id: int, batch: str) -> None:
    """Record, before anything moves, that ``move_id`` is being undone in ``batch``."""
    store.begin_undo(UndoIntent(move_id=move_id, batch=batch))


def end(store: SqliteStore, move_id: int) -> None:
    store.end_undo(move_id)


def mark_back_in_inbox(store: SqliteStore, bus: EventBus | None, root: Path, dest: Path) -> None:
    """The file undo put back at ``dest``: held in the inbox until the seller renames or changes it."""
    try:
        back_rel = rel(root, dest)
    except ValueError:
        return
    if not back_rel.startswith(INBOX + "/") or not dest.is_file():
        return
    hold(store, dest)
    store.set_pending(back_rel, REASON_HELD)
    if bus is not None:
        bus.publish(PENDING_CHANGED, {"path": back_rel, "reason": REASON_HELD})


def complete(store: SqliteStore, bus: EventBus | None, root: Path) -> list[int]:
    """Finish every undo a crash interrupted (after the move journal's own recovery); returns the
    ids of the original moves now marked undone."""
    finished = []
    for intent in store.undo_intents():
        original = store.get_move(intent.move_id)
        placed = None
        if original is not None:
            placed = next(
                (m for m in store.moves_in_batch(intent.batch) if m.src == original.dest and m.state in ("undone", "done")),
                None,
            )
        if original is not None and placed is not None:
            if original.state == "done":
                store.finish_move(original.id, "undone", "撤销中断后补记")
            mark_back_in_inbox(store, bus, root, Path(placed.dest))
            finished.append(original.id)
            log.info("completed the interrupted undo of move %s", original.id)
        end(store, intent.move_id)
    return finished
