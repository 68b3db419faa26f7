"""A big scene keeps its process specs packed (scene/load.py PACK_MIN_PROCESSES), each decoded when a
build reaches it: every build, a restart's and a replay's included, simulates the same thing without
reading the text again."""

from __future__ import annotations

from pathlib import Path

import msgspec

from oomtui.scene import load
from oomtui.scene.load import load_scene
from oomtui.scene.sim import Simulation

STORM = str(Path(__file__).resolve().parents[1] / "data" / "engine" / "storm-600.toml")  # plain TOML, 600 processes


def test_a_packed_scene_builds_again_to_the_same_outcome_without_its_text(monkeypatch):
    kept = Simulation(load_scene(STORM)).run()
    n = len(load_scene(STORM).scene.processes)
    monkeypatch.setattr(load, "PACK_MIN_PROCESSES", n)  # this scene counts as big
    ls = load_scene(STORM)
    assert ls.packed is not None and ls.scene.processes == []
    sim = Simulation(ls)
    assert len(sim.k.tasklist) == n
    first = sim.run()

    def no_toml(*args, **kwargs):
        raise AssertionError("the text parsed again")

    monkeypatch.setattr(load, "_toml", no_toml)
    sim.restart()  # from the packed specs
    again = sim.run()
    assert msgspec.json.encode(first) == msgspec.json.encode(again) == msgspec.json.encode(kept)
    # a replay under another policy builds from them too
    assert sim.replay("linux-5.18").run().policy == "linux-5.18"


def test_a_scene_with_escapes_is_packed_once_made_visible(monkeypatch):
    kept = load_scene("lmkd-player")  # multi-line strings: its specs go through _make_visible
    monkeypatch.setattr(load, "PACK_MIN_PROCESSES", 1)
    ls = load_scene("lmkd-player")
    assert ls.packed is not None and ls.scene.processes == [] and list(ls.process_specs()) == kept.scene.processes


def test_a_text_the_plain_reader_gives_up_on_late_keeps_every_process(monkeypatch):
    monkeypatch.setattr(load, "PACK_BLOCK", 4)  # blocks packed before the reader meets the hex number
    text = load.resolve(STORM)[1] + "\n[game]\npar = 0x10\n"  # not plain: tomllib reads all of it again
    ls = load.loads(text)
    assert ls.packed is None and ls.scene.game.par == 16
    assert list(ls.process_specs()) == load_scene(STORM).scene.processes


def test_parse_scene_gives_a_packed_scene_its_processes(monkeypatch):
    text = load.resolve(STORM)[1]
    whole = load.parse_scene(text)
    monkeypatch.setattr(load, "PACK_MIN_PROCESSES", 1)
    assert load.loads(text).scene.processes == []
    assert load.parse_scene(text).processes == whole.processes != []


def test_a_long_scene_text_is_kept_packed_and_reads_back_the_same(monkeypatch):
    monkeypatch.setattr(load, "PACK_MIN_CHARS", 10)
    text = load.resolve("lmkd-player")[1]
    ls = load.loads(text, "lmkd-player.toml")
    assert isinstance(ls._text, bytes) and len(ls._text) < len(text)
    assert ls.text == text
    assert ls.error("processes[0].comm", "bad").line == load.locate(text, "processes[0].comm") is not None
