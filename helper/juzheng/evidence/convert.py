"""Conversions that make a file acceptable to a platform's upload box, as new files beside it.

Pure bytes in, bytes out (no paths, no store): PDF pages rendered to JPEG (PDFium, through
pypdfium2), HEIC/HEIF photos to JPEG (pillow-heif), images over a size limit recompressed in
steps — lower JPEG quality first, then smaller dimensions — and every result opened again to prove
it is readable. The original is never touched; the caller writes what comes back under a new name.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import PurePath

from PIL import Image, ImageOps

# Formats every platform's image box takes (their pages say JPG/PNG; GIF and BMP pass as images).
BOX_IMAGE_EXT = {".jpg", ".jpeg", ".png", ".gif", ".bmp"}
HEIF_EXT = {".heic", ".heif"}
PDF_EXT = {".pdf"}
# Rendering at 150 dpi keeps a red stamp's handwriting legible while a page stays ~300-800 KB.
PDF_DPI = 150
MAX_PDF_PAGES = 20
QUALITY_STEPS = (88, 80, 72, 64, 56, 48)
SCALE_STEP = 0.8
MIN_SIDE = 640  # below this a phone photo of a form is no longer legible: give up instead
MAX_PIXELS = 80_000_000  # a decompression bomb is refused, not rendered

# Names of the files made here: the seller reads them in Explorer, the packet finds them by them.
_MARK = re.compile(r"（(?:第(\d+)页|转JPEG|压缩)）(?: \(\d+\))?$")


class ConversionError(ValueError):
    """The file cannot be made acceptable; the message says why and what the seller can do (zh-CN)."""


@dataclass(frozen=True)
class Converted:
    name: str
    data: bytes
    width: int
    height: int
    how: str  # 'pdf_page' | 'heic' | 'recompressed'


def stem_of(name: str) -> str:
    suffix = PurePath(name).suffix
    return name[: -len(suffix)] if suffix else name


def page_name(stem: str, page: int) -> str:
    return f"{stem}（第{page}页）.jpg"


def heic_name(stem: str) -> str:
    return f"{stem}（转JPEG）.jpg"


def compressed_name(stem: str) -> str:
    return f"{stem}（压缩）.jpg"


def is_derived(name: str) -> bool:
    """A file this module made (its name ends in （第n页）/（转JPEG）/（压缩））."""
    return bool(_MARK.search(stem_of(name)))


def source_stem(name: str) -> str | None:
    """The stem of the file a derived file was made from, or None for an original."""
    stem = stem_of(name)
    match = _MARK.search(stem)
    return stem[: match.start()] if match else None


def needs_conversion(name: str) -> str | None:
    """'pdf', 'heic' or None: what an image-only box needs done to this file type."""
    ext = PurePath(name).suffix.lower()
    if ext in PDF_EXT:
        return "pdf"
    if ext in HEIF_EXT:
        return "heic"
    return None


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ConversionError("缺少 HEIC 转换组件（pillow-heif），请重新安装举证助手") from exc
    register_heif_opener()


Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def pdf_page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ConversionError(f"PDF 无法打开（{_pdfium_reason(exc)}）：请重新导出或拍照上传") from exc
    try:
        return len(pdf)
    finally:
        pdf.close()


def pdf_to_jpegs(data: bytes, stem: str, max_bytes: int | None = None, max_pages: int = MAX_PDF_PAGES) -> list[Converted]:
    """Every page of the PDF as a JPEG (``stem（第n页）.jpg``), each under ``max_bytes`` if given."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ConversionError(f"PDF 无法打开（{_pdfium_reason(exc)}）：请重新导出或拍照上传") from exc
    try:
        count = len(pdf)
        if count == 0:
            raise ConversionError("PDF 里没有页面：请重新导出")
        if count > max_pages:
            raise ConversionError(f"PDF 有 {count} 页，超过 {max_pages} 页：请只导出需要的页面")
        out = []
        for index in range(count):
            page = pdf[index]
            try:
                image = page.render(scale=PDF_DPI / 72).to_pil().convert("RGB")
            finally:
                page.close()
            out.append(_jpeg(image, page_name(stem, index + 1), max_bytes, "pdf_page"))
        return out
    finally:
        pdf.close()


def heic_to_jpeg(data: bytes, stem: str, max_bytes: int | None = None) -> Converted:
    _register_heif()
    image = _open(data, "HEIC 照片")
    return _jpeg(_upright(image), heic_name(stem), max_bytes, "heic")


def recompress(data: bytes, stem: str, max_bytes: int) -> Converted:
    """A JPEG of the image under ``max_bytes``: quality steps first, then smaller sides."""
    _register_heif()
    image = _open(data, "图片")
    return _jpeg(_upright(image), compressed_name(stem), max_bytes, "recompressed")


def _open(data: bytes, what: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Image.DecompressionBombError as exc:
        raise ConversionError(f"{what}像素过多，无法处理：请缩小后再放入") from exc
    except Exception as exc:  # Pillow raises many types for broken files
        raise ConversionError(f"{what}无法打开（文件可能已损坏或还没写完）：请重新导出后再放入") from exc
    return image


def _upright(image: Image.Image) -> Image.Image:
    # Phones store portrait photos sideways with an EXIF turn: the platform's reviewer must see it upright.
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.split()[-1])
        return background
    return image.convert("RGB")


def _encode(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def _jpeg(image: Image.Image, name: str, max_bytes: int | None, how: str) -> Converted:
    if max_bytes is None:
        return _checked(_encode(image, QUALITY_STEPS[0]), name, how)
    current = image
    while True:
        data = b""
        for quality in QUALITY_STEPS:
            data = _encode(current, quality)
            if len(data) <= max_bytes:
                return _checked(data, name, how)
            if quality == QUALITY_STEPS[0] and len(data) > 3 * max_bytes:
                # Far over: the quality steps in between cannot close the gap; try the lowest one.
                data = _encode(current, QUALITY_STEPS[-1])
                if len(data) <= max_bytes:
                    return _checked(data, name, how)
                break
        width, height = current.size
        # Bytes shrink roughly with the pixel count: scale by the square root of what is still too much.
        scale = max(0.5, min(SCALE_STEP, (max_bytes / len(data)) ** 0.5 * 0.95))
        if min(width, height) * scale < MIN_SIDE:
            if min(width, height) > MIN_SIDE:
                scale = MIN_SIDE / min(width, height)
            else:
                limit_kb = max_bytes // 1024
                raise ConversionError(
                    f"压缩到 {limit_kb} KB 以内会看不清（已缩到 {width}×{height} 仍有 {len(data) // 1024} KB）："
                    "请裁掉无关部分或分成几张拍"
                )
        current = current.resize((max(1, int(width * scale)), max(1, int(height * scale))), Image.Resampling.LANCZOS)


def _checked(data: bytes, name: str, how: str) -> Converted:
    """Open the result again: a file the platform cannot read is worse than none."""
    try:
        with Image.open(io.BytesIO(data)) as check:
            check.load()
            width, height = check.size
    except Exception as exc:  # pragma: no cover - Pillow wrote it a moment ago
        raise ConversionError("转换结果无法读取：请换一份文件") from exc
    return Converted(name=name, data=data, width=width, height=height, how=how)


def _pdfium_reason(exc: Exception) -> str:
    text = str(exc)
    if "password" in text.lower():
        return "有密码保护"
    return "文件已损坏或不是 PDF"
