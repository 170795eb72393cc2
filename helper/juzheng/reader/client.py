"""The helper's side of the reader worker: start it on demand, send one job, wait for its reply.

The worker runs ``sys.executable -m juzheng.reader.worker``: the same interpreter and package, so
there is nothing to find on PATH (Windows included). A job that is stuck kills the worker (a hung
model must not stall the queue); the next job starts a fresh one. Stuck is judged by the CPU time the
worker spends (:mod:`.watchdog`), since a worker below normal priority on a busy machine is slow,
not hung.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from .process_flags import worker_creationflags
from .protocol import Hello, ReadJob, ReadReply
from .watchdog import Budget, Watch

log = logging.getLogger(__name__)


class WorkerUnavailable(RuntimeError):
    """The worker could not start or died; the message is for the log, not the seller."""


class ReaderClient:
    def __init__(
        self, cache_dir: Path, *, job_budget: Budget | None = None, start_budget: Budget | None = None, signals_only: bool = False,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        # CPU-seconds: one image takes ~0.3 and start-up ~3 on this machine class; far above both.
        self.job_budget = job_budget or Budget(cpu_seconds=60.0)
        self.start_budget = start_budget or Budget(cpu_seconds=60.0)
        self.signals_only = signals_only
        self._proc: subprocess.Popen[str] | None = None
        self._next_id = 0
        self._lock = threading.Lock()
        self.starts = 0
        self.hello: Hello | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    def read(self, path: Path, ocr: bool = True) -> ReadReply:
        with self._lock:
            proc = self._ensure()
            self._next_id += 1
            job = ReadJob(id=self._next_id, path=str(path), ocr=ocr)
            line = self._exchange(proc, job.model_dump_json() + "\n", self.job_budget)
            try:
                reply = ReadReply.model_validate_json(line)
            except ValueError as exc:
                self._kill()
                raise WorkerUnavailable(f"unreadable reply: {line[:200]!r}") from exc
            if reply.id != job.id:
                self._kill()
                raise WorkerUnavailable(f"reply {reply.id} for job {job.id}")
            return reply

    def stop(self, timeout: float = 5.0) -> None:
        """Let the worker go (closing its stdin makes it exit); kill it if it does not."""
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            finally:
                for stream in (proc.stdout,):
                    if stream:
                        stream.close()

    # -- internals -------------------------------------------------------------------------------
    def _ensure(self) -> subprocess.Popen[str]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._proc = None
        args = [sys.executable, "-m", "juzheng.reader.worker", "--cache-dir", str(self.cache_dir)]
        if self.signals_only:
            args.append("--signals-only")
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8", env=env, creationflags=worker_creationflags(sys.platform),
        )
        self.starts += 1
        began = time.monotonic()
        line = self._exchange(proc, None, self.start_budget)
        try:
            hello = Hello.model_validate_json(line)
        except ValueError as exc:
            proc.kill()
            proc.wait()
            raise WorkerUnavailable(f"worker did not start: {line[:200]!r}") from exc
        self.hello = hello
        log.info("reader worker %s: %s in %.1f s", proc.pid, "ready" if hello.ready else "not ready", time.monotonic() - began)
        if not hello.ready:
            proc.wait(5)
            raise WorkerUnavailable(hello.error or "worker not ready")
        self._proc = proc
        return proc

    def _exchange(self, proc: subprocess.Popen[str], message: str | None, budget: Budget) -> str:
        watch = Watch(proc.pid, budget, lambda reason: proc.kill())
        with watch:
            try:
                assert proc.stdin is not None and proc.stdout is not None
                if message is not None:
                    proc.stdin.write(message)
                    proc.stdin.flush()
                line = proc.stdout.readline()
            except (OSError, ValueError) as exc:
                self._kill(proc)
                raise WorkerUnavailable(f"worker pipe broke: {exc}") from exc
        if not line:
            self._kill(proc)
            if watch.reason is not None:
                raise WorkerUnavailable(f"worker stopped: {watch.reason}")
            raise WorkerUnavailable("worker exited" if proc.poll() is not None else "worker closed its output")
        return line

    def _kill(self, proc: subprocess.Popen[str] | None = None) -> None:
        proc = proc or self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc is self._proc:
            self._proc = None
