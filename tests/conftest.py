"""Every test runs without installed third-party plugins: results must not depend on what else
happens to be installed in the environment (tests of entry points load them explicitly)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_third_party_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALVH_NO_ENTRY_POINTS", "1")
