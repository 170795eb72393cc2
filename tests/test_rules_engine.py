"""The pure engine over the shipped rulebook: checklists, deadlines, levels, validity, recognition."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from juzheng.rules import Evidence, compute_deadlines, evaluate, level_for, load_rulebook, recognise
from juzheng.rules.models import Levels

BOOK = load_rulebook()
CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=CST)

DOMAIN_SCENARIOS = {
    "pinduoduo.not_received": [["red_stamp_proof", "shipping_slip"], ["chat_screenshot"]],
    "pinduoduo.refund_difference_unpaid": [["transfer_screenshot"], ["chat_screenshot"]],
    "pinduoduo.return_not_received": [["courier_intranet_screenshot"], ["red_stamp_proof"]],
    "pinduoduo.return_damaged_refused": [["return_photo"], ["unpacking_video"], ["red_stamp_proof"]],
    "pinduoduo.return_damaged_signed": [["return_photo", "red_stamp_proof"]],
    "pinduoduo.logistics_unverifiable": [["tracking_record"]],
    "pinduoduo.empty_package": [["product_weight_photo"], ["courier_weight_record"]],
    "pinduoduo.appliance_quality": [["repair_schedule_message", "inspection_report"]],
    "taobao.late_shipment.no_tracking": [["shipping_slip", "pickup_time_proof"]],
    "taobao.late_shipment.returned_by_courier": [["shipping_slip", "return_reason_proof"]],
    "taobao.late_shipment.agreed_time": [["wangwang_evidence_number"], ["chat_screenshot"]],
    "taobao.late_shipment.buyer_cancelled": [["wangwang_evidence_number"], ["chat_screenshot"]],
    "taobao.unreasonable_review": [
        ["wangwang_evidence_number"],
        ["call_recording_code"],
        ["sms_screenshots", "sms_bill"],
        ["qq_records"],
    ],
    "tmall.not_received": [["signed_delivery_slip"], ["signed_delivery_slip", "red_stamp_proof"]],
}
DOUYIN = ["douyin.not_received", "douyin.return_not_received", "douyin.return_damaged", "douyin.empty_package", "douyin.quality_issue"]
ALL_KINDS = {
    "red_stamp_proof", "shipping_slip", "signed_delivery_slip", "chat_screenshot", "wangwang_evidence_number",
    "site_message_screenshot", "pickup_time_proof", "return_reason_proof", "transfer_screenshot",
    "courier_intranet_screenshot", "return_photo", "unpacking_video", "tracking_record", "product_weight_photo",
    "courier_weight_record", "repair_schedule_message", "inspection_report", "call_recording_code", "sms_screenshots",
    "sms_bill", "qq_records",
}


def have(*kinds: str, at: datetime = T0) -> list[Evidence]:
    return [Evidence(kind=k, generated_at=at, added_at=at) for k in kinds]


def test_every_domain_id_is_present():
    assert set(BOOK.kinds) == ALL_KINDS
    assert set(BOOK.platforms) == {"taobao", "tmall", "pinduoduo", "douyin"}
    assert set(DOMAIN_SCENARIOS) | set(DOUYIN) <= set(BOOK.scenarios)
    labels = {"taobao": "淘宝", "tmall": "天猫", "pinduoduo": "拼多多", "douyin": "抖音小店"}
    assert {p: BOOK.platforms[p].label for p in labels} == labels


@pytest.mark.parametrize("scenario_id,options", DOMAIN_SCENARIOS.items())
def test_scenario_options_match_the_domain(scenario_id, options):
    assert [o.kinds for o in BOOK.scenarios[scenario_id].requires] == options


@pytest.mark.parametrize("scenario_id", DOUYIN)
def test_douyin_scenarios_are_marked_common_practice(scenario_id):
    scenario = BOOK.scenarios[scenario_id]
    assert scenario.common_practice and scenario.provenance.source == "common_practice"
    assert scenario.based_on in BOOK.scenarios
    assert BOOK.platforms["douyin"].evidence_window == timedelta(hours=24)


@pytest.mark.parametrize("scenario_id", sorted(BOOK.scenarios))
def test_each_option_complete_and_incomplete(scenario_id):
    scenario = BOOK.scenarios[scenario_id]
    assert evaluate(BOOK, scenario_id, [], T0).complete is False
    for index, option in enumerate(scenario.requires):
        result = evaluate(BOOK, scenario_id, have(*option.kinds), T0)
        assert result.complete, (scenario_id, option.kinds)
        assert result.options[index].complete and result.options[index].missing == []
        assert all(item.state == "done" for item in result.options[index].items)
        # Drop each kind in turn: that option is then incomplete and names what is missing.
        for dropped in option.kinds:
            rest = [k for k in option.kinds if k != dropped]
            partial = evaluate(BOOK, scenario_id, have(*rest), T0)
            assert dropped in partial.options[index].missing
            assert not partial.options[index].complete
            other_complete = any(set(o.kinds) <= set(rest) for o in scenario.requires)
            assert partial.complete == other_complete
    # Provenance on every requirement, and a readable explanation with the order id filled in.
    assert all(o.provenance.source for o in scenario.requires)
    filled = evaluate(BOOK, scenario_id, [], T0, order_id="231123-123456789012345").explanation
    assert "{" not in filled and "}" not in filled


def test_mode_and_missing_items_explain_how_to_obtain():
    result = evaluate(BOOK, "pinduoduo.not_received", have("red_stamp_proof"), T0)
    assert result.mode == "any_of"
    first = result.options[0]
    assert [i.state for i in first.items] == ["done", "missing"]
    assert first.items[1].how_to_obtain and not first.items[0].how_to_obtain
    assert evaluate(BOOK, "pinduoduo.return_damaged_signed", [], T0).mode == "all_of"


def test_rejected_kind_is_flagged_not_counted():
    result = evaluate(BOOK, "pinduoduo.not_received", have("tracking_record"), T0)
    assert not result.complete
    assert [i.kind for i in result.rejected] == ["tracking_record"]
    assert result.rejected[0].state == "rejected"
    assert any(w.code == "rejected_kind" and w.kind == "tracking_record" for w in result.warnings)
    qq = evaluate(BOOK, "pinduoduo.return_not_received", have("qq_records"), T0)
    assert [i.kind for i in qq.rejected] == ["qq_records"]


def test_field_checks_follow_platform_and_confirmations():
    pdd = evaluate(BOOK, "pinduoduo.not_received", [], T0).options[0].items[0]
    tb = evaluate(BOOK, "tmall.not_received", [], T0).options[1].items[1]
    assert pdd.kind == tb.kind == "red_stamp_proof"
    assert len(pdd.fields) > len(tb.fields), "PDD adds the handwritten-fields check"
    field = pdd.fields[0].id
    confirmed = evaluate(BOOK, "pinduoduo.not_received", [], T0, confirmed={("red_stamp_proof", field)})
    assert confirmed.options[0].items[0].fields[0].confirmed


# --- deadlines -------------------------------------------------------------------------------
WINDOWS = {
    "taobao.late_shipment.agreed_time": timedelta(days=3),
    "tmall.not_received": timedelta(days=3),
    "pinduoduo.not_received": timedelta(hours=48),
    "douyin.not_received": timedelta(hours=24),
}


@pytest.mark.parametrize("scenario_id,window", WINDOWS.items())
def test_deadline_windows_and_level_boundaries(scenario_id, window):
    scenario, platform = BOOK.scenarios[scenario_id], BOOK.platform_of(scenario_id)
    deadline_at = T0 + window

    def level_at(remaining: timedelta) -> str:
        [d] = compute_deadlines(scenario, platform, T0, deadline_at - remaining)
        assert d.deadline_at == deadline_at
        assert d.remaining_seconds == int(remaining.total_seconds())
        return d.level

    second = timedelta(seconds=1)
    assert level_at(timedelta(hours=12) + second) == "ok"
    assert level_at(timedelta(hours=12)) == "warn"
    assert level_at(timedelta(hours=2) + second) == "warn"
    assert level_at(timedelta(hours=2)) == "urgent"
    assert level_at(second) == "urgent"
    assert level_at(timedelta(0)) == "overdue"
    assert level_at(-timedelta(hours=5)) == "overdue"


def test_level_for_custom_thresholds():
    levels = Levels(warn_before="6h", urgent_before="1h")
    assert level_for(timedelta(hours=7), levels) == "ok"
    assert level_for(timedelta(hours=6), levels) == "warn"
    assert level_for(timedelta(minutes=60), levels) == "urgent"


def test_tmall_extra_day_after_buyer_evidence():
    scenario, platform = BOOK.scenarios["tmall.not_received"], BOOK.platforms["tmall"]
    [plain] = compute_deadlines(scenario, platform, T0, T0)
    [later] = compute_deadlines(scenario, platform, T0, T0, buyer_evidence_at=T0 + timedelta(days=3))
    assert plain.deadline_at == T0 + timedelta(days=3)
    assert later.deadline_at == T0 + timedelta(days=4)


def test_appliance_staged_deadlines():
    scenario, platform = BOOK.scenarios["pinduoduo.appliance_quality"], BOOK.platforms["pinduoduo"]
    visit, report, total = compute_deadlines(scenario, platform, T0, T0)
    assert visit.deadline_at == T0 + timedelta(hours=72)
    assert report.deadline_at == T0 + timedelta(hours=144)
    assert total.deadline_at == T0 + timedelta(days=7)
    # The visit was announced after a day: the report is due 72 h after that.
    _, report2, _ = compute_deadlines(scenario, platform, T0, T0, stages_done_at={visit.id: T0 + timedelta(hours=24)})
    assert report2.deadline_at == T0 + timedelta(hours=96)
    result = evaluate(BOOK, "pinduoduo.appliance_quality", [], T0, requested_at=T0)
    assert result.deadline.id == visit.id
    done_visit = [Evidence(kind="repair_schedule_message", added_at=T0 + timedelta(hours=10))]
    after = evaluate(BOOK, "pinduoduo.appliance_quality", done_visit, T0 + timedelta(hours=11), requested_at=T0)
    assert after.deadline.id == report.id
    assert after.deadline.deadline_at == T0 + timedelta(hours=82)


def test_overdue_case_warns_with_timeout_consequence():
    result = evaluate(BOOK, "douyin.not_received", [], T0 + timedelta(days=2), requested_at=T0)
    assert result.deadline.level == "overdue"
    assert any(w.code == "overdue" for w in result.warnings)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        compute_deadlines(BOOK.scenarios["douyin.not_received"], BOOK.platforms["douyin"], T0.replace(tzinfo=None), T0)


# --- validity of a 旺旺举证号 -------------------------------------------------------------------
def wangwang(generated: datetime, covers_from: datetime | None = None) -> list[Evidence]:
    return [Evidence(kind="wangwang_evidence_number", value="JZ123456", generated_at=generated, covers_from=covers_from)]


def test_evidence_number_valid_expiring_and_expired():
    sid = "taobao.late_shipment.agreed_time"
    fresh = evaluate(BOOK, sid, wangwang(T0 - timedelta(days=1)), T0, requested_at=T0)
    assert fresh.complete and not fresh.warnings
    soon = evaluate(BOOK, sid, wangwang(T0 - timedelta(days=14)), T0, requested_at=T0)
    assert soon.complete and [w.code for w in soon.warnings] == ["expires_before_deadline"]
    old = evaluate(BOOK, sid, wangwang(T0 - timedelta(days=15)), T0, requested_at=T0)
    assert not old.complete
    assert old.options[0].items[0].state == "rejected"
    assert [w.code for w in old.warnings] == ["expired"]


def test_evidence_number_coverage_and_missing_date():
    sid = "taobao.unreasonable_review"
    gap = evaluate(BOOK, sid, wangwang(T0, covers_from=T0 - timedelta(days=80)), T0)
    assert any(w.code == "coverage" for w in gap.warnings)
    undated = evaluate(BOOK, sid, [Evidence(kind="wangwang_evidence_number", value="x")], T0)
    assert any(w.code == "undated" for w in undated.warnings)


# --- recognition -------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario_id", sorted(BOOK.scenarios))
def test_each_scenario_is_recognised_from_its_own_wording(scenario_id):
    scenario = BOOK.scenarios[scenario_id]
    platform = BOOK.scenario_platform[scenario_id]
    text = scenario.request_text or "，".join(scenario.wording)
    found = recognise(BOOK, platform, "平台消息：" + text + "。请及时处理。")
    assert found.scenario == scenario_id, found


def test_recognition_survives_rewording_and_refuses_noise():
    reworded = (
        "您好，该订单消费者反馈未收到商品，已申请平台介入。请联系快递核实签收情况，"
        "上传发货底单和快递签收红章证明，或买家确认收货的聊天截图。超时未举证将为消费者退款。"
    )
    assert recognise(BOOK, "pinduoduo", reworded).scenario == "pinduoduo.not_received"
    empty = recognise(BOOK, "pinduoduo", "欢迎使用商家后台，今日订单 12 笔。")
    assert empty.scenario is None
