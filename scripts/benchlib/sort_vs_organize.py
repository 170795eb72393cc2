"""4c. ``juzheng sort`` against organize-tool sorting the same inbox into the same layout (files/s).

organize-tool 3.3.0 (PyPI) is installed by the bench into its own venv (kept in the user's cache
folder between runs: the install is not what is measured). Its config does the placement the
rulebook does for these names: ``<平台> <订单号> <类型> n.jpg`` → ``<平台>/<订单号>/<类型>/``, one regex
rule per kind. Both tools get an identical inbox (the same names and bytes), run as their own
command-line processes (start-up counts: it is what the seller waits for), alternated, the median of
the rounds reported. Both with cached bytecode; juzheng with a state directory used once before
(outside the clock), as a seller's is after the first run. Afterwards both trees must hold the same relative paths, every file once.

Photos are real-size (2–3 MB, JPEG markers around random bytes, sizes varied as a phone's are),
written once into a pool outside the clock; each run's inbox is hard links to the pool (so a run's
tree costs no disk and no minutes of writing: 20,000 photos written afresh per run were 50 GB).
A pool holds at most ``pool_files`` distinct photos (default 5,000, 12.5 GB); a larger inbox reuses
them, each in a different order (``pool_size``), so no order receives the same bytes twice and
neither tool sees a duplicate. Before the pool is written the free space must stay at least
``KEEP_FREE`` after it (the disk is shared): otherwise the row is not run and says why.
``juzheng sort`` reads a photo's bytes only when its order already holds a file of that size (the
duplicate check); organize never reads them.
"""

from __future__ import annotations

import hashlib
import math
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
POOL_FILES = 5_000  # distinct photos at most: 12.5 GB
KEEP_FREE = 25 * 1024**3  # what the bench leaves free on a shared disk
POOL, RUNS = "sort-photos", "sort-runs"  # under the bench's scratch folder


class NotEnoughDisk(RuntimeError):
    pass


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


def _orders(count: int) -> int:
    return len(PLATFORM_WORDS) * max(1, count // 40)


def clean(session: Any) -> None:
    """The photo pool (12.5 GB) and every run's tree: never left behind."""
    shutil.rmtree(session.workdir / RUNS, ignore_errors=True)
    shutil.rmtree(session.workdir / POOL, ignore_errors=True)


def pool_size(count: int, pool_files: int = POOL_FILES) -> int:
    """Distinct photos for ``count`` files: all of them up to ``pool_files``; beyond, the largest
    number ≤ ``pool_files`` coprime with the number of orders, so file i (photo i mod P, order i mod
    the number of orders) never shares its photo with another file of its order."""
    if count <= pool_files:
        return count
    orders = _orders(count)
    for p in range(pool_files, 0, -1):
        if math.gcd(p, orders) == 1 and p * orders >= count:
            return p
    raise ValueError(f"no pool size for {count} files in {orders} orders")


def pool_sizes(pool: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(2 * 1024 * 1024, 3 * 1024 * 1024) for _ in range(pool)]


def _plan(count: int, book: Any, seed: int) -> tuple[list[str], dict[str, str]]:
    """Names (file i is ``… i.jpg``), and kind keyword → folder label."""
    from .tree import order_id

    rng = random.Random(seed)
    kinds = [k for k in book.kinds.values() if k.form == "file" and _photo_kind(book, k)]
    orders = [(p, order_id(p, rng)) for p in PLATFORM_WORDS for _ in range(max(1, count // 40))]
    names = []
    for i in range(count):
        platform, order = orders[i % len(orders)]
        kind = kinds[i % len(kinds)]
        names.append(f"{book.platforms[platform].label} {order} {kind.keywords[0]} {i}.jpg")
    return names, {k.keywords[0]: k.label for k in kinds}


def _photo_kind(book: Any, kind: Any) -> bool:
    """A kind a .jpg named with its keyword is filed under (a video kind's photo goes to 待分类)."""
    from datetime import datetime, timezone

    from juzheng.evidence import classify
    from juzheng.evidence.classify import Placement

    placed = classify(f"{book.platforms['taobao'].label} 2481875865670130684 {kind.keywords[0]} 1.jpg", book, [], None, datetime.now(timezone.utc))
    return isinstance(placed, Placement) and placed.kind == kind.id


def write_pool(pool: Path, sizes: list[int], seed: int) -> None:
    """Photo k of the pool: the same bytes every time for the same seed, a JPEG's markers around
    random-looking data. Kept between the rows of one bench run (a photo already there is reused)."""
    data = random.Random(seed).randbytes(_POOL_BYTES)
    pool.mkdir(parents=True, exist_ok=True)
    for k, size in enumerate(sizes):
        path = pool / f"{k}.jpg"
        if path.exists() and path.stat().st_size == size:
            continue
        head = b"\xff\xd8\xff\xe0" + hashlib.sha256(f"photo {k}".encode()).digest()
        body_len = size - len(head) - 2
        start = (k * 7919) % (_POOL_BYTES // 2)
        body = (data[start:] + data)[:body_len] if body_len > _POOL_BYTES - start else data[start:start + body_len]
        with open(path, "wb") as fh:
            fh.write(head)
            fh.write(body)
            fh.write(b"\xff\xd9")


def check_disk(where: Path, needed: int, keep_free: int = KEEP_FREE) -> None:
    free = shutil.disk_usage(where).free
    if free - needed < keep_free:
        raise NotEnoughDisk(
            f"the photo pool needs {needed / 1024**3:.1f} GB and {keep_free / 1024**3:.0f} GB must stay free; "
            f"{free / 1024**3:.1f} GB are free at {where}"
        )


def link_inbox(inbox: Path, pool: Path, names: list[str], pool_files: int) -> None:
    """The inbox of one run: file i a hard link to photo i mod ``pool_files`` (a copy where the
    file system has no hard links)."""
    inbox.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        src = pool / f"{i % pool_files}.jpg"
        try:
            os.link(src, inbox / name)
        except OSError:
            shutil.copyfile(src, inbox / name)


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


def measure(session: Any, count: int, rounds: int = 2, seed: int = 15, pool_files: int = POOL_FILES,
            keep: bool = False) -> Figure:
    """``keep``: leave the photo pool and the runs' trees for the caller to remove (:func:`clean`)
    after the last row.

    Each run sorts into a tree of its own, removed only after the last run: ext4 skips inodes freed
    within the last ~30 s when it allocates one (``recently_deleted``), so removing a run's 5,500
    folders just before the next run's tool creates as many made every mkdir of that run scan them
    (sys time grew 1.2 → 2.4 s over four runs of 5,000 files, for both tools alike). A tree is
    links and folders only: ~25 MB per 5,000 files."""
    from juzheng.paths import INBOX
    from juzheng.rules import load_rulebook

    book = load_rulebook()
    names, kinds = _plan(count, book, seed)
    exe = organize_venv()
    distinct = pool_size(count, pool_files)
    sizes = pool_sizes(distinct, seed)
    pool = session.workdir / POOL
    have = {p.name for p in pool.iterdir()} if pool.is_dir() else set()
    check_disk(session.workdir, sum(size for k, size in enumerate(sizes) if f"{k}.jpg" not in have))
    write_pool(pool, sizes, seed)
    if hasattr(os, "sync"):
        os.sync()  # the pool's flush is not the tools' cost
    runs = session.workdir / RUNS
    juzheng_s: list[float] = []
    organize_s: list[float] = []
    loads: list[float] = []
    trees: dict[str, set[str]] = {}
    for r in range(rounds):
        for tool in (("juzheng", "organize") if r % 2 == 0 else ("organize", "juzheng")):
            base = runs / f"{count}-{r}-{tool}"
            shutil.rmtree(base, ignore_errors=True)
            root = base / "证据"
            inbox = root / INBOX
            link_inbox(inbox, pool, names, distinct)
            if hasattr(os, "sync"):
                os.sync()  # the links' flush is not the tools' cost
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
    if not keep:
        clean(session)
    if trees["juzheng"] != trees["organize"]:
        differ = sorted(trees["juzheng"] ^ trees["organize"])[:5]
        raise RuntimeError(f"the two tools placed files differently, e.g. {differ}")
    ours, theirs = statistics.median(juzheng_s), statistics.median(organize_s)
    return Figure(
        id=f"sort_vs_organize_{count}", title=f"juzheng sort, {count:,} photos of 2–3 MB", unit="files/s", stat="median",
        value=count / ours,
        details={"files": count, "distinct_photos": distinct, "rounds": rounds, "juzheng_s": ours, "organize_s": theirs,
                 "juzheng_runs": ", ".join(f"{s:.2f}" for s in juzheng_s),
                 "organize_runs": ", ".join(f"{s:.2f}" for s in organize_s),
                 "load_avg_1m": ", ".join(f"{x:.2f}" for x in loads)},
        baseline=count / theirs, baseline_title="(organize-tool 3.3.0)",
        baseline_why="the same inbox (names and bytes) placed into the same <平台>/<订单>/<类型>/ layout by organize-tool, alternated runs",
        target=Target(on="ratio", op=">=", limit=TARGET_RATIO),
        note="both as command-line processes, start-up included; the trees were checked identical",
    ).judge()
