"""Each route's happy path and its bad inputs (in-process helper with the real store, rules and keyring)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest

from juzheng import API_VERSION, __version__
from juzheng.server import security
from juzheng.server.routes import ROUTES, safe_file
from juzheng.store import EvidenceRecord, utcnow

ORDER = "201123-123456789012345"
NOT_RECEIVED = "买家反馈未收到商品，请上传快递签收底单"


def form(kind: str | None, filename: str | None, data: bytes | None) -> aiohttp.FormData:
    fd = aiohttp.FormData(default_to_multipart=True)
    if kind is not None:
        fd.add_field("kind", kind)
    if data is not None:
        fd.add_field("file", data, filename=filename, content_type="image/jpeg")
    return fd


# -- health, rules, openapi -------------------------------------------------------------------
async def test_health_reports_versions_rules_and_pairing(helper_app):
    r = await helper_app.get("/api/health", auth=False)
    assert r.status == 200
    data = await r.json()
    assert data == {
        "app": "juzheng",
        "version": __version__,
        "api_version": API_VERSION,
        "rules_digest": helper_app.runtime.rules.digest,
        "rules_error": None,
        "paired": True,
        "problems": [],
        "notifies": False,  # this in-process helper has no notifier: the extension notifies
    }
    assert r.headers["X-Juzheng-Version"] == __version__


async def test_rules_returns_rulebook_with_page_adapters_and_etag(helper_app):
    r = await helper_app.get("/api/rules")
    assert r.status == 200
    data = await r.json()
    book = helper_app.runtime.rules.get()
    assert data["digest"] == book.digest
    assert {k["id"] for k in data["kinds"]} == set(book.kinds)
    pdd = next(p for p in data["platforms"] if p["id"] == "pinduoduo")
    assert "pages" in pdd and pdd["scenarios"]
    again = await helper_app.get("/api/rules", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status == 304


async def test_openapi_describes_every_route(helper_app):
    r = await helper_app.get("/api/openapi.json", auth=False)
    doc = await r.json()
    assert doc["openapi"].startswith("3.1")
    for route in ROUTES:
        assert route.method.lower() in doc["paths"][route.path], route.path
    detect = doc["paths"]["/api/cases/detect"]["post"]
    assert "400" in detect["responses"] and "401" in detect["responses"]
    schema_ref = detect["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.split("/")[-1] in doc["components"]["schemas"]


# -- detect -----------------------------------------------------------------------------------
async def test_detect_creates_then_updates_the_same_case(helper_app):
    body = {"platform": "pinduoduo", "order_id": ORDER, "url": "https://mms.pinduoduo.com/aftersales/x", "request_text": NOT_RECEIVED,
            "remaining_text": "剩余举证时间 1天23小时59分"}
    r = await helper_app.post("/api/cases/detect", json=body)
    assert r.status == 201
    first = await r.json()
    assert first["created"] is True
    assert first["scenario"] == "pinduoduo.not_received" and first["scenario_source"] == "detected"
    assert first["scenario_label"] == "买家反馈未收到商品"
    assert first["recognition"]["scenario"] == "pinduoduo.not_received"
    assert {"id": "pinduoduo.not_received", "label": "买家反馈未收到商品"} in first["scenarios_for_platform"]
    deadline = datetime.fromisoformat(first["deadline_at"])
    expected = utcnow() + timedelta(days=1, hours=23, minutes=59)
    assert abs(deadline - expected) < timedelta(seconds=30)
    assert first["level"] == "ok"
    assert first["checklist"]["scenario"] == "pinduoduo.not_received" and first["checklist"]["complete"] is False
    assert first["checklist"]["deadline"]["deadline_at"] == first["deadline_at"]
    assert first["upload"]["max_files"] >= 1
    assert first["evidence"] == [] and first["pending"] == []
    r = await helper_app.post("/api/cases/detect", json=body)
    assert r.status == 200
    second = await r.json()
    assert second["id"] == first["id"] and second["created"] is False
    assert second["deadline_at"] == first["deadline_at"]  # re-reading the same countdown does not move it


async def test_detect_reads_an_absolute_beijing_deadline(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, deadline_text="举证截止时间 2030-11-23 18:00")
    assert datetime.fromisoformat(view["deadline_at"]) == datetime(2030, 11, 23, 10, 0, tzinfo=timezone.utc)


async def test_detect_takes_an_iso_deadline_and_naive_means_beijing(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, deadline_at="2030-01-02T08:00:00")
    assert datetime.fromisoformat(view["deadline_at"]) == datetime(2030, 1, 2, 0, 0, tzinfo=timezone.utc)


async def test_detect_without_page_deadline_uses_the_rule_window(helper_app):
    start = datetime(2030, 5, 1, 2, 0, tzinfo=timezone.utc)
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, request_at=start.isoformat())
    window = helper_app.runtime.rules.get().platforms["pinduoduo"].evidence_window
    assert datetime.fromisoformat(view["deadline_at"]) == start + window


async def test_detect_unrecognised_text_leaves_the_choice_to_the_seller(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text="你好")
    assert view["scenario"] is None and view["checklist"] is None
    assert len(view["scenarios_for_platform"]) >= 2
    assert view["deadline_at"] is not None  # the platform's window still counts


async def test_detect_unknown_platform_is_400_with_detail(helper_app):
    r = await helper_app.post("/api/cases/detect", json={"platform": "jd", "order_id": ORDER})
    assert r.status == 400
    data = await r.json()
    assert "jd" in data["error"] and "pinduoduo" in data["error"]
    assert data["detail"][0]["loc"] == ["body", "platform"]


async def test_detect_scenario_of_another_platform_is_400(helper_app):
    r = await helper_app.post("/api/cases/detect", json={"platform": "pinduoduo", "order_id": ORDER, "scenario": "tmall.not_received"})
    assert r.status == 400
    assert "pinduoduo.not_received" in (await r.json())["error"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"platform": "pinduoduo"},
        {"platform": "pinduoduo", "order_id": "has space"},
        {"platform": "pinduoduo", "order_id": "1", "deadline_at": "not a date"},
        {"platform": "pinduoduo", "order_id": "1", "unknown": True},
        {"platform": 5, "order_id": "1"},
        [],
        "text",
    ],
)
async def test_detect_bad_bodies_are_400(helper_app, body):
    r = await helper_app.post("/api/cases/detect", json=body)
    assert r.status == 400
    data = await r.json()
    assert data["error"] and isinstance(data["detail"], list) and data["detail"]


async def test_seller_correction_survives_later_detection(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.patch(f"/api/cases/{view['id']}", json={"scenario": "pinduoduo.empty_package"})
    assert r.status == 200
    corrected = await r.json()
    assert corrected["scenario"] == "pinduoduo.empty_package" and corrected["scenario_source"] == "seller"
    again = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    assert again["scenario"] == "pinduoduo.empty_package" and again["scenario_source"] == "seller"


async def test_aftersale_ids_separate_cases_of_one_order(helper_app):
    a = await helper_app.detect(order_id=ORDER, aftersale_id="A1", request_text=NOT_RECEIVED)
    b = await helper_app.detect(order_id=ORDER, aftersale_id="A2", request_text=NOT_RECEIVED)
    assert a["id"] != b["id"]


# -- list and get -----------------------------------------------------------------------------
async def test_list_is_sorted_by_deadline_and_filters_status(helper_app):
    late = await helper_app.detect(order_id="1000", request_text=NOT_RECEIVED, deadline_text="举证截止时间 2031-01-01 12:00")
    soon = await helper_app.detect(order_id="1001", request_text=NOT_RECEIVED, deadline_text="举证截止时间 2030-01-01 12:00")
    r = await helper_app.get("/api/cases")
    ids = [c["id"] for c in await r.json()]
    assert ids == [soon["id"], late["id"]]
    await helper_app.patch(f"/api/cases/{soon['id']}", json={"status": "closed", "outcome": "won"})
    assert [c["id"] for c in await (await helper_app.get("/api/cases")).json()] == [late["id"]]
    closed = await (await helper_app.get("/api/cases?status=closed")).json()
    assert [c["id"] for c in closed] == [soon["id"]] and closed[0]["level"] is None
    assert len(await (await helper_app.get("/api/cases?status=all")).json()) == 2
    summary = next(c for c in await (await helper_app.get("/api/cases")).json())
    assert summary["complete"] is False and summary["missing"] >= 1


async def test_list_bad_status_is_400(helper_app):
    r = await helper_app.get("/api/cases?status=everything")
    assert r.status == 400


async def test_get_case_and_its_errors(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.get(f"/api/cases/{view['id']}")
    assert r.status == 200 and (await r.json())["id"] == view["id"]
    assert (await helper_app.get("/api/cases/99999")).status == 404
    for bad in ("abc", "0", "-1", "1.5", "9" * 30, "%EF%BC%91"):
        r = await helper_app.get(f"/api/cases/{bad}")
        assert r.status == 400, bad


# -- patch ------------------------------------------------------------------------------------
async def test_patch_scenario_recomputes_a_computed_deadline_but_keeps_a_page_deadline(helper_app):
    start = datetime(2030, 5, 1, 2, 0, tzinfo=timezone.utc)
    computed = await helper_app.detect(order_id="2000", request_text=NOT_RECEIVED, request_at=start.isoformat())
    stated = await helper_app.detect(order_id="2001", request_text=NOT_RECEIVED, deadline_text="举证截止时间 2030-05-02 18:00")
    for view in (computed, stated):
        r = await helper_app.patch(f"/api/cases/{view['id']}", json={"scenario": "pinduoduo.appliance_quality"})
        assert r.status == 200
    after_stated = await (await helper_app.get(f"/api/cases/{stated['id']}")).json()
    assert after_stated["scenario"] == "pinduoduo.appliance_quality"
    book = helper_app.runtime.rules.get()
    case = helper_app.runtime.store.get_case(computed["id"])
    first_stage = book.scenarios["pinduoduo.appliance_quality"].deadline.stages[0].window
    assert case.deadline_at == start + first_stage
    assert helper_app.runtime.store.get_case(stated["id"]).deadline_at == datetime(2030, 5, 2, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "body,status",
    [
        ({"scenario": "pinduoduo.nope"}, 400),
        ({"scenario": "tmall.not_received"}, 400),
        ({"scenario": None}, 400),
        ({"status": "archived"}, 400),
        ({"outcome": "draw"}, 400),
        ({"colour": "red"}, 400),
    ],
)
async def test_patch_bad_inputs(helper_app, body, status):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.patch(f"/api/cases/{view['id']}", json=body)
    assert r.status == status
    assert (await r.json())["error"]


async def test_patch_unknown_case_is_404(helper_app):
    r = await helper_app.patch("/api/cases/4242", json={"status": "closed"})
    assert r.status == 404


# -- text evidence ----------------------------------------------------------------------------
async def test_text_evidence_completes_a_taobao_checklist(helper_app):
    view = await helper_app.detect(platform="taobao", order_id="3000123", scenario="taobao.late_shipment.agreed_time")
    generated = utcnow() - timedelta(days=1)
    r = await helper_app.post(
        f"/api/cases/{view['id']}/evidence",
        json={"kind": "wangwang_evidence_number", "value": "JZ123456", "generated_at": generated.isoformat()},
    )
    assert r.status == 201
    item = await r.json()
    assert item["kind"] == "wangwang_evidence_number" and item["value"] == "JZ123456" and item["url"] is None
    after = await (await helper_app.get(f"/api/cases/{view['id']}")).json()
    assert after["checklist"]["complete"] is True
    assert [e["id"] for e in after["evidence"]] == [item["id"]]
    r = await helper_app.delete(f"/api/cases/{view['id']}/evidence/{item['id']}")
    assert r.status == 200
    after = await (await helper_app.get(f"/api/cases/{view['id']}")).json()
    assert after["evidence"] == [] and after["checklist"]["complete"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "red_stamp_proof", "value": "x"},  # a file kind
        {"kind": "no_such_kind", "value": "x"},
        {"kind": "wangwang_evidence_number", "value": ""},
        {"kind": "wangwang_evidence_number"},
        {"kind": "wangwang_evidence_number", "value": "x", "generated_at": "yesterday"},
    ],
)
async def test_text_evidence_bad_inputs(helper_app, body):
    view = await helper_app.detect(platform="taobao", order_id="3000123", scenario="taobao.late_shipment.agreed_time")
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", json=body)
    assert r.status == 400
    assert (await r.json())["error"]


# -- file evidence ----------------------------------------------------------------------------
async def test_upload_fetch_and_trash_a_file(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    data = b"\xff\xd8\xff\xe0" + os.urandom(2048)
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=form("red_stamp_proof", "红章.jpg", data))
    assert r.status == 201, await r.text()
    item = await r.json()
    assert item["kind"] == "red_stamp_proof" and item["filename"].endswith(".jpg")
    stored = helper_app.root / item["path"]
    assert stored.read_bytes() == data
    fetched = await helper_app.get(item["url"])
    assert fetched.status == 200 and await fetched.read() == data
    after = await (await helper_app.get(f"/api/cases/{view['id']}")).json()
    red = after["checklist"]["options"][0]["items"][0]
    assert red["kind"] == "red_stamp_proof" and red["state"] == "done"
    r = await helper_app.delete(f"/api/cases/{view['id']}/evidence/{item['id']}")
    assert r.status == 200
    assert not stored.exists()
    trashed = list((helper_app.root / ".回收站").rglob("*.jpg"))
    assert [p.read_bytes() for p in trashed] == [data]  # moved, never deleted
    assert (await helper_app.get(item["url"])).status == 404


@pytest.mark.parametrize(
    "kind,filename,data,status",
    [
        ("wangwang_evidence_number", "a.jpg", b"123", 400),  # a text kind as a file
        ("no_such_kind", "a.jpg", b"123", 400),
        (None, "a.jpg", b"123", 400),
        ("red_stamp_proof", None, None, 400),
        ("red_stamp_proof", "empty.jpg", b"", 400),
    ],
)
async def test_upload_bad_inputs(helper_app, kind, filename, data, status):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=form(kind, filename, data))
    assert r.status == status
    assert (await r.json())["error"]


async def test_upload_name_cannot_escape_the_folder(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=form("red_stamp_proof", "../../../evil.jpg", b"abc"))
    assert r.status == 201
    item = await r.json()
    path = (helper_app.root / item["path"]).resolve()
    assert path.is_relative_to(helper_app.root.resolve()) and path.name.endswith("evil.jpg")
    assert not (helper_app.root.parent / "evil.jpg").exists()


async def test_upload_over_the_limit_is_413(helper_app, monkeypatch):
    monkeypatch.setattr(security, "UPLOAD_LIMIT", 1000)
    monkeypatch.setattr("juzheng.server.routes.UPLOAD_LIMIT", 1000)
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=form("red_stamp_proof", "big.jpg", b"x" * 5000))
    assert r.status == 413


async def test_upload_with_wrong_content_type_is_415(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=b"abc", headers={"Content-Type": "text/plain"})
    assert r.status == 415


async def test_evidence_of_another_case_is_404(helper_app):
    a = await helper_app.detect(order_id="4000", request_text=NOT_RECEIVED)
    b = await helper_app.detect(order_id="4001", request_text=NOT_RECEIVED)
    r = await helper_app.post(f"/api/cases/{a['id']}/evidence", data=form("red_stamp_proof", "a.jpg", b"abc"))
    item = await r.json()
    assert (await helper_app.get(f"/api/cases/{b['id']}/files/{item['id']}")).status == 404
    assert (await helper_app.delete(f"/api/cases/{b['id']}/evidence/{item['id']}")).status == 404
    assert (await helper_app.delete(f"/api/cases/{a['id']}/evidence/999")).status == 404


# -- the file route refuses paths outside the root --------------------------------------------
def test_safe_file_refuses_everything_outside_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "ok.jpg").write_bytes(b"1")
    outside = tmp_path / "secret.txt"
    outside.write_text("s")
    (root / "a" / "link.jpg").symlink_to(outside)
    (root / "a" / "dirlink").symlink_to(tmp_path, target_is_directory=True)
    assert safe_file(root, "a/ok.jpg") == (root / "a" / "ok.jpg").resolve()
    for bad in ["../secret.txt", "a/../../secret.txt", str(outside), "/etc/passwd", "a%2f..%2f..%2fsecret.txt",
                "a\\..\\..\\secret.txt", "a/link.jpg", "a/dirlink/secret.txt", "C:/Windows/win.ini", "a", "", "a/./ok.jpg"]:
        assert safe_file(root, bad) is None, bad


async def test_file_route_refuses_a_record_pointing_outside(helper_app, tmp_path):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    (tmp_path / "outside.txt").write_text("secret")
    bad = helper_app.runtime.store.add_evidence(
        EvidenceRecord(platform="pinduoduo", order_id=ORDER, kind="red_stamp_proof", path="../outside.txt", how="hand", added_at=utcnow())
    )
    r = await helper_app.get(f"/api/cases/{view['id']}/files/{bad.id}")
    assert r.status == 404
    assert "secret" not in await r.text()


# -- confirm and focus ------------------------------------------------------------------------
async def test_confirm_ticks_a_field_and_untick_clears_it(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.post(f"/api/cases/{view['id']}/confirm", json={"kind": "red_stamp_proof", "field": "tracking_number"})
    assert r.status == 200
    fields = (await r.json())["checklist"]["options"][0]["items"][0]["fields"]
    assert next(f for f in fields if f["id"] == "tracking_number")["confirmed"] is True
    r = await helper_app.post(f"/api/cases/{view['id']}/confirm", json={"kind": "red_stamp_proof", "field": "tracking_number", "confirmed": False})
    fields = (await r.json())["checklist"]["options"][0]["items"][0]["fields"]
    assert next(f for f in fields if f["id"] == "tracking_number")["confirmed"] is False


@pytest.mark.parametrize("body", [{"kind": "nope", "field": "x"}, {"kind": "red_stamp_proof", "field": "nope"}, {"kind": "red_stamp_proof"}, {"kind": "red_stamp_proof", "field": "tracking_number", "confirmed": "maybe"}])
async def test_confirm_bad_inputs(helper_app, body):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.post(f"/api/cases/{view['id']}/confirm", json=body)
    assert r.status == 400


async def test_focus_is_stored_for_the_sorter(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    r = await helper_app.post("/api/focus", json={"case_id": view["id"]})
    assert r.status == 200
    stored = helper_app.runtime.store.get_focus()
    assert stored.case_id == view["id"]
    assert abs(datetime.fromisoformat(stored.at) - utcnow()) < timedelta(seconds=30)
    assert (await helper_app.post("/api/focus", json={"case_id": 9999})).status == 404
    assert (await helper_app.post("/api/focus", json={"case_id": "x"})).status == 400


async def test_focus_places_a_file_dropped_while_the_case_is_open(helper_app):
    import asyncio

    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    inbox = helper_app.root / "收件箱"
    inbox.mkdir(exist_ok=True)
    await helper_app.post("/api/focus", json={"case_id": view["id"]})
    (inbox / "红章证明.jpg").write_bytes(b"\xff\xd8\xff" + b"1" * 100)
    deadline = asyncio.get_running_loop().time() + 60  # the watcher's thread on a busy machine
    while True:
        current = await (await helper_app.get(f"/api/cases/{view['id']}")).json()
        if current["evidence"] or asyncio.get_running_loop().time() > deadline:
            break
        helper_app.runtime.cases.invalidate()
        await asyncio.sleep(0.05)
    assert [e["kind"] for e in current["evidence"]] == ["red_stamp_proof"]
    assert Path(helper_app.root / current["evidence"][0]["path"]).exists()


# -- regressions found by schemathesis ----------------------------------------------------------
async def test_body_that_is_not_utf8_is_400_not_500(helper_app):
    r = await helper_app.post("/api/cases/detect", data=b"r,\x16\x11\x18\xe9\xa3", headers={"Content-Type": "application/json"})
    assert r.status == 400
    assert (await r.json())["detail"][0]["type"] == "json_invalid"


async def test_multipart_with_a_broken_part_header_is_400_not_500(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="\xf1\xa1\x82\xb8\x1e"\r\n\r\nx\r\n'
        b'--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\nred_stamp_proof\r\n--b--\r\n'
    )
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status == 400


async def test_chunked_body_over_the_limit_is_413(helper_app):
    async def chunks():
        yield b'{"platform": "pinduoduo", "order_id": "1", "page_text": "'
        for _ in range(300):
            yield b"x" * 4096
        yield b'"}'

    r = await helper_app.post("/api/cases/detect", data=chunks(), headers={"Content-Type": "application/json"})
    assert r.status == 413
    assert (await r.json())["error"]


async def test_chunked_upload_over_the_limit_is_413_and_long_fields_400(helper_app, monkeypatch):
    monkeypatch.setattr("juzheng.server.routes.UPLOAD_LIMIT", 10_000)
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)

    def body(kind: bytes, size: int):
        async def gen():
            yield b'--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\n' + kind + b"\r\n"
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
            for _ in range(size // 1000):
                yield b"x" * 1000
            yield b"\r\n--b--\r\n"
        return gen()

    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=body(b"red_stamp_proof", 20_000), headers=headers)
    assert r.status == 413
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=body(b"k" * 5000, 1000), headers=headers)
    assert r.status == 400
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=body(b"red_stamp_proof", 1000), headers=headers)
    assert r.status == 201


async def test_image_checks_appear_on_the_checklist_without_blocking(helper_app):
    import io

    from PIL import Image

    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    small = io.BytesIO()
    Image.new("RGB", (120, 90), "white").save(small, "JPEG")
    r = await helper_app.post(f"/api/cases/{view['id']}/evidence", data=form("red_stamp_proof", "红章.jpg", small.getvalue()))
    assert r.status == 201, await r.text()
    after = await (await helper_app.get(f"/api/cases/{view['id']}")).json()
    red = after["checklist"]["options"][0]["items"][0]
    assert red["state"] == "done"  # a warning, never a refusal
    assert any("太小" in w and "120×90" in w for w in red["warnings"])
    [item] = [e for e in after["evidence"] if e["kind"] == "red_stamp_proof"]
    assert any("太小" in w for w in item["warnings"])


def test_the_security_policy_is_the_route_tables():
    """The middleware enforces what ROUTES declares: a route added as public or admin is public or
    admin without a second list to keep in step."""
    policy = security.RoutePolicy.of(ROUTES)
    declared = {(r.method, r.path): r for r in ROUTES}
    assert policy.public == {k for k, r in declared.items() if r.auth == "public"}
    assert policy.admin == {k for k, r in declared.items() if r.auth == "admin"}
    assert policy.ticket == {("GET", "/api/events")}
    assert policy.pairing == {("POST", "/api/pair"), ("POST", "/api/pair/ask"), ("POST", "/api/pair/ask/status")}
    assert ("GET", "/api/health") in policy.public and ("POST", "/api/pair/code") in policy.admin


def test_a_templated_path_cannot_be_declared_public():
    from juzheng.server.api import Route

    async def handler(request):  # pragma: no cover - never called
        raise AssertionError

    with pytest.raises(ValueError, match="literal"):
        security.RoutePolicy.of([Route("GET", "/api/cases/{case_id}", handler, "x", auth="public")])


def test_routes_and_openapi_do_not_import_each_other():
    import ast
    import juzheng.server.openapi as openapi_module
    import juzheng.server.routes as routes_module

    def imported(module) -> set[str]:
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}

    assert "openapi" not in imported(routes_module) and "routes" not in imported(openapi_module)


async def test_every_error_body_carries_a_stable_code(helper_app):
    """Clients act on ``code``; the wording of ``error`` is for the seller and may change."""
    cases = [
        (await helper_app.get("/api/nope"), 404, "not_found"),
        (await helper_app.get("/api/cases/9999"), 404, "not_found"),
        (await helper_app.get("/api/cases/x"), 400, "invalid_request"),
        (await helper_app.get("/api/cases", auth=False), 401, "token_required"),
        (await helper_app.get("/api/cases", headers={"Origin": "chrome-extension://" + "q" * 32}), 403, "origin_not_paired"),
        (await helper_app.post("/api/cases/detect", json={"platform": "nope", "order_id": "1"}), 400, "invalid"),
    ]
    for response, status, code in cases:
        body = await response.json()
        assert (response.status, body["code"]) == (status, code), body


def test_one_table_maps_domain_errors_to_http():
    from juzheng.errors import Conflict, Invalid, NotFound, RateLimited, Refused, Unavailable
    from juzheng.evidence import EvidenceError
    from juzheng.pairing import PairRateLimited, PairUnknown
    from juzheng.server.errors import status_of
    from juzheng.store import StateUnavailable

    assert [status_of(e) for e in (Invalid("x"), NotFound("x"), Conflict("x"), Unavailable("x"), Refused("x"), RateLimited("x"))] == [400, 404, 409, 503, 403, 429]
    assert status_of(EvidenceError("x")) == 400 and status_of(PairUnknown("x")) == 404 and status_of(PairRateLimited("x", 0)) == 429
    assert status_of(StateUnavailable("state_dir_full", "x")) == 503
    for error in (EvidenceError("x"), PairUnknown("x"), StateUnavailable("state_dir_full", "x")):
        assert not hasattr(error, "status")  # the domain says what went wrong, the server picks the status
