"""The tray: state (pure), icon (Pillow), app (pystray runner), and ``start_tray(runtime)``.

Importing this package never imports pystray (which raises Xlib errors without a display); the
icon thread does, and falls back to headless when it cannot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .app import TrayActions, TrayController, load_pystray
from .icon import draw_icon
from .state import CaseDeadline, MenuEntry, TrayInputs, TrayState, format_remaining, tray_state


if TYPE_CHECKING:
    from ..runtime import Runtime


def start_tray(runtime: Runtime, **options: Any) -> TrayController:
    """See :func:`juzheng.tray.runtime_glue.start_tray` (imported on call: it pulls in the notifier,
    which itself uses this package's pure state module)."""
    from .runtime_glue import start_tray as start

    return start(runtime, **options)


__all__ = [
    "CaseDeadline",
    "MenuEntry",
    "TrayActions",
    "TrayController",
    "TrayInputs",
    "TrayState",
    "draw_icon",
    "format_remaining",
    "load_pystray",
    "start_tray",
    "tray_state",
]
