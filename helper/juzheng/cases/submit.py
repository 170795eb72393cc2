"""From the folder to the platform: a case's packet made ready, exported, and the inbox and
待分类 files filed to it on the seller's say. Orchestrates the case view and the evidence folder;
the logic lives in :mod:`juzheng.evidence.packet`, ``.convert``, ``.offer`` and ``.assign``.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field

from ..evidence.assign import assign_kind
from ..evidence.contact_sheet import contact_sheet
from ..evidence.layout import media_of, safe_name
from ..evidence.offer import InboxOffer, OfferAnswer, answer, offer_for
from ..evidence.packet import Packet
from ..evidence.packet_files import prepare
from ..evidence.service import EvidenceService
from ..rules.deadline_text import BEIJING
from ..rules.explanation import Explanation
from .models import CaseView, EvidenceItem, Request
from ..errors import Conflict, DomainError, Invalid, NotFound, Unavailable
from .service import CaseService
from .view import evidence_item

EXPORT_FOLDER = "导出"
FINAL_NOTE = "该平台的举证只能提交一次，提交后不能补充或修改：请确认每份文件都看得清、齐全，再提交"
MAX_EXPORT_BYTES = 500 * 1024 * 1024


class PacketRequest(Request):
    option: int = Field(ge=0, le=50, description="清单中第几组凭证（从 0 开始）")


class PacketEntry(BaseModel):
    evidence_id: int
    kind: str
    kind_label: str
    filename: str
    proves: str = Field(description="这份文件证明什么")
    converted_from: str | None = Field(default=None, description="由哪个原文件转换而来（原文件保留）")
    url: str


class PreparedPacket(BaseModel):
    case_id: int
    option: int
    packet: Packet
    entries: list[PacketEntry] = Field(description="按顺序放入上传框的文件")
    errors: list[str] = Field(description="转换失败的文件及怎么办")
    missing: list[str] = Field(description="这组还缺的凭证")
    cautions: list[str] = Field(description="注意事项（无效的变体、图片检查提示）")
    explanation: Explanation | None
    single_submission: bool
    final_note: str | None = Field(description="只能提交一次的平台：提交后不能补充")


class PackRequest(Request):
    zip: bool = Field(default=False, description="打包成 .zip（否则导出为文件夹）")
    option: int | None = Field(default=None, ge=0, le=50, description="导出哪一组；默认选可提交的一组")


class PackResult(BaseModel):
    case_id: int
    option: int
    path: str = Field(description="导出的文件夹或 zip 的位置")
    files: list[str]
    contact_sheet: str
    explanation_file: str
    ready: bool
    problems: list[str] = Field(description="没能放进导出包的文件及原因")


class OfferRequest(Request):
    paths: Annotated[list[Annotated[str, Field(max_length=1000)]], Field(max_length=200)]
    accept: bool


class KindRequest(Request):
    kind: Annotated[str, Field(max_length=200)]


def _evidence(cases: CaseService) -> EvidenceService:
    """The whole folder service (packets, offers and kinds move files): the case view alone needs
    less (``EvidenceServiceLike``)."""
    if not isinstance(cases.evidence, EvidenceService):
        raise Unavailable("证据文件夹服务未启用，暂时无法处理文件。")
    return cases.evidence


def prepare_packet(cases: CaseService, case_id: int, option: int) -> PreparedPacket:
    """Make the option's conversions (beside the originals) and say what goes in, in order."""
    view = cases.view(case_id)
    packet = _packet(view, option)
    errors: list[str] = []
    if packet.needs_conversion:
        service = _evidence(cases)
        case = cases.store.get_case(case_id)
        assert case is not None
        records = {r.id: r for r in cases.store.evidence_for_order(case.platform, case.order_id) if r.id is not None}
        errors = prepare(service, case, packet, records)
        cases.invalidate()
        view = cases.view(case_id)
        packet = _packet(view, option)
    return _prepared(view, packet, errors, _scenario_cautions(cases, view))


def _scenario_cautions(cases: CaseService, view: CaseView) -> list[str]:
    """What the platform refuses for this scenario (a finance seal, an all-printed form): checked before submitting."""
    scenario = cases.rulebook().scenarios.get(view.scenario or "")
    return [f"{r.what}无效：{r.reason}" for r in scenario.rejected] if scenario else []


def _packet(view: CaseView, option: int) -> Packet:
    if view.checklist is None:
        raise Conflict("还没有确定场景：请先在浮层里选择场景")
    if option >= len(view.packets):
        raise Invalid(f"这个场景只有 {len(view.packets)} 组凭证，没有第 {option + 1} 组",
                        [{"loc": ["body", "option"], "msg": "no such option", "type": "value_error"}])
    return view.packets[option]


def _prepared(view: CaseView, packet: Packet, errors: list[str], scenario_cautions: list[str]) -> PreparedPacket:
    assert view.checklist is not None
    result = view.checklist.options[packet.option]
    by_id = {e.id: e for e in view.evidence}
    entries = []
    for f in packet.files:
        if f.evidence_id is None:
            continue
        shown = by_id.get(f.evidence_id)
        entries.append(PacketEntry(
            evidence_id=f.evidence_id, kind=f.kind, kind_label=f.kind_label, filename=f.filename,
            proves=f"{f.kind_label}" + (f"：{result.note}" if result.note else ""),
            converted_from=f.source_filename if f.action != "as_is" else None,
            url=shown.url if shown and shown.url else f"/api/cases/{view.id}/files/{f.evidence_id}",
        ))
    labels = {i.kind: i.label for i in result.items}
    cautions = [w.message for w in view.checklist.warnings if w.code in ("caution", "rejected_kind", "expired", "expires_before_deadline")]
    cautions.extend(c for c in scenario_cautions if c not in cautions)
    for item in result.items:
        cautions.extend(w for w in item.warnings if w not in cautions)
    cautions.extend(n.message for n in packet.notes if n.message not in cautions)
    return PreparedPacket(
        case_id=view.id,
        option=packet.option,
        packet=packet,
        entries=entries,
        errors=errors + [p.message for p in packet.problems],
        missing=[labels.get(k, k) for k in result.missing],
        cautions=cautions,
        explanation=view.checklist.explanation_detail,
        single_submission=packet.single_submission,
        final_note=FINAL_NOTE if packet.single_submission else None,
    )


# -- export -------------------------------------------------------------------------------------
def pack_case(cases: CaseService, case_id: int, *, as_zip: bool = False, option: int | None = None, out_dir: Path | None = None) -> PackResult:
    service = _evidence(cases)
    view = cases.view(case_id)
    if view.checklist is None:
        raise Conflict("还没有确定场景：请先在浮层里选择场景，再打包导出")
    chosen = option if option is not None else _best_option(view)
    prepared = prepare_packet(cases, case_id, chosen)
    if not prepared.entries:
        raise Conflict("这组凭证还没有可导出的文件：请先放入凭证")
    view = cases.view(case_id)
    root: Path = service.root
    target_parent = out_dir or (root / EXPORT_FOLDER)
    stamp = datetime.now(BEIJING).strftime("%Y%m%d-%H%M%S")
    base = safe_name(f"{view.platform_label}_{view.order_id}_{stamp}")
    files: list[tuple[str, bytes]] = []
    sheet_entries: list[tuple[bytes | None, str]] = []
    problems = list(prepared.errors)
    total = 0
    records = {r.id: r for r in cases.store.evidence_for_order(view.platform, view.order_id)}
    for n, entry in enumerate(prepared.entries, start=1):
        record = records.get(entry.evidence_id)
        try:
            data = (root / (record.path or "")).read_bytes() if record and record.path else None
        except OSError as exc:
            data = None
            problems.append(f"{entry.filename}：无法读取（{exc.strerror or exc}）")
        if data is None:
            continue
        total += len(data)
        if total > MAX_EXPORT_BYTES:
            problems.append(f"{entry.filename}：导出包超过 {MAX_EXPORT_BYTES // (1024 * 1024)} MB，未放入")
            continue
        files.append((safe_name(f"{n:02d}_{entry.kind_label}_{entry.filename}"), data))
        sheet_entries.append((data if media_of(entry.filename) == "image" else None, f"{entry.kind_label} {entry.filename}"))
    sheet_name = "00_总览.jpg"
    text_name = "举证说明.txt"
    text = _summary(view, prepared, [name for name, _ in files], problems)
    outputs = [(sheet_name, contact_sheet(sheet_entries)), (text_name, text.encode("utf-8")), *files]
    target_parent.mkdir(parents=True, exist_ok=True)
    if as_zip:
        path = _exclusive(target_parent, base, ".zip", lambda p: _write_zip(p, outputs))
    else:
        path = _exclusive(target_parent, base, "", lambda p: _write_folder(p, outputs))
    return PackResult(
        case_id=case_id, option=prepared.option, path=str(path), files=[name for name, _ in files],
        contact_sheet=sheet_name, explanation_file=text_name, ready=prepared.packet.ready, problems=problems,
    )


def _best_option(view: CaseView) -> int:
    for wanted in ("ready", "complete"):
        for packet in view.packets:
            if getattr(packet, wanted):
                return packet.option
    with_files = [p for p in view.packets if p.files]
    return max(with_files, key=lambda p: len(p.files)).option if with_files else 0


def _summary(view: CaseView, prepared: PreparedPacket, names: list[str], problems: list[str]) -> str:
    lines = [f"{view.platform_label} 订单 {view.order_id}" + (f"（售后单 {view.aftersale_id}）" if view.aftersale_id else ""),
             f"场景：{view.scenario_label or '未确定'}", ""]
    explanation = prepared.explanation
    lines.append("【举证说明】")
    lines.append(explanation.text if explanation else "")
    if explanation and explanation.missing:
        lines.append("※ 还缺：" + "、".join(b.label for b in explanation.missing) + "——补上后再粘贴")
    if explanation and explanation.warning:
        lines.append("※ " + explanation.warning)
    lines += ["", "【文件】"]
    for name, entry in zip(names, prepared.entries, strict=False):
        lines.append(f"{name}：{entry.proves}" + (f"（由 {entry.converted_from} 转换，原文件保留在证据文件夹）" if entry.converted_from else ""))
    if prepared.missing:
        lines += ["", "【还缺】", *prepared.missing]
    if problems:
        lines += ["", "【没能放入的文件】", *problems]
    if prepared.cautions:
        lines += ["", "【注意】", *prepared.cautions]
    if prepared.final_note:
        lines += ["", prepared.final_note]
    return "\r\n".join(lines) + "\r\n"  # Notepad on older Windows shows \n-only text as one line


def _exclusive(parent: Path, base: str, suffix: str, write) -> Path:
    for n in range(1, 1000):
        path = parent / (f"{base}{suffix}" if n == 1 else f"{base} ({n}){suffix}")
        try:
            write(path)
        except FileExistsError:
            continue
        return path
    raise Conflict("导出文件夹里同名的导出太多，请清理后再试")


def _write_folder(path: Path, outputs: list[tuple[str, bytes]]) -> None:
    path.mkdir()  # FileExistsError: the caller picks the next name; nothing is ever overwritten
    for name, data in outputs:
        with open(path / name, "xb") as fh:
            fh.write(data)


def _write_zip(path: Path, outputs: list[tuple[str, bytes]]) -> None:
    with open(path, "xb") as fh:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in outputs:
                archive.writestr(name, data)  # UTF-8 names: Windows Explorer and 7-Zip read them
        fh.write(buffer.getvalue())


# -- inbox offer and kinds -------------------------------------------------------------------
def inbox_offer(cases: CaseService, case_id: int) -> InboxOffer:
    case = cases.store.get_case(case_id)
    if case is None:
        raise NotFound(f"没有编号为 {case_id} 的案子")
    return offer_for(_evidence(cases), case)


def answer_offer(cases: CaseService, case_id: int, req: OfferRequest) -> OfferAnswer:
    case = cases.store.get_case(case_id)
    if case is None:
        raise NotFound(f"没有编号为 {case_id} 的案子")
    return answer(_evidence(cases), case, req.paths, req.accept)


def set_kind(cases: CaseService, case_id: int, evidence_id: int, req: KindRequest) -> EvidenceItem:
    case = cases.store.get_case(case_id)
    if case is None:
        raise NotFound(f"没有编号为 {case_id} 的案子")
    try:
        record = assign_kind(_evidence(cases), case, evidence_id, req.kind)
    except DomainError as exc:  # the file cannot take that kind: say so on the field
        exc.detail = exc.detail or [{"loc": ["body", "kind"], "msg": exc.message, "type": "value_error"}]
        raise
    cases.invalidate()
    return evidence_item(case, record, cases.rulebook())
