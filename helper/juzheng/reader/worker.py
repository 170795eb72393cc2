"""The reader worker process: ``python -m juzheng.reader.worker --cache-dir DIR``.

One thread, one job at a time, JSON lines on stdin/stdout (see :mod:`.protocol`). It exits when
stdin closes, which is how the helper lets it go when idle (and what happens if the helper dies),
so the memory of the models goes back to the system between bursts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One thread: a second one gave nothing on 2 cores and takes a core the seller's browser wants.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from .protocol import Hello, ReadJob, ReadReply, Signals  # noqa: E402

def handle(job: ReadJob, engine) -> ReadReply:
    started = time.process_time()
    from .documents import open_pages
    from .signals import signals_of

    try:
        pages = open_pages(job.path)  # images incl. HEIC; a PDF's text layer, or its pages rendered
        signals = signals_of(pages.first)
        if pages.pdf:  # a document page is white and flat like a screen, but it is no screenshot
            signals = signals.model_copy(update={"screenshot": False})
    except Exception as exc:  # not an image, truncated, too large: say so, keep serving
        return ReadReply(id=job.id, ok=False, error=f"{type(exc).__name__}: {exc}"[:300], cpu_seconds=time.process_time() - started)
    lines = list(pages.lines)
    if job.ocr and engine is not None and pages.images:
        import numpy as np

        from .engine import MAX_SIDE

        for image, page in zip(pages.images, pages.image_pages, strict=True):
            rgb = image.convert("RGB")
            rgb.thumbnail((MAX_SIDE, MAX_SIDE))
            try:
                read = engine.read(np.asarray(rgb))
            except Exception as exc:
                return ReadReply(id=job.id, ok=False, signals=signals, error=f"{type(exc).__name__}: {exc}"[:300],
                                 cpu_seconds=time.process_time() - started)
            # pages in order: a later page's lines sort after an earlier page's
            lines.extend(line.model_copy(update={"y": line.y + page * 10_000}) for line in read)
        lines.sort(key=lambda line: int(line.y // 10_000))  # by page; a page keeps its own order
    return ReadReply(id=job.id, ok=True, lines=lines, signals=signals or Signals(),
                     cpu_seconds=round(time.process_time() - started, 4), engine=ENGINE_NAME if engine else "")


ENGINE_NAME = "rapidocr+PP-OCRv6-tiny"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="juzheng-reader")
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--signals-only", action="store_true")
    args = parser.parse_args(argv)
    if hasattr(os, "nice"):
        # Background work: the seller's browser and the helper's own sorting come first (Windows:
        # the client starts this process with BELOW_NORMAL_PRIORITY_CLASS).
        try:
            os.nice(10)
        except OSError:
            pass
    out = sys.stdout
    engine = None
    if not args.signals_only:
        try:
            from .engine import Engine

            engine = Engine.load(args.cache_dir)
        except Exception as exc:
            out.write(Hello(ready=False, error=f"{type(exc).__name__}: {exc}"[:300]).model_dump_json() + "\n")
            out.flush()
            return 2
    out.write(Hello(ready=True, engine=ENGINE_NAME if engine else "signals", load_seconds=engine.load_seconds if engine else 0.0).model_dump_json() + "\n")
    out.flush()
    for raw in sys.stdin:
        if not raw.strip():
            continue
        try:
            job = ReadJob.model_validate_json(raw)
        except ValueError as exc:
            out.write(ReadReply(id=-1, ok=False, error=f"bad job: {exc}"[:300]).model_dump_json() + "\n")
            out.flush()
            continue
        out.write(handle(job, engine).model_dump_json() + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
