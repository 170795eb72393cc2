"""One shop, two marketplaces: a 淘宝 case detected again as 天猫 (the seller said the shop is a Tmall
shop) is relabelled, never doubled; its evidence folder follows through the mover (journaled, never
overwriting, undo-able), and back (in-process: real store, real evidence folder, no watcher)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from juzheng.cases import CaseService
from juzheng.cases.models import CasePatch, ConfirmRequest, DetectRequest
from juzheng.errors import Conflict
from juzheng.store import CaseKey, EvidenceRecord

from fixtures.evidence import files_under, sha

ORDER = "3123456789012345678"
OTHER = "3123456789012349999"
NOT_RECEIVED = "买家称未收到货，请商家上传快递签收底单（第一联）"
LATE = "延迟发货投诉：请提供发货底单及揽件时间红章证明"


@pytest.fixture
def env(ev):
    svc = ev.service(watch=False)
    cases = CaseService(ev.store, lambda: ev.book, ev.bus, evidence=svc)
    yield ev, svc, cases
    cases.close()


def detect(cases: CaseService, platform: str, text: str = NOT_RECEIVED, order: str = ORDER, **extra):
    return cases.detect(DetectRequest(platform=platform, order_id=order, request_text=text, **extra))


def put(ev, platform_label: str, order: str, folder: str, name: str, data: bytes):
    path = ev.root / platform_label / order / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_tmall_detect_relabels_the_taobao_case_and_its_folder(env):
    ev, svc, cases = env
    first = detect(cases, "taobao", deadline_text="剩余举证时间 1天23小时")
    assert (first.platform, first.scenario) == ("taobao", "taobao.not_received")
    slip = put(ev, "淘宝", ORDER, "签收底单", "底单.jpg", b"slip-bytes")
    loose = put(ev, "淘宝", ORDER, "待分类", "截图 1.png", b"unsorted-bytes")
    svc.sort_once()
    svc.indexer.reconcile(svc.sorter.context(ev.book).layout)
    ev.store.add_evidence(EvidenceRecord(platform="taobao", order_id=ORDER, kind="wangwang_evidence_number", value="JZ123", how="text", added_at=datetime.now(timezone.utc)))
    cases.confirm(first.id, ConfirmRequest(kind="signed_delivery_slip", field="signature_matches_recipient", confirmed=True))
    hashes = {sha(slip), sha(loose)}

    again = detect(cases, "tmall", platform_source="seller")

    assert again.id == first.id  # the same case, not a second one
    assert (again.platform, again.scenario) == ("tmall", "tmall.not_received")
    assert again.deadline_source == "page" and again.deadline_at == first.deadline_at  # the page's countdown kept
    assert [c.id for c in ev.store.cases_for_order(ORDER)] == [first.id]
    assert ("signed_delivery_slip", "signature_matches_recipient") in ev.store.confirmations(first.id)
    assert not (ev.root / "淘宝" / ORDER).exists()
    moved = files_under(ev.root / "天猫" / ORDER)
    assert {p.relative_to(ev.root / "天猫" / ORDER).as_posix() for p in moved} == {"签收底单/底单.jpg", "待分类/截图 1.png"}
    assert {sha(p) for p in moved} == hashes
    records = ev.store.evidence_for_order("tmall", ORDER)
    assert {r.path for r in records if r.path} == {f"天猫/{ORDER}/签收底单/底单.jpg", f"天猫/{ORDER}/待分类/截图 1.png"}
    assert {r.value for r in records if r.path is None} == {"JZ123"}
    assert ev.store.evidence_for_order("taobao", ORDER) == []
    view = cases.view(first.id)
    assert {e.filename for e in view.evidence} >= {"底单.jpg"} and {e.filename for e in view.unsorted} == {"截图 1.png"}


def test_a_taken_name_in_the_target_is_never_overwritten(env):
    ev, svc, cases = env
    detect(cases, "taobao")
    put(ev, "淘宝", ORDER, "签收底单", "底单.jpg", b"from-taobao")
    there = put(ev, "天猫", ORDER, "签收底单", "底单.jpg", b"already-in-tmall")
    svc.indexer.reconcile(svc.sorter.context(ev.book).layout)

    detect(cases, "tmall", platform_source="seller")

    assert there.read_bytes() == b"already-in-tmall"
    assert (there.parent / "底单 (2).jpg").read_bytes() == b"from-taobao"
    assert {r.path for r in ev.store.evidence_for_order("tmall", ORDER)} == {
        f"天猫/{ORDER}/签收底单/底单.jpg", f"天猫/{ORDER}/签收底单/底单 (2).jpg"}


def test_the_folder_move_is_journaled_and_undo_puts_it_back(env):
    ev, svc, cases = env
    detect(cases, "taobao")
    put(ev, "淘宝", ORDER, "签收底单", "底单.jpg", b"slip")
    svc.indexer.reconcile(svc.sorter.context(ev.book).layout)
    detect(cases, "tmall", platform_source="seller")
    assert (ev.root / "天猫" / ORDER / "签收底单" / "底单.jpg").is_file()

    undone = svc.undo(1)

    assert [u.status for u in undone] == ["undone"]
    assert (ev.root / "淘宝" / ORDER / "签收底单" / "底单.jpg").read_bytes() == b"slip"
    assert not (ev.root / "天猫" / ORDER / "签收底单" / "底单.jpg").exists()


def test_back_to_taobao_only_on_the_sellers_word(env):
    ev, svc, cases = env
    first = detect(cases, "tmall")
    put(ev, "天猫", ORDER, "签收底单", "底单.jpg", b"slip")
    svc.indexer.reconcile(svc.sorter.context(ev.book).layout)

    # A taobao.com page that does not say 天猫 is no evidence against a case known as 天猫.
    quiet = detect(cases, "taobao")
    assert (quiet.id, quiet.platform, quiet.scenario) == (first.id, "tmall", "tmall.not_received")
    assert (ev.root / "天猫" / ORDER / "签收底单" / "底单.jpg").is_file()

    back = detect(cases, "taobao", platform_source="seller")
    assert (back.id, back.platform, back.scenario) == (first.id, "taobao", "taobao.not_received")
    assert (ev.root / "淘宝" / ORDER / "签收底单" / "底单.jpg").read_bytes() == b"slip"
    assert [c.id for c in ev.store.cases_for_order(ORDER)] == [first.id]


def test_the_sellers_scenario_moves_to_its_twin_or_is_recognised_again(env):
    ev, _svc, cases = env
    chosen = detect(cases, "taobao")
    cases.patch(chosen.id, CasePatch(scenario="taobao.quality_issue"))
    assert detect(cases, "tmall", platform_source="seller").scenario == "tmall.quality_issue"

    late = detect(cases, "taobao", text=LATE, order=OTHER)
    assert late.scenario and late.scenario.startswith("taobao.late_shipment")
    cases.patch(late.id, CasePatch(scenario=late.scenario))
    relabelled = detect(cases, "tmall", text=LATE, order=OTHER, platform_source="seller")
    # 天猫 has no 延迟发货 twin: the seller's taobao scenario cannot stand on a 天猫 case.
    assert relabelled.platform == "tmall" and (relabelled.scenario is None or relabelled.scenario.startswith("tmall."))


def test_a_clash_with_a_case_already_there_is_a_conflict_not_a_500(env):
    ev, _svc, cases = env
    when = datetime.now(timezone.utc) - timedelta(days=3)
    ev.store.upsert_case(CaseKey(platform="tmall", order_id=ORDER, aftersale_id="77"), status="closed", request_at=when)
    open_one, _ = ev.store.upsert_case(CaseKey(platform="taobao", order_id=ORDER, aftersale_id="77"))
    with pytest.raises(Conflict) as err:
        detect(cases, "tmall", platform_source="seller")
    assert err.value.code == "marketplace_conflict"
    assert ev.store.get_case(open_one.id).platform == "taobao"  # nothing half done


def test_a_page_that_says_tmall_relabels_too(env):
    ev, svc, cases = env
    first = detect(cases, "taobao")
    put(ev, "淘宝", ORDER, "待分类", "a.png", b"a")
    svc.indexer.reconcile(svc.sorter.context(ev.book).layout)
    again = detect(cases, "tmall")  # the page said 天猫 (the extension sends tmall, source page)
    assert (again.id, again.platform, again.scenario) == (first.id, "tmall", "tmall.not_received")
    assert (ev.root / "天猫" / ORDER / "待分类" / "a.png").read_bytes() == b"a"


async def test_over_http_a_clash_is_409_with_its_code_and_a_bad_source_400(helper_app):
    tb = {"platform": "taobao", "order_id": ORDER, "aftersale_id": "77", "request_text": NOT_RECEIVED}
    assert (await helper_app.post("/api/cases/detect", json=tb)).status in (200, 201)
    clash = {**tb, "platform": "tmall", "page_state": "closed"}
    # A closed 天猫 case of the same after-sale, stored under 天猫 directly (another address once read it so).
    helper_app.runtime.store.upsert_case(CaseKey(platform="tmall", order_id=ORDER, aftersale_id="77"), status="closed")
    both = {**tb, "aftersale_id": "", "platform": "tmall", "platform_source": "seller"}
    response = await helper_app.post("/api/cases/detect", json=both)
    assert response.status == 409, await response.text()
    body = await response.json()
    assert body["code"] == "marketplace_conflict" and "天猫" in body["error"]
    bad = await helper_app.post("/api/cases/detect", json={**clash, "platform_source": "shop"})
    assert bad.status == 400
