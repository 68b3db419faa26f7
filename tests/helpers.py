"""Small scenes written inline for unit tests."""

from __future__ import annotations

import textwrap

from oomtui.scene.load import LoadedScene, loads
from oomtui.scene.sim import Simulation


def loaded(text: str, name: str = "test.toml") -> LoadedScene:
    return loads(textwrap.dedent(text), name)


def sim(text: str, policy: str | None = None, kernel: str | None = None) -> Simulation:
    return Simulation(loaded(text), policy, kernel)


HEAD = """
title = "t"
story = "s"
ram = "1 GiB"
duration = "5s"
"""
