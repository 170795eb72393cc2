"""The state directory failing under the real ``juzheng serve``: a damaged database, a full disk, a
read-only mount. The helper keeps serving, says what is wrong (API, tray state, ``juzheng status``)
and picks up the waiting work as soon as the directory takes writes again.

Full and read-only at start use a real tmpfs mounted as the state directory; read-only while
running uses a real ext4 image (loop device, ``errors=remount-ro``) whose kernel driver is made to
hit an error, so it turns itself read-only under the open database, as a failing disk does (Linux
refuses a plain ``mount -o remount,ro`` while files are open for writing). Root needed; skipped
otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.evidence import PDD_ORDER, wait_for
from juzheng.paths import INBOX
from juzheng.store import DB_NAME, CaseKey, EvidenceRecord, open_store, utcnow

pytestmark = pytest.mark.timeout(180)
SLIP = f"{PDD_ORDER} 发货底单.jpg"
ROOT_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="mounts a tmpfs (root on Linux)")


def _status(helper) -> dict:
    done = helper.cli("status", "--json", "--state-dir", str(helper.state_dir), "--root", str(helper.root))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def _codes(problems: list[dict]) -> set[str]:
    return {p["code"] for p in problems}


def _seed_store(state_dir: Path, cases: int = 40, evidence: int = 3000) -> None:
    store = open_store(state_dir)
    for i in range(cases):
        store.upsert_case(CaseKey(platform="pinduoduo", order_id=f"240101-{i:015d}"), scenario="pinduoduo.not_received")
    now = utcnow()
    store.add_evidence_many(
        EvidenceRecord(platform="pinduoduo", order_id=f"240101-{i % cases:015d}", kind="shipping_slip",
                       path=f"拼多多/240101-{i % cases:015d}/发货底单/{i}.jpg", size=i, mtime_ns=i, how="hand", added_at=now)
        for i in range(evidence)
    )
    store.close()


def _truncate(db: Path) -> None:
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        fh.truncate(size // 2)


def _scribble(db: Path) -> None:
    with open(db, "r+b") as fh:
        fh.write(os.urandom(4096))


@pytest.mark.parametrize("damage", [_truncate, _scribble], ids=["truncated", "overwritten_header"])
def test_a_damaged_database_is_kept_and_the_helper_starts_on_a_fresh_one(helper_factory, damage):
    helper = helper_factory()
    helper.stop()
    _seed_store(helper.state_dir)
    db = helper.state_dir / DB_NAME
    for side in ("-wal", "-shm"):
        Path(str(db) + side).unlink(missing_ok=True)
    damaged_bytes = None
    damage(db)
    damaged_bytes = db.read_bytes()
    helper.start()
    assert "Traceback" not in helper.output()
    copies = [p for p in helper.state_dir.glob(f"{DB_NAME}.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(copies) == 1 and copies[0].read_bytes() == damaged_bytes  # kept, byte for byte
    health = helper.request("GET", "/api/health").json()
    (problem,) = [p for p in health["problems"] if p["code"] == "database_recovered"]
    assert copies[0].name in problem["message"] and "损坏" in problem["message"]
    # it works: new cases, the list, and the status the tray shows. Where the paired browsers could
    # not be read back (the header overwritten), the extension pairs again, as the 401 tells it.
    r = helper.request("POST", "/api/cases/detect", json_body={"platform": "pinduoduo", "order_id": PDD_ORDER, "request_text": "买家反馈未收到商品"})
    if r.status == 401:
        helper.pair()
        r = helper.request("POST", "/api/cases/detect", json_body={"platform": "pinduoduo", "order_id": PDD_ORDER, "request_text": "买家反馈未收到商品"})
    assert r.status in (200, 201), r.body[:300]
    assert helper.request("GET", "/api/cases").status == 200
    status = _status(helper)
    assert "database_recovered" in _codes(status["problems"])
    assert "数据库曾损坏，已重建" in status["tooltip"]


def test_juzheng_status_reports_a_damaged_database_without_touching_it(tmp_path):
    state = tmp_path / "state"
    _seed_store(state, cases=3, evidence=10)
    db = state / DB_NAME
    _scribble(db)
    before = db.read_bytes()
    done = subprocess.run([sys.executable, "-m", "juzheng", "status", "--json", "--state-dir", str(state), "--root", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "database_damaged" in _codes(json.loads(done.stdout)["problems"])
    assert db.read_bytes() == before and not list(state.glob("*.damaged-*"))


@pytest.fixture
def tmpfs_state(tmp_path):
    where = tmp_path / "state_fs"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)], check=True)
    yield where
    subprocess.run(["mount", "-o", "remount,rw", str(where)], check=False, capture_output=True)
    subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler.bin"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
        try:
            os.fsync(fh.fileno())
        except OSError:
            pass
    return filler


def _detect(helper, order: str):
    return helper.request("POST", "/api/cases/detect", json_body={"platform": "pinduoduo", "order_id": order, "request_text": "买家反馈未收到商品"})


def _refused_until(helper, code: str) -> dict:
    """Detect new cases until the state dir refuses one (SQLite may still have room in its WAL)."""
    for i in range(500):
        r = _detect(helper, f"240102-{i:015d}")
        if r.status != 201 and r.status != 200:
            assert r.status == 503, (r.status, r.body[:300])
            body = r.json()
            assert body["code"] == code and body["error"], body
            return body
    pytest.fail("the state directory never refused a write")


@ROOT_ONLY
def test_state_dir_full_is_said_everywhere_and_work_resumes_when_space_returns(helper_factory, tmpfs_state):
    helper = helper_factory(state_dir=tmpfs_state)
    _detect(helper, PDD_ORDER)
    filler = _fill(tmpfs_state)
    body = _refused_until(helper, "state_dir_full")
    assert "磁盘已满" in body["error"]
    inbox = helper.root / INBOX
    (inbox / SLIP).write_bytes(b"a slip that must wait")
    health = wait_for(lambda: (h := helper.request("GET", "/api/health").json()) and "state_dir_full" in _codes(h["problems"]) and h)
    assert "清理磁盘空间" in next(p["message"] for p in health["problems"] if p["code"] == "state_dir_full")
    status = _status(helper)
    assert "state_dir_full" in _codes(status["problems"]) and "数据目录磁盘已满" in status["tooltip"]
    assert (inbox / SLIP).exists()  # waiting, not lost

    filler.unlink()
    placed = helper.root / "拼多多" / PDD_ORDER / "发货底单" / SLIP
    wait_for(lambda: placed.exists() and not (inbox / SLIP).exists(), timeout=20)  # long before the 15-minute rescan
    assert placed.read_bytes() == b"a slip that must wait"
    wait_for(lambda: helper.request("GET", "/api/health").json()["problems"] == [], timeout=10)
    assert _detect(helper, "240103-000000000000001").status == 201
    assert "Traceback" not in helper.output()


@ROOT_ONLY
def test_state_dir_read_only_at_start_is_said_plainly(helper_factory, tmpfs_state, secret_service):
    """A read-only mount cannot be made under a running helper (Linux refuses to remount a
    filesystem read-only while files on it are open for writing), so this is the start on one:
    a clear message and exit code, ``juzheng status`` saying the same, no traceback anywhere."""
    from fixtures.helper_process import make_helper

    helper = make_helper(tmpfs_state.parent / "ro", secret_service.env, state_dir=tmpfs_state)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs_state)], check=True)
    done = subprocess.run(helper.command(), env=helper.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 7, (done.returncode, done.stderr)  # juzheng.cli.exit_codes.STATE_DIR
    assert "只读" in done.stderr and str(tmpfs_state) in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    status = _status(helper)
    assert "state_dir_readonly" in _codes(status["problems"]) and "数据目录只读" in status["tooltip"]
    subprocess.run(["mount", "-o", "remount,rw", str(tmpfs_state)], check=True)
    helper.start()
    assert helper.request("GET", "/api/health").json()["problems"] == []
    helper.stop()


class Ext4State:
    """A real ext4 filesystem in an image file, mounted (loop) as a state directory."""

    def __init__(self, tmp_path: Path) -> None:
        self.image = tmp_path / "state.ext4"
        self.where = tmp_path / "state_ext4"
        self.where.mkdir()
        with open(self.image, "wb") as fh:
            fh.truncate(64 * 1024 * 1024)
        subprocess.run(["mkfs.ext4", "-q", "-F", str(self.image)], check=True)
        self.devices: list[str] = []
        self.mount()

    def mount(self) -> None:
        # A loop device of its own each time: ``mount -o loop`` would reuse the device the dead
        # mount still holds, and the kernel would hand back the same failed filesystem.
        attached = subprocess.run(["losetup", "-f", "--show", str(self.image)], capture_output=True, text=True, check=True)
        self.devices.append(attached.stdout.strip())
        subprocess.run(["mount", "-o", "errors=remount-ro", self.devices[-1], str(self.where)], check=True)

    def options(self) -> set[str]:
        done = subprocess.run(["findmnt", "-no", "OPTIONS", "--mountpoint", str(self.where)], capture_output=True, text=True)
        return set(done.stdout.strip().split(","))

    def fail(self) -> None:
        """The kernel's own ext4 error path (the one a bad sector or a pulled cable takes):
        the journal is aborted and the filesystem remounted read-only with the database open."""
        device = Path(self.devices[-1]).name
        os.sync()  # what the helper wrote so far is on the disk, as after any quiet second
        Path(f"/sys/fs/ext4/{device}/trigger_fs_error").write_text("juzheng test: disk failed\n")
        wait_for(lambda: self.options() & {"ro", "emergency_ro"}, timeout=10)

    def repair_and_mount_again(self) -> None:
        """What the seller's machine does once the disk is back: the dead mount goes (lazily: the
        helper still has files open on it), the filesystem is checked, and mounted again."""
        subprocess.run(["umount", "-l", str(self.where)], check=True)
        subprocess.run(["e2fsck", "-fy", str(self.image)], capture_output=True)  # exit 1: errors fixed
        self.mount()

    def close(self) -> None:
        while subprocess.run(["umount", "-l", str(self.where)], capture_output=True).returncode == 0:
            pass
        for device in self.devices:
            subprocess.run(["losetup", "-d", device], capture_output=True)


@pytest.fixture
def ext4_state(tmp_path):
    if not Path("/sys/fs/ext4").is_dir() or subprocess.run(["which", "mkfs.ext4"], capture_output=True).returncode != 0:
        pytest.skip("needs ext4 and e2fsprogs")
    fs = Ext4State(tmp_path)
    yield fs
    fs.close()


@ROOT_ONLY
def test_state_dir_turning_read_only_while_running_is_said_and_recovered_without_restart(helper_factory, ext4_state):
    helper = helper_factory(state_dir=ext4_state.where / "state")
    first = _detect(helper, PDD_ORDER)
    assert first.status == 201, first.body[:300]
    case_id = first.json()["id"]

    ext4_state.fail()
    body = _refused_until(helper, "state_dir_readonly")
    assert "只读" in body["error"]
    assert helper.request("GET", f"/api/cases/{case_id}").status == 200  # reading still works
    inbox = helper.root / INBOX
    (inbox / SLIP).write_bytes(b"a slip that must wait")
    health = wait_for(lambda: (h := helper.request("GET", "/api/health").json()) and "state_dir_readonly" in _codes(h["problems"]) and h)
    assert any("只读" in p["message"] for p in health["problems"])
    status = _status(helper)
    assert "state_dir_readonly" in _codes(status["problems"]) and "数据目录只读" in status["tooltip"]
    assert (inbox / SLIP).exists()  # waiting, not lost
    assert helper.process.poll() is None

    ext4_state.repair_and_mount_again()
    wait_for(lambda: helper.request("GET", "/api/health").json()["problems"] == [], timeout=20)
    placed = helper.root / "拼多多" / PDD_ORDER / "发货底单" / SLIP
    wait_for(lambda: placed.exists() and not (inbox / SLIP).exists(), timeout=20)
    assert placed.read_bytes() == b"a slip that must wait"
    assert helper.request("GET", f"/api/cases/{case_id}").status == 200  # the case from before the fault
    assert _detect(helper, "240103-000000000000002").status == 201
    assert "Traceback" not in helper.output()


def test_tray_turns_grey_and_names_a_state_dir_problem():
    from juzheng.tray.state import TrayInputs, tray_state

    state = tray_state(TrayInputs(now=utcnow(), problems=["数据目录磁盘已满"]))
    assert state.colour == "grey"
    assert "数据目录磁盘已满" in state.tooltip and "数据目录磁盘已满" in state.reasons
    assert tray_state(TrayInputs(now=utcnow())).colour != "grey"
