"""4c. ``juzheng sort`` against organize-tool sorting the same inbox into the same layout (files/s).

organize-tool 3.3.0 (PyPI) is installed by the bench into its own venv (kept in the user's cache
folder between runs: the install is not what is measured). Its config does the placement the
rulebook does for these names: ``<平台> <订单号> <类型> n.jpg`` → ``<平台>/<订单号>/<类型>/``, one regex
rule per kind. Both tools get an identical inbox (the same names and bytes, written afresh before each
run outside the clock, so only one copy of 2 MB photos is on disk at a time), run as their own
command-line processes (start-up counts: it is what the seller waits for), alternated, the median of
the rounds reported. Both with cached bytecode; juzheng with a state directory used once before
(outside the clock), as a seller's is after the first run. Afterwards both trees must hold the same relative paths, every file once.

Photos are real-size (2–3 MB, JPEG markers around random bytes, sizes varied as a phone's are):
hashing them is a real cost the sorter pays and organize does not (it never reads the bytes).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .results import Figure, Target

ORGANIZE = "organize-tool==3.3.0"
TARGET_RATIO = 5.0
PLATFORM_WORDS = ("taobao", "tmall", "douyin", "pinduoduo")
_POOL_BYTES = 8 * 1024 * 1024


def organize_venv(cache: Path | None = None) -> Path:
    """The organize executable, installed once into its own venv (cached between bench runs)."""
    base = cache or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "juzheng-bench"
    venv = base / ORGANIZE.replace("==", "-")
    exe = venv / ("Scripts/organize.exe" if os.name == "nt" else "bin/organize")
    if exe.exists():
        return exe
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([str(pip), "-m", "pip", "install", "--quiet", ORGANIZE], check=True)
    if not exe.exists():
        raise RuntimeError(f"{ORGANIZE} installed but {exe} is missing")
    return exe


def _plan(count: int, book: Any, seed: int) -> tuple[list[str], list[int], dict[str, str]]:
    """Names, sizes, and kind keyword → folder label."""
    from .tree import order_id

    rng = random.Random(seed)
    kinds = [k for k in book.kinds.values() if k.form == "file" and _photo_kind(book, k)]
    orders = [(p, order_id(p, rng)) for p in PLATFORM_WORDS for _ in range(max(1, count // 40))]
    names, sizes = [], []
    for i in range(count):
        platform, order = orders[i % len(orders)]
        kind = kinds[i % len(kinds)]
        names.append(f"{book.platforms[platform].label} {order} {kind.keywords[0]} {i}.jpg")
        sizes.append(rng.randint(2 * 1024 * 1024, 3 * 1024 * 1024))
    return names, sizes, {k.keywords[0]: k.label for k in kinds}


def _photo_kind(book: Any, kind: Any) -> bool:
    """A kind a .jpg named with its keyword is filed under (a video kind's photo goes to 待分类)."""
    from datetime import datetime, timezone

    from juzheng.evidence import classify
    from juzheng.evidence.classify import Placement

    placed = classify(f"{book.platforms['taobao'].label} 2481875865670130684 {kind.keywords[0]} 1.jpg", book, [], None, datetime.now(timezone.utc))
    return isinstance(placed, Placement) and placed.kind == kind.id


def _write_inbox(inbox: Path, names: list[str], sizes: list[int], seed: int) -> None:
    """The same bytes every time for the same seed: a JPEG's markers around random-looking data."""
    pool = random.Random(seed).randbytes(_POOL_BYTES)
    inbox.mkdir(parents=True, exist_ok=True)
    for i, (name, size) in enumerate(zip(names, sizes, strict=True)):
        head = b"\xff\xd8\xff\xe0" + hashlib.sha256(name.encode()).digest()
        body_len = size - len(head) - 2
        start = (i * 7919) % (_POOL_BYTES // 2)
        body = (pool[start:] + pool)[:body_len] if body_len > _POOL_BYTES - start else pool[start:start + body_len]
        with open(inbox / name, "xb") as fh:
            fh.write(head)
            fh.write(body)
            fh.write(b"\xff\xd9")


def _organize_config(path: Path, inbox: Path, root: Path, book: Any, kinds: dict[str, str]) -> None:
    platforms = "|".join(book.platforms[p].label for p in PLATFORM_WORDS)
    lines = ["rules:"]
    for keyword, label in kinds.items():
        lines += [
            f"  - name: {label}",
            f"    locations: '{inbox.as_posix()}/'",
            "    filters:",
            f"      - regex: '^(?P<plat>{platforms}) (?P<order>[0-9-]+) {keyword} '",
            "    actions:",
            f"      - move: '{root.as_posix()}/{{regex.plat}}/{{regex.order}}/{label}/'",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _tree(root: Path) -> set[str]:
    out = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        out.update(Path(folder, f).relative_to(root).as_posix() for f in files)
    return out


def _env() -> dict[str, str]:
    """Both tools with their bytecode cached, as installed programs have it (pip compiles a wheel's
    modules; this machine's environment may forbid writing bytecode beside the sources)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "juzheng-bench" / "pycache")
    return env


def _run(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    return took


def measure(session: Any, count: int, rounds: int = 2, seed: int = 15) -> Figure:
    from juzheng.paths import INBOX
    from juzheng.rules import load_rulebook

    book = load_rulebook()
    names, sizes, kinds = _plan(count, book, seed)
    exe = organize_venv()
    base = session.workdir / f"sort-{count}"
    juzheng_s: list[float] = []
    organize_s: list[float] = []
    loads: list[float] = []
    trees: dict[str, set[str]] = {}
    for r in range(rounds):
        for tool in (("juzheng", "organize") if r % 2 == 0 else ("organize", "juzheng")):
            shutil.rmtree(base, ignore_errors=True)
            root = base / "证据"
            inbox = root / INBOX
            _write_inbox(inbox, names, sizes, seed)
            if hasattr(os, "sync"):
                os.sync()  # the writes' flush is not the tools' cost
            loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0)
            env = _env()
            if tool == "juzheng":
                env |= {"JUZHENG_ROOT": str(root), "JUZHENG_STATE_DIR": str(base / "state")}
                # A seller's state directory has been used before: its database exists and the
                # rulebook is cached there (a first run outside the clock, on an empty folder).
                _run([sys.executable, "-m", "juzheng", "sort", "--root", str(base / "empty"), "--state-dir", str(base / "state")], env)
                juzheng_s.append(_run([sys.executable, "-m", "juzheng", "sort", "--root", str(root), "--state-dir", str(base / "state")], env))
                moved = {p for p in _tree(root) if not p.startswith(INBOX + "/")}
            else:
                config = base / "organize.yaml"
                _organize_config(config, inbox, root, book, kinds)
                organize_s.append(_run([str(exe), "run", str(config)], env))
                moved = _tree(root)
            left = [p for p in _tree(inbox)] if inbox.exists() else []
            if left or len(moved) != count:
                raise RuntimeError(f"{tool} left {len(left)} in the inbox and placed {len(moved)} of {count}")
            trees[tool] = moved
    shutil.rmtree(base, ignore_errors=True)
    if trees["juzheng"] != trees["organize"]:
        differ = sorted(trees["juzheng"] ^ trees["organize"])[:5]
        raise RuntimeError(f"the two tools placed files differently, e.g. {differ}")
    ours, theirs = statistics.median(juzheng_s), statistics.median(organize_s)
    return Figure(
        id=f"sort_vs_organize_{count}", title=f"juzheng sort, {count:,} photos of 2–3 MB", unit="files/s", stat="median",
        value=count / ours,
        details={"files": count, "rounds": rounds, "juzheng_s": ours, "organize_s": theirs,
                 "juzheng_runs": ", ".join(f"{s:.2f}" for s in juzheng_s),
                 "organize_runs": ", ".join(f"{s:.2f}" for s in organize_s),
                 "load_avg_1m": ", ".join(f"{x:.2f}" for x in loads)},
        baseline=count / theirs, baseline_title="(organize-tool 3.3.0)",
        baseline_why="the same inbox (names and bytes) placed into the same <平台>/<订单>/<类型>/ layout by organize-tool, alternated runs",
        target=Target(on="ratio", op=">=", limit=TARGET_RATIO),
        note="both as command-line processes, start-up included; the trees were checked identical",
    ).judge()
