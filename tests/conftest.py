"""Shared pytest set-up. Fixture modules live in tests/fixtures/ and are listed here."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "helper"))

pytest_plugins: list[str] = [
    "fixtures.keyring",
    "fixtures.helper_process",
    "fixtures.helper_app",
    "fixtures.evidence",
    "fixtures.browser",
    "fixtures.desktop_session",
    "fixtures.page_reader",
    "fixtures.tiers",
]


def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """A failed test that used a real helper process shows the end of that helper's log: on a CI
    machine the log is the only account of what the helper was doing while the test waited."""
    if call.when != "call" or call.excinfo is None:
        return
    from fixtures.helper_process import RunningHelper

    funcargs = getattr(item, "funcargs", {})
    for name, value in funcargs.items():
        if isinstance(value, RunningHelper):
            tail = value.output()[-6000:]
            if tail:
                item.add_report_section("call", f"helper log ({name})", tail)
