"""A cast's chapters (oomtui/record/chapters.py), on the kernel model alone: no Textual, no recording."""

from __future__ import annotations

from oomtui.record.chapters import Chapters
from oomtui.scene import actions as A
from oomtui.scene.load import load_scene
from oomtui.scene.sim import Simulation


def _frames(sim: Simulation, ch: Chapters, step: int) -> list[str]:
    """The chapters as a recording meets them: read after every `step` jiffies."""
    out = []
    while sim.k.jiffies < sim.duration and not sim.k.panicked:
        sim.advance(min(step, sim.duration - sim.k.jiffies))
        out += ch.take(sim.k)
    return out


def test_a_livelock_is_a_chapter_and_the_aborts_it_repeats_are_not():
    # never-reap-livelock under the rejected never-reap-robust policy: app, frozen, is chosen and never queued
    # for the reaper; every later out_of_memory() aborts on it until the kernel declares the livelock. One
    # chapter for the first abort (as teach mode has one card).
    sim = Simulation(load_scene("never-reap-livelock"), policy="never-reap-robust")
    got = _frames(sim, Chapters(), 5)
    assert got[:2] == ["out_of_memory() chose a victim — app (100)",
                       "the victim is never queued for the reaper — app (100)"]
    assert sum(x.startswith("out_of_memory() found a pending victim") for x in got) == 1
    assert [x for x in got if "LIVELOCK" in x] == [
        "OOM LIVELOCK: every OOM invocation aborts on victim 100 (app): it cannot exit and nothing will set "
        "MMF_OOM_SKIP on its mm"]


def test_chapters_do_not_depend_on_how_often_they_are_read():
    # a frame at 20 fps, a frame every jiffy, or the whole run at once: the same chapters
    for scene in ("d-state-mmap-lock", "frozen-android-app", "score-ties"):
        runs = []
        for step in (1, 12, 10**6):
            sim = Simulation(load_scene(scene))
            runs.append(_frames(sim, Chapters(), step))
        assert runs[0] == runs[1] == runs[2] and runs[0], scene


def test_a_players_move_is_a_chapter_in_a_live_session_only():
    ls = load_scene("sigterm-einval")
    live, rec = Chapters(moves=True), Chapters()
    sim = Simulation(ls)
    sim.advance(10)
    sim.apply(A.Sigterm(pid=100))
    assert [x for x in live.take(sim.k) if x.startswith("player")] == ["player: " + A.Sigterm(pid=100).describe()]
    assert not [x for x in rec.take(sim.k) if x.startswith("player")]
    # a restart is a new kernel: its log is read from its start, not from where the old one stopped
    sim.restart()
    sim.advance(10)
    sim.apply(A.Kill(pid=100))
    assert [x for x in live.take(sim.k) if x.startswith("player")] == ["player: " + A.Kill(pid=100).describe()]
