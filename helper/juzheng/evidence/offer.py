"""「把收件箱里的 N 个文件归到这个案子？」: files that waited in the inbox before a case was opened.

Opening a case never moves them by itself (the focus only places files that arrive while the case
is open). They are offered instead, listed by name, and only those whose name does not point to
another platform; the seller accepts (they are sorted into the case, through the mover) or
declines (they are not offered to this case again until they change).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from ..paths import INBOX
from ..store import Case, utcnow
from .classify import Focus, KnownCase, Unplaced, classify, platform_words
from .mover import FileState, new_batch
from .sorter import REASON_HELD, SortItem

if TYPE_CHECKING:
    from .service import EvidenceService

MAX_OFFER = 200


class OfferFile(BaseModel):
    path: str = Field(description="收件箱内的位置（相对证据文件夹，/ 分隔）")
    name: str
    size: int
    seen_at: datetime


class InboxOffer(BaseModel):
    case_id: int
    files: list[OfferFile]
    question: str | None = Field(description="把收件箱里的 N 个文件归到这个案子？（没有文件时为 null）")


class OfferAnswer(BaseModel):
    case_id: int
    accepted: list[SortItem] = Field(default_factory=list)
    declined: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list, description="不在提问里的文件（已被移动、改名或不属于本平台），未处理")


def offer_for(service: EvidenceService, case: Case) -> InboxOffer:
    book = service.rulebook_provider()
    declined = service.store.declined_offers(case.id)
    files: list[OfferFile] = []
    for pending in service.store.list_pending():
        if pending.reason == REASON_HELD or not pending.path.startswith(INBOX + "/"):
            continue
        path = service.root / pending.path
        try:
            state = FileState.of(path)
        except OSError:
            continue
        if state.size == 0 or (pending.path, state.size, state.mtime_ns) in declined:
            continue
        inside = pending.path[len(INBOX) + 1:]
        result = classify(inside, book)
        if not isinstance(result, Unplaced) or result.code != "no_order":
            continue  # the name names an order (maybe of another case): not this case's to take
        words = platform_words(inside, book)
        if words and case.platform not in words:
            continue  # 「拼多多…」 is never offered to a Taobao case
        files.append(OfferFile(path=pending.path, name=path.name, size=state.size, seen_at=pending.seen_at))
        if len(files) >= MAX_OFFER:
            break
    question = f"把收件箱里的 {len(files)} 个文件归到这个案子？" if files else None
    return InboxOffer(case_id=case.id, files=files, question=question)


def answer(service: EvidenceService, case: Case, paths: list[str], accept: bool) -> OfferAnswer:
    """Accept or decline the listed files; a path no longer on offer is skipped, never guessed at."""
    offered = {f.path: f for f in offer_for(service, case).files}
    out = OfferAnswer(case_id=case.id)
    wanted = [p for p in dict.fromkeys(paths)]
    if not accept:
        marks = []
        for path in wanted:
            if path not in offered:
                out.skipped.append(path)
                continue
            state = FileState.of(service.root / path)
            marks.append((path, state.size, state.mtime_ns))
            out.declined.append(path)
        service.store.decline_offers(case.id, marks)
        return out
    ctx = service.sorter.context(service.rulebook_provider())
    # The seller said so: this case, for these files, whenever they arrived.
    ctx.focus = Focus(KnownCase(case.platform, case.order_id, case.scenario), utcnow(), None)
    ctx.pending_since = {}
    ctx.seller_chose = True
    batch = new_batch("offer")
    for path in wanted:
        if path not in offered:
            out.skipped.append(path)
            continue
        out.accepted.append(service.sorter.sort_file(Path(service.root / path), ctx, batch))
    return out
