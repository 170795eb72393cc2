"""What one option of a checklist puts into the platform's upload box: pure planning, no I/O.

An option is *ready* only when its files can go in: each file either fits the box as it is, or a
conversion beside it (PDF pages, HEIC → JPEG, a recompressed copy) does, and all of them together
stay within the box's count. Whatever cannot go in is named with what the seller can do; nothing
is left out silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Literal

from pydantic import BaseModel, Field

from ..rules.evaluation import OptionResult
from ..rules.models import UploadLimit
from .convert import BOX_IMAGE_EXT, compressed_name, heic_name, is_derived, page_name, source_stem, stem_of
from .layout import media_of

Action = Literal["as_is", "pdf_page", "to_jpeg", "recompressed"]
ProblemCode = Literal["video_entry", "not_accepted", "too_many", "unreadable", "too_large", "left_out", "unknown_box"]

NOTE_VIDEO_ENTRY = "{name} 是视频，图片框放不进：请通过页面的「上传视频」入口上传"
PROBLEM_VIDEO = "{name} 是视频，该平台的举证上传框只收{accepts}：请另拍一张照片，或在页面上找上传视频的入口"
PROBLEM_NOT_ACCEPTED = "{name} 的文件类型平台不收（只收{accepts}）：请另存为图片后再放入"
PROBLEM_TOO_MANY = "这组凭证转换后共 {count} 个文件，超过上传框最多 {max} 个：请删去多余的页面或照片"
NOTE_LEFT_OUT = "{name} 没有放入：上传框最多 {max} 个文件，每类凭证先放最新的一份"
NOTE_UNKNOWN_BOX = "不知道该平台上传框的限制：文件按原样放入，请核对页面的要求"
_MEDIA_ZH = {"image": "图片", "video": "视频", "pdf": "PDF"}


@dataclass(frozen=True)
class FileFacts:
    """One evidence file as the planner needs it (the probe reads pages and errors from disk)."""

    id: int
    kind: str
    filename: str
    size: int | None
    added_at: datetime
    pages: int | None = None  # PDFs
    error: str | None = None  # unreadable, or a conversion that failed before


class PacketFile(BaseModel):
    source_id: int = Field(description="原文件的凭证编号")
    evidence_id: int | None = Field(description="放入上传框的文件的凭证编号；转换前为 null")
    kind: str
    kind_label: str
    filename: str = Field(description="放入上传框的文件名（转换前为将要生成的名字）")
    source_filename: str
    action: Action
    page: int | None = None
    ready: bool = Field(description="这份文件已在文件夹里，可直接放入")


class PacketProblem(BaseModel):
    code: ProblemCode
    kind: str | None = None
    evidence_id: int | None = None
    filename: str | None = None
    message: str


class Packet(BaseModel):
    option: int
    complete: bool = Field(description="这组凭证是否齐全（同清单）")
    ready: bool = Field(description="齐全，且每份文件都能放进平台的上传框（必要时先转换）")
    needs_conversion: bool
    files: list[PacketFile]
    problems: list[PacketProblem] = Field(description="挡住提交的问题，说明怎么办")
    notes: list[PacketProblem] = Field(description="不挡提交的提示（视频走上传视频入口、没放入的多余文件）")
    max_files: int | None
    max_bytes: int | None
    single_submission: bool


def plan_packet(
    index: int,
    option: OptionResult,
    files: dict[str, FileFacts],
    limit: UploadLimit | None,
    kind_label: Callable[[str], str],
) -> Packet:
    """The packet of ``option``; ``files`` holds every file record of the order by its ref (id)."""
    problems: list[PacketProblem] = []
    notes: list[PacketProblem] = []
    chosen: list[list[PacketFile]] = []  # per source, the files it becomes
    extras: list[list[PacketFile]] = []
    accepts: set[str] = set(limit.accepts) if limit else {"image", "video", "pdf"}
    accepts_zh = "、".join(_MEDIA_ZH[m] for m in (limit.accepts if limit else []))
    if limit is None:
        notes.append(PacketProblem(code="unknown_box", message=NOTE_UNKNOWN_BOX))
    for item in option.items:
        if item.form != "file":
            continue
        records = [files[r] for r in item.evidence if r in files]
        sources = _sources(records)
        for n, source in enumerate(sources):
            planned = _plan_source(source, records, limit, accepts, accepts_zh, kind_label(item.kind), problems, notes)
            if planned:
                (chosen if n == 0 else extras).append(planned)
    count = sum(len(p) for p in chosen)
    max_files = limit.max_files if limit else None
    if max_files is not None and count > max_files:
        problems.append(PacketProblem(code="too_many", message=PROBLEM_TOO_MANY.format(count=count, max=max_files)))
    for planned in extras:
        if max_files is None or count + len(planned) <= max_files:
            chosen.append(planned)
            count += len(planned)
        else:
            first = planned[0]
            notes.append(PacketProblem(code="left_out", kind=first.kind, evidence_id=first.source_id, filename=first.source_filename,
                                       message=NOTE_LEFT_OUT.format(name=first.source_filename, max=max_files)))
    flat = [f for planned in chosen for f in planned]
    return Packet(
        option=index,
        complete=option.complete,
        ready=option.complete and not problems,
        needs_conversion=any(not f.ready for f in flat),
        files=flat,
        problems=problems,
        notes=notes,
        max_files=max_files,
        max_bytes=limit.max_bytes if limit else None,
        single_submission=bool(limit and limit.single_submission),
    )


def _sources(records: list[FileFacts]) -> list[FileFacts]:
    """Originals first, newest first; a converted file counts as a source only if its original is gone."""
    stems = {stem_of(r.filename) for r in records if not is_derived(r.filename)}
    sources = [r for r in records if not is_derived(r.filename) or source_stem(r.filename) not in stems]
    return sorted(sources, key=lambda r: (r.added_at, r.id), reverse=True)


def _derived(records: list[FileFacts], wanted: str, max_bytes: int | None) -> FileFacts | None:
    """The newest existing file made from this source under the wanted name (or its ' (n)' twin)."""
    wanted_stem = stem_of(wanted)
    found = [
        r for r in records
        if (stem_of(r.filename) == wanted_stem or stem_of(r.filename).startswith(wanted_stem + " ("))
        and (max_bytes is None or (r.size or 0) <= max_bytes)
    ]
    return max(found, key=lambda r: (r.added_at, r.id)) if found else None


def _plan_source(
    source: FileFacts,
    records: list[FileFacts],
    limit: UploadLimit | None,
    accepts: set[str],
    accepts_zh: str,
    label: str,
    problems: list[PacketProblem],
    notes: list[PacketProblem],
) -> list[PacketFile]:
    name = source.filename
    media = media_of(name)
    ext = PurePath(name).suffix.lower()
    max_bytes = limit.max_bytes if limit else None
    stem = stem_of(name)

    def as_is() -> list[PacketFile]:
        return [PacketFile(source_id=source.id, evidence_id=source.id, kind=source.kind, kind_label=label, filename=name,
                           source_filename=name, action="as_is", ready=True)]

    def problem(code: ProblemCode, message: str) -> list[PacketFile]:
        problems.append(PacketProblem(code=code, kind=source.kind, evidence_id=source.id, filename=name, message=message))
        return []

    def made(action: Action, wanted: str, page: int | None = None) -> PacketFile:
        have = _derived(records, wanted, max_bytes)
        return PacketFile(source_id=source.id, evidence_id=have.id if have else None, kind=source.kind, kind_label=label,
                          filename=have.filename if have else wanted, source_filename=name, action=action, page=page,
                          ready=have is not None)

    if source.error:
        return problem("unreadable", f"{name}：{source.error}")
    if media == "video":
        if "video" in accepts:
            return as_is()
        if limit is not None and limit.video_entry:
            notes.append(PacketProblem(code="video_entry", kind=source.kind, evidence_id=source.id, filename=name,
                                       message=NOTE_VIDEO_ENTRY.format(name=name)))
            return []
        return problem("not_accepted", PROBLEM_VIDEO.format(name=name, accepts=accepts_zh or "图片"))
    if media == "pdf":
        if "pdf" in accepts and (max_bytes is None or (source.size or 0) <= max_bytes):
            return as_is()
        if "image" not in accepts:
            return problem("not_accepted", PROBLEM_NOT_ACCEPTED.format(name=name, accepts=accepts_zh))
        if not source.pages:
            return problem("unreadable", f"{name}：PDF 无法读取页数，请重新导出或拍照上传")
        return [made("pdf_page", page_name(stem, n), n) for n in range(1, source.pages + 1)]
    if media != "image" or "image" not in accepts:
        return problem("not_accepted", PROBLEM_NOT_ACCEPTED.format(name=name, accepts=accepts_zh or "图片"))
    if ext not in BOX_IMAGE_EXT:
        return [made("to_jpeg", heic_name(stem))]  # HEIC, WebP, TIFF: the boxes take JPG/PNG
    if max_bytes is not None and (source.size or 0) > max_bytes:
        return [made("recompressed", compressed_name(stem))]
    return as_is()
