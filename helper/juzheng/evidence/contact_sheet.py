"""One image showing every file of a packet, numbered and labelled: to check at a glance or send to
a colleague. Pure: images and captions in, JPEG bytes out.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

CELL = 360
CAPTION = 56
PAD = 16
COLUMNS = 3

# A font with Chinese glyphs on each OS; Pillow's own font has none.
_FONT_CANDIDATES = (
    "C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simhei.ttf", "C:/Windows/Fonts/simsun.ttc",
    "/System/Library/Fonts/PingFang.ttc", "/System/Library/Fonts/STHeiti Medium.ttc", "/Library/Fonts/Arial Unicode.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@lru_cache(maxsize=4)
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    windir = os.environ.get("WINDIR")
    candidates = ([f"{windir}/Fonts/msyh.ttc"] if windir else []) + list(_FONT_CANDIDATES)
    for candidate in candidates:
        if Path(candidate).is_file():
            try:
                return ImageFont.truetype(candidate, size), True
            except OSError:
                continue
    return ImageFont.load_default(), False


def contact_sheet(entries: list[tuple[bytes | None, str]]) -> bytes:
    """``entries``: (image bytes or None for a file that is no image, caption) in packet order."""
    if not entries:
        raise ValueError("没有文件可以放进总览图")
    rows = (len(entries) + COLUMNS - 1) // COLUMNS
    columns = min(COLUMNS, len(entries))
    sheet = Image.new("RGB", (columns * (CELL + PAD) + PAD, rows * (CELL + CAPTION + PAD) + PAD), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font, has_cjk = _font(20)
    for index, (data, caption) in enumerate(entries):
        x = PAD + (index % COLUMNS) * (CELL + PAD)
        y = PAD + (index // COLUMNS) * (CELL + CAPTION + PAD)
        draw.rectangle((x - 1, y - 1, x + CELL, y + CELL), outline=(200, 200, 200))
        thumb = _thumb(data)
        if thumb is not None:
            sheet.paste(thumb, (x + (CELL - thumb.width) // 2, y + (CELL - thumb.height) // 2))
        else:
            draw.text((x + 12, y + CELL // 2 - 10), "（不是图片）" if has_cjk else "(no preview)", fill=(120, 120, 120), font=font)
        label = f"{index + 1}. {caption}" if has_cjk else f"{index + 1}."
        draw.text((x, y + CELL + 8), _fit(draw, label, font, CELL), fill=(20, 20, 20), font=font)
    out = io.BytesIO()
    sheet.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _thumb(data: bytes | None) -> Image.Image | None:
    if not data:
        return None
    try:
        opened = Image.open(io.BytesIO(data))
        opened.draft("RGB", (CELL, CELL))  # JPEG: decode at reduced size, a 12 MP photo costs little
        image = ImageOps.exif_transpose(opened).convert("RGB")
    except Exception:  # a broken file gets an empty cell, the caption still says what it is
        return None
    image.thumbnail((CELL - 2, CELL - 2))
    return image


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
