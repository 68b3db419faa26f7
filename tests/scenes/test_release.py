"""A big scene gives its process specs to its first build (scene/load.py RELEASE_MIN_PROCESSES): later
builds decode them again and simulate the same thing."""

from __future__ import annotations

import msgspec

from oomtui.scene import load
from oomtui.scene.load import load_scene
from oomtui.scene.sim import Simulation


def test_a_released_scene_builds_again_to_the_same_outcome(monkeypatch):
    kept = Simulation(load_scene("lmkd-player")).run()
    ls = load_scene("lmkd-player")
    n = len(ls.scene.processes)
    monkeypatch.setattr(load, "RELEASE_MIN_PROCESSES", n)  # this small scene counts as big
    sim = Simulation(ls)
    assert ls.released and ls.scene.processes == []  # given to the build, not kept
    assert len(sim.k.tasklist) == n
    first = sim.run()
    sim.restart()  # decodes the specs again
    assert len(ls.take_processes()) == n and ls.scene.processes == []
    again = sim.run()
    assert msgspec.json.encode(first) == msgspec.json.encode(again) == msgspec.json.encode(kept)
    # a replay under another policy builds from the text too
    assert sim.replay("linux-5.18").run().policy == "linux-5.18"
