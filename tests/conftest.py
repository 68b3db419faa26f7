"""For every test: no animations, and best scores in a temporary XDG state directory, never the user's (nor
a served session's, kept in memory, left by an earlier test)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

# Hypothesis's per-example deadline (200 ms) is a timing assertion: on a loaded 2-core machine a
# property test of the report splitter failed by it once. Speed is measured by benchmarks/, not here.
settings.register_profile("oomtui", deadline=None)
settings.load_profile("oomtui")


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    from oomtui.tui import game

    d = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(d))
    monkeypatch.setattr(game, "_session", None)  # `play --served` and `serve` keep scores in memory instead
    return d


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    """The player's config file is never the one of whoever runs the tests."""
    d = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(d))
    return d
