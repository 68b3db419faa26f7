"""TUI tests: one app factory (the CLI's), started paused."""

from __future__ import annotations

import pytest


@pytest.fixture
def make_app():
    from oomtui.tui.app import make_app as factory

    def make(scene: str = "frozen-robust-holder", **kw):
        kw.setdefault("paused", True)
        return factory(scene, **kw)

    return make
