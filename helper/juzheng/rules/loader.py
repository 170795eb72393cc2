"""Load ``rules/`` into a :class:`Rulebook`: from the YAML files (:mod:`.compile`, with precise
errors), or from the copy cached in a state directory while none of those files has changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import sys
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pydantic

from .case_gate import FILE_NAME as CASE_GATE_FILE
from .case_gate import CaseGate
from .models import EvidenceKind, Platform, Scenario, ToolName, UploadLimit, Vocabulary

if TYPE_CHECKING:
    from .yaml_source import SourceError

log = logging.getLogger(__name__)

SHIPPED_RULES = Path(__file__).resolve().parents[1] / "shipped_rules"  # juzheng/shipped_rules/ in a wheel


def _shipped_rules_dir() -> Path:
    """The rulebook that comes with the program.

    A wheel carries a copy of the repository's rules/ in ``juzheng/shipped_rules/`` (setup.py). An
    editable install has no copy: it reads rules/ of the source tree it was installed from, which
    pip records in the install's ``direct_url.json`` (PEP 610), so an edit there is what runs.
    """
    if SHIPPED_RULES.is_dir():
        return SHIPPED_RULES
    # Imported from a source checkout (an editable install, or helper/ on PYTHONPATH): its own
    # rules/, found without importlib.metadata, whose import (email, zipfile, csv) cost 25–80 ms of
    # every command's start-up. setup.py beside rules/ tells a checkout from any other parent folder.
    checkout = SHIPPED_RULES.parents[2]
    if (checkout / "setup.py").is_file() and (checkout / "rules").is_dir():
        return checkout / "rules"
    import importlib.metadata  # an editable install elsewhere: pip recorded its source tree
    import urllib.parse

    # Every install record named juzheng: a source tree on sys.path also shows its build's egg-info.
    for dist in importlib.metadata.distributions(name="juzheng"):
        record = json.loads(dist.read_text("direct_url.json") or "{}")
        url = record.get("url", "")
        if record.get("dir_info", {}).get("editable") and url.startswith("file://"):
            return Path(_url2pathname(urllib.parse.urlparse(url).path)) / "rules"
    raise RuntimeError("找不到随程序附带的规则库：请用 scripts/run 或 pip install . 安装举证助手，或用 --rules 指定规则目录")


def _url2pathname(path: str) -> str:
    # What urllib.request.url2pathname does, without importing urllib.request (http.client, ssl,
    # email: 20 ms of every command's start-up).
    if sys.platform == "win32":
        from nturl2path import url2pathname

        return url2pathname(path)
    import urllib.parse

    return urllib.parse.unquote(path)


DEFAULT_RULES_DIR = _shipped_rules_dir()


class RulebookError(Exception):
    def __init__(self, errors: list[SourceError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class Rulebook:
    """The validated, cross-checked rulebook with lookups by ID."""

    def __init__(
        self,
        kinds: list[EvidenceKind],
        platforms: list[Platform],
        vocabulary: Vocabulary | None = None,
        screenshot_names: list[ToolName] | None = None,
        case_gate: CaseGate | Path | None = None,
    ) -> None:
        self.vocabulary = vocabulary or Vocabulary()
        # Learned weights (rules/case_gate.json), not rules a seller or the extension reads: kept
        # out of to_json, and read on first use, so `juzheng sort` (which never recognises) and
        # the cached rulebook do not carry them (1.1 MB).
        self._case_gate = case_gate
        self.kinds: dict[str, EvidenceKind] = {k.id: k for k in kinds}
        self.screenshot_names: list[ToolName] = list(screenshot_names or [])
        self.platforms: dict[str, Platform] = {p.id: p for p in platforms}
        self.scenarios: dict[str, Scenario] = {}
        self.scenario_platform: dict[str, str] = {}
        for platform in platforms:
            for scenario in platform.scenarios:
                self.scenarios[scenario.id] = scenario
                self.scenario_platform[scenario.id] = platform.id

    def to_json(self) -> dict:
        return {
            "kinds": [k.model_dump(mode="json") for k in self.kinds.values()],
            "platforms": [p.model_dump(mode="json") for p in self.platforms.values()],
            "vocabulary": self.vocabulary.model_dump(mode="json"),
            "screenshot_names": [t.model_dump(mode="json") for t in self.screenshot_names],
        }

    @property
    def case_gate(self) -> CaseGate | None:
        if isinstance(self._case_gate, Path):
            path, self._case_gate = self._case_gate, None
            try:
                self._case_gate = CaseGate.model_validate_json(path.read_bytes())
            except (OSError, ValueError):
                # A damaged install: recognition still works as it did before the model, only
                # without its check; the log says why.
                log.warning("识别模型 %s 读不出来，识别时不用它", path, exc_info=True)
        return self._case_gate

    @cached_property
    def digest(self) -> str:
        gate = self.case_gate
        whole = {**self.to_json(), "case_gate": gate.trained_on if gate else None}
        canonical = json.dumps(whole, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def platform_of(self, scenario_id: str) -> Platform:
        return self.platforms[self.scenario_platform[scenario_id]]

    def upload_for(self, platform_id: str, scenario_id: str | None) -> UploadLimit | None:
        """The upload box a case of this platform and scenario submits through (None: not known)."""
        platform = self.platforms.get(platform_id)
        if platform is None or platform.upload is None:
            return None
        return platform.upload.for_scenario(scenario_id)


# -- the cached rulebook ----------------------------------------------------------------------------
# Reading the YAML files, validating them and checking their wording costs ~0.1 s, and building the
# models' validators at import time as much again: most of what `juzheng sort` spent before looking
# at a single file. A command given a state directory keeps the validated rulebook there (pickled)
# with what it was built from: each rule file's path, size and mtime, and the code that reads them.
CACHE_NAME = "rulebook.cache"
_MAGIC = b"juzheng-rulebook-1\n"
# A file changed within this many seconds of the read may change again without a new mtime (coarse
# clocks; FAT stores 2 s): such a rulebook is not cached ("racy" entries, as git calls them).
SETTLED_SECONDS = 3.0

CacheKey = tuple[object, ...]


def load_rulebook(directory: Path | str | None = None, *, cache_dir: Path | None = None) -> Rulebook:
    """Load every ``*.yaml`` under ``directory``; raise :class:`RulebookError` listing all problems.

    ``cache_dir`` (a state directory): reuse the rulebook cached there while every rule file and the
    rules code are unchanged; otherwise compile and cache it. A rulebook with errors is never cached.
    """
    root = Path(directory) if directory is not None else DEFAULT_RULES_DIR
    files = sorted(p for p in root.rglob("*.yaml") if p.is_file()) if root.is_dir() else []
    if cache_dir is None or not files:
        return _compile(root, files)
    started = time.time()
    gate = root / CASE_GATE_FILE
    watched = [*files, gate] if gate.is_file() else files  # the learned model invalidates the cache too
    key = _cache_key(root, watched)
    cache = Path(cache_dir) / CACHE_NAME
    if key is not None:
        cached = _read_cache(cache, key)
        if cached is not None:
            return cached
    book = _compile(root, files)
    # Cached only when the files are settled and were not changed while they were read.
    if key is not None and _settled(key, started) and _cache_key(root, watched) == key:
        _write_cache(cache, key, book)
    return book


def _compile(root: Path, files: list[Path]) -> Rulebook:
    from .compile import compile_rulebook  # YAML, the validators and the wording checks: only when the files are read

    return compile_rulebook(root, files)


def _stamps(paths: list[Path], base: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in paths:
        st = os.stat(path)
        out.append((path.relative_to(base).as_posix(), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _cache_key(root: Path, files: list[Path]) -> CacheKey | None:
    """What a cached rulebook was built from; None when a file cannot be stat'ed (no caching then)."""
    code_dir = Path(__file__).parent
    try:
        rules = _stamps(files, root)
        # The modules that define and build the rulebook: an edit to them (an editable install, an
        # upgrade that kept the version) must not revive objects of the old shape.
        code = _stamps(sorted(code_dir.glob("*.py")), code_dir)
    except (OSError, ValueError):
        return None
    from .. import __version__

    return (__version__, sys.version, pydantic.VERSION, str(root.absolute()), rules, code)


def _settled(key: CacheKey, started: float) -> bool:
    rules = key[4]
    assert isinstance(rules, tuple)
    limit = (started - SETTLED_SECONDS) * 1e9
    return all(mtime_ns < limit for _name, _size, mtime_ns in rules)


def _read_cache(cache: Path, key: CacheKey) -> Rulebook | None:
    # The file is the state directory's, written only by this program for this user: whoever could
    # replace it could as well replace the database or the user's autostart entry. The checksum
    # guards against a torn or damaged file; anything unreadable is compiled afresh.
    try:
        data = cache.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    if not data.startswith(_MAGIC) or hashlib.sha256(data[head:]).digest() != data[len(_MAGIC):head]:
        return None
    try:
        stored_key, book = pickle.loads(data[head:])
    except Exception:  # a class renamed since: compile afresh
        log.debug("rulebook cache %s unreadable", cache, exc_info=True)
        return None
    return book if stored_key == key and isinstance(book, Rulebook) else None


def _write_cache(cache: Path, key: CacheKey, book: Rulebook) -> None:
    payload = pickle.dumps((key, book), protocol=pickle.HIGHEST_PROTOCOL)
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)  # a first run: the store creates it only later
        with open(tmp, "wb") as out:
            out.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, cache)  # readers see the old file or the new one, never half of one
    except OSError:  # a read-only or full state directory, or (Windows) a reader holding the file
        log.debug("rulebook cache %s not written", cache, exc_info=True)
        try:
            os.unlink(tmp)
        except OSError:
            pass
