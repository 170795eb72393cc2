"""Recognition behaviours one by one: synonyms, negation, page fields, abstention, candidates, Tmall on Taobao hosts."""

from __future__ import annotations

import shutil

import pytest

from juzheng.rules import DEFAULT_RULES_DIR, load_rulebook, recognise
from juzheng.rules.recognition import index_for
from juzheng.rules.text_prep import fold

BOOK = load_rulebook()


@pytest.mark.parametrize(
    "platform,text,expected",
    [
        ("pinduoduo", "买家说没收到货，物流显示已签收", "pinduoduo.not_received"),
        ("pinduoduo", "退回来的货我们当场拒收了，商品已经摔坏", "pinduoduo.return_damaged_refused"),
        ("pinduoduo", "单号查不到物流，平台要快递官网截图", "pinduoduo.logistics_unverifiable"),
        ("taobao", "买家在旺旺里说不想要了，我们就拦截了快递，结果被投诉延迟发货", "taobao.late_shipment.buyer_cancelled"),
    ],
)
def test_synonyms_read_as_the_rulebook_words(platform, text, expected):
    assert recognise(BOOK, platform, text).scenario == expected


def test_a_labelled_reason_of_two_characters_is_enough():
    found = recognise(BOOK, "pinduoduo", "退款原因：空包")
    assert found.scenario == "pinduoduo.empty_package" and "空包" in found.matched
    assert recognise(BOOK, "douyin", "售后原因：少件").scenario == "douyin.missing_items"


def test_the_aftersale_type_alone_says_nothing():
    assert recognise(BOOK, "pinduoduo", "售后类型：退货退款").scenario is None
    assert recognise(BOOK, "taobao", "退款类型：仅退款 ｜ 退款原因：质量问题").scenario == "taobao.quality_issue"


@pytest.mark.parametrize(
    "platform,text",
    [
        ("pinduoduo", "没有买家反馈空包，只是问什么时候发货"),
        ("taobao", "不是质量问题，买家只是咨询怎么安装"),
        ("pinduoduo", "这批货质量没有问题，已经抽检过了"),
        ("tmall", "东西收到了，包装完好，没有破损"),
        ("taobao", "买家问：会不会有色差？"),
    ],
)
def test_negated_or_asked_mentions_do_not_count(platform, text):
    assert recognise(BOOK, platform, text).scenario is None


def test_a_negation_does_not_swallow_what_the_buyer_does_claim():
    found = recognise(BOOK, "taobao", "买家说不是质量问题，是收到的包裹里少了一件")
    assert found.scenario == "taobao.missing_items"


def test_shared_premise_does_not_decide_between_late_shipment_appeals():
    found = recognise(BOOK, "taobao", "被投诉了，卖家已按时发货")
    assert found.scenario is None and found.abstained
    # neither appeal's own premise (no trail, a courier's return) is said: offered after the
    # scenarios whose premise the text does not rule out, never named
    assert "taobao.late_shipment.no_tracking" in {c.scenario for c in found.candidates}


def test_a_late_shipment_appeal_is_named_only_on_its_own_premise():
    # 别发 is buyer_cancelled's premise; agreed_time matches the 申请退款 of its request better but
    # no date was agreed, so it is only offered
    found = recognise(BOOK, "taobao", "投诉类型：延迟发货 ｜ 申诉理由：买家下单后让我们先别发，后来又申请退款")
    assert found.scenario == "taobao.late_shipment.buyer_cancelled"
    # no variant's premise: not named, and nothing else that matched a little (投诉) stands in
    bare = recognise(BOOK, "taobao", "买家投诉延迟发货，要求退款")
    assert bare.scenario is None and bare.abstained == "close"


@pytest.mark.parametrize(
    "platform,text,unnamed",
    [
        ("pinduoduo", "顾客说收到的锅盖裂了，申请仅退款，平台介入了", "pinduoduo.not_received"),
        ("douyin", "用户说只收到一只耳机，另一只没有，申请退款，我们出库称重是正常的", "douyin.empty_package"),
        # The seller signed for the buyer's return: its 已签收 is the return's, not the order's.
        ("pinduoduo", "售后详情\n退货物流：圆通 已签收（商家签收 06-01）\n商家驳回：开箱发现镜面破裂\n消费者已申请平台介入 剩余 20:11:05",
         "pinduoduo.not_received"),
    ],
)
def test_a_scenario_whose_premise_is_unsaid_is_not_named(platform, text, unnamed):
    assert recognise(BOOK, platform, text).scenario != unnamed


@pytest.mark.parametrize(
    "text",
    [
        "工单：淘宝退货，买家已填单号但快递只显示揽收，跟踪记录没有了，我们没收到退货，小二要我们举证",
        "淘宝 退款单 | 类型 退货退款 | 退货物流 仅有揽件记录 | 卖家拒绝：退货未收到 | 待卖家举证",
    ],
)
def test_a_return_with_no_tracking_is_the_return_not_a_late_shipment(text):
    """The buyer's return parcel showing only its pick-up is about the return, not the seller's
    shipment: 未收到退货 / 买家已填单号 rule the late-shipment appeal out."""
    found = recognise(BOOK, "taobao", text)
    assert found.scenario == "taobao.return_not_received"
    assert "taobao.late_shipment.no_tracking" not in [c.scenario for c in found.candidates]


@pytest.mark.parametrize(
    "platform,text,expected",
    [
        ("pinduoduo", "pdd有单 买家说xq写的纯棉 到手是涤纶 平台介入了 要我们举证", "pinduoduo.not_as_described"),
        ("pinduoduo", "【物流核实】订单 240601-xxx 运单号查无揽收信息，平台怀疑虚假发货，请48小时内上传揽收证明",
         "pinduoduo.logistics_unverifiable"),
        ("tmall", "Refund 5521, Reason: 7天无理由退货, Return tracking: YT88xxxx, Warehouse: not received, 小二介入中, evidence due 06-03",
         "tmall.return_not_received"),
        ("douyin", "买 家 称 收 到 空 包 裹 ， 平 台 已 介 入 ， 请 商 家 于 24 小 时 内 上 传 称 重 记 录", "douyin.empty_package"),
        ("pinduoduo", "售后 > 平台介入详情\n纠纷原因：和图片不一致\n等待商家举证 30:12:00", "pinduoduo.not_as_described"),
        ("taobao", "淘宝\t退货没到仓\t买家已填单号\t小二介入\t待举证", "taobao.return_not_received"),
    ],
)
def test_shorthand_ocr_and_exports_are_read(platform, text, expected):
    """xq is 详情 in sellers' shorthand; 物流核实 / 虚假发货 is the logistics check; an English export's
    return tracking and not received are the return's; a screenshot's OCR with a space between
    every character reads as the sentence; 纠纷原因 is a reason field; a return 没到仓 is not received."""
    assert recognise(BOOK, platform, text).scenario == expected


def test_letter_spacing_is_undone_but_spaces_between_words_are_kept():
    assert fold("退 款 原 因 ： 质 量 问 题   状 态 ：淘 宝 介 入 中") == "退款原因 : 质量问题   状态 :淘宝介入中"
    assert fold("淘宝 天猫 京东 都有 买家说没收到") == "淘宝 天猫 京东 都有 买家说没收到"
    assert fold("a b c d e f") == "a b c d e f"


def test_advice_for_next_time_is_offered_not_named():
    found = recognise(BOOK, "douyin", "以后遇到退回来的东西有破损，先拍视频再签收，万一要举证有依据")
    assert found.scenario is None and found.candidates


@pytest.mark.parametrize(
    "platform,text",
    [
        ("pinduoduo", "练习题：消费者反馈收到空包并申请平台介入，商家需要准备哪些材料？"),
        ("douyin", "考核：用户说少发了一件，平台介入后商家第一步做什么？"),
        ("taobao", "新员工考题：买家投诉延迟发货、物流没有揽收记录时，卖家要交什么凭证？"),
        ("tmall", "规则说明：少件纠纷需提供出库称重记录，请商家提前准备"),
    ],
)
def test_a_quiz_for_new_staff_is_a_note_not_a_case(platform, text):
    found = recognise(BOOK, platform, text)
    assert found.scenario is None and found.abstained == "note" and found.candidates


@pytest.mark.parametrize(
    "platform,text",
    [
        ("taobao", "周末盘点发现库存少了两箱纸巾，跟仓库核对一下"),
        ("pinduoduo", "近7天 退货退款率 2.1% 平台介入率 0.1% 差评率 0.5%"),
        ("tmall", "服务数据：纠纷退款率 0.02%，仅退款占比 3%"),
        ("taobao", "售后分析 退款原因分布：尺码不合适 30% 质量问题 12% 描述不符 5%"),
        ("tmall", "新品详情页把尺寸写准，以免顾客说描述不符"),
        ("pinduoduo", "干线到仓少了三箱，物流在查是不是装车漏了"),
    ],
)
def test_stock_notes_and_shop_figures_are_no_dispute(platform, text):
    found = recognise(BOOK, platform, text)
    assert found.scenario is None and found.abstained == "no_dispute" and not found.candidates


def test_a_reason_word_with_a_buyer_still_counts_beside_stock_words():
    # only a reason word alone is discounted by stock-keeping words; a buyer's complaint is not
    found = recognise(BOOK, "pinduoduo", "顾客说少发了一件，申请退款，我们去查出库和库存记录")
    assert found.scenario == "pinduoduo.missing_items"


def test_a_fear_or_a_share_does_not_hide_a_real_complaint_beside_it():
    found = recognise(BOOK, "tmall", "顾客说收到的颜色和图片不一样，描述不符，申请退货退款，以后详情页要写清楚免得再被投诉")
    assert found.scenario == "tmall.not_as_described"


def test_scratches_are_damage_and_an_empty_parcel_said_plainly_is_empty():
    assert "损坏" in recognise(BOOK, "taobao", "退回来的耳机壳上全是划痕，影响二次销售，拒绝退款").matched
    assert "空包" in recognise(BOOK, "pinduoduo", "顾客说打开快递里面没有东西，申请仅退款").matched


def test_a_note_naming_two_scenarios_is_no_case_but_offers_both():
    found = recognise(BOOK, "pinduoduo", "客服培训：买家说空包或者少件时先安抚，称重记录在快递后台能查")
    assert found.scenario is None and found.confidence == 0
    offered = {c.scenario for c in found.candidates}
    assert {"pinduoduo.empty_package", "pinduoduo.missing_items"} <= offered


def test_candidates_carry_seller_labels_scores_and_words():
    found = recognise(BOOK, "pinduoduo", "退款原因：未收到货 ｜ 快递显示已签收")
    assert found.scenario == "pinduoduo.not_received" and 0.5 <= found.confidence <= 1
    assert 1 <= len(found.candidates) <= 3
    first = found.candidates[0]
    assert first.scenario == found.scenario and first.label == "买家反馈未收到商品"
    assert first.words and all("\ue000" > w[0] or w[0] > "\uf8ff" for w in first.words)  # no internal tokens
    # the named one leads; the guesses follow, those whose premise the text says before the others
    # (here return_not_received: no return is mentioned), each group by score
    scores = [c.score for c in found.candidates]
    assert scores[0] == max(scores)
    assert found.runner_up == (found.candidates[1].scenario if len(found.candidates) > 1 else None)


def test_nothing_to_go_on_gives_no_scenario_and_no_candidates():
    found = recognise(BOOK, "douyin", "今天天气不错")
    assert found.scenario is None and found.candidates == [] and found.matched == []


PRODUCT_PAGE = "拼多多商家后台 商品管理 发布新商品 商品标题 商品属性 材质：棉 颜色：白色 尺码：均码 库存 200"


@pytest.mark.parametrize(
    "platform,text",
    [
        ("pinduoduo", PRODUCT_PAGE),  # read as 描述不符 before: 材质、颜色、尺码 are that scenario's words
        ("taobao", "宝贝详情 颜色分类：黑色 白色 尺码：S M L 材质：纯棉 描述相符 4.9 发货：48小时内"),
        ("douyin", "订单管理 全部订单 订单编号 6938201177354 商品 蓝牙耳机 颜色 白色 已完成 已签收"),
        ("tmall", "亲，这款的尺码偏大一码，颜色以实物为准哦"),
    ],
)
def test_a_text_with_no_dispute_in_it_gets_no_scenario_and_no_guesses(platform, text):
    found = recognise(BOOK, platform, text)
    assert found.scenario is None and found.candidates == [] and found.confidence == 0
    assert found.abstained == "no_dispute" and "不是案子" in found.note


@pytest.mark.parametrize(
    "text,expected",
    [
        # each names the dispute a different way: a request, a buyer's reason, a reason word alone
        (PRODUCT_PAGE + "\n售后详情 申请原因：与描述不符 消费者说明：材质不是棉", "pinduoduo.not_as_described"),
        ("顾客那边一直说收到的颜色跟图片不一样，说我们描述不符", "pinduoduo.not_as_described"),
        ("又来个收到空盒子的，发货前都称过重", "pinduoduo.empty_package"),
    ],
)
def test_any_one_signal_of_the_dispute_lets_recognition_decide(text, expected):
    found = recognise(BOOK, "pinduoduo", text)
    assert found.scenario == expected and found.abstained is None and found.note == ""


@pytest.mark.parametrize(
    "text",
    [
        "材质：棉 颜色：白色 能退货吗？",  # asked, not requested
        "材质：棉 颜色：白色 无投诉 无纠纷",  # denied
        "材质：棉 颜色：白色 支持7天无理由退货",  # everyday wording
    ],
)
def test_a_cue_asked_about_denied_or_in_everyday_wording_is_no_dispute(text):
    assert recognise(BOOK, "pinduoduo", text).abstained == "no_dispute"


def test_confidence_is_the_calibrated_accuracy_of_its_bin():
    bins = BOOK.vocabulary.calibration
    assert bins and bins[0].raw_from == 0
    assert [b.raw_from for b in bins] == sorted(b.raw_from for b in bins)
    assert [b.accuracy for b in bins] == sorted(b.accuracy for b in bins)  # monotone
    found = recognise(BOOK, "pinduoduo", "退款原因：未收到货 ｜ 快递显示已签收")
    assert found.confidence in {b.accuracy for b in bins}


def test_a_bin_the_calibration_does_not_support_is_offered_not_named(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    synonyms = rules / "synonyms.yaml"
    text = synonyms.read_text(encoding="utf-8").split("  calibration:")[0]
    synonyms.write_text(text + "  calibration:\n    - {raw_from: 0.0, accuracy: 0.6, texts: 12}\n", encoding="utf-8")
    book = load_rulebook(rules)
    found = recognise(book, "pinduoduo", "退款原因：未收到货 ｜ 快递显示已签收")
    assert found.scenario is None and found.abstained == "unsure" and found.confidence == 0
    assert found.candidates[0].scenario == "pinduoduo.not_received" and "把握不够" in found.note


def test_a_tmall_case_on_a_taobao_host_gets_the_tmall_scenario():
    text = "千牛 退款详情 ｜ 店铺类型：天猫 ｜ 退款原因：未收到货 ｜ 小二介入"
    assert recognise(BOOK, "taobao", text).scenario == "tmall.not_received"
    assert recognise(BOOK, "taobao", text.replace("店铺类型：天猫 ｜ ", "")).scenario == "taobao.not_received"
    # Taobao-only disputes stay reachable on a Tmall shop's page
    late = "天猫店 投诉类型：延迟发货 卖家申诉：已与买家在旺旺约定发货时间"
    assert recognise(BOOK, "taobao", late).scenario == "taobao.late_shipment.agreed_time"


def test_only_the_platforms_scenarios_are_candidates():
    found = recognise(BOOK, "douyin", "退款原因：未收到货")
    assert found.candidates and all(c.scenario.startswith("douyin.") for c in found.candidates)
    # 天猫 on a Pinduoduo page (a link, a rival's name) brings no Tmall scenario in
    found = recognise(BOOK, "pinduoduo", "天猫同款 ｜ 申请原因：未收到货")
    assert found.scenario == "pinduoduo.not_received"
    assert all(c.scenario.startswith("pinduoduo.") for c in found.candidates)


def test_appliance_process_only_when_an_appliance_is_mentioned():
    assert recognise(BOOK, "pinduoduo", "申请原因：质量问题 ｜ 台灯一开就闪").scenario == "pinduoduo.quality_issue"
    assert recognise(BOOK, "pinduoduo", "申请原因：质量问题 ｜ 冰箱不制冷，要求上门检测").scenario == "pinduoduo.appliance_quality"


def test_a_rule_edit_changes_recognition_without_retraining(tmp_path):
    text = "买家说收到的是翻新机"
    assert recognise(BOOK, "pinduoduo", text).scenario is None
    copy = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, copy)
    target = copy / "platforms" / "pinduoduo.yaml"
    source = target.read_text(encoding="utf-8")
    marker = "      wording:\n        - 与页面描述不一致\n"
    assert marker in source
    target.write_text(source.replace(marker, marker + "        - 翻新机\n", 1), encoding="utf-8")
    edited = load_rulebook(copy)
    assert recognise(edited, "pinduoduo", text).scenario == "pinduoduo.not_as_described"


def test_a_long_page_still_finds_its_request():
    noise = "首页 订单 商品 推广 数据 店铺 消息 帮助中心 " * 400
    page = noise + "\n售后类型：仅退款 申请原因：收到空包 平台要求：请提供商品称重及物流称重记录\n" + noise
    assert len(page) > 15000
    assert recognise(BOOK, "pinduoduo", page).scenario == "pinduoduo.empty_package"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("unit", ["会不会空包", "不是质量问题", "质量没有问题", "吗 ", "？"])
def test_a_hostile_page_without_punctuation_is_read_in_linear_time(unit):
    # Twice what the API takes (2 × 20,000 characters) of cues with no clause end: every clause search is
    # bounded, so the cost stays linear.
    page = unit * (80_000 // len(unit))
    found = recognise(BOOK, "pinduoduo", page)
    assert found.scenario is None or found.scenario.startswith("pinduoduo.")


def test_traditional_characters_read_as_simplified():
    # A buyer or seller typing traditional characters (投訴, 簽收, 質量問題) is the same complaint; the
    # old fold left 投訴 unread, so no dispute cue was found at all.
    found = recognise(BOOK, "tmall", "天貓店的買家說沒收到貨，物流顯示已簽收，已經投訴了，小二要簽收底單")
    assert found.scenario == "tmall.not_received", found
    assert recognise(BOOK, "taobao", "退款原因：質量問題 ｜ 買家說明：拉鍊壞了").scenario == "taobao.quality_issue"


def test_the_stated_reason_outranks_a_logistics_status():
    # The seller's refusal reason says the return never arrived; 已签收 beside it is the courier's
    # claim the seller disputes, not a sign the seller has the goods in hand.
    text = "退货状态：退货中 ｜ 商家拒绝理由：未收到买家退回的商品 ｜ 退货物流：已签收"
    found = recognise(BOOK, "pinduoduo", text)
    assert found.scenario == "pinduoduo.return_not_received", found
    # A stated reason several scenarios share (影响二次销售) still leaves the status line to decide.
    both = recognise(BOOK, "pinduoduo", "退货状态：已签收 ｜ 驳回理由：退回商品洗过缩水，影响二次销售")
    assert both.candidates[0].scenario == "pinduoduo.return_damaged_signed", both


def test_pinyin_initials_read_as_their_words_but_not_inside_codes_or_words():
    found = recognise(BOOK, "taobao", "顾客说保温杯zl有问题，不保温，申请tk，小二介入了")
    assert found.scenario == "taobao.quality_issue"
    prep = index_for(BOOK).prep
    assert prep.spell_out("申请tk，zl问题") == "申请退款，质量问题"
    assert prep.spell_out("型号 tk2024 的 zlib 包 shop") == "型号 tk2024 的 zlib 包 shop"


def test_the_first_recognitions_in_several_threads_at_once_all_succeed():
    """The server recognises in several threads: the index's lazily built premise scan must be whole
    for every thread that sees it (a thread once saw the pattern before its table: KeyError, a 500)."""
    import sys
    import threading

    from juzheng.rules.scenario_index import ScenarioIndex

    text = "买家说没收到货，物流显示已签收，申请仅退款，平台介入，请商家举证" * 20
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race needs no luck
    try:
        for _ in range(15):
            index = ScenarioIndex.build(BOOK)
            expected = ScenarioIndex.build(BOOK).said_gate_words(text)
            barrier = threading.Barrier(6)
            results: list[object] = []

            def scan(index: ScenarioIndex = index, barrier: threading.Barrier = barrier, results: list[object] = results) -> None:
                barrier.wait()
                try:
                    results.append(index.said_gate_words(text))
                except Exception as exc:  # noqa: BLE001
                    results.append(exc)

            threads = [threading.Thread(target=scan) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert results == [expected] * 6
    finally:
        sys.setswitchinterval(old_interval)


# Texts about disputes, not one (rules/synonyms.yaml ``about``): each sign on its own, none of them
# written for a text of the dev set. Each names a scenario on the code before the sign existed.
@pytest.mark.parametrize(
    "platform,text,sign",
    [
        ("douyin", "抖店 数据看板\n售后原因：质量问题 占 12 单，空包 3 单", "overview"),
        ("pinduoduo", "近一周 退款原因：少件 41%，质量问题 22%，其余不想要了", "figures"),
        ("tmall", "本周售后：未收到货 4 单，描述不符 3 单，都已补发", "figures"),
        ("pinduoduo", "退款原因 笔数\n质量问题 12\n少件 5\n空包 1", "figures"),
        ("douyin", "纠纷率的定义：因质量问题、少件等发起纠纷的订单占比", "figures"),
        ("taobao", "《售后条款》消费者以收到空包为由申请退款的，卖家应出具称重记录", "rule"),
        ("douyin", "用户提出质量问题时，若已超过7天，商家可拒绝", "rule"),
        ("pinduoduo", "凡是顾客说少发，都要对方先拍开箱视频", "advice"),
        ("tmall", "退款状态：退款关闭 ｜ 退款原因：质量问题 ｜ 买家撤销", "closed"),
    ],
)
def test_a_text_about_disputes_is_offered_not_named(platform, text, sign):
    index = index_for(BOOK)
    assert index.about is not None and index.about.sign(index.prep.spell_out(text)) == sign
    found = recognise(BOOK, platform, text)
    assert found.scenario is None and found.abstained == "about", found
    assert "不是一个正在处理的案子" in found.note and found.candidates  # the guesses stay


@pytest.mark.parametrize(
    "platform,text,expected",
    [
        # a live case quoting a rule, showing a figure, a closed earlier request or a data menu
        ("taobao", "买家说没收到货要仅退款，规则里写着买家未收到货的，卖家应提供签收凭证，小二让我们上传", "taobao.not_received"),
        ("pinduoduo", "首页 | 数据中心 | 售后管理\n售后原因：少件\n剩余举证时间 20:11:09", "pinduoduo.missing_items"),
        ("douyin", "售后状态：待商家处理 ｜ 售后原因：空包 ｜ 上次申请已关闭，用户再次发起", "douyin.empty_package"),
        ("tmall", "顾客说羽绒服质量问题要退，这款品质退货率 0.3%、好评率 99%，小二要我们举证", "tmall.quality_issue"),
        ("pinduoduo", "今天遇到个顾客说少发了一件，申请退一件的钱", "pinduoduo.missing_items"),
        # 「已完成签收」 is a step of the delivery; 「这单」 points at one case, whatever heading it has
        ("taobao", "顾客说没收到货，物流却显示已完成签收，她要仅退款", "taobao.not_received"),
        ("tmall", "总结一下这单：顾客说吹风机用两天就坏了，质量问题，要退货退款", "tmall.quality_issue"),
        # a duty done (先查了) is a story of this case, not advice
        ("pinduoduo", "消费者说没收到的时候，我们马上去查了物流，显示已签收，他申请了仅退款", "pinduoduo.not_received"),
    ],
)
def test_a_live_case_outweighs_every_sign_of_a_text_about_disputes(platform, text, expected):
    assert recognise(BOOK, platform, text).scenario == expected


def test_one_case_that_is_closed_is_still_no_live_case():
    found = recognise(BOOK, "taobao", "这单描述不符的退款，买家后来自己撤回了，不用再管")
    assert found.scenario is None and found.abstained == "about"


def test_a_live_mark_that_is_a_figure_is_no_live_case():
    # 平台介入率 is a shop figure, not 平台介入 on this case
    found = recognise(BOOK, "pinduoduo", "服务数据 平台介入率 0.3% 退款原因：质量问题")
    assert found.scenario is None and found.abstained == "about"


@pytest.mark.parametrize(
    ("platform", "text"),
    [
        # a job advert lists the back office's words, live marks included (小二介入), as skills
        ("tmall", "诚聘售后客服：处理质量问题、少件漏发的退款和小二介入举证，底薪4000+提成，做六休一"),
        # a promise banner and a live-stream script name reasons as promises
        ("pinduoduo", "本店服务：假一赔十，破损包退，少件必补，有质量问题联系客服"),
        ("douyin", "家人们看过来，这款锅质量问题包换，少发一件补一件，放心拍"),
        # a seller asking before any case of her own
        ("taobao", "还没碰上过仅退款，想提前问问空包的话称重记录要怎么留"),
        # a field list of an export documents reasons and deadlines, for no case
        ("taobao", "导出表字段说明：reason 退款原因（空包/少件），deadline 举证截止时间，state 待举证/已结案"),
        # an excerpt of a rule quotes a live mark (申请平台介入) as a condition
        ("pinduoduo", "售后规则（节选）：消费者以少件为由申请平台介入后，商家应在48小时内上传打包视频"),
    ],
)
def test_a_kind_of_text_that_is_never_one_case_names_none(platform, text):
    found = recognise(BOOK, platform, text)
    assert found.scenario is None and found.abstained == "about", found


def test_a_told_case_quoting_a_promise_is_still_a_case():
    found = recognise(BOOK, "pinduoduo", "这单顾客说我们写了破损包退，收到杯子碎了，说是质量问题，申请仅退款，平台让举证")
    assert found.scenario == "pinduoduo.quality_issue"


@pytest.mark.parametrize(
    ("platform", "text"),
    [
        ("taobao", "买家说没收到，后来自己在驿站找到了，已经确认收货"),
        ("pinduoduo", "顾客反馈少了一件，后来发现是家里人先拿走了，她撤销了申请"),
        # everything asked for is in: nothing left for the seller to gather
        ("douyin", "空包那单的凭证都提交了，页面显示审核中，就等结果"),
        # decided
        ("pinduoduo", "少件那单最后还是输了，平台判给买家，货款扣了"),
        ("taobao", "评价投诉 ｜ 审核通过 ｜ 该评价已屏蔽"),
    ],
)
def test_a_case_that_is_over_is_no_live_case(platform, text):
    found = recognise(BOOK, platform, text)
    assert found.scenario is None and found.abstained == "about", found


@pytest.mark.parametrize(
    ("platform", "text"),
    [
        ("douyin", "想问下各位，要是抖音的用户说少发了平台介入，要准备哪些东西？目前还没遇到，先了解下"),
        ("douyin", "售后详情\n退货退款 ¥36.00 原因：不想要了\n状态：待商家收货（物流运输中）\n[确认收货]"),
        ("pinduoduo", "那单空包的最后判我们这边，货款不用退了，买家也没再找"),
        ("tmall", "天猫那单退回来发霉的鞋，小二判了不退款，这事翻篇了"),
        ("taobao", "【退款凭证准备清单（模板）】□ 签收底单 □ 快递红章证明 □ 聊天截图"),
        ("taobao", "收到时少了个挂钩，跟客服说了下，隔天就补寄过来了，好评"),
    ],
)
def test_a_question_a_plain_return_a_case_told_as_over_or_a_template_names_none(platform, text):
    found = recognise(BOOK, platform, text)
    assert found.scenario is None and found.abstained, found


def test_a_course_announcement_names_none():
    found = recognise(BOOK, "taobao", "商家公开课预告：仅退款纠纷如何举证，周五晚8点，欢迎报名")
    assert found.scenario is None and found.abstained in ("about", "ordinary"), found


@pytest.mark.parametrize(
    ("platform", "text", "expected"),
    [
        # 「不能用百度截的」 is about the proof the platform takes, not goods that do not work
        ("pinduoduo", "平台说那个单号搜不到轨迹，让我们去快递官网截图传上去，还说不能用百度截的", "pinduoduo.logistics_unverifiable"),
        ("pinduoduo", "介入原因：运单号查无信息 请上传快递官网的物流轨迹截图 剩余40小时", "pinduoduo.logistics_unverifiable"),
        # a parcel the courier sent back has a trail: not the 「no tracking」 appeal
        ("taobao", "延迟发货投诉 物流：06-02 已揽收，06-03 台风停运快件退回，06-05 退回寄件网点 待卖家举证", "taobao.late_shipment.returned_by_courier"),
        # the buyer set the later date herself
        ("taobao", "有个买家投诉延迟发货，可她自己在旺旺说月底再寄就行，小二让举证", "taobao.late_shipment.agreed_time"),
        ("douyin", "这单买家说主播讲的是纯羊毛，到手一摸是腈纶，平台介入了", "douyin.not_as_described"),
        ("pinduoduo", "那单水果买家说到手一箱全是烂果，平台要我们传发货前的照片", "pinduoduo.quality_issue"),
        ("taobao", "买家说订的五支笔就来了三支，小二介入了", "taobao.missing_items"),
        ("pinduoduo", "买家说答应补的运费一分钱没到，平台让我们上传转账截图", "pinduoduo.refund_difference_unpaid"),
        ("taobao", "买家说手机用两天就闪屏，申请退货退款，小二要检测报告", "taobao.quality_issue"),
    ],
)
def test_everyday_words_for_a_complaint_name_it(platform, text, expected):
    assert recognise(BOOK, platform, text).scenario == expected


def test_a_platforms_own_name_scores_for_none_of_its_scenarios():
    vocabulary = index_for(BOOK).vocabulary
    for name in ["拼多多", "多多", "淘宝", "天猫", "抖音", "抖店", "pdd"]:
        assert name not in vocabulary, name
    found = recognise(BOOK, "pinduoduo", "拼多多 少件 待补凭证 剩余20小时")
    assert [c.scenario for c in found.candidates][:1] == ["pinduoduo.missing_items"]


def test_a_live_mark_said_to_be_absent_is_no_live_case():
    about = index_for(BOOK).about
    assert about is not None
    assert about.live("平台介入中") and about.live("买家申请了平台介入")
    assert not about.live("无买家投诉，无平台介入") and not about.live("没有平台介入，也不用上传凭证")
    # a 无 ending the line before is that field's value, not a word on this line's mark
    assert about.live("买家留言：无\n请上传物流凭证") and about.live("买家留言：无\n平台介入中")
    found = recognise(BOOK, "pinduoduo", "三月对账：差价补偿8笔全部转账完成，没有平台介入，没有买家投诉")
    assert found.scenario is None and found.abstained


def test_a_products_percentages_are_not_a_reports_figures():
    found = recognise(BOOK, "tmall", "顾客说详情页写的是100%羊毛，拿去检测含量才30%，描述不符要退货退款")
    assert found.scenario == "tmall.not_as_described"


def test_a_return_sent_rules_out_not_received_but_it_is_still_offered():
    text = "售后状态：买家已退货，待卖家确认收货 ｜ 退货物流：已签收 ｜ 仓库反馈：查无此件"
    found = recognise(BOOK, "taobao", text)
    assert found.scenario == "taobao.return_not_received"
    # a return inspected rules out a return never received
    found = recognise(BOOK, "tmall", "退货物流：已签收 ｜ 验货结果：退回的花瓶碎了，拒绝退款")
    assert found.scenario != "tmall.return_not_received"


def test_a_count_short_of_the_order_is_missing_items():
    found = recognise(BOOK, "douyin", "一盒10支的口红买家说打开只有七支，申请退三支的钱")
    assert found.scenario == "douyin.missing_items"
    # only a count of goods: 「只有两天」 is no shortfall
    prep = index_for(BOOK).prep
    assert prep is not None
    assert "少件" not in prep.read("举证只有两天，买家说质量问题", 3.0).canonical
