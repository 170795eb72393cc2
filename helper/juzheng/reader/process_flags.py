"""How the OCR worker process is started on each OS: no console window and below-normal priority on Windows.

A pure function of the platform name, so the Windows branch is tested (and type-checked with
``mypy --platform win32``) on any machine. The flag values are the documented Win32 constants
(winbase.h); ``subprocess`` only defines them on Windows, which is why they are spelled out here.
"""

from __future__ import annotations

CREATE_NO_WINDOW = 0x08000000  # a console program started from the tray app opens no black window
BELOW_NORMAL_PRIORITY_CLASS = 0x00004000  # reading photos never slows the seller's browser


def worker_popen_options(platform: str) -> dict[str, int]:
    """Extra ``subprocess.Popen`` keywords for the worker on ``platform`` (a ``sys.platform`` value).

    Elsewhere the worker lowers its own priority (``os.nice``); POSIX Popen refuses ``creationflags``.
    """
    if platform == "win32":
        return {"creationflags": CREATE_NO_WINDOW | BELOW_NORMAL_PRIORITY_CLASS}
    return {}
