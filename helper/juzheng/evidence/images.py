"""Image checks shown as warnings on the checklist, never blocking: too small, blurred, duplicate.

- too small: the shorter side under ``MIN_SIDE`` pixels — platform reviewers zoom in on stamps and
  signatures, and a thumbnail or a forwarded, recompressed chat image loses them;
- blurred: variance of the Laplacian of the grey image (downscaled to at most 1024 px) under
  ``BLUR_VARIANCE``: sharp text and stamp edges give a high variance, a shaken photo a low one;
- duplicate: the same bytes are filed for another order or kind (one photo reused for two cases),
  or an almost identical picture (difference hash) is already in this order.

Results are cached by (path, size, mtime), so a checklist refresh does not reopen images.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from ..store import EvidenceRecord, SqliteStore
from .layout import media_of
from .mover import open_regular, sha256_file

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)
MIN_SIDE = 500
BLUR_VARIANCE = 60.0
NEAR_DUPLICATE_BITS = 4  # of 64 in the difference hash
ANALYSIS_SIDE = 1024
IMAGE_LIMIT = 200 * 1024**2  # a phone photo is a few MB; a 200 MB "image" is not one to decode
# Large phone panoramas are fine; decompression bombs are not. Checked here, before decoding, rather
# than by setting Pillow's process-wide MAX_IMAGE_PIXELS: convert.py sets that one, and which module
# was imported last decided the limit. Pillow is imported on the first image analysed (sorting never
# analyses one: `juzheng sort` does not pay for importing it).
MAX_PIXELS = 200_000_000


class ImageWarning(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    code: Literal["too_small", "blurred", "duplicate"]
    message: str  # zh-CN, for the seller


class ImageFacts(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: start-up of juzheng sort
    width: int
    height: int
    blur_variance: float
    dhash: int


def analyse(path: Path) -> ImageFacts | None:
    """Size, sharpness and difference hash of an image; None if it cannot be read (HEIC, damaged)."""
    from PIL import Image, UnidentifiedImageError

    try:
        # Only a regular file, and not a huge one: a FIFO named .jpg blocked this open forever.
        with open_regular(path, IMAGE_LIMIT) as fh, Image.open(fh) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                return None
            grey = img.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        return None
    if max(grey.size) > ANALYSIS_SIDE:
        grey.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE))
    return ImageFacts(width=width, height=height, blur_variance=laplacian_variance(grey), dhash=dhash(grey))


def laplacian_variance(grey: Image.Image) -> float:
    """Variance of the 4-neighbour Laplacian over the inner pixels, in Pillow's C code: the
    neighbours are shifted crops of the float image, the means come from a 1×1 box resize."""
    from PIL import ImageMath

    w, h = grey.size
    if w < 3 or h < 3:
        return 0.0
    f = grey.convert("F")
    shifted = {
        "c": f.crop((1, 1, w - 1, h - 1)), "l": f.crop((0, 1, w - 2, h - 1)), "r": f.crop((2, 1, w, h - 1)),
        "u": f.crop((1, 0, w - 1, h - 2)), "d": f.crop((1, 2, w - 1, h)),
    }
    lap = ImageMath.lambda_eval(lambda e: e["l"] + e["r"] + e["u"] + e["d"] - e["c"] * 4, **shifted)
    squared = ImageMath.lambda_eval(lambda e: e["x"] * e["x"], x=lap)
    mean = _mean(lap)
    return max(0.0, _mean(squared) - mean * mean)


def _mean(image: Image.Image) -> float:
    from PIL import Image

    return float(image.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0)))  # type: ignore[arg-type]


def dhash(grey: Image.Image) -> int:
    from PIL import Image

    small = grey.resize((9, 8), Image.Resampling.LANCZOS)
    rows = [[small.getpixel((x, y)) for x in range(9)] for y in range(8)]
    bits = [row[x + 1] > row[x] for row in rows for x in range(8)]  # type: ignore[operator]
    return int("".join("1" if b else "0" for b in bits), 2)


def warnings_for(facts: ImageFacts) -> list[ImageWarning]:
    out = []
    if min(facts.width, facts.height) < MIN_SIDE:
        out.append(ImageWarning(
            code="too_small",
            message=f"图片太小（{facts.width}×{facts.height}），审核时可能看不清：请用原图，不要用缩略图或聊天里转发的压缩图",
        ))
    if facts.blur_variance < BLUR_VARIANCE:
        out.append(ImageWarning(code="blurred", message="图片可能模糊：请确认单号、签名和红章清晰可辨，必要时重拍"))
    return out


class ImageChecker:
    def __init__(self, root: Path, store: SqliteStore) -> None:
        self.root = Path(root)
        self.store = store
        self._facts: dict[tuple[str, int, int], ImageFacts | None] = {}
        self._lock = threading.Lock()

    def facts(self, path: Path) -> ImageFacts | None:
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size > IMAGE_LIMIT:
            return None
        key = (str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            if key in self._facts:
                return self._facts[key]
        found = analyse(path)
        with self._lock:
            self._facts[key] = found
        return found

    def check(self, record: EvidenceRecord) -> list[ImageWarning]:
        if record.path is None or media_of(record.path) != "image":
            return []
        path = self.root / record.path
        facts = self.facts(path)
        if facts is None:
            return []
        out = warnings_for(facts)
        duplicate = self._duplicate(record, path, facts)
        if duplicate:
            out.append(duplicate)
        return out

    def _duplicate(self, record: EvidenceRecord, path: Path, facts: ImageFacts) -> ImageWarning | None:
        sha = record.sha256
        if sha is None:
            try:
                sha = sha256_file(path)
            except OSError:
                return None
            if record.id is not None:
                self.store.update_evidence(record.id, sha256=sha)
        for other in self.store.evidence_by_sha(sha):
            if other.id != record.id and other.path and (self.root / other.path).is_file():
                return ImageWarning(code="duplicate", message=f"与另一份证据完全相同：{other.path}（同一张图用于不同订单或类型？）")
        for other in self.store.evidence_for_order(record.platform, record.order_id):
            if other.id == record.id or not other.path or media_of(other.path) != "image":
                continue
            other_facts = self.facts(self.root / other.path)
            if other_facts and bin(other_facts.dhash ^ facts.dhash).count("1") <= NEAR_DUPLICATE_BITS:
                return ImageWarning(code="duplicate", message=f"与本订单中的 {other.path} 几乎相同，是否重复了？")
        return None
