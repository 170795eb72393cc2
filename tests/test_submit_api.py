"""The submit path through the HTTP API with the real helper parts (store, watcher, mover):
packets converted beside the originals, the export, the inbox offer, the focus session, kinds
given in one action, the explanation and duplicates. Every test ends with the sha256 accounting:
each original's bytes are still under the root, conversions only added files."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import aiohttp

from fixtures.evidence import account_with_conversions
from fixtures.submit_files import iphone_heic, jpeg_info, phone_photo, scanned_pdf, screenshot_png

PDD = "240315-112233445566778"
PDD_URL = "https://mms.pinduoduo.com/aftersales-ssr/detail"
TB = "3456789012345678901"
CLI = "import sys; from juzheng.cli.main import main; sys.exit(main())"
NOT_RECEIVED = "该订单顾客反馈未收到商品，请您联系快递核实签收情况，请提供发货底单及快递签收红章证明"


def form(kind: str, filename: str, data: bytes) -> aiohttp.FormData:
    fd = aiohttp.FormData(default_to_multipart=True)
    fd.add_field("kind", kind)
    fd.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return fd


async def upload(app, case_id: int, kind: str, name: str, data: bytes) -> dict:
    r = await app.post(f"/api/cases/{case_id}/evidence", data=form(kind, name, data))
    assert r.status == 201, await r.text()
    return await r.json()


async def view(app, case_id: int) -> dict:
    r = await app.get(f"/api/cases/{case_id}")
    assert r.status == 200
    return await r.json()


async def poll(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def assert_originals_kept(root: Path, originals: dict[str, bytes]) -> list[str]:
    return account_with_conversions(root, originals)


# -- packets --------------------------------------------------------------------------------------
async def test_pdd_pdf_and_heic_become_jpegs_within_three(helper_app):
    case = await helper_app.detect(order_id=PDD, request_text=NOT_RECEIVED, url=PDD_URL)
    pdf, heic = scanned_pdf(), iphone_heic()
    await upload(helper_app, case["id"], "red_stamp_proof", "红章证明.pdf", pdf)
    await upload(helper_app, case["id"], "shipping_slip", "发货底单.HEIC", heic)
    before = await view(helper_app, case["id"])
    packet = before["packets"][0]
    assert before["upload"]["max_files"] == 3 and before["upload"]["single_submission"] is True
    assert packet["ready"] and packet["needs_conversion"]
    assert [f["action"] for f in packet["files"]] == ["pdf_page", "to_jpeg"]

    r = await helper_app.post(f"/api/cases/{case['id']}/packet", json={"option": 0})
    assert r.status == 200, await r.text()
    prepared = await r.json()
    assert prepared["single_submission"] and "不能补充或修改" in prepared["final_note"]
    assert prepared["errors"] == [] and prepared["missing"] == []
    assert any("财务章" in c for c in prepared["cautions"])  # the scenario's caution notes travel with the packet
    entries = prepared["entries"]
    assert len(entries) == 2 <= 3
    assert [e["filename"] for e in entries] == ["红章证明（第1页）.jpg", "发货底单（转JPEG）.jpg"]
    assert [e["converted_from"] for e in entries] == ["红章证明.pdf", "发货底单.HEIC"]
    for entry in entries:
        got = await helper_app.get(entry["url"])
        assert got.status == 200
        assert jpeg_info(await got.read())[0] == "JPEG"
    # The conversions sit beside the originals, in the kind folders the seller sees.
    red = helper_app.root / "拼多多" / PDD / "快递红章证明"
    assert sorted(p.name for p in red.iterdir()) == ["红章证明.pdf", "红章证明（第1页）.jpg"]
    # Asking again makes nothing new.
    again = await (await helper_app.post(f"/api/cases/{case['id']}/packet", json={"option": 0})).json()
    assert [e["evidence_id"] for e in again["entries"]] == [e["evidence_id"] for e in entries]
    assert sum(1 for _ in helper_app.root.rglob("*.jpg")) == 2
    assert_originals_kept(helper_app.root, {"pdf": pdf, "heic": heic})


async def test_what_cannot_go_in_is_named(helper_app):
    case = await helper_app.detect(order_id=PDD, request_text=NOT_RECEIVED)
    await upload(helper_app, case["id"], "red_stamp_proof", "红章证明.pdf", b"%PDF-1.4 not really a pdf")
    await upload(helper_app, case["id"], "shipping_slip", "底单.jpg", screenshot_png())
    packet = (await view(helper_app, case["id"]))["packets"][0]
    assert not packet["ready"]
    assert packet["problems"][0]["filename"] == "红章证明.pdf" and "PDF" in packet["problems"][0]["message"]
    r = await helper_app.post(f"/api/cases/{case['id']}/packet", json={"option": 9})
    assert r.status == 400 and "没有第 10 组" in (await r.json())["error"]


async def test_taobao_oversized_photo_recompressed_under_500kb(helper_app):
    case = await helper_app.detect(platform="taobao", order_id=TB, scenario="taobao.late_shipment.agreed_time")
    photo = phone_photo()
    assert len(photo) > 2 * 1024 * 1024
    await upload(helper_app, case["id"], "chat_screenshot", "旺旺聊天截图.jpg", photo)
    v = await view(helper_app, case["id"])
    assert v["upload"]["max_bytes"] == "500KB"
    assert [f["action"] for f in v["packets"][1]["files"]] == ["recompressed"]
    prepared = await (await helper_app.post(f"/api/cases/{case['id']}/packet", json={"option": 1})).json()
    entry = prepared["entries"][0]
    data = await (await helper_app.get(entry["url"])).read()
    assert len(data) <= 500 * 1024 and jpeg_info(data)[0] == "JPEG"
    assert entry["filename"] == "旺旺聊天截图（压缩）.jpg"
    assert_originals_kept(helper_app.root, {"photo": photo})


# -- explanation ----------------------------------------------------------------------------------
async def test_explanation_with_the_pages_tracking_number_or_asking(helper_app):
    asking = await helper_app.detect(order_id=PDD, request_text=NOT_RECEIVED)
    detail = asking["checklist"]["explanation_detail"]
    assert not detail["ready"] and detail["missing"] == [{"key": "tracking_number", "label": "快递单号"}]
    typed = await (await helper_app.patch(f"/api/cases/{asking['id']}", json={"tracking_number": "SF1234567890123"})).json()
    assert typed["checklist"]["explanation_detail"]["ready"] and "SF1234567890123" in typed["checklist"]["explanation"]
    read = await helper_app.detect(order_id="240316-998877665544332", request_text=NOT_RECEIVED, tracking_number="YT9876543210987")
    assert read["tracking_number"] == "YT9876543210987"
    assert read["checklist"]["explanation_detail"]["ready"] and "YT9876543210987" in read["checklist"]["explanation"]


# -- export ---------------------------------------------------------------------------------------
async def test_pack_exports_files_contact_sheet_and_explanation(helper_app):
    case = await helper_app.detect(order_id=PDD, request_text=NOT_RECEIVED, tracking_number="YT1111222233334")
    pdf, heic = scanned_pdf(), iphone_heic()
    await upload(helper_app, case["id"], "red_stamp_proof", "红章证明.pdf", pdf)
    await upload(helper_app, case["id"], "shipping_slip", "底单.heic", heic)
    r = await helper_app.post(f"/api/cases/{case['id']}/pack", json={})
    assert r.status == 201, await r.text()
    result = await r.json()
    folder = Path(result["path"])
    assert folder.parent == helper_app.root / "导出" and folder.is_dir()
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["00_总览.jpg", "举证说明.txt", *result["files"]]) and len(result["files"]) == 2
    assert jpeg_info((folder / "00_总览.jpg").read_bytes())[0] == "JPEG"
    text = (folder / "举证说明.txt").read_text(encoding="utf-8")
    assert "YT1111222233334" in text and "【待填" not in text and "提交后不能补充" in text
    zipped = await (await helper_app.post(f"/api/cases/{case['id']}/pack", json={"zip": True})).json()
    with zipfile.ZipFile(zipped["path"]) as archive:
        assert sorted(archive.namelist()) == names
    assert Path(zipped["path"]).parent == folder.parent
    assert_originals_kept(helper_app.root, {"pdf": pdf, "heic": heic})


def test_juzheng_pack_cli(tmp_path):
    from juzheng.events import EventBus
    from juzheng.evidence import EvidenceService
    from juzheng.rules import load_rulebook
    from juzheng.store import CaseKey, open_store

    root, state = tmp_path / "证据", tmp_path / "state"
    (root / "收件箱").mkdir(parents=True)
    store = open_store(state)
    book = load_rulebook()
    case, _ = store.upsert_case(CaseKey(platform="pinduoduo", order_id=PDD), scenario="pinduoduo.not_received")
    service = EvidenceService(root, store, lambda: book, EventBus(store), watch=False)
    service.import_upload(case, "red_stamp_proof", "红章证明.pdf", scanned_pdf())
    service.import_upload(case, "shipping_slip", "底单.jpg", screenshot_png())
    store.close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "helper")}
    done = subprocess.run(
        [sys.executable, "-c", CLI, "pack", PDD, "--root", str(root), "--state-dir", str(state), "--zip", "--json"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["path"].endswith(".zip") and len(result["files"]) == 2
    missing = subprocess.run(
        [sys.executable, "-c", CLI, "pack", "999", "--root", str(root), "--state-dir", str(state)],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=60,
    )
    assert missing.returncode != 0 and "没有找到案子" in missing.stderr and "Traceback" not in missing.stderr


# -- the inbox offer and the focus ----------------------------------------------------------------
async def pending_paths(app) -> set[str]:
    v = await (await app.get("/api/cases")).json()
    del v
    status = app.runtime.store.list_pending()
    return {p.path for p in status}


async def test_opening_a_case_offers_earlier_files_instead_of_moving_them(helper_app):
    inbox = helper_app.root / "收件箱"
    inbox.mkdir(parents=True, exist_ok=True)
    early = {"签收照片.jpg": screenshot_png((250, 230, 230)), "快递内网截图.png": screenshot_png((230, 250, 230)),
             "淘宝 聊天截图.png": screenshot_png((230, 230, 250))}
    for name, data in early.items():
        (inbox / name).write_bytes(data)
    await poll(lambda: _has_pending(helper_app, 3))
    case = await helper_app.detect(order_id=PDD, request_text=NOT_RECEIVED)
    r = await helper_app.post("/api/focus", json={"case_id": case["id"]})
    assert r.status == 200 and (await r.json())["since"]
    offer = await (await helper_app.get(f"/api/cases/{case['id']}/inbox-offer")).json()
    # Never across platforms: the file that says 淘宝 is not offered to a Pinduoduo case.
    assert sorted(f["name"] for f in offer["files"]) == ["快递内网截图.png", "签收照片.jpg"]
    assert offer["question"] == "把收件箱里的 2 个文件归到这个案子？"
    await asyncio.sleep(0)  # the focus did not move them: still waiting in the inbox
    assert all((inbox / n).exists() for n in early)

    declined = await (await helper_app.post(f"/api/cases/{case['id']}/inbox-offer",
                                            json={"paths": ["收件箱/签收照片.jpg"], "accept": False})).json()
    assert declined["declined"] == ["收件箱/签收照片.jpg"]
    accepted = await (await helper_app.post(f"/api/cases/{case['id']}/inbox-offer",
                                            json={"paths": ["收件箱/快递内网截图.png", "收件箱/淘宝 聊天截图.png"], "accept": True})).json()
    assert [a["status"] for a in accepted["accepted"]] == ["done"]
    assert accepted["skipped"] == ["收件箱/淘宝 聊天截图.png"]
    assert (helper_app.root / "拼多多" / PDD / "快递内网截图" / "快递内网截图.png").exists()
    left = await (await helper_app.get(f"/api/cases/{case['id']}/inbox-offer")).json()
    assert left["files"] == [] and left["question"] is None  # the declined one is not asked again
    assert (inbox / "签收照片.jpg").exists() and (inbox / "淘宝 聊天截图.png").exists()

    # A file dropped while the case is open goes to it (the focus), one dropped after the tab closed does not.
    (inbox / "退件面单.jpg").write_bytes(screenshot_png((200, 200, 200)))
    await poll(lambda: _exists(helper_app.root / "拼多多" / PDD / "待分类" / "退件面单.jpg"))
    r = await helper_app.post("/api/focus", json={"case_id": case["id"], "ended": True})
    assert (await r.json())["ended"] is True
    (inbox / "之后的照片.jpg").write_bytes(screenshot_png((190, 190, 190)))
    await poll(lambda: _pending_has(helper_app, "收件箱/之后的照片.jpg"))
    assert_originals_kept(helper_app.root, early)


async def _has_pending(app, n: int) -> bool:
    return len(app.runtime.store.list_pending()) >= n


async def _pending_has(app, path: str) -> bool:
    return any(p.path == path for p in app.runtime.store.list_pending())


async def _exists(path: Path) -> bool:
    return path.exists()


# -- kinds in one action --------------------------------------------------------------------------
async def test_unsorted_file_given_a_kind_by_api_and_by_rename(helper_app):
    case = await helper_app.detect(order_id=PDD, request_text=NOT_RECEIVED)
    unsorted = helper_app.root / "拼多多" / PDD / "待分类"
    unsorted.mkdir(parents=True)
    a, b = screenshot_png((10, 20, 30)), screenshot_png((30, 20, 10))
    (unsorted / "IMG_0001.jpg").write_bytes(a)
    (unsorted / "QQ截图20241105153012.png").write_bytes(b)

    async def two_unsorted():
        v = await view(helper_app, case["id"])
        return v if len(v["unsorted"]) == 2 else None

    v = await poll(two_unsorted)
    first = next(e for e in v["unsorted"] if e["filename"] == "IMG_0001.jpg")
    r = await helper_app.post(f"/api/cases/{case['id']}/evidence/{first['id']}/kind", json={"kind": "red_stamp_proof"})
    assert r.status == 200, await r.text()
    item = await r.json()
    assert item["id"] == first["id"] and item["kind"] == "red_stamp_proof"
    assert (helper_app.root / "拼多多" / PDD / "快递红章证明" / "IMG_0001.jpg").read_bytes() == a
    bad = await helper_app.post(f"/api/cases/{case['id']}/evidence/{first['id']}/kind", json={"kind": "unpacking_video"})
    assert bad.status == 400 and "不接受图片" in (await bad.json())["error"]
    # Renaming the other one in 待分类 to a name that says its kind files it there.
    os.rename(unsorted / "QQ截图20241105153012.png", unsorted / "QQ截图20241105153012 发货底单.png")
    target = helper_app.root / "拼多多" / PDD / "发货底单" / "QQ截图20241105153012 发货底单.png"
    await poll(lambda: _exists(target))

    async def sorted_view():
        v = await view(helper_app, case["id"])
        return v if not v["unsorted"] else None

    v = await poll(sorted_view)
    assert {e["kind"] for e in v["evidence"]} == {"red_stamp_proof", "shipping_slip"}
    assert v["checklist"]["options"][0]["complete"]
    assert_originals_kept(helper_app.root, {"a": a, "b": b})


async def test_duplicate_shown_in_the_case_view(helper_app):
    case = await helper_app.detect(order_id=PDD, request_text=NOT_RECEIVED)
    data = screenshot_png((1, 2, 3))
    await upload(helper_app, case["id"], "red_stamp_proof", "红章.png", data)
    inbox = helper_app.root / "收件箱"
    inbox.mkdir(exist_ok=True)
    (inbox / f"{PDD} 红章 再发一次.png").write_bytes(data)

    async def noted():
        v = await view(helper_app, case["id"])
        return v["duplicates"]

    dupes = await poll(noted)
    assert dupes[0]["message"] == "已有相同文件：红章.png" and dupes[0]["path"].startswith(".重复/")
