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


def test_a_long_scene_text_is_kept_packed_and_reads_back_the_same(monkeypatch):
    monkeypatch.setattr(load, "PACK_MIN_CHARS", 10)
    text = load.resolve("lmkd-player")[1]
    ls = load.loads(text, "lmkd-player.toml")
    assert isinstance(ls._text, bytes) and len(ls._text) < len(text)
    assert ls.text == text
    assert ls.error("processes[0].comm", "bad").line == load.locate(text, "processes[0].comm") is not None
