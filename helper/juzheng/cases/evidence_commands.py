"""Evidence the seller adds or removes through a case: text evidence, uploaded files (into the
evidence folder), files moved to .回收站, and the file behind an evidence id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..events import EVIDENCE_CHANGED
from ..store import EvidenceRecord
from ..errors import Conflict, DomainError, Invalid, NotFound, Unavailable, field_error
from .models import EvidenceItem, TextEvidenceRequest
from .view import evidence_item

if TYPE_CHECKING:
    from .service import CaseService


def add_text(cases: CaseService, case_id: int, req: TextEvidenceRequest) -> EvidenceItem:
    case = cases.case(case_id)
    book = cases.rulebook()
    kind = book.kinds.get(req.kind)
    if kind is None:
        raise Invalid(f"未知的凭证类型 {req.kind!r}", field_error("kind", "unknown kind"))
    if kind.form != "text":
        raise Invalid(f"{kind.label}是文件类凭证，请以文件上传（multipart/form-data）", field_error("kind", "file kind"))
    record = cases.store.add_evidence(
        EvidenceRecord(
            platform=case.platform,
            order_id=case.order_id,
            kind=kind.id,
            value=req.value,
            generated_at=req.generated_at,
            covers_from=req.covers_from,
            how="text",
            added_at=cases.clock(),
        )
    )
    cases.bus.publish(
        EVIDENCE_CHANGED,
        {"platform": case.platform, "order_id": case.order_id, "kind": kind.id, "evidence_id": record.id, "action": "added"},
        case.id,
    )
    return evidence_item(case, record, book)


def add_file(cases: CaseService, case_id: int, kind_id: str, filename: str, data: bytes) -> EvidenceItem:
    case = cases.case(case_id)
    book = cases.rulebook()
    kind = book.kinds.get(kind_id)
    if kind is None:
        raise Invalid(f"未知的凭证类型 {kind_id!r}", field_error("kind", "unknown kind"))
    if kind.form != "file":
        raise Invalid(f"{kind.label}是文字类凭证，请以 JSON 提交 value", field_error("kind", "text kind"))
    if cases.evidence is None:
        raise Unavailable("证据文件夹服务未启用，暂时无法保存上传的文件。")
    try:
        record = cases.evidence.import_upload(case, kind.id, filename, data, how="uploaded")
    except Invalid as exc:  # EvidenceError: bad input, the message says what to fix
        raise Invalid(exc.message, field_error("file", exc.message)) from exc
    return evidence_item(case, record, book)


def remove_evidence(cases: CaseService, case_id: int, evidence_id: int) -> None:
    case = cases.case(case_id)
    record = cases.store.get_evidence(evidence_id)
    if record is None or (record.platform, record.order_id) != (case.platform, case.order_id):
        raise NotFound(f"案子 {case_id} 没有编号为 {evidence_id} 的凭证")
    if record.path is None:
        cases.store.remove_evidence(evidence_id)
        cases.bus.publish(
            EVIDENCE_CHANGED,
            {"platform": case.platform, "order_id": case.order_id, "kind": record.kind, "evidence_id": evidence_id, "action": "removed"},
            case.id,
        )
        return
    if cases.evidence is None:
        raise Unavailable("证据文件夹服务未启用，暂时无法把文件移到回收站。")
    try:
        cases.evidence.trash(evidence_id)  # moves the file to .回收站, drops the record, publishes
    except DomainError as exc:  # gone meanwhile, or the move to .回收站 did not happen
        raise Conflict(exc.message) from exc


def evidence_file(cases: CaseService, case_id: int, evidence_id: int) -> EvidenceRecord:
    case = cases.case(case_id)
    record = cases.store.get_evidence(evidence_id)
    if record is None or record.path is None or (record.platform, record.order_id) != (case.platform, case.order_id):
        raise NotFound(f"案子 {case_id} 没有编号为 {evidence_id} 的文件")
    return record

