"""Messages between the helper and its reader worker: one JSON object a line, each way.

The helper writes a :class:`ReadJob` to the worker's stdin and reads one :class:`ReadReply` from
its stdout. A :class:`Reading` (text + signals) is what the store caches by sha256: the same bytes
are never read twice, and deciding from it again (new cases, new rules) costs no OCR.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TextLine(Message):
    text: str
    score: float = 0.0
    x: float = 0.0
    y: float = 0.0
    h: float = 0.0


class Signals(Message):
    """What the image says before any OCR: cheap, Pillow + numpy only."""

    width: int = 0
    height: int = 0
    camera: str | None = Field(default=None, description="EXIF Make/Model: taken by a camera")
    screenshot: bool = False
    flat: float = Field(default=0.0, description="share of pixels in the few most common colours")
    red_circles: int = Field(default=0, description="round red marks, i.e. stamps")
    red_share: float = 0.0


class ReadJob(Message):
    id: int
    path: str
    ocr: bool = True  # False: signals only


class ReadReply(Message):
    id: int
    ok: bool
    lines: list[TextLine] = Field(default_factory=list)
    signals: Signals = Field(default_factory=Signals)
    error: str | None = None
    cpu_seconds: float = 0.0
    engine: str = ""


class Hello(Message):
    """The worker's first line: it is ready (models loaded) or says why it cannot read."""

    protocol: int = PROTOCOL_VERSION
    ready: bool
    engine: str = ""
    load_seconds: float = 0.0
    error: str | None = None


class Reading(Message):
    """A cached reading of one file's bytes."""

    sha256: str
    status: Literal["read", "failed"] = "read"
    lines: list[TextLine] = Field(default_factory=list)
    signals: Signals = Field(default_factory=Signals)
    engine: str = ""
    error: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)
