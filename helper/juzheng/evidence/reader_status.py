"""What the image reader (offline OCR) reports, as part of the evidence folder's status.

Here and not in :mod:`juzheng.reader`: ``juzheng sort`` and ``juzheng status`` build an
``EvidenceStatus`` and must not import the OCR side to do it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReaderStatus(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    available: bool
    missing: list[str] = Field(default_factory=list, description="what the optional OCR component lacks")
    message: str  # zh-CN, for `juzheng status` and the tray
    queued: int = 0
    reading: str | None = None  # the file being read now (relative name)
    done: int = 0
    failed: int = 0
    worker_running: bool = False
    worker_starts: int = 0
    cpu_seconds: float = 0.0
