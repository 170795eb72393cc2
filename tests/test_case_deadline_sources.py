"""Where a case's deadline came from, the earlier of two disagreeing sources, page states that open,
submit or close a case, and the seller's own deadline and actions (in-process helper, real store)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from juzheng.cases.deadline_sources import CONFLICT_SLACK, resolve_deadline
from juzheng.rules.request_time import request_time_in

BEIJING = timezone(timedelta(hours=8))
ORDER = "201123-123456789012345"
NOT_RECEIVED = "买家反馈未收到商品，请上传快递签收底单"
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)  # 22:00 in Beijing


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- pure: resolving sources -----------------------------------------------------------------------
def test_estimate_only_when_nothing_real_is_known():
    est = NOW + timedelta(hours=48)
    only = resolve_deadline(estimate=est)
    assert (only.deadline_at, only.source, only.conflict) == (est, "estimate", None)
    page = NOW + timedelta(hours=10)
    real = resolve_deadline(page=page, estimate=est)
    assert (real.deadline_at, real.source, real.conflict) == (page, "page", None)


def test_the_earlier_of_two_disagreeing_sources_wins_and_says_so():
    page = NOW + timedelta(hours=30)
    request = NOW + timedelta(hours=8)
    got = resolve_deadline(page=page, request=request)
    assert got.deadline_at == request and got.source == "request"
    assert got.conflict is not None and got.conflict.used == "request"
    assert [c.source for c in got.conflict.sources] == ["request", "page"]
    assert "相差22小时" in got.conflict.message and "页面倒计时" in got.conflict.message


def test_sources_within_a_few_minutes_are_no_conflict():
    page = NOW + timedelta(hours=8)
    got = resolve_deadline(page=page, request=page + CONFLICT_SLACK - timedelta(seconds=1))
    assert got.conflict is None and got.source == "page"


# -- pure: the request time in a page's history ------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01 20:05 平台 申请平台介入，待商家举证", datetime(2026, 12, 1, 20, 5, tzinfo=BEIJING)),
        ("协商历史\n2026-11-30 09:00:12 买家 发起退款申请\n2026-12-01 08:30:00 小二 平台介入，请商家举证", datetime(2026, 12, 1, 8, 30, tzinfo=BEIJING)),
        ("12-01 19:40 系统 待卖家举证 ｜ 11-30 10:00 买家 申请退款", datetime(2026, 12, 1, 19, 40, tzinfo=BEIJING)),
        ("２０２６－１２－０１ ２０：０５ 平台介入，待商家举证", datetime(2026, 12, 1, 20, 5, tzinfo=BEIJING)),
        ("2026/12/01 18:00 平台 申请平台介入\n2026/12/01 19:00 商家 商家已举证", datetime(2026, 12, 1, 18, 0, tzinfo=BEIJING)),
    ],
)
def test_request_time_from_history(text, expected):
    assert request_time_in(text, NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-11-30 09:00 买家 发起退款申请",  # no request for evidence
        "请在 2026-12-02 14:30 前完成举证",  # a deadline, not a request
        "2026-12-03 10:00 平台介入，待商家举证",  # in the future: not history
        "举证截止时间 2026-12-02 14:30 待商家举证",
    ],
)
def test_no_request_time(text):
    assert request_time_in(text, NOW) is None


# -- through the API ---------------------------------------------------------------------------------
async def test_first_seen_is_an_estimate_and_never_green(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    assert view["deadline_source"] == "estimate"
    assert view["level"] == "ok" and view["display_level"] == "estimate"
    assert "首次打开估算" in view["deadline_note"] and "48 小时" in view["deadline_note"]
    listed = (await (await helper_app.get("/api/cases")).json())[0]
    assert listed["deadline_source"] == "estimate" and listed["display_level"] == "estimate"


async def test_page_countdown_is_the_page_source_and_ticks_do_not_move_it(helper_app):
    first = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, remaining_text="剩余 20小时22分05秒")
    assert first["deadline_source"] == "page" and first["display_level"] == "ok"
    again = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, remaining_text="剩余 20小时21分05秒")
    assert again["deadline_at"] == first["deadline_at"]
    # The countdown gone from a later reading (drawer closed): the page's deadline stays known.
    later = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    assert later["deadline_source"] == "page" and later["deadline_at"] == first["deadline_at"]


async def test_request_time_in_history_gives_the_request_source(helper_app):
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=40)
    entry = start.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    view = await helper_app.detect(
        order_id=ORDER, request_text=NOT_RECEIVED, history_text=f"{entry} 平台 申请平台介入，待商家举证"
    )
    assert view["deadline_source"] == "request" and view["request_source"] == "page"
    assert abs(at(view["deadline_at"]) - (start.replace(second=0) + timedelta(hours=48))) < timedelta(seconds=1)
    assert view["level"] == "warn"  # 8 hours left of 48: the seller who opens it now must not see green


async def test_page_and_history_disagree_the_earlier_is_used(helper_app):
    start = datetime.now(timezone.utc) - timedelta(hours=40)
    entry = start.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    view = await helper_app.detect(
        order_id=ORDER, request_text=NOT_RECEIVED, remaining_text="剩余 1天23小时", history_text=f"{entry} 待商家举证"
    )
    assert view["deadline_source"] == "request"
    conflict = view["deadline_conflict"]
    assert conflict["used"] == "request" and {c["source"] for c in conflict["sources"]} == {"page", "request"}
    assert at(view["deadline_at"]) < datetime.now(timezone.utc) + timedelta(hours=9)
    listed = (await (await helper_app.get("/api/cases")).json())[0]
    assert listed["deadline_conflict"] is True


async def test_seller_types_the_deadline_and_can_take_it_back(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    typed = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(microsecond=0)
    response = await helper_app.patch(f"/api/cases/{view['id']}", json={"deadline_at": typed.isoformat()})
    assert response.status == 200
    patched = await response.json()
    assert patched["deadline_source"] == "seller" and at(patched["deadline_at"]) == typed
    assert patched["display_level"] == "warn"
    # A page countdown later than the typed time: the typed (earlier) one stays, with the conflict shown.
    again = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, remaining_text="剩余 20:00:00")
    assert again["deadline_source"] == "seller" and again["deadline_conflict"]["used"] == "seller"
    cleared = await (await helper_app.patch(f"/api/cases/{view['id']}", json={"deadline_at": None})).json()
    assert cleared["deadline_source"] == "page"


async def test_finished_page_closes_the_case_and_opens_none(helper_app):
    response = await helper_app.post(
        "/api/cases/detect", json={"platform": "pinduoduo", "order_id": ORDER, "page_state": "closed"}
    )
    assert response.status == 404
    body = await response.json()
    assert body["code"] == "no_live_case" and "已经结束" in body["error"]
    assert await (await helper_app.get("/api/cases?status=all")).json() == []

    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, page_state="requested")
    assert view["status"] == "open" and view["created"] is True
    won = await helper_app.detect(order_id=ORDER, page_state="won")
    assert (won["status"], won["outcome"], won["level"], won["display_level"]) == ("closed", "won", None, None)
    assert await (await helper_app.get("/api/cases")).json() == []


async def test_page_showing_evidence_sent_marks_it_submitted(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    sent = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, page_state="submitted")
    assert sent["id"] == view["id"] and sent["status"] == "submitted" and sent["level"] is None


@pytest.mark.parametrize(
    "action, status, outcome",
    [("submitted", "submitted", None), ("won", "closed", "won"), ("lost", "closed", "lost"), ("closed", "closed", None)],
)
async def test_seller_actions(helper_app, action, status, outcome):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    response = await helper_app.post(f"/api/cases/{view['id']}/action", json={"action": action})
    assert response.status == 200
    done = await response.json()
    assert (done["status"], done["outcome"], done["level"]) == (status, outcome, None)
    assert await (await helper_app.get("/api/cases")).json() == []
    reopened = await (await helper_app.post(f"/api/cases/{view['id']}/action", json={"action": "reopen"})).json()
    assert (reopened["status"], reopened["outcome"]) == ("open", None)


@pytest.mark.parametrize("body", [{"action": "win"}, {}, {"action": "won", "x": 1}])
async def test_bad_actions_are_400(helper_app, body):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    response = await helper_app.post(f"/api/cases/{view['id']}/action", json=body)
    assert response.status == 400
    assert "error" in await response.json()


async def test_action_on_unknown_case_is_404(helper_app):
    response = await helper_app.post("/api/cases/999/action", json={"action": "won"})
    assert response.status == 404


async def test_tracking_number_from_the_page_is_stored(helper_app):
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, tracking_number="SF1234567890123")
    assert view["tracking_number"] == "SF1234567890123"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("距超时 01:36:20", NOW + timedelta(hours=1, minutes=36, seconds=20)),
        ("剩余 01 : 36 : 20", NOW + timedelta(hours=1, minutes=36, seconds=20)),
        ("处理时限 2天", NOW + timedelta(days=2)),
        ("还剩<b>2</b>天<b>12</b>小时", NOW + timedelta(days=2, hours=12)),
        ("10小时22分05秒后，系统将默认支持买家", NOW + timedelta(hours=10, minutes=22, seconds=5)),
        ("请在12月02日 14:30前完成举证", datetime(2026, 12, 2, 14, 30, tzinfo=BEIJING)),
        ("须于 2026-12-02 14:30 之前上传凭证", datetime(2026, 12, 2, 14, 30, tzinfo=BEIJING)),
        ("剩余处理时长：１天\u00a0２３：５９", NOW + timedelta(days=1, hours=23, minutes=59)),
    ],
)
def test_deadline_text_forms(text, expected):
    from juzheng.rules.deadline_text import parse_deadline_text

    assert parse_deadline_text(text, NOW) == expected


def test_store_migrates_an_older_database_keeping_its_cases(tmp_path):
    """A database from before deadline sources: its cases stay, with no source recorded and the
    request time taken as first seen, so the helper never claims the page stated their deadline."""
    import sqlite3

    from juzheng.store import CaseKey, SqliteStore
    from juzheng.store.schema import MIGRATIONS

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        for statement in script.split(";\n"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version={number}")
    db.execute(
        "INSERT INTO cases (platform, order_id, aftersale_id, deadline_at, created_at, updated_at) VALUES (?,?,?,?,?,?)",
        ("pinduoduo", ORDER, "", "2030-01-01T00:00:00+00:00", "2029-12-30T00:00:00+00:00", "2029-12-30T00:00:00+00:00"),
    )
    db.commit()
    db.close()
    store = SqliteStore(path)
    try:
        assert store.schema_version == len(MIGRATIONS)
        (case,) = store.cases_for_order(ORDER)
        assert case.deadline_source is None and case.request_source == "first_seen" and case.page_deadline_at is None
        updated, created = store.upsert_case(CaseKey(platform="pinduoduo", order_id=ORDER), deadline_source="page",
                                             page_deadline_at=datetime(2030, 1, 1, tzinfo=timezone.utc))
        assert not created and updated.deadline_source == "page"
    finally:
        store.close()


def _juzheng(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "juzheng", *args], capture_output=True, text=True, encoding="utf-8", timeout=60)


@pytest.mark.subprocess
def test_cli_deadline_keeps_its_shape_and_weighs_a_page_countdown():
    base = ["deadline", "--scenario", "pinduoduo.not_received", "--from", "2026-12-01T10:00:00+08:00",
            "--now", "2026-12-01T20:00:00+08:00", "--json"]
    import json

    plain = json.loads(_juzheng(*base).stdout)
    assert {"deadline_at", "remaining_seconds", "level", "deadlines"} <= set(plain)
    assert plain["deadline_source"] == "request" and plain["deadline_conflict"] is None
    weighed = json.loads(_juzheng(*base, "--page", "剩余 10小时").stdout)
    assert weighed["deadline_source"] == "page" and weighed["deadline_at"] == "2026-12-02T06:00:00+08:00"
    assert weighed["deadline_conflict"]["used"] == "page" and weighed["level"] == "warn"
    bad = _juzheng(*base, "--page", "尽快")
    assert bad.returncode == 2 and "读不出" in bad.stderr and "Traceback" not in bad.stderr


async def test_a_newer_request_reopens_a_submitted_case_the_old_one_does_not(helper_app):
    old = (datetime.now(timezone.utc) - timedelta(hours=30)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, history_text=f"{old} 平台介入，待商家举证")
    await helper_app.post(f"/api/cases/{view['id']}/action", json={"action": "submitted"})
    same = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, page_state="requested",
                                   history_text=f"{old} 平台介入，待商家举证")
    assert same["status"] == "submitted"
    newer = (datetime.now(timezone.utc) + timedelta(minutes=1)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    again = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED, page_state="requested",
                                    history_text=f"{old} 平台介入，待商家举证\n{newer} 平台 请商家补充凭证，待商家举证")
    assert again["status"] == "open" and again["deadline_source"] == "request"
