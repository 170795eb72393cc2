"""What the worker reads from one file: page images for OCR, or a PDF's own text layer.

Images (JPEG, PNG, … and HEIC/HEIF phone photos, decoded by pillow-heif) are one page. A PDF's
text layer is taken as it is when it has one (an exported waybill, a courier system's printout):
exact, and no OCR time; a scanned PDF (pages that are pictures) is rendered and read like a photo.
PDFium (pypdfium2, already the helper's PDF converter) does both the text layer and the
rendering, so one library covers both. Caps keep a hostile file from holding the worker: a size
limit before opening, only the first pages read, a rendered page no larger than the OCR would use,
and the text kept per page bounded (the client also kills a worker stuck on one job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import MAX_SIDE
from .protocol import TextLine

MAX_PIXELS = 60_000_000  # a decompression bomb is refused, not read
MAX_PDF_BYTES = 50 * 1024 * 1024  # larger is no single proof: refused before PDFium parses it
MAX_PDF_PAGES = 3  # evidence PDFs are a page or two; a 5 000-page file is read no further
MAX_RENDER_SIDE = MAX_SIDE  # rendered straight at the size OCR reads: one resampling, not two
MAX_PAGE_CHARS = 4000  # text kept per page (a proof has a few hundred characters)
TEXT_LAYER_MIN = 8  # fewer real characters than this on a page: it is a picture, OCR it
SIGNALS_SIDE = 800  # a text-layer page is still rendered this small for the stamp and layout signals

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")


def kind_of(head: bytes) -> str | None:
    """'image', 'pdf' or None from a file's first 16 bytes (never its name: a renamed file lies)."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


@dataclass
class Pages:
    """One file's pages: images to OCR, and text lines already known (a PDF's text layer)."""

    images: list[Any] = field(default_factory=list)  # PIL images, in page order, to OCR
    image_pages: list[int] = field(default_factory=list)  # the page number of each image
    lines: list[TextLine] = field(default_factory=list)
    first: Any = None  # the image the cheap signals are taken from
    pages: int = 0  # pages in the file (may be more than were read)
    pdf: bool = False


def open_pages(path: str) -> Pages:
    with open(path, "rb") as handle:
        head = handle.read(16)
    if kind_of(head) == "pdf":
        return _pdf(Path(path))
    image = open_image(path)
    return Pages(images=[image], image_pages=[0], first=image, pages=1)


def open_image(path: str) -> Any:
    from PIL import Image, ImageOps

    _register_heif()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    opened = Image.open(path)
    opened.load()
    fmt = opened.format
    image = ImageOps.exif_transpose(opened) or opened
    image.format = fmt  # signals tell a PNG screenshot from a camera JPEG
    return image


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - a dependency of the package; other formats still open
        return
    register_heif_opener()


def _pdf(path: Path) -> Pages:
    import pypdfium2 as pdfium

    size = path.stat().st_size
    if size > MAX_PDF_BYTES:
        raise ValueError(f"PDF 太大（{size // (1024 * 1024)} MB），未读取")
    pdf = pdfium.PdfDocument(str(path))
    try:
        out = Pages(pages=len(pdf), pdf=True)
        for index in range(min(len(pdf), MAX_PDF_PAGES)):
            page = pdf[index]
            try:
                text = _text_layer(page)
                if len(_real(text)) >= TEXT_LAYER_MIN:
                    out.lines.extend(TextLine(text=line, score=1.0, y=float(index * 10_000 + n))
                                     for n, line in enumerate(text.splitlines()) if line.strip())
                    if out.first is None:
                        out.first = _render(page, SIGNALS_SIDE)
                else:
                    image = _render(page, MAX_RENDER_SIDE)
                    out.images.append(image)
                    out.image_pages.append(index)
                    if out.first is None:
                        out.first = image
            finally:
                page.close()
        if out.first is None:
            raise ValueError("PDF 里没有页面")
        return out
    finally:
        pdf.close()


def _text_layer(page: Any) -> str:
    textpage = page.get_textpage()
    try:
        return str(textpage.get_text_bounded() or "")[:MAX_PAGE_CHARS]
    finally:
        textpage.close()


def _real(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _render(page: Any, side: int) -> Any:
    width, height = page.get_size()
    longest = max(width, height, 1.0)
    scale = min(150 / 72, side / longest)  # never above 150 dpi, never above ``side`` pixels
    image = page.render(scale=scale).to_pil().convert("RGB")
    image.format = "PDF"
    return image
