"""The destination refuses the file: disk full, or no permission. The real helper must leave the file
in the inbox byte for byte, leave no partial copy behind, say why (a pending reason in the API and in
``juzheng status``), and place the file once the cause is gone.

Disk full is a real small filesystem mounted on the platform folder (``<root>/拼多多``), so the move
becomes a copy across filesystems that runs out of space part-way: a tmpfs when the tests may mount
(root in CI), else a loop-mounted tiny ext4 image, else — only then — ENOSPC injected at the mover's
write boundary in the helper process. Which one ran is printed, and warned about when not tmpfs.
``JUZHENG_ROBUST_DISK_MODE=tmpfs|loop|inject`` forces one.

Permission denied: tests run as root, which chmod does not stop, so the destination folder is made
immutable with ``chattr +i``; a non-root run uses ``chmod 0555`` instead.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import pytest

from juzheng.paths import INBOX

ORDER = "240401-000000000000401"
OTHER = "240402-000000000000402"
NAME = f"{ORDER} 红章证明.jpg"
DEST = f"拼多多/{ORDER}/快递红章证明/{NAME}"

pytestmark = [pytest.mark.subprocess, pytest.mark.timeout(120), pytest.mark.skipif(os.name != "posix", reason="mounts and chattr: POSIX test machine")]


# -- a small full filesystem ---------------------------------------------------------------------
def _run(*cmd: str) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@contextmanager
def small_filesystem(mountpoint: Path, scratch: Path):
    """Mount a tiny filesystem on ``mountpoint``; yields 'tmpfs', 'loop', or 'inject' (nothing mounted)."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    forced = os.environ.get("JUZHENG_ROBUST_DISK_MODE")
    mode = None
    if forced in (None, "tmpfs") and _run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "juzheng-test", str(mountpoint)):
        mode = "tmpfs"
    elif forced in (None, "loop") and shutil.which("mkfs.ext4"):
        image = scratch / "tiny.img"
        with open(image, "wb") as fh:
            fh.truncate(1024 * 1024)
        if _run("mkfs.ext4", "-q", "-F", "-m", "0", str(image)) and _run("mount", "-o", "loop", str(image), str(mountpoint)):
            mode = "loop"
    if mode is None:
        mode = "inject"
    if mode != "tmpfs":
        warnings.warn(f"disk full simulated with {mode} (no tmpfs mount here)", stacklevel=2)
    print(f"disk full simulated with: {mode}")
    try:
        yield mode
    finally:
        if mode != "inject":
            for _ in range(20):
                if _run("umount", str(mountpoint)):
                    break
                time.sleep(0.2)  # the helper may still hold the folder open for a moment
            else:
                _run("umount", "-l", str(mountpoint))


def _fill(folder: Path) -> Path:
    """Write a filler file until the filesystem is full."""
    filler = folder / ".filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno in (errno.ENOSPC, errno.EDQUOT), exc
    finally:
        os.close(fd)
    return filler


INJECT = r'''
# Injected by test_robust_destination (no mount possible here): the mover's writes under the
# platform folder fail with ENOSPC part-way, and hard links fail as across filesystems.
import errno, os, builtins
import juzheng.evidence.mover as mover
FULL = os.environ["JUZHENG_TEST_FULL_DIR"]
_open, _link = builtins.open, os.link
class _Full:
    def __init__(self, fh): self._fh, self._n = fh, 0
    def write(self, data):
        self._n += len(data)
        if self._n > 4096 and os.path.exists(os.path.join(FULL, ".full")):
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._fh.write(data)
    def __getattr__(self, name): return getattr(self._fh, name)
    def __enter__(self): return self
    def __exit__(self, *exc): return self._fh.__exit__(*exc)
def _open_full(file, mode="r", *a, **k):
    fh = _open(file, mode, *a, **k)
    return _Full(fh) if str(file).startswith(FULL) and "x" in mode else fh
def _link_full(src, dst, *a, **k):
    if str(dst).startswith(FULL):
        raise OSError(errno.EXDEV, "Invalid cross-device link")
    return _link(src, dst, *a, **k)
mover.open = _open_full
mover.os = type("os_proxy", (), {"__getattr__": staticmethod(lambda n: getattr(os, n)), "link": staticmethod(_link_full)})()
'''


# -- permission denied -----------------------------------------------------------------------------
@contextmanager
def read_only_folder(folder: Path):
    """The folder refuses new entries even to root (chattr +i), or to us (chmod) when not root."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        if not shutil.which("chattr") or not _run("chattr", "+i", str(folder)):
            pytest.skip("running as root and chattr +i is not possible on this filesystem")
        try:
            yield "chattr +i"
        finally:
            _run("chattr", "-i", str(folder))
    else:
        folder.chmod(0o555)
        try:
            yield "chmod 0555"
        finally:
            folder.chmod(0o755)


# -- shared checks ---------------------------------------------------------------------------------
def _drop(helper, data: bytes) -> Path:
    inbox = helper.root / INBOX
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / NAME
    path.write_bytes(data)
    return path


def _case(helper, order: str) -> int:
    r = helper.request("POST", "/api/cases/detect", json_body={"platform": "pinduoduo", "order_id": order, "request_text": "买家反馈未收到商品"})
    assert r.status in (200, 201), r.body[:300]
    return r.json()["id"]


def _pending_reason(helper, case_id: int, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        view = helper.request("GET", f"/api/cases/{case_id}").json()
        reasons = {p["path"]: p["reason"] for p in view.get("pending", [])}
        if f"{INBOX}/{NAME}" in reasons:
            return reasons[f"{INBOX}/{NAME}"]
        assert time.monotonic() < deadline, f"no pending reason shown for the refused file; helper log:\n{helper.output()[-3000:]}"
        time.sleep(0.2)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != ".filler" and p.name != ".full")


def _placed_after_nudge(helper, data: bytes, timeout: float = 20.0) -> None:
    _case(helper, OTHER)  # any case change makes the helper try its waiting files again
    deadline = time.monotonic() + timeout
    dest = helper.root / DEST
    while not dest.exists() or (helper.root / INBOX / NAME).exists():
        assert time.monotonic() < deadline, f"not placed once the cause was gone: {_files(helper.root)}"
        time.sleep(0.2)
    assert dest.read_bytes() == data
    assert _files(helper.root) == [DEST]
    view = helper.request("GET", f"/api/cases/{_case(helper, ORDER)}").json()
    assert not [p for p in view["pending"] if p["path"] == f"{INBOX}/{NAME}"]
    assert [e["path"] for e in view["evidence"]] == [DEST]


# -- the tests -------------------------------------------------------------------------------------
def test_disk_full_at_the_destination_keeps_the_file_in_the_inbox(helper_factory, tmp_path):
    root = tmp_path / "证据"
    platform_dir = root / "拼多多"
    env = {}
    with small_filesystem(platform_dir, tmp_path) as mode:
        if mode == "inject":
            site = tmp_path / "inject"
            site.mkdir()
            (site / "sitecustomize.py").write_text(INJECT, encoding="utf-8")
            env = {"PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).resolve().parents[1] / "helper")]),
                   "JUZHENG_TEST_FULL_DIR": str(platform_dir)}
        helper = helper_factory(root=root, env=env)
        case_id = _case(helper, ORDER)
        filler = (platform_dir / ".full") if mode == "inject" else _fill(platform_dir)
        if mode == "inject":
            filler.write_bytes(b"")
        data = hashlib.sha256(b"red stamp").digest() * 3_000  # 96 KB: fits the small disk once it is emptied
        src = _drop(helper, data)

        reason = _pending_reason(helper, case_id)
        assert "空间" in reason, reason  # says what to fix: free disk space
        assert src.read_bytes() == data  # still in the inbox, byte for byte
        assert _files(root) == [f"{INBOX}/{NAME}"], f"partial copy left behind ({mode})"
        status = helper.cli("status", "--state-dir", str(helper.state_dir), "--json")
        assert status.returncode == 0, status.stderr
        assert NAME in status.stdout and "空间" in status.stdout

        filler.unlink()  # the seller frees space
        _placed_after_nudge(helper, data)
        helper.stop()


def test_permission_denied_at_the_destination_keeps_the_file_in_the_inbox(running_helper):
    helper = running_helper
    case_id = _case(helper, ORDER)
    dest_dir = helper.root / DEST.rsplit("/", 1)[0]
    data = b"red stamp " * 5000
    with read_only_folder(dest_dir) as how:
        src = _drop(helper, data)
        reason = _pending_reason(helper, case_id)
        assert "权限" in reason, f"{reason} ({how})"
        assert src.read_bytes() == data
        assert _files(helper.root) == [f"{INBOX}/{NAME}"]
    _placed_after_nudge(helper, data)


def test_permission_denied_on_the_platform_folder(running_helper):
    """The order folder itself cannot be created (the platform folder is read-only)."""
    helper = running_helper
    case_id = _case(helper, ORDER)
    data = b"red stamp " * 500
    with read_only_folder(helper.root / "拼多多"):
        src = _drop(helper, data)
        assert "权限" in _pending_reason(helper, case_id)
        assert src.read_bytes() == data and _files(helper.root) == [f"{INBOX}/{NAME}"]
    _placed_after_nudge(helper, data)


def test_a_sort_whose_platform_folder_refuses_goes_on_with_the_rest(ev):
    """`juzheng sort` moves in batches: the folders a batch cannot make fail only their own moves,
    each with the reason, and the rest of the batch is filed."""
    from fixtures.evidence import PDD_ORDER, TB_ORDER

    service = ev.service(watch=False)
    service.sort_once()  # the folders of a first run
    with read_only_folder(ev.root / "拼多多") as how:
        ev.drop(f"{PDD_ORDER} 红章证明.jpg", b"pdd photo")
        ev.drop(f"{PDD_ORDER} 聊天截图.jpg", b"pdd chat")
        ev.drop(f"淘宝 {TB_ORDER} 聊天截图.jpg", b"taobao chat")
        items = {i.src.rsplit("/", 1)[-1]: i for i in service.sort_once()}
    for name in (f"{PDD_ORDER} 红章证明.jpg", f"{PDD_ORDER} 聊天截图.jpg"):
        assert items[name].status == "pending" and "权限" in (items[name].reason or ""), (items[name], how)
        assert (ev.inbox / name).exists()
    assert items[f"淘宝 {TB_ORDER} 聊天截图.jpg"].status == "done"
    assert ev.store.moves_in_state("planned") == []
    assert {p.path for p in ev.store.list_pending()} == {f"{INBOX}/{PDD_ORDER} 红章证明.jpg", f"{INBOX}/{PDD_ORDER} 聊天截图.jpg"}


if __name__ == "__main__":  # pragma: no cover - manual: python tests/test_robust_destination.py
    sys.exit(pytest.main([__file__, "-q", "-s"]))
