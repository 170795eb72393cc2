"""What the running helper itself says is wrong (``GET /api/health`` problems), for ``juzheng status``.

Some faults can only be seen by writing: a disk that failed under the helper (ext4 turning itself
read-only after an error) still answers ``access(W_OK)`` with yes, and ``juzheng status`` writes
nothing. The running helper has tried and knows, so status asks it (loopback, short timeout).
"""

from __future__ import annotations

import json
import urllib.request

from ..store import StoreProblem


def running_helper_problems(url: str | None, timeout: float = 2.0) -> list[StoreProblem]:
    if not url or not url.startswith("http://127.0.0.1:"):
        return []
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/api/health", timeout=timeout) as response:  # noqa: S310 (loopback only)
            body = json.loads(response.read(1024 * 1024))
    except (OSError, ValueError):
        return []  # not answering: status reports what it reads itself
    found = []
    for raw in body.get("problems", []) if isinstance(body, dict) else []:
        try:
            found.append(StoreProblem.model_validate(raw))
        except ValueError:
            continue
    return found
