"""The packet's I/O: facts read from the files (PDF page counts, failed conversions) and the
conversions themselves, written beside the originals through the evidence service's upload path
(the mover's never-overwrite write, a record, an event). Planning stays in :mod:`.packet`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from ..store import Case, EvidenceRecord
from .convert import ConversionError, heic_to_jpeg, pdf_page_count, pdf_to_jpegs, recompress, stem_of
from .layout import media_of
from .packet import FileFacts, Packet

log = logging.getLogger(__name__)
MAX_SOURCE_BYTES = 200 * 1024 * 1024  # a file this large is not read into memory to convert it


class Importer(Protocol):
    root: Path

    def import_upload(self, case: Case, kind: str | None, filename: str, data: bytes, how: str = "uploaded") -> EvidenceRecord: ...


_Key = tuple[str, int | None, int | None]
_lock = threading.Lock()
_pages: dict[_Key, int | None] = {}
_errors: dict[_Key, str] = {}


def _key(record: EvidenceRecord) -> _Key:
    return (record.path or "", record.size, record.mtime_ns)


def file_facts(root: Path, records: Iterable[EvidenceRecord]) -> dict[str, FileFacts]:
    """Every file record as the planner sees it, by ref; PDF pages counted once per file version."""
    out: dict[str, FileFacts] = {}
    for record in records:
        if record.id is None or not record.path or not record.kind:
            continue
        key = _key(record)
        pages = None
        with _lock:
            error = _errors.get(key)
        if media_of(record.path) == "pdf" and error is None:
            pages, error = _pdf_pages(root, record, key)
        out[str(record.id)] = FileFacts(
            id=record.id, kind=record.kind, filename=record.path.rsplit("/", 1)[-1], size=record.size,
            added_at=record.added_at, pages=pages, error=error,
        )
    return out


def _pdf_pages(root: Path, record: EvidenceRecord, key: _Key) -> tuple[int | None, str | None]:
    with _lock:
        if key in _pages:
            return _pages[key], None
    try:
        data = _read(root / (record.path or ""), record.size)
        pages: int | None = pdf_page_count(data)
    except ConversionError as exc:
        with _lock:
            _errors[key] = str(exc)
        return None, str(exc)
    except OSError:
        return None, None  # gone or locked right now: the next view tries again
    with _lock:
        if len(_pages) > 10_000:
            _pages.clear()
        _pages[key] = pages
    return pages, None


def _read(path: Path, size: int | None) -> bytes:
    if size is not None and size > MAX_SOURCE_BYTES:
        raise ConversionError(f"文件超过 {MAX_SOURCE_BYTES // (1024 * 1024)} MB，无法转换：请先缩小或分成几份")
    return path.read_bytes()


def prepare(service: Importer, case: Case, packet: Packet, records: Mapping[int, EvidenceRecord]) -> list[str]:
    """Make the files the packet still lacks, beside their originals. Returns the errors (zh-CN)."""
    limit = packet.max_bytes
    errors: list[str] = []
    done: set[int] = set()
    for planned in packet.files:
        if planned.ready or planned.source_id in done:
            continue
        done.add(planned.source_id)
        source = records.get(planned.source_id)
        if source is None or not source.path or not source.kind:
            continue
        try:
            data = _read(service.root / source.path, source.size)
            stem = stem_of(source.path.rsplit("/", 1)[-1])
            if planned.action == "pdf_page":
                made = pdf_to_jpegs(data, stem, limit)
            elif planned.action == "to_jpeg":
                made = [heic_to_jpeg(data, stem, limit)]
            else:
                made = [recompress(data, stem, limit or len(data))]
        except ConversionError as exc:
            with _lock:
                _errors[_key(source)] = str(exc)
            errors.append(f"{planned.source_filename}：{exc}")
            continue
        except OSError as exc:
            errors.append(f"{planned.source_filename}：文件暂时无法读取（{exc.strerror or exc}），请稍后再试")
            continue
        for converted in made:
            service.import_upload(case, source.kind, converted.name, converted.data, how="converted")
    return errors
