"""The packets of a case view: for each option of its checklist, what goes into the upload box.

Reads file facts through :mod:`juzheng.evidence.packet_files` (PDF page counts, cached per file
version) and plans with the pure :func:`juzheng.evidence.packet.plan_packet`.
"""

from __future__ import annotations

from collections.abc import Sequence

import logging
from pathlib import Path

from ..evidence.packet import Packet, plan_packet
from ..evidence.packet_files import file_facts
from ..rules import Checklist, Rulebook
from ..rules.models import UploadLimit
from ..store import EvidenceRecord

log = logging.getLogger(__name__)


def packets_for(
    book: Rulebook, checklist: Checklist | None, records: Sequence[EvidenceRecord], upload: UploadLimit | None, root: Path | None
) -> list[Packet]:
    if checklist is None or root is None:
        return []
    try:
        facts = file_facts(root, records)
    except Exception:  # a file that cannot be read must not take the checklist down with it
        log.exception("reading packet facts failed")
        return []

    def label(kind: str) -> str:
        found = book.kinds.get(kind)
        return found.label if found else kind

    return [plan_packet(i, option, facts, upload, label) for i, option in enumerate(checklist.options)]
