"""Reading unnamed evidence images in the background, and what the sorter asks of it.

The sorter calls :meth:`ReaderService.consider` for every inbox file it classified. A file whose
name already says where it goes is returned untouched at once (never delayed). An image the name
cannot place is looked up in the reading cache (by sha256): read before, it is decided at once;
not yet read, it is queued, stays in the inbox as 「正在识别图片内容」, and the sorter is asked to
try again when its reading is in. The OCR itself runs in a worker process (see :mod:`.client`),
started for the first job and let go after ``idle_seconds`` without one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..evidence.classify import Placement, Unplaced
from ..evidence.classify_text import CaseRef, TextDecision, decide
from ..evidence.layout import media_of
from ..evidence.reader_status import ReaderStatus
from ..rules import Rulebook
from ..store import SqliteStore
from ..store.readings import auto_check, get_reading, has_reading, put_reading
from ..worker_thread import WorkerThread
from .client import ReaderClient, WorkerUnavailable
from .documents import kind_of
from .engine import missing_parts
from .protocol import Reading

if TYPE_CHECKING:
    from ..events import EventBus

log = logging.getLogger(__name__)

REASON_READING = "正在识别图片内容（本机离线识别，不上传），读到订单号或快递单号后会自动归档"
REASON_READ_LATER = "图片识别暂时不可用，稍后会再试：也可以在文件名中加上订单号"
NOTE_SUGGESTED = "图片看起来像{label}，请确认后移入对应文件夹"
NOTE_REJECTED = "图片像{label}：{reason}"
READ_CODES = ("no_order", "unknown_number")  # name problems a reading may solve
MAX_TRIES = 3  # worker failures on one file before it is left to its name
RETRY_SECONDS = 20.0


class ReaderService:
    def __init__(
        self,
        store: SqliteStore,
        cache_dir: Path,
        *,
        idle_seconds: float | None = None,
        missing: list[str] | None = None,
        client: ReaderClient | None = None,
    ) -> None:
        self.store = store
        self.missing = missing_parts() if missing is None else missing
        self.available = not self.missing
        self.idle_seconds = idle_seconds if idle_seconds is not None else _idle_default()
        self.client = client or ReaderClient(cache_dir)
        self.on_read: Callable[[Path], None] | None = None  # the evidence service's recheck of that one file
        self.bus: EventBus | None = None  # the event bus: a filed image read later changes its case view
        self._cond = threading.Condition()
        self._queue: deque[tuple[Path, str]] = deque()
        self._queued: set[str] = set()
        self._current: str | None = None
        self._shas: dict[tuple[str, int, int], str] = {}
        self._decisions: dict[str, TextDecision] = {}
        self._worker = WorkerThread("juzheng-reader", self._cond)
        self._retry_after: float = 0.0
        self._tries: dict[str, int] = {}
        self._waiting: dict[str, set[Path]] = {}  # inbox files waiting for the reading of these bytes
        self._moved: dict[str, Path] = {}  # queued files the sorter filed meanwhile: where they are now
        self.done = 0
        self.failed = 0
        self.cpu_seconds = 0.0

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.available:
            self._worker.start(self._run)

    def stop(self, timeout: float = 10.0) -> None:
        self._worker.stop(timeout)
        self.client.stop()

    def status(self) -> ReaderStatus:
        with self._cond:
            queued, current = len(self._queue), self._current
        message = self.message_for(self.available, queued + (1 if current else 0), self.done)
        return ReaderStatus(
            available=self.available, missing=self.missing, message=message, queued=queued, reading=current,
            done=self.done, failed=self.failed, worker_running=self.client.running, worker_starts=self.client.starts,
            cpu_seconds=round(self.cpu_seconds, 3),
        )

    @staticmethod
    def message_for(available: bool, waiting: int, read: int) -> str:
        if not available:
            return "未安装（可选组件 ocr）：未命名的照片和截图需在文件名中写上订单号，或先打开该售后单；其余功能不受影响"
        if waiting:
            return f"正在识别（本机离线，不上传）：还有 {waiting} 张"
        return f"就绪（本机离线，不上传）：已识别 {read} 张"

    # -- what the sorter asks -------------------------------------------------------------------
    def consider(self, path: Path, name: str, size: int, mtime_ns: int, result: Placement | Unplaced, rulebook: Rulebook) -> Placement | Unplaced:
        named = isinstance(result, Placement) and result.order_by != "focus"
        if not self.available or media_of(name) not in READ_MEDIA:
            return result
        if named:
            if result.kind is None and _looks_like_image(path):  # type: ignore[union-attr]
                # Filed now into 待分类 as its name says; read afterwards for a suggested kind.
                sha = self._sha(path, size, mtime_ns)
                if sha is not None and not has_reading(self.store, sha):
                    self.enqueue(path, sha)
            return result
        if isinstance(result, Unplaced) and result.code not in READ_CODES:
            return result
        if not _looks_like_image(path):
            return result  # named .jpg but not one (a half-synced file, a renamed document)
        sha = self._sha(path, size, mtime_ns)
        if sha is None:
            return result
        reading = get_reading(self.store, sha)
        if reading is None:
            self.enqueue(path, sha)
            return Unplaced(code="reading", reason=REASON_READING)
        if reading.status != "read":
            return result
        decision = self.decide(reading, name, rulebook)
        self._decisions[sha] = decision
        if decision.platform and decision.order_id:
            return self._placement(decision.platform, decision.order_id, decision.order_by or "read_order", decision, name, rulebook)
        if isinstance(result, Placement):  # the case in focus; the reading may still know the kind
            placed = self._placement(result.platform, result.order_id, result.order_by, decision, name, rulebook)
            if result.kind is not None:  # a kind the name states beats a guess from the pixels
                note = placed.note if decision.rejected is not None else None  # a refused look-alike is still said
                placed = replace(placed, kind=result.kind, kind_by=result.kind_by, note=note)
            return placed
        return Unplaced(code="read_nothing", reason=decision.reason or REASON_READ_LATER)

    def decide(self, reading: Reading, name: str, rulebook: Rulebook) -> TextDecision:
        cases = [CaseRef.of(c) for c in self.store.list_cases(status=None)]
        return decide(reading.lines, reading.signals, name, rulebook, cases)

    def placed(self, sha256: str | None, platform: str, order_id: str, kind: str | None, dest: Path | None = None) -> list[tuple[int, str, str]]:
        """After a move: tick the field checks the image shows, once. Returns what was ticked.

        A file still queued for reading (filed by its name meanwhile) is read where it now is.
        """
        if dest is not None and sha256 and sha256 in self._queued:
            with self._cond:
                self._moved[sha256] = Path(dest)
                self._queue = deque((Path(dest) if s == sha256 else p, s) for p, s in self._queue)
        decision = self._decisions.pop(sha256 or "", None)
        if decision is None or kind is None or decision.order_id != order_id:
            return []
        ticked = []
        for case in self.store.cases_for_order(order_id, platform):
            for field_id in decision.case_checks.get(case.id, []):  # only what this case knows
                if auto_check(self.store, case.id, kind, field_id, sha256 or ""):
                    ticked.append((case.id, kind, field_id))
        return ticked

    def enqueue(self, path: Path, sha: str) -> None:
        with self._cond:
            self._waiting.setdefault(sha, set()).add(path)  # twins of the same bytes wait for one reading
            if sha in self._queued:
                return
            self._queued.add(sha)
            self._queue.append((path, sha))
            self._cond.notify_all()

    # -- internals ------------------------------------------------------------------------------
    def _placement(self, platform: str, order_id: str, order_by: str, decision: TextDecision, name: str, rulebook: Rulebook) -> Placement:
        kind = decision.kind
        if kind is not None and media_of(name) not in rulebook.kinds[kind].media:
            kind = None
        note = None
        if decision.rejected is not None:
            note = NOTE_REJECTED.format(label=decision.rejected.label, reason=decision.rejected.reason)
        elif kind is None and decision.suggested_kind in rulebook.kinds:
            note = NOTE_SUGGESTED.format(label=rulebook.kinds[decision.suggested_kind].label)
        return Placement(
            platform=platform, order_id=order_id, kind=kind, order_by=order_by,  # type: ignore[arg-type]
            kind_by="read" if kind else "none", note=note,
        )

    def _sha(self, path: Path, size: int, mtime_ns: int) -> str | None:
        from ..evidence.mover import sha256_file

        key = (str(path), size, mtime_ns)
        sha = self._shas.get(key)
        if sha is None:
            try:
                sha = sha256_file(path)
            except OSError:
                return None
            if len(self._shas) > 10_000:
                self._shas.clear()
            self._shas[key] = sha
        return sha

    def _run(self) -> None:
        while True:
            with self._cond:
                idle_since = time.monotonic()
                while not self._worker.stopping and (not self._queue or time.monotonic() < self._retry_after):
                    wait = self.idle_seconds if not self._queue else max(0.05, self._retry_after - time.monotonic())
                    self._cond.wait(wait)
                    if not self._queue and time.monotonic() - idle_since >= self.idle_seconds and self.client.running:
                        self.client.stop()  # the models' memory goes back while nothing is queued
                if self._worker.stopping:
                    return
                path, sha = self._queue.popleft()
                self._current = path.name
            try:
                self._read_one(path, sha)
            finally:
                with self._cond:
                    self._current = None
                    if not any(s == sha for _, s in self._queue):
                        self._queued.discard(sha)

    def _read_one(self, path: Path, sha: str) -> None:
        if has_reading(self.store, sha):
            self._notify(path, sha)
            return
        with self._cond:
            path = self._moved.pop(sha, path)
        if not path.is_file():
            return  # moved or deleted meanwhile: where it shows up next, it is considered again
        try:
            reply = self.client.read(path)
        except WorkerUnavailable as exc:
            log.warning("reader worker unavailable: %s", exc)
            self.failed += 1
            tries = self._tries[sha] = self._tries.get(sha, 0) + 1
            if tries >= MAX_TRIES:
                # The worker dies on this file (or cannot start at all): give up on reading it, so
                # the file is handled by its name again instead of waiting for ever.
                put_reading(self.store, Reading(sha256=sha, status="failed", error=str(exc)[:300]))
                self._notify(path, sha)
                return
            with self._cond:  # try again in a while; the file waits in the inbox meanwhile
                self._retry_after = time.monotonic() + RETRY_SECONDS
                self._queue.append((path, sha))
                self._queued.add(sha)
            return
        self.cpu_seconds += reply.cpu_seconds
        if not reply.ok and not path.is_file():
            with self._cond:  # filed by its name while being read: read it where it went
                moved = self._moved.pop(sha, None)
                if moved is not None:
                    self._queue.append((moved, sha))
                    self._queued.add(sha)
            return
        if reply.ok:
            self.done += 1
            reading = Reading(sha256=sha, lines=reply.lines, signals=reply.signals, engine=reply.engine)
        else:
            self.failed += 1
            reading = Reading(sha256=sha, status="failed", signals=reply.signals, error=reply.error)
        put_reading(self.store, reading)
        self._notify(path, sha)
        self._publish_filed(sha)

    def _publish_filed(self, sha: str) -> None:
        """A file already in an order folder (named, 待分类) was read: its case views show the suggestion."""
        if self.bus is None:
            return
        from ..events import EVIDENCE_CHANGED
        from ..evidence.indexer import payload

        for record in self.store.evidence_by_sha(sha):
            self.bus.publish(EVIDENCE_CHANGED, payload(record, "read"))

    def _notify(self, path: Path, sha: str) -> None:
        with self._cond:
            waiting = self._waiting.pop(sha, set()) | {path}
        if self.on_read is None:
            return
        for each in sorted(waiting):
            if each.is_file():
                try:
                    self.on_read(each)
                except Exception:
                    log.exception("reader: notifying the sorter failed")


READ_MEDIA = ("image", "pdf")  # photos (HEIC too) and screenshots; PDFs by their text layer or pages


def _looks_like_image(path: Path) -> bool:
    """The bytes are an image or a PDF, as the name says (a half-synced file, a renamed document: no)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    return kind_of(head) == media_of(path.name)


IDLE_ENV = "JUZHENG_READER_IDLE_SECONDS"  # tests and benchmarks shorten the worker's idle time


def _idle_default() -> float:
    import os

    try:
        return max(0.5, float(os.environ.get(IDLE_ENV, "30")))
    except ValueError:
        return 30.0
