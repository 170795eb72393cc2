"""The case list and level check cost O(changed cases): what is rebuilt, when, and what a new process reuses."""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from juzheng.cases import CaseService
from juzheng.cases.models import CasePatch, DetectRequest
from juzheng.events import EVIDENCE_CHANGED, LEVEL_CHANGED, EventBus
from juzheng.rules import load_rulebook
from juzheng.store import DB_NAME, EvidenceRecord, open_store
from fixtures.clock import Clock

START = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
REQUEST = "买家反馈退货商家未收到，请商家提供快递红章证明"
SCENARIO = "pinduoduo.return_not_received"  # one option: the red-stamp proof alone


class Counting:
    """Wraps the list's summariser to count which cases were evaluated again."""

    def __init__(self, cases: CaseService) -> None:
        self.ids: list[int] = []
        inner = cases._list.summarize

        def summarize(case_id, now):
            self.ids.append(case_id)
            return inner(case_id, now)

        cases._list.summarize = summarize


@pytest.fixture(scope="module")
def book():
    return load_rulebook()


@pytest.fixture
def world(tmp_path, book):
    store = open_store(tmp_path / "state")
    bus = EventBus(store)
    clock = Clock(START)
    cases = CaseService(store, lambda: book, bus, clock=clock)
    ids = []
    for i in range(12):
        view = cases.detect(
            DetectRequest(platform="pinduoduo", order_id=f"241120-{i:012d}", request_text=REQUEST,
                          scenario=SCENARIO, deadline_at=START + timedelta(hours=3 + i * 4))
        )
        ids.append(view.id)
    yield store, bus, clock, cases, ids
    cases.close()
    store.close()


def _listed(data: bytes) -> list[dict]:
    return json.loads(data)


def test_a_repeated_list_is_the_same_bytes_and_evaluates_nothing(world):
    store, bus, clock, cases, ids = world
    first = cases.list_json()
    counting = Counting(cases)
    assert cases.cached_list_json() is first
    assert cases.list_json() is first
    assert counting.ids == []
    assert [c["id"] for c in _listed(first)] == ids  # soonest deadline first


def test_a_change_to_one_case_rebuilds_only_that_case(world, book):
    store, bus, clock, cases, ids = world
    cases.list_json()
    counting = Counting(cases)
    cases.detect(DetectRequest(platform="pinduoduo", order_id="241120-000000000005", request_text=REQUEST,
                               scenario=SCENARIO, deadline_at=START + timedelta(hours=1)))
    assert cases.cached_list_json() is None  # the change is seen without a query
    listed = _listed(cases.list_json())
    assert counting.ids == [ids[5]]
    assert listed[0]["id"] == ids[5]  # now the soonest


def test_evidence_of_one_order_rebuilds_that_order_only(world):
    store, bus, clock, cases, ids = world
    cases.list_json()
    counting = Counting(cases)
    record = store.add_evidence(
        EvidenceRecord(platform="pinduoduo", order_id="241120-000000000002", kind="red_stamp_proof",
                       path="拼多多/241120-000000000002/快递红章证明/a.jpg", how="hand", added_at=START, size=3)
    )
    bus.publish(EVIDENCE_CHANGED, {"platform": "pinduoduo", "order_id": "241120-000000000002", "kind": "red_stamp_proof",
                                   "evidence_id": record.id, "action": "added"})
    listed = {c["id"]: c for c in _listed(cases.list_json())}
    assert counting.ids == [ids[2]]
    assert listed[ids[2]]["complete"] is True


def test_a_new_process_reads_stored_summaries_and_sees_changes_made_while_it_was_away(world, book, tmp_path):
    store, bus, clock, cases, ids = world
    before = _listed(cases.list_json())
    # Another process (juzheng sort while the helper was stopped) adds evidence: no event reaches us.
    other = sqlite3.connect(tmp_path / "state" / DB_NAME)
    other.execute(
        "INSERT INTO evidence (platform, order_id, kind, path, how, added_at) VALUES (?,?,?,?,?,?)",
        ("pinduoduo", "241120-000000000007", "red_stamp_proof", "拼多多/241120-000000000007/快递红章证明/b.jpg", "sorted",
         START.isoformat()),
    )
    other.commit()
    other.close()
    fresh = CaseService(store, lambda: book, EventBus(store), clock=clock)
    counting = Counting(fresh)
    after = {c["id"]: c for c in _listed(fresh.list_json())}
    fresh.close()
    assert counting.ids == [ids[7]]
    assert after[ids[7]]["complete"] is True
    assert {c["id"]: c for c in before}[ids[0]] == after[ids[0]]


def test_a_rulebook_change_recomputes_every_summary(world, book):
    store, bus, clock, cases, ids = world
    cases.list_json()
    changed = copy.copy(book)
    changed.__dict__["digest"] = "other-rules"  # what a rule edit does to the digest
    fresh = CaseService(store, lambda: changed, EventBus(store), clock=clock)
    counting = Counting(fresh)
    fresh.list_json()
    fresh.close()
    assert sorted(counting.ids) == sorted(ids)


def test_a_level_boundary_rebuilds_the_case_that_crossed_it_and_notifies_once(world):
    store, bus, clock, cases, ids = world
    levels = []
    bus.subscribe(lambda e: levels.append(e.payload) if e.type == LEVEL_CHANGED else None)
    cases.check_levels()
    levels.clear()
    counting = Counting(cases)
    assert cases.check_levels() == []  # nothing changed, nothing crossed
    assert counting.ids == []
    clock.now = START + timedelta(hours=1, minutes=1)  # the first case is now under 2 h: urgent
    changes = cases.check_levels()
    assert [c["case_id"] for c in changes] == [ids[0]]
    assert changes[0]["level"] == "urgent"
    assert counting.ids == [ids[0]]
    assert cases.check_levels() == []
    assert [p["case_id"] for p in levels] == [ids[0]]


def test_a_clock_set_back_recomputes_instead_of_serving_tomorrow(world):
    store, bus, clock, cases, ids = world
    clock.now = START + timedelta(hours=4)  # case 0 is overdue at this clock
    assert _listed(cases.list_json())[0]["level"] == "overdue"
    clock.now = START  # the wall clock was corrected backwards
    assert cases.cached_list_json() is None
    assert _listed(cases.list_json())[0]["level"] != "overdue"
    assert cases.view(ids[0]).level != "overdue"


def test_one_broken_case_never_breaks_the_list(world):
    store, bus, clock, cases, ids = world

    def broken(case_id, now):
        if case_id == ids[3]:
            raise RuntimeError("a row this version cannot read")
        return original(case_id, now)

    original = cases._list.summarize
    cases._list.summarize = broken
    listed = [c["id"] for c in _listed(cases.list_json())]
    assert ids[3] not in listed and len(listed) == len(ids) - 1


def test_levels_move_from_the_settings_blob_to_their_table(tmp_path):
    state = tmp_path / "state"
    db = sqlite3.connect(state.mkdir() or state / DB_NAME)
    from juzheng.store.schema import MIGRATIONS

    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version=1")
    db.execute(
        "INSERT INTO cases (platform, order_id, created_at, updated_at) VALUES ('pinduoduo', '1-2', 'x', 'x')"
    )
    db.execute("INSERT INTO settings VALUES ('case_levels', ?)", (json.dumps({"1": "warn", "99": "urgent"}),))
    db.commit()
    db.close()
    store = open_store(state)
    assert store.case_levels() == {1: "warn"}  # the level of a case that no longer exists is dropped
    assert store.get_setting("case_levels") is None
    store.close()


def test_a_case_change_with_an_empty_inbox_never_loads_every_case(ev):
    """Each detect publishes a case change, which asks the evidence worker to retry waiting files:
    with none waiting, the sort context (every case of the shop) must not be built."""
    from fixtures.evidence import wait_for
    from juzheng.events import CASE_CHANGED

    svc = ev.service()
    svc.start()
    contexts, rounds = [], []
    real_context, real_pending = svc.sorter.context, ev.store.list_pending
    svc.sorter.context = lambda *a, **k: contexts.append(1) or real_context(*a, **k)
    ev.store.list_pending = lambda: rounds.append(1) or real_pending()
    ev.case("pinduoduo", "241120-000000000001")
    seen = len(rounds)
    ev.bus.publish(CASE_CHANGED, {"case_id": 1})
    wait_for(lambda: len(rounds) > seen)  # the worker's retry round ran and found nothing waiting
    assert contexts == []
    ev.store.set_pending("收件箱/无单号.jpg", "no_order")
    (ev.inbox / "无单号.jpg").write_bytes(b"x" * 10)
    ev.bus.publish(CASE_CHANGED, {"case_id": 1})
    wait_for(lambda: contexts)  # with a file waiting the context is built: the check above can fail


def test_a_cached_view_is_served_without_building_and_a_change_rebuilds_it(world):
    store, bus, clock, cases, ids = world
    assert cases.cached_view_json(ids[1]) is None  # never built: the server goes to a thread
    built = cases.view_json(ids[1])
    assert cases.cached_view_json(ids[1]) is built
    cases.patch(ids[1], CasePatch(tracking_number="SF1234567890123"))
    assert cases.cached_view_json(ids[1]) is None
    assert b"SF1234567890123" in cases.view_json(ids[1])
