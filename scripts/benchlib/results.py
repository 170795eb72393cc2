"""What a measurement returns, how it is judged against its target, and how the run is reported.

Every figure is paired with a baseline measured in the same run (a noisy machine slows both), and
``ratio`` is always ``value / baseline``. A target is either on the value or on the ratio.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class Target(BaseModel):
    on: Literal["value", "ratio"]
    op: Literal["<=", "<", ">="]
    limit: float

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        subject = value if self.on == "value" else ratio
        if subject is None or math.isnan(subject):
            return None
        if self.op == "<=":
            return subject <= self.limit
        if self.op == "<":
            return subject < self.limit
        return subject >= self.limit

    def text(self, unit: str) -> str:
        limit = f"{self.limit:g}"
        return f"{self.op} {limit} {unit}".strip() if self.on == "value" else f"ratio {self.op} {limit}x"


class Figure(BaseModel):
    """One line of the table and of bench-results.json."""

    id: str
    title: str
    unit: str
    stat: str  # what ``value`` is: p95, p99, median, mean…
    value: float | None
    details: dict[str, float | int | str] = Field(default_factory=dict)  # p50, samples, sizes…
    baseline: float | None = None
    baseline_title: str = ""
    baseline_why: str = ""  # why this baseline is the sensible same-run reference
    ratio: float | None = None
    target: Target | None = None
    target_text: str = ""
    passed: bool | None = None
    note: str = ""

    def judge(self) -> Figure:
        if self.ratio is None and self.value is not None and self.baseline:
            self.ratio = self.value / self.baseline
        if self.target is not None:
            self.passed = self.target.met(self.value, self.ratio)
            self.target_text = self.target.text(self.unit)
        return self


class Run(BaseModel):
    started_at: datetime
    finished_at: datetime | None = None
    quick: bool
    machine: dict[str, str | int | float]
    options: dict[str, str | int | float | bool | None]
    figures: list[Figure] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)  # measurement → why it did not run
    all_passed: bool | None = None

    def finish(self) -> Run:
        self.finished_at = datetime.now(timezone.utc)
        judged = [f.passed for f in self.figures if f.target is not None]
        self.all_passed = None if not judged or None in judged else all(judged)
        return self

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def percentile(samples: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); ``q`` in 0..100."""
    if not samples:
        return math.nan
    data = sorted(samples)
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return float(data[lo] + (data[hi] - data[lo]) * (pos - lo))


def machine() -> dict[str, str | int | float]:
    info: dict[str, str | int | float] = {
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": os.cpu_count() or 0,
    }
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            info["mem_mb"] = int(fh.readline().split()[1]) // 1024
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["chromium"] = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    return info


def _num(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".rstrip()


def table(run: Run) -> str:
    """A plain-text table (fixed columns; CJK-free so it lines up in any terminal)."""
    rows = [("measurement", "value", "baseline (same run)", "ratio", "target", "result")]
    for f in run.figures:
        result = {True: "PASS", False: "MISS", None: "-"}[f.passed]
        rows.append((
            f"{f.title} [{f.stat}]",
            _num(f.value, f.unit),
            f"{_num(f.baseline, f.unit)} {f.baseline_title}".strip() if f.baseline is not None else "-",
            f"{f.ratio:.2f}x" if f.ratio is not None and not math.isnan(f.ratio) else "-",
            f.target_text or "-",
            result,
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"- {f.title}: {f.note}" for f in run.figures if f.note]
    whys = [f"- {f.title}: baseline = {f.baseline_why}" for f in run.figures if f.baseline_why]
    out = "\n".join(lines)
    if whys:
        out += "\n\nBaselines:\n" + "\n".join(whys)
    if notes:
        out += "\n\nNotes:\n" + "\n".join(notes)
    if run.skipped:
        out += "\n\nSkipped:\n" + "\n".join(f"- {k}: {v}" for k, v in run.skipped.items())
    return out
