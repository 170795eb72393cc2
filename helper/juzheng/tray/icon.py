"""The tray icon, drawn with Pillow: a coloured disc with a white mark.

The mark differs per state (tick, exclamation, pause bars) so the icon reads without colour vision
too. No fonts are used: a glyph would depend on what the seller's OS has installed.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw

from .state import Colour

RGB: dict[Colour, tuple[int, int, int]] = {
    "green": (46, 160, 67),
    "amber": (240, 160, 20),
    "red": (218, 45, 45),
    "grey": (128, 128, 128),
}
WHITE = (255, 255, 255, 255)
SIZE = 64  # tray hosts scale it down; 64 stays crisp at 16–32 px


@lru_cache(maxsize=16)
def _draw(colour: Colour, size: int, opaque: bool) -> Image.Image:
    # Draw at 4x and downsample: Pillow's shapes have no anti-aliasing of their own.
    big = size * 4
    u = big / 64  # one unit of a 64-unit design grid
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if opaque:
        draw.rectangle((0, 0, big, big), fill=(*RGB[colour], 255))
    else:
        draw.ellipse((1 * u, 1 * u, 63 * u, 63 * u), fill=(*RGB[colour], 255))
    if colour == "green":
        draw.line([(18 * u, 33 * u), (28 * u, 43 * u), (47 * u, 22 * u)], fill=WHITE, width=int(7 * u), joint="curve")
    elif colour in ("amber", "red"):
        draw.rounded_rectangle((28 * u, 13 * u, 36 * u, 39 * u), radius=3 * u, fill=WHITE)
        draw.ellipse((27.5 * u, 44 * u, 36.5 * u, 53 * u), fill=WHITE)
    else:
        draw.rounded_rectangle((21 * u, 19 * u, 29 * u, 45 * u), radius=2 * u, fill=WHITE)
        draw.rounded_rectangle((35 * u, 19 * u, 43 * u, 45 * u), radius=2 * u, fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_icon(colour: Colour, size: int = SIZE, *, opaque: bool = False) -> Image.Image:
    """A fresh RGBA image of the icon (a copy: callers may hand it to a backend that mutates it).

    ``opaque``: a full square tile instead of a disc, for hosts that drop the alpha channel (X11
    XEmbed trays through pystray paint transparent corners black and fringe the edges).
    """
    return _draw(colour, size, opaque).copy()
