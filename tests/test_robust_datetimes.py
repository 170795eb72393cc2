"""Extreme dates read from a page: refused at the boundary, and one bad stored row never breaks a list.

A hostile or broken page can send any text as the deadline. The parser's numeric branch already
refuses years outside 2000–2199; the ISO branch (``2026-11-23T18:00``) must do the same. A row that
got into the store before this check (or by hand) must not break ``GET /api/cases`` or ``juzheng status``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from juzheng.rules.deadline_text import parse_deadline_text
from juzheng.store import DB_NAME

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)
PDD_ORDER = "240101-123456789012345"


@pytest.mark.parametrize("text", [
    "举证截止时间 0001-01-01T08:00",
    "举证截止时间 9999-12-31T23:59:59",
    "截止 1970-01-01T00:00Z",
    "到期 0001-01-01T00:00+14:00",
])
def test_iso_deadline_outside_plausible_years_is_not_read(text):
    assert parse_deadline_text(text, NOW) is None


def test_iso_deadline_inside_plausible_years_still_read():
    got = parse_deadline_text("举证截止时间 2026-11-23T18:00", NOW)
    assert got is not None and got.isoformat() == "2026-11-23T18:00:00+08:00"


async def test_detect_refuses_an_extreme_deadline_text_with_a_clear_error(helper_app):
    response = await helper_app.post("/api/cases/detect", json={
        "platform": "pinduoduo", "order_id": PDD_ORDER, "deadline_text": "举证截止时间 0001-01-01T08:00",
    })
    assert response.status == 400, await response.text()
    body = await response.json()
    assert "0001" in body["error"] and "截止时间" in body["error"]
    assert (await helper_app.get("/api/cases")).status == 200
    assert await (await helper_app.get("/api/cases")).json() == []


@pytest.mark.parametrize("field", ["deadline_at", "request_at"])
async def test_detect_refuses_an_extreme_iso_field(helper_app, field):
    response = await helper_app.post("/api/cases/detect", json={
        "platform": "pinduoduo", "order_id": PDD_ORDER, field: "0001-01-01T08:00:00",
    })
    assert response.status == 400, await response.text()
    assert "error" in await response.json()


def _plant_bad_row(db_path, order_id: str = "240101-000000000000666") -> None:
    db = sqlite3.connect(db_path)
    try:
        with db:
            db.execute(
                "INSERT INTO cases (platform, order_id, aftersale_id, scenario, deadline_at, request_at, created_at, updated_at)"
                " VALUES ('pinduoduo', ?, '', 'pdd_refund_only_not_received', '0001-01-01T08:00:00+08:00',"
                " '0001-01-01T08:00:00+08:00', '2026-11-20T00:00:00+00:00', '2026-11-20T00:00:00+00:00')",
                (order_id,),
            )
    finally:
        db.close()


async def test_one_bad_stored_row_does_not_break_the_case_list(helper_app):
    await helper_app.detect(order_id=PDD_ORDER, deadline_text="剩余举证时间 1天2小时")
    _plant_bad_row(helper_app.runtime.store.path)
    helper_app.runtime.cases.invalidate()
    response = await helper_app.get("/api/cases")
    assert response.status == 200, await response.text()
    cases = await response.json()
    assert {c["order_id"] for c in cases} >= {PDD_ORDER, "240101-000000000000666"}
    bad = next(c for c in cases if c["order_id"] == "240101-000000000000666")
    assert bad["deadline_at"] is None  # shown as "no deadline known", not as year 1
    good = next(c for c in cases if c["order_id"] == PDD_ORDER)
    assert good["deadline_at"] is not None
    one = await helper_app.get(f"/api/cases/{bad['id']}")
    assert one.status == 200, await one.text()


def test_one_bad_stored_row_does_not_break_juzheng_status(tmp_path, keyring_env):
    from juzheng.store import CaseKey, open_store

    state = tmp_path / "state"
    store = open_store(state)
    store.upsert_case(CaseKey(platform="pinduoduo", order_id=PDD_ORDER), deadline_at=datetime(2026, 11, 21, tzinfo=timezone.utc))
    store.close()
    _plant_bad_row(state / DB_NAME)
    done = subprocess.run(
        [sys.executable, "-m", "juzheng", "status", "--json", "--state-dir", str(state), "--root", str(tmp_path / "root"),
         "--now", "2026-11-20T04:00:00+00:00"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    orders = {c["order_id"] for c in json.loads(done.stdout)["cases"]}
    assert orders == {PDD_ORDER, "240101-000000000000666"}
    text = subprocess.run(
        [sys.executable, "-m", "juzheng", "status", "--state-dir", str(state), "--root", str(tmp_path / "root")],
        capture_output=True, text=True, timeout=60,
    )
    assert text.returncode == 0 and "Traceback" not in text.stderr, text.stderr
