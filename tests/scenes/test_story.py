"""The story scenes as a game: each is won by its walkthrough, lost without the player where it asks
for a move, and its goals evaluate under every policy."""

from __future__ import annotations

import re

import pytest

from oomtui.kernel.policy import POLICIES
from oomtui.scene.goals import evaluate
from oomtui.scene.load import builtin_ids, load_scene
from oomtui.scene.sim import Simulation


def story_ids() -> list[str]:
    games = [(load_scene(s).scene.game, s) for s in builtin_ids()]
    return [s for g, s in sorted(((g, s) for g, s in games if g and g.order), key=lambda x: x[0].order)]


STORY = story_ids()


def test_at_least_twelve_story_scenes_in_order():
    assert len(STORY) >= 12
    orders = [load_scene(s).scene.game.order for s in STORY]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    for s in STORY:
        sc = load_scene(s).scene
        assert sc.story.strip() and sc.source and sc.goals and sc.walkthrough


@pytest.mark.parametrize("scene", STORY)
def test_the_walkthrough_wins(scene):
    sim = Simulation(load_scene(scene))
    sim.autoplay()
    result = evaluate(sim, sim.run())
    assert result.won, [(g.text, g.detail) for g in result.goals if not g.met]
    assert result.score == result.max_score - 10 * max(0, result.actions - result.par)
    assert sim.k.policy.id in result.saved_by or sim.played and any(
        type(a).__name__ == "SetPolicy" for _, a in sim.played)


@pytest.mark.parametrize("scene", [s for s in STORY if load_scene(s).scene.game.par > 0])
def test_doing_nothing_loses_where_the_scene_asks_for_a_move(scene):
    sim = Simulation(load_scene(scene))
    result = evaluate(sim, sim.run(), others=False)
    assert not result.won
    assert any(not g.met for g in result.goals)


@pytest.mark.parametrize("scene", STORY)
@pytest.mark.parametrize("policy", POLICIES)
def test_goals_evaluate_under_every_policy(scene, policy):
    sim = Simulation(load_scene(scene), policy)
    result = evaluate(sim, sim.run(), others=False)
    assert len(result.goals) == len(sim.scene.goals)
    assert all(g.detail for g in result.goals)


def test_saved_by_names_the_policies_that_win_the_same_play():
    sim = Simulation(load_scene("frozen-android-app"))  # linux-5.18, the player does nothing
    result = evaluate(sim, sim.run())
    assert not result.won
    assert result.saved_by == ["linux-6.18"]  # only the whole-process thaw frees fast without a hang


def test_saved_by_leaves_out_the_players_policy_switch():
    sim = Simulation(load_scene("futex-race-2022"))  # linux-4.6; the walkthrough switches to linux-5.18
    sim.autoplay()
    result = evaluate(sim, sim.run())
    assert result.won
    assert "linux-4.6" not in result.saved_by  # the immediate reaper still hangs the waiter
    assert "linux-5.18" in result.saved_by


BRIEFED_TIME = re.compile(r"\b(?:kill|killed|pick|OOM)(?: \w+)? at (\d+(?:\.\d+)?) s\b")


def test_the_time_a_briefing_gives_for_the_oom_kill_is_the_kill_s():
    """"The OOM killer will kill app at 2.7 s" sends a player to watch 2.7 s: it must be the first OOM
    kill's time, to the tenth (without the player's moves, as the briefing is read before them)."""
    checked = []
    for scene in STORY:
        said = BRIEFED_TIME.findall(load_scene(scene).scene.game.briefing)
        if not said:
            continue
        out = Simulation(load_scene(scene)).run(dmesg=False)
        first = min(k.t_ms for k in out.kills if k.reason == "oom")
        assert {f"{first / 1000:.1f}"} == set(said), (scene, said, first)
        checked.append(scene)
    assert len(checked) >= 4, checked
