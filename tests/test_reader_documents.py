"""PDFs and HEIC photos are read, not only filed by name: a PDF's text layer as it is, a scanned PDF's
pages rendered and OCR'd, a HEIC photo decoded and read like a JPEG; caps keep a hostile PDF from
holding the worker. Real files made here (fpdf2 with Noto CJK for a text layer, Pillow for a scanned
PDF, pillow-heif for HEIC), the real worker process and the real watcher."""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import pytest
from PIL import Image

from fixtures.evidence import PDD_ORDER, wait_for
from fixtures.evidence_images import FONTS, red_stamp_form
from juzheng.reader.client import ReaderClient
from juzheng.reader.documents import MAX_PDF_PAGES, MAX_RENDER_SIDE, kind_of, open_pages
from juzheng.reader.engine import missing_parts
from juzheng.store import CaseKey
from juzheng.store.readings import auto_checks

pytestmark = [
    pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning"),
    pytest.mark.subprocess,  # the OCR worker is a process of its own
]
needs_ocr = pytest.mark.skipif(bool(missing_parts()), reason="the ocr extra is not installed")
TRACKING = "SF1403512345678"
PROOF_LINES = ["快递签收证明", f"快递单号：{TRACKING}", "收件人姓名：王小明", "派件人姓名：赵六",
               "派件日期：2024-11-05", "兹证明以上快件已由我网点派送并签收，特此证明。"]


def text_pdf(lines: list[str], pages: int = 1) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("noto", fname=str(FONTS["sans"]), collection_font_number=2)  # the SC face of the collection
    pdf.set_font("noto", size=14)
    for _ in range(pages):
        pdf.add_page()
        for line in lines:
            pdf.cell(text=line)
            pdf.ln(10)
    return bytes(pdf.output())


def scanned_pdf(image: Image.Image, pages: int = 1) -> bytes:
    out = io.BytesIO()
    rgb = image.convert("RGB")
    # quality 95: the page is the photo as it was; a second lossy pass is not what is tested here
    rgb.save(out, format="PDF", resolution=150, quality=95, save_all=True, append_images=[rgb] * (pages - 1))
    return out.getvalue()


def heic(image: Image.Image) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="HEIF", quality=80)
    return out.getvalue()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    c = ReaderClient(tmp_path_factory.mktemp("reader-cache"))
    yield c
    c.stop()


@pytest.fixture(scope="module")
def stamp():
    sample = red_stamp_form(random.Random(5), "tune")
    return sample, Image.open(io.BytesIO(sample.data))


# -- what the worker opens (pure, no OCR) ------------------------------------------------------
def test_the_file_kind_comes_from_the_bytes(tmp_path, stamp) -> None:
    assert kind_of(text_pdf(["x"])[:16]) == "pdf"
    assert kind_of(heic(stamp[1].resize((64, 64)))[:16]) == "image"
    assert kind_of(b"PK\x03\x04" + b"\0" * 12) is None


def test_a_pdf_text_layer_is_taken_as_it_is_without_ocr(tmp_path) -> None:
    path = tmp_path / "证明.pdf"
    path.write_bytes(text_pdf(PROOF_LINES))
    pages = open_pages(str(path))
    assert pages.images == [] and pages.pdf and pages.first is not None  # nothing left to OCR
    text = "\n".join(line.text for line in pages.lines)
    assert TRACKING in text and "收件人姓名：王小明" in text


def test_a_pdf_without_a_text_layer_is_rendered_for_ocr(tmp_path, stamp) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf(stamp[1]))
    pages = open_pages(str(path))
    assert pages.lines == [] and len(pages.images) == 1
    assert max(pages.images[0].size) <= MAX_RENDER_SIDE


def test_a_hostile_pdf_is_read_only_so_far(tmp_path) -> None:
    # thousands of pages: the first few are read and the rest never opened
    many = tmp_path / "many.pdf"
    many.write_bytes(scanned_pdf(Image.new("RGB", (200, 280), "white"), pages=400))
    started = time.monotonic()
    pages = open_pages(str(many))
    assert pages.pages == 400 and len(pages.images) == MAX_PDF_PAGES
    assert time.monotonic() - started < 20
    # a page 200 inches square is rendered no larger than OCR would use
    huge = tmp_path / "huge.pdf"
    huge.write_bytes(scanned_pdf(Image.new("RGB", (400, 400), "white")).replace(b"/MediaBox [ 0 0 192 192 ]", b"/MediaBox [ 0 0 14400 14400 ]"))
    pages = open_pages(str(huge))
    assert max(pages.images[0].size) <= MAX_RENDER_SIDE
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00" * 300)
    with pytest.raises(Exception):  # noqa: B017 - PDFium's own error: the worker reports it and goes on
        open_pages(str(broken))


# -- the real worker ---------------------------------------------------------------------------
@needs_ocr
def test_the_worker_reads_a_text_pdf_a_scanned_pdf_and_a_heic_photo(client, tmp_path, stamp) -> None:
    sample, image = stamp
    files = {"text.pdf": text_pdf(PROOF_LINES), "scan.pdf": scanned_pdf(image), "photo.heic": heic(image),
             "broken.pdf": b"%PDF-1.7\n" + b"\x00" * 300}
    replies = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        replies[name] = client.read(tmp_path / name)
    text = {name: "\n".join(line.text for line in r.lines) for name, r in replies.items()}
    assert replies["text.pdf"].ok and TRACKING in text["text.pdf"]
    assert replies["text.pdf"].signals.screenshot is False  # a white document page is no screenshot
    for name in ("scan.pdf", "photo.heic"):
        assert replies[name].ok, replies[name].error
        assert sample.case_tracking in text[name].replace(" ", ""), (name, text[name])
    assert replies["photo.heic"].signals.red_circles > 0  # the stamp is seen in the decoded HEIC
    assert not replies["broken.pdf"].ok and replies["broken.pdf"].error
    assert client.read(tmp_path / "text.pdf").ok  # the worker still serves after a broken file
    # the text layer took no OCR: far less CPU than the rendered scan
    assert replies["text.pdf"].cpu_seconds < replies["scan.pdf"].cpu_seconds


@needs_ocr
def test_unnamed_pdf_and_heic_proofs_land_under_their_case_with_checks_ticked(ev) -> None:
    from datetime import datetime

    from juzheng.rules.deadline_text import BEIJING

    sample, image = red_stamp_form(random.Random(5), "tune"), None
    image = Image.open(io.BytesIO(sample.data))
    case, _ = ev.store.upsert_case(
        CaseKey(platform="pinduoduo", order_id=PDD_ORDER), tracking_number=TRACKING,
        recipient_name="王*明", signed_at=datetime(2024, 11, 5, 16, 0, tzinfo=BEIJING),
    )
    other, _ = ev.store.upsert_case(CaseKey(platform="pinduoduo", order_id="240101-000000000000009"), tracking_number=sample.case_tracking)
    svc = ev.service()
    svc.start()
    wait_for(lambda: svc.status().last_rescan_at is not None)
    ev.drop("扫描全能王 2024-11-05 10.15.pdf", text_pdf(PROOF_LINES))
    ev.drop("IMG_4512.HEIC", heic(image))
    folder = ev.root / "拼多多"
    pdf_target = folder / PDD_ORDER / "快递红章证明" / "扫描全能王 2024-11-05 10.15.pdf"
    heic_target = folder / "240101-000000000000009" / "快递红章证明" / "IMG_4512.HEIC"
    wait_for(lambda: pdf_target.exists() and heic_target.exists(), timeout=120)
    wait_for(lambda: ("red_stamp_proof", "delivery_date") in ev.store.confirmations(case.id))
    assert auto_checks(ev.store, case.id) == {
        ("red_stamp_proof", "tracking_number"), ("red_stamp_proof", "recipient_name"), ("red_stamp_proof", "delivery_date"),
    }
    assert Path(pdf_target).read_bytes()[:5] == b"%PDF-"  # filed as it is, never converted in place
