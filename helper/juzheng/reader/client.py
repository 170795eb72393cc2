"""The helper's side of the reader worker: start it on demand, send one job, wait for its reply.

The worker runs ``sys.executable -m juzheng.reader.worker``: the same interpreter and package, so
there is nothing to find on PATH (Windows included). A job that takes longer than ``job_timeout``
kills the worker (a hung model must not stall the queue); the next job starts a fresh one.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from .process_flags import worker_creationflags
from .protocol import Hello, ReadJob, ReadReply

log = logging.getLogger(__name__)


class WorkerUnavailable(RuntimeError):
    """The worker could not start or died; the message is for the log, not the seller."""


class ReaderClient:
    def __init__(self, cache_dir: Path, *, job_timeout: float = 60.0, start_timeout: float = 60.0, signals_only: bool = False) -> None:
        self.cache_dir = Path(cache_dir)
        self.job_timeout = job_timeout
        self.start_timeout = start_timeout
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
            line = self._exchange(proc, job.model_dump_json() + "\n", self.job_timeout)
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
        line = self._exchange(proc, None, self.start_timeout)
        try:
            hello = Hello.model_validate_json(line)
        except ValueError as exc:
            proc.kill()
            proc.wait()
            raise WorkerUnavailable(f"worker did not start: {line[:200]!r}") from exc
        self.hello = hello
        if not hello.ready:
            proc.wait(5)
            raise WorkerUnavailable(hello.error or "worker not ready")
        self._proc = proc
        return proc

    def _exchange(self, proc: subprocess.Popen[str], message: str | None, timeout: float) -> str:
        timer = threading.Timer(timeout, proc.kill)
        timer.daemon = True
        timer.start()
        try:
            assert proc.stdin is not None and proc.stdout is not None
            if message is not None:
                proc.stdin.write(message)
                proc.stdin.flush()
            line = proc.stdout.readline()
        except (OSError, ValueError) as exc:
            self._kill(proc)
            raise WorkerUnavailable(f"worker pipe broke: {exc}") from exc
        finally:
            timer.cancel()
        if not line:
            self._kill(proc)
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
