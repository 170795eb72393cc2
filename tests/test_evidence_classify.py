"""The pure classifier: each placement rule, and properties over arbitrary names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from fixtures.evidence import PDD_ORDER, PDD_ORDER_2, TB_ORDER, shipped_book
from juzheng.evidence.classify import Focus, KnownCase, Placement, Unplaced, best_keyword, classify

BOOK = shipped_book()
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def place(name: str, **kw) -> Placement:
    result = classify(name, BOOK, **kw)
    assert isinstance(result, Placement), result
    return result


def unplaced(name: str, **kw) -> Unplaced:
    result = classify(name, BOOK, **kw)
    assert isinstance(result, Unplaced), result
    return result


# -- 1. order id in the name ---------------------------------------------------------------------------
def test_pinduoduo_id_alone_places_the_file():
    p = place(f"{PDD_ORDER}_快递红章证明.jpg")
    assert (p.platform, p.order_id, p.kind, p.order_by) == ("pinduoduo", PDD_ORDER, "red_stamp_proof", "name")


def test_pinduoduo_id_anywhere_in_the_name():
    assert place(f"红章 订单{PDD_ORDER}（第二张）.png").order_id == PDD_ORDER


def test_bare_long_number_is_never_guessed():
    result = unplaced(f"{TB_ORDER} 聊天记录.png")
    assert result.code == "unknown_number"
    assert TB_ORDER in result.reason and "平台名" in result.reason


def test_bare_number_with_known_case():
    p = place(f"{TB_ORDER} 聊天记录.png", known=[KnownCase("tmall", TB_ORDER)])
    assert (p.platform, p.order_id, p.order_by) == ("tmall", TB_ORDER, "name_and_case")


def test_bare_number_with_platform_words():
    for word, platform in [("淘宝", "taobao"), ("天猫", "tmall"), ("抖音", "douyin"), ("拼多多", "pinduoduo"),
                           ("tb", "taobao"), ("TMALL", "tmall"), ("dy", "douyin")]:
        if platform == "pinduoduo":
            continue  # a Pinduoduo id is never a bare number: its pattern does not match 19 digits
        p = place(f"{word}_{TB_ORDER}_聊天截图.png")
        assert (p.platform, p.order_by) == (platform, "name_and_word"), word


def test_latin_platform_words_stand_alone():
    # 'dy' inside 'body', 'tb' inside 'htbox' name no platform.
    assert unplaced(f"body_{TB_ORDER}.png").code == "unknown_number"
    assert unplaced(f"htbox {TB_ORDER}.png").code == "unknown_number"


def test_number_known_on_two_platforms_needs_a_word():
    known = [KnownCase("taobao", TB_ORDER), KnownCase("tmall", TB_ORDER)]
    assert unplaced(f"{TB_ORDER}.png", known=known).code == "ambiguous_order"
    assert place(f"天猫 {TB_ORDER}.png", known=known).platform == "tmall"


def test_two_orders_in_one_name_are_not_guessed():
    result = unplaced(f"{PDD_ORDER} 和 {PDD_ORDER_2}.jpg")
    assert result.code == "several_orders" and PDD_ORDER in result.reason and PDD_ORDER_2 in result.reason


def test_digits_inside_a_longer_run_are_no_order():
    # 25 digits are no Taobao id (16–20), and the 15 digits of a Pinduoduo id are not one either.
    assert unplaced("1234567890123456789012345.png").code == "no_order"
    assert place(f"{PDD_ORDER}.png").platform == "pinduoduo"


def test_screenshot_timestamps_are_no_order():
    assert unplaced("Screenshot_20241123183012123.png").code == "no_order"
    assert unplaced("微信图片_20241123183012.jpg").code == "no_order"


def test_folder_names_inside_the_inbox_count():
    p = place(f"{PDD_ORDER}/红章证明/IMG_0001.jpg")
    assert (p.order_id, p.kind) == (PDD_ORDER, "red_stamp_proof")


# -- 2. the case in focus ------------------------------------------------------------------------------
FOCUS = Focus(KnownCase("pinduoduo", PDD_ORDER, "pinduoduo.not_received"), NOW - timedelta(minutes=3))


def test_focus_within_ten_minutes_places_a_nameless_file():
    p = place("IMG_0001 红章.jpg", focus=FOCUS, now=NOW)
    assert (p.platform, p.order_id, p.order_by, p.kind) == ("pinduoduo", PDD_ORDER, "focus", "red_stamp_proof")


def test_stale_focus_does_not_count():
    stale = Focus(FOCUS.case, NOW - timedelta(minutes=11))
    result = unplaced("IMG_0001.jpg", focus=stale, now=NOW)
    assert result.code == "no_order"
    assert "文件名里没有订单号" in result.reason and "浏览器" in result.reason


def test_focus_needs_a_clock():
    assert unplaced("IMG_0001.jpg", focus=FOCUS).code == "no_order"


def test_order_in_the_name_beats_focus():
    assert place(f"{PDD_ORDER_2} 红章.jpg", focus=FOCUS, now=NOW).order_id == PDD_ORDER_2


def test_unknown_number_is_not_filed_under_the_focused_case():
    assert unplaced(f"{TB_ORDER}.jpg", focus=FOCUS, now=NOW).code == "unknown_number"


# -- 3. kinds --------------------------------------------------------------------------------------------
def test_longest_keyword_wins():
    assert place(f"{PDD_ORDER} 红章证明 聊天记录截图.png").kind == "chat_screenshot"
    assert place(f"{PDD_ORDER} 揽件红章.jpg").kind == "pickup_time_proof"  # 揽件红章 (4) over 红章 (2)


def test_no_keyword_goes_to_unsorted_with_a_note():
    p = place(f"{PDD_ORDER} IMG_0001.jpg")
    assert p.kind is None and p.kind_by == "none" and "待分类" in (p.note or "")


def test_a_kind_that_does_not_take_this_file_type_goes_to_unsorted():
    p = place(f"{PDD_ORDER} 红章证明.mp4")
    assert p.kind is None and "视频" in (p.note or "")


def test_video_for_a_scenario_that_takes_an_unpacking_video():
    known = [KnownCase("pinduoduo", PDD_ORDER, "pinduoduo.return_damaged_refused")]
    p = place(f"{PDD_ORDER} VID_0001.mp4", known=known)
    assert (p.kind, p.kind_by) == ("unpacking_video", "video")


def test_video_for_a_scenario_without_unpacking_video_stays_unsorted():
    known = [KnownCase("pinduoduo", PDD_ORDER, "pinduoduo.not_received")]
    assert place(f"{PDD_ORDER} VID_0001.mp4", known=known).kind is None
    assert place(f"{PDD_ORDER} VID_0001.mp4").kind is None  # no case known: no scenario


def test_video_by_focus():
    focus = Focus(KnownCase("pinduoduo", PDD_ORDER, "pinduoduo.return_damaged_refused"), NOW)
    assert place("VID_0001.mov", focus=focus, now=NOW).kind == "unpacking_video"


def test_text_kinds_are_not_file_kinds():
    assert best_keyword("旺旺举证号", BOOK) is None


# -- properties ------------------------------------------------------------------------------------------
NO_DIGITS = st.text(st.characters(blacklist_categories=("Nd", "Cs")), max_size=30)
NEUTRAL = st.text(st.sampled_from(list("照片图的售后 _-()（）abc")), max_size=20)


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=80), minutes=st.integers(-30, 30))
def test_classify_never_raises(name, minutes):
    focus = Focus(FOCUS.case, NOW - timedelta(minutes=minutes))
    result = classify(name, BOOK, [KnownCase("taobao", TB_ORDER)], focus, NOW)
    assert isinstance(result, (Placement, Unplaced))
    if isinstance(result, Unplaced):
        assert result.reason


@settings(max_examples=200, deadline=None)
@given(before=NO_DIGITS, after=NO_DIGITS)
def test_a_pinduoduo_id_is_always_found(before, after):
    result = classify(f"{before}{PDD_ORDER}{after}.jpg", BOOK)
    assert isinstance(result, Placement)
    assert (result.platform, result.order_id) == ("pinduoduo", PDD_ORDER)


@settings(max_examples=200, deadline=None)
@given(before=NEUTRAL, after=NEUTRAL, digits=st.integers(10**15, 10**20 - 1))
def test_a_bare_number_is_never_placed_without_case_or_word(before, after, digits):
    result = classify(f"{before}{digits}{after}.jpg", BOOK)
    assert not (isinstance(result, Placement) and result.order_by.startswith("name"))


@settings(max_examples=200, deadline=None)
@given(text=st.lists(st.sampled_from(sorted({w for k in BOOK.kinds.values() for w in k.keywords})), min_size=1, max_size=3))
def test_the_chosen_keyword_is_never_shorter_than_another_match(text):
    name = " ".join(text)
    found = best_keyword(name, BOOK)
    file_words = [w for k in BOOK.kinds.values() if k.form == "file" for w in k.keywords if w.lower() in name.lower()]
    if not file_words:
        assert found is None
    else:
        assert found is not None and len(found[1]) == max(len(w) for w in file_words)
