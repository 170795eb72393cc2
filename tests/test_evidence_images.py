"""Image warnings (never blocking): too small, blurred, duplicate — on real generated images."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from fixtures.evidence import PDD_ORDER, PDD_ORDER_2
from juzheng.evidence.images import analyse


def _document(size=(1200, 1600), seed=1) -> Image.Image:
    """A sharp 'photo of a form': text-like strokes and a red round stamp."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for row in range(40, size[1] - 40, 36):
        x = 40
        while x < size[0] - 80:
            w = int(rng.integers(8, 40))
            draw.rectangle([x, row, x + w, row + 18], fill="black")
            x += w + int(rng.integers(6, 20))
    draw.ellipse([size[0] - 420, size[1] - 420, size[0] - 120, size[1] - 120], outline="red", width=12)
    return img


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


def _upload(ev, svc, name: str, data: bytes, order=PDD_ORDER, kind="red_stamp_proof"):
    return svc.import_upload(ev.case("pinduoduo", order), kind, name, data)


def test_a_sharp_large_image_has_no_warnings(ev):
    svc = ev.service(watch=False)
    record = _upload(ev, svc, "红章.jpg", _jpeg(_document()))
    assert svc.warnings(record.id) == []


def test_blurred_image_is_flagged(ev, tmp_path):
    svc = ev.service(watch=False)
    sharp, blurred = _document(), _document().filter(ImageFilter.GaussianBlur(6))
    (tmp_path / "s.png").write_bytes(_jpeg(sharp))
    (tmp_path / "b.png").write_bytes(_jpeg(blurred))
    assert analyse(tmp_path / "s.png").blur_variance > 10 * analyse(tmp_path / "b.png").blur_variance
    record = _upload(ev, svc, "模糊.jpg", _jpeg(blurred))
    assert [w.code for w in svc.warnings(record.id)] == ["blurred"]
    assert "模糊" in svc.warnings(record.id)[0].message


def test_small_image_is_flagged(ev):
    svc = ev.service(watch=False)
    record = _upload(ev, svc, "缩略图.jpg", _jpeg(_document((300, 400))))
    codes = [w.code for w in svc.warnings(record.id)]
    assert "too_small" in codes and "300×400" in svc.warnings(record.id)[0].message


def test_the_same_photo_for_two_orders_is_flagged(ev):
    svc = ev.service(watch=False)
    data = _jpeg(_document())
    first = _upload(ev, svc, "红章.jpg", data)
    second = _upload(ev, svc, "红章.jpg", data, order=PDD_ORDER_2)
    (warning,) = svc.warnings(second.id)
    assert warning.code == "duplicate" and first.path in warning.message


def test_a_near_identical_photo_in_the_same_order_is_flagged(ev):
    svc = ev.service(watch=False)
    _upload(ev, svc, "红章 1.jpg", _jpeg(_document()))
    resaved = io.BytesIO()
    _document().resize((1150, 1533)).save(resaved, "JPEG", quality=70)  # same picture, other bytes
    second = _upload(ev, svc, "红章 2.jpg", resaved.getvalue(), kind="shipping_slip")
    assert [w.code for w in svc.warnings(second.id)] == ["duplicate"]
    other = _upload(ev, svc, "底单.jpg", _jpeg(_document(seed=7).rotate(90, expand=True)), kind="shipping_slip")
    assert svc.warnings(other.id) == []


def test_non_images_and_unreadable_images_have_no_warnings(ev):
    svc = ev.service(watch=False)
    pdf = _upload(ev, svc, "证明.pdf", b"%PDF-1.4 not really")
    broken = _upload(ev, svc, "坏图.jpg", b"\xff\xd8 not a jpeg")
    assert svc.warnings(pdf.id) == [] and svc.warnings(broken.id) == []
    assert svc.warnings(999_999) == []
