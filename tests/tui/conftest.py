"""TUI tests: one app factory (the CLI's), started paused, animations off."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    """Best scores go to a temporary XDG state directory, never the user's."""
    d = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(d))
    return d


@pytest.fixture
def make_app():
    from oomtui.tui.app import make_app as factory

    def make(scene: str = "frozen-robust-holder", **kw):
        kw.setdefault("paused", True)
        return factory(scene, **kw)

    return make
