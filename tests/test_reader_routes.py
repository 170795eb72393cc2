"""确认 / 改为… on a suggested kind: POST /api/cases/{id}/evidence/{eid}/kind moves the file, never overwriting."""

from __future__ import annotations

from juzheng.store import CaseKey

ORDER = "231123-123456789012345"
NOT_RECEIVED = "买家反馈未收到商品，请商家提供快递签收证明"


async def _unsorted(helper_app, name: str, data: bytes):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    case = helper_app.runtime.store.get_case(view["id"])
    record = helper_app.runtime.evidence.import_upload(case, None, name, data)
    return view["id"], record


async def test_confirming_a_suggestion_moves_the_file_into_the_kind_folder(helper_app):
    case_id, record = await _unsorted(helper_app, "IMG_0001.jpg", b"\xff\xd8\xff photo")
    assert record.path == f"拼多多/{ORDER}/待分类/IMG_0001.jpg"
    # a file of that name is already in the kind folder: the moved one is numbered, nothing overwritten
    (helper_app.root / "拼多多" / ORDER / "快递红章证明").mkdir(parents=True)
    (helper_app.root / "拼多多" / ORDER / "快递红章证明" / "IMG_0001.jpg").write_bytes(b"other")
    r = await helper_app.post(f"/api/cases/{case_id}/evidence/{record.id}/kind", json={"kind": "red_stamp_proof"})
    assert r.status == 200, await r.text()
    item = await r.json()
    assert item["kind"] == "red_stamp_proof" and item["path"] == f"拼多多/{ORDER}/快递红章证明/IMG_0001 (2).jpg"
    assert (helper_app.root / item["path"]).read_bytes() == b"\xff\xd8\xff photo"
    assert (helper_app.root / "拼多多" / ORDER / "快递红章证明" / "IMG_0001.jpg").read_bytes() == b"other"
    assert not (helper_app.root / record.path).exists()
    view = await (await helper_app.get(f"/api/cases/{case_id}")).json()
    assert any(e["path"] == item["path"] and e["kind"] == "red_stamp_proof" for e in view["evidence"])


async def test_bad_kind_requests_are_json_4xx(helper_app):
    case_id, record = await _unsorted(helper_app, "IMG_0002.jpg", b"\xff\xd8\xff photo 2")
    for body, status, code_text in [
        ({"kind": "nope"}, 400, "未知的凭证类型"),
        ({"kind": "wangwang_evidence_number"}, 400, "文字类凭证"),
        ({"kind": "unpacking_video"}, 400, "不接受"),
        ({}, 400, None),
    ]:
        r = await helper_app.post(f"/api/cases/{case_id}/evidence/{record.id}/kind", json=body)
        assert r.status == status, (body, await r.text())
        data = await r.json()
        assert isinstance(data["error"], str) and data["error"]  # the project's JSON error shape
        if code_text:
            assert code_text in await r.text()
    r = await helper_app.post(f"/api/cases/{case_id}/evidence/999999/kind", json={"kind": "red_stamp_proof"})
    assert r.status == 404
    other, _ = helper_app.runtime.store.upsert_case(CaseKey(platform="pinduoduo", order_id="240101-000000000000009"))
    r = await helper_app.post(f"/api/cases/{other.id}/evidence/{record.id}/kind", json={"kind": "red_stamp_proof"})
    assert r.status == 404
