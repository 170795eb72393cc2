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
