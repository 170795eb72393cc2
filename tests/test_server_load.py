"""50 concurrent clients against the real helper: every answer correct, no error, no lost write."""

from __future__ import annotations

import asyncio

import aiohttp

CLIENTS = 50


async def one_client(session: aiohttp.ClientSession, base: str, headers: dict[str, str], n: int) -> dict:
    order = f"201123-{n:015d}"
    async with session.post(f"{base}/api/cases/detect", json={"platform": "pinduoduo", "order_id": order, "request_text": "买家反馈未收到商品",
                                                                 "remaining_text": f"剩余 {n + 1} 小时"}, headers=headers) as r:
        assert r.status == 201, await r.text()
        created = await r.json()
    case_id = created["id"]
    async with session.post(f"{base}/api/cases/{case_id}/confirm", json={"kind": "red_stamp_proof", "field": "tracking_number"}, headers=headers) as r:
        assert r.status == 200, await r.text()
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("kind", "shipping_slip")
    form.add_field("file", f"底单 {n}".encode(), filename=f"底单{n}.jpg", content_type="image/jpeg")
    async with session.post(f"{base}/api/cases/{case_id}/evidence", data=form, headers=headers) as r:
        assert r.status == 201, await r.text()
    for _ in range(5):
        async with session.get(f"{base}/api/cases/{case_id}", headers=headers) as r:
            assert r.status == 200
            view = await r.json()
            assert view["order_id"] == order
    async with session.get(f"{base}/api/cases", headers=headers) as r:
        assert r.status == 200
    async with session.get(f"{base}/api/rules", headers=headers) as r:
        assert r.status == 200
    return view


async def test_fifty_concurrent_clients(running_helper):
    headers = {"Authorization": f"Bearer {running_helper.token}"}
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector) as session:
        views = await asyncio.gather(*(one_client(session, running_helper.url, headers, n) for n in range(CLIENTS)))
        assert len({v["id"] for v in views}) == CLIENTS
        for view in views:
            [slip] = [e for e in view["evidence"] if e["kind"] == "shipping_slip"]
            assert (running_helper.root / slip["path"]).is_file()
            fields = view["checklist"]["options"][0]["items"][0]["fields"]
            assert next(f for f in fields if f["id"] == "tracking_number")["confirmed"] is True
        async with session.get(f"{running_helper.url}/api/cases", headers=headers) as r:
            listed = await r.json()
        assert len(listed) == CLIENTS
        deadlines = [c["deadline_at"] for c in listed]
        assert deadlines == sorted(deadlines)  # by deadline: client n had n+1 hours left
    assert "unhandled error" not in running_helper.output()


async def test_concurrent_detection_of_one_order_makes_one_case(running_helper):
    headers = {"Authorization": f"Bearer {running_helper.token}"}
    body = {"platform": "pinduoduo", "order_id": "201123-999999999999999", "request_text": "买家反馈未收到商品"}
    async with aiohttp.ClientSession() as session:

        async def detect():
            async with session.post(f"{running_helper.url}/api/cases/detect", json=body, headers=headers) as r:
                assert r.status in (200, 201)
                return (await r.json())["id"]

        ids = await asyncio.gather(*(detect() for _ in range(20)))
    assert len(set(ids)) == 1
