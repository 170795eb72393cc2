"""The pure parts of getting evidence accepted: conversions, packet planning, the explanation,
screenshot tools' names and the focus session. No server, no watcher."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from fixtures.evidence import PDD_ORDER, shipped_book
from fixtures.submit_files import iphone_heic, jpeg_info, phone_photo, scanned_pdf, screenshot_png
from juzheng import focus as focus_rules
from juzheng.evidence import convert
from juzheng.evidence.classify import Focus, KnownCase, Placement, Unplaced, classify
from juzheng.evidence.packet import FileFacts, plan_packet
from juzheng.rules import evaluate
from juzheng.rules.evaluation import Evidence
from juzheng.rules.explanation import fill

BOOK = shipped_book()
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


# -- conversions ----------------------------------------------------------------------------------
def test_pdf_pages_become_jpegs_named_beside_the_original():
    out = convert.pdf_to_jpegs(scanned_pdf(pages=2), "红章证明")
    assert [c.name for c in out] == ["红章证明（第1页）.jpg", "红章证明（第2页）.jpg"]
    for c in out:
        fmt, size = jpeg_info(c.data)
        assert fmt == "JPEG" and min(size) >= 1000  # 150 dpi: handwriting stays legible
    assert convert.source_stem(out[0].name) == "红章证明" and convert.is_derived(out[1].name)
    assert convert.source_stem("红章证明.jpg") is None


def test_heic_turned_upright_and_jpeg():
    out = convert.heic_to_jpeg(iphone_heic(), "IMG_0412")
    fmt, (w, h) = jpeg_info(out.data)
    assert out.name == "IMG_0412（转JPEG）.jpg" and fmt == "JPEG"
    assert h > w  # the EXIF turn applied: the portrait photo is upright, as the reviewer must see it


def test_oversized_photo_recompressed_in_steps_and_readable():
    photo = phone_photo()
    assert len(photo) > 2 * 1024 * 1024
    out = convert.recompress(photo, "退货照片", 500 * 1024)
    fmt, size = jpeg_info(out.data)
    assert fmt == "JPEG" and len(out.data) <= 500 * 1024
    assert min(size) >= convert.MIN_SIDE


def test_what_cannot_be_converted_says_why():
    with pytest.raises(convert.ConversionError, match="PDF 无法打开"):
        convert.pdf_to_jpegs(b"%PDF-1.4 broken", "x")
    with pytest.raises(convert.ConversionError, match="无法打开"):
        convert.heic_to_jpeg(b"not an image at all", "x")
    tiny_limit = 2 * 1024  # no legible photo fits in 2 KB: refused, not mangled
    with pytest.raises(convert.ConversionError, match="看不清"):
        convert.recompress(phone_photo((1600, 1200)), "x", tiny_limit)


# -- packets --------------------------------------------------------------------------------------
def _facts(*files: tuple[int, str, str, int, int | None]) -> dict[str, FileFacts]:
    return {str(i): FileFacts(id=i, kind=k, filename=n, size=s, added_at=T0 + timedelta(minutes=i), pages=p) for i, k, n, s, p in files}


def _option(files: dict[str, FileFacts], scenario: str = "pinduoduo.not_received", index: int = 0):
    evidence = [Evidence(kind=f.kind, ref=str(f.id), added_at=f.added_at) for f in files.values()]
    return evaluate(BOOK, scenario, evidence, T0, order_id=PDD_ORDER).options[index]


def label(kind: str) -> str:
    return BOOK.kinds[kind].label


def test_pdd_packet_converts_pdf_and_heic_and_stays_within_three():
    files = _facts((1, "red_stamp_proof", "红章证明.pdf", 300_000, 1), (2, "shipping_slip", "底单.HEIC", 900_000, None))
    limit = BOOK.upload_for("pinduoduo", "pinduoduo.not_received")
    packet = plan_packet(0, _option(files), files, limit, label)
    assert packet.ready and packet.needs_conversion and packet.single_submission
    assert [(f.action, f.filename) for f in packet.files] == [("pdf_page", "红章证明（第1页）.jpg"), ("to_jpeg", "底单（转JPEG）.jpg")]
    # Once the conversions exist beside the originals, they are what goes in.
    files |= _facts((3, "red_stamp_proof", "红章证明（第1页）.jpg", 200_000, None), (4, "shipping_slip", "底单（转JPEG）.jpg", 250_000, None))
    packet = plan_packet(0, _option(files), files, limit, label)
    assert [f.evidence_id for f in packet.files] == [3, 4] and not packet.needs_conversion


def test_pdd_packet_over_three_files_is_not_ready_and_says_so():
    files = _facts((1, "red_stamp_proof", "红章证明.pdf", 300_000, 3), (2, "shipping_slip", "底单.jpg", 90_000, None))
    packet = plan_packet(0, _option(files), files, BOOK.upload_for("pinduoduo", None), label)
    assert packet.complete and not packet.ready
    assert [p.code for p in packet.problems] == ["too_many"] and "超过上传框最多 3 个" in packet.problems[0].message


def test_video_goes_through_the_video_entry_and_extras_are_named_not_dropped():
    files = _facts(
        (1, "return_photo", "合照.jpg", 100_000, None), (2, "unpacking_video", "拆包视频.mp4", 30_000_000, None),
        (3, "return_photo", "合照2.jpg", 100_000, None), (4, "return_photo", "合照3.jpg", 100_000, None),
        (5, "return_photo", "合照4.jpg", 100_000, None),
    )
    limit = BOOK.upload_for("pinduoduo", None)
    video = plan_packet(1, _option(files, "pinduoduo.return_damaged_refused", 1), files, limit, label)
    assert video.files == [] and [n.code for n in video.notes] == ["video_entry"] and "上传视频" in video.notes[0].message
    photos = plan_packet(0, _option(files, "pinduoduo.return_damaged_refused", 0), files, limit, label)
    assert photos.ready and [f.filename for f in photos.files] == ["合照4.jpg", "合照3.jpg", "合照2.jpg"]  # newest first, 3 at most
    assert [(n.code, n.filename) for n in photos.notes] == [("left_out", "合照.jpg")]
    no_video_entry = limit.model_copy(update={"video_entry": False})
    refused = plan_packet(1, _option(files, "pinduoduo.return_damaged_refused", 1), files, no_video_entry, label)
    assert not refused.ready and refused.problems[0].code == "not_accepted"


def test_taobao_photo_over_500kb_is_recompressed():
    files = _facts((1, "chat_screenshot", "聊天截图.jpg", 2_400_000, None))
    limit = BOOK.upload_for("taobao", "taobao.late_shipment.agreed_time")
    assert limit is not None and limit.max_bytes == 500 * 1024
    packet = plan_packet(1, _option(files, "taobao.late_shipment.agreed_time", 1), files, limit, label)
    assert packet.ready and [f.action for f in packet.files] == ["recompressed"]


# -- explanation ----------------------------------------------------------------------------------
def test_explanation_filled_or_asks_and_is_cut_to_the_limit():
    template = BOOK.scenarios["pinduoduo.not_received"].explanation
    asks = fill(template, {"order_id": PDD_ORDER})
    assert not asks.ready and [b.key for b in asks.missing] == ["tracking_number"] and "【待填：快递单号】" in asks.text
    filled = fill(template, {"order_id": PDD_ORDER, "tracking_number": "YT1234567890123"})
    assert filled.ready and "YT1234567890123" in filled.text and "{" not in filled.text
    cut = fill("第一句说明。" * 10 + "最后", {}, max_chars=40)
    assert cut.cut and len(cut.text) <= 40 and cut.text.endswith("。…") and "40" in (cut.warning or "")
    assert fill("价格{不是占位", {}).text == "价格{不是占位"
    detail = evaluate(BOOK, "douyin.not_received", [], T0, order_id="1234567890123456789", explanation_max_chars=20).explanation_detail
    assert detail.cut and len(detail.text) <= 20


# -- screenshot tools' names ----------------------------------------------------------------------
FOCUS = Focus(KnownCase("pinduoduo", PDD_ORDER, "pinduoduo.return_not_received"), T0)

TOOL_NAMES = [
    "QQ截图20241105153012.png", "微信截图_20241105153012.png", "微信图片_20241105153012.jpg", "屏幕截图 2024-11-05 153012.png",
    "屏幕截图(3).png", "Snipaste_2024-11-05_15-30-12.png", "Screenshot_20241105-153012_com.tencent.mobileqq.jpg",
    "Screenshot_2024-11-05-15-30-12-123_com.tencent.mm.jpg", "Screenshot 2024-11-05 at 15.30.12.png", "截屏2024-11-05 15.30.12.png",
    "截屏2023-09-17 上午8.30.15.png", "屏幕快照 2019-05-01 下午10.30.15.png", "QQ图片20230917083015.jpg",
    "mmexport1694910615123.jpg", "wx_camera_1694910615123.jpg", "Screenshot_20230917_083015_com.xunmeng.merchant.jpg",
]


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_screenshot_tool_names_are_no_chat_records(name):
    placed = classify(name, BOOK, [], FOCUS, T0)
    assert isinstance(placed, Placement)
    assert placed.kind is None, f"{name} is only a screenshot, not {placed.kind}"
    assert "默认文件名" in (placed.note or "")


@pytest.mark.parametrize(
    "name,kind",
    [
        ("QQ截图20241105153012 快递内网.png", "courier_intranet_screenshot"),
        ("微信截图_20241105153012_物流记录.png", "tracking_record"),
        ("QQ聊天记录 买家.png", "qq_records"),  # the chat's own cue still counts
        ("QQ图片20230917083015 签收底单.jpg", "signed_delivery_slip"),
        ("Snipaste_2024-11-05_15-30-12 转账成功截图.png", "transfer_screenshot"),
        ("红章证明.HEIC", "red_stamp_proof"),
        ("IMG_0412.HEIC", None),
    ],
)
def test_kind_from_the_rest_of_the_name(name, kind):
    placed = classify(name, BOOK, [], FOCUS, T0)
    assert isinstance(placed, Placement) and placed.kind == kind


# -- focus sessions -------------------------------------------------------------------------------
def test_focus_places_only_files_that_arrived_after_the_case_was_opened():
    session = Focus(FOCUS.case, T0 + timedelta(minutes=5), since=T0)
    before = classify("照片.jpg", BOOK, [], session, T0 + timedelta(minutes=5), arrived_at=T0 - timedelta(seconds=30))
    after = classify("照片.jpg", BOOK, [], session, T0 + timedelta(minutes=5), arrived_at=T0 + timedelta(minutes=1))
    assert isinstance(before, Unplaced) and before.code == "no_order"
    assert isinstance(after, Placement) and after.order_by == "focus"


def test_focus_renewed_while_visible_and_ended_with_the_tab():
    state = focus_rules.renew(None, 7, T0)
    for minute in range(1, 30):  # the extension renews every minute: the session goes on for 30 min
        state = focus_rules.renew(state, 7, T0 + timedelta(minutes=minute))
    assert state.since == T0 and state.active(T0 + timedelta(minutes=30))
    assert not state.active(T0 + timedelta(minutes=45))  # tab hidden / browser gone: it lapses
    other = focus_rules.renew(state, 8, T0 + timedelta(minutes=31))
    assert other.since == T0 + timedelta(minutes=31)  # another case: a new session
    ended = focus_rules.end(state, 7, T0 + timedelta(minutes=31))
    assert ended is not None and not ended.active(T0 + timedelta(minutes=31))
    assert focus_rules.end(other, 7, T0 + timedelta(minutes=32)) == other  # closing an older tab ends nothing
    # A focus written before sessions had "since": migration 5 takes its "at" (test_store_seller_state.py).


def test_screenshot_png_fixture_is_an_image():
    assert Image.open(io.BytesIO(screenshot_png())).format == "PNG"


def test_taobao_return_refusal_proofs_may_be_5mb_while_message_images_stay_at_500kb():
    """The refund APIs document two limits: 500 KB per message image, 5 MB per return-refusal proof."""
    from juzheng.rules import load_rulebook

    book = load_rulebook()
    assert book.upload_for("taobao", "taobao.not_received").max_bytes == 500 * 1024
    for scenario in ("taobao.return_damaged", "taobao.return_not_received"):
        box = book.upload_for("taobao", scenario)
        assert box.max_bytes == 5 * 1024 * 1024 and box.max_files == 10 and box.accepts == ["image"]
