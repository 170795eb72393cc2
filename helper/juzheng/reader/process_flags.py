"""How the OCR worker process is started on each OS: no console window and below-normal priority on Windows.

A pure function of the platform name, so the Windows branch is tested (and type-checked with
``mypy --platform win32``) on any machine. The flag values are the documented Win32 constants
(winbase.h); ``subprocess`` only defines them on Windows, which is why they are spelled out here.
"""

from __future__ import annotations

CREATE_NO_WINDOW = 0x08000000  # a console program started from the tray app opens no black window
BELOW_NORMAL_PRIORITY_CLASS = 0x00004000  # reading photos never slows the seller's browser


def worker_creationflags(platform: str) -> int:
    """``subprocess.Popen(creationflags=...)`` for the worker on ``platform`` (a ``sys.platform`` value).

    0 elsewhere, the only value POSIX Popen accepts; there the worker lowers its own priority (``os.nice``).
    """
    if platform == "win32":
        return CREATE_NO_WINDOW | BELOW_NORMAL_PRIORITY_CLASS
    return 0
