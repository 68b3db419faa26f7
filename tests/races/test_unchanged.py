"""Races are off unless asked: every built-in scene runs, autoplays and records as it did on main
before race trials existed (digests in tests/data/races/baseline.json, see baseline.py)."""

from __future__ import annotations

import json

import pytest

from oomtui.scene.load import builtin_ids, load_scene

from .baseline import BASELINE, cast_digests, run_digest

BASE = json.loads(BASELINE.read_text())


def test_the_baseline_covers_every_builtin_scene():
    assert sorted(BASE) == builtin_ids()


@pytest.mark.parametrize("scene_id", builtin_ids())
def test_run_and_autoplay_are_byte_identical_to_main(scene_id):
    assert run_digest(scene_id, False) == BASE[scene_id]["run"]
    assert run_digest(scene_id, True) == BASE[scene_id]["autoplay"]


# Recording takes a few seconds a scene: the two lmkd scenes, the ones race trials are about (one opts
# in with [races], whose result screen gains its trials and nothing else; one does not).
@pytest.mark.parametrize("scene_id", ["lmkd-mrelease", "lmkd-player"])
def test_record_is_byte_identical_to_main(scene_id, tmp_path):
    whole, before_result = cast_digests(scene_id, tmp_path)
    assert before_result == BASE[scene_id]["cast_before_result"]
    if load_scene(scene_id).scene.races is None:
        assert whole == BASE[scene_id]["cast"]
    else:
        assert whole != BASE[scene_id]["cast"]  # the result screen shows the trials
