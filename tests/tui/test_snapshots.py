"""SVG snapshots of the main screen, paused, at 80x24 and 120x36, for two scenes.

Regenerate after an intended change: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest

from oomtui.tui.app import make_app

# (scene, jiffy to stop at): just after the kill, with the reaper timer counting down
CASES = {
    "frozen-robust-holder": 700,  # EOWNERDEAD under 6.18, timer counting down to a no-op
    "d-state-holder": 1000,  # holder stuck in D: waiter blocked, OOM scans abort on the victim
}


def _at(jiffy: int):
    async def run_before(pilot) -> None:
        app = pilot.app
        app.advance(jiffy)
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
@pytest.mark.parametrize("scene", list(CASES))
def test_main_screen(snap_compare, scene, size):
    app = make_app(scene, paused=True)
    assert snap_compare(app, terminal_size=size, run_before=_at(CASES[scene]))


def test_hung_waiter_snapshot(snap_compare):
    """lmkd-mrelease on 6.18: the reverse walk reaches 101's stack first: client HUNG."""
    app = make_app("lmkd-mrelease", paused=True)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_at(300))


def _autoplay_to(jiffy: int):
    async def run_before(pilot) -> None:
        app = pilot.app
        e = app.engine
        for _ in range(100):  # each pass stops at a walkthrough step and its caption
            if e.k.jiffies >= jiffy:
                break
            app.advance(jiffy - e.k.jiffies)
            if app.seq.waiting is not None:
                app.go_on()
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_game_objective_and_caption(snap_compare, size):
    """first-oom under autoplay at 1.2 s: the objective panel, the caption of the adj step."""
    app = make_app("first-oom", paused=True, autoplay=True)
    assert snap_compare(app, terminal_size=size, run_before=_autoplay_to(300))


def test_game_result_screen(snap_compare, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    app = make_app("frozen-android-app", paused=True, autoplay=True)
    app.keep_scores = False  # no "new best" that depends on earlier runs
    assert snap_compare(app, terminal_size=(120, 36), run_before=_autoplay_to(2000))


def test_presenter_layout(snap_compare):
    app = make_app("frozen-android-app", paused=True, big=True)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_autoplay_to(640))


def test_light_theme(snap_compare):
    """textual-light (issue 8 §7): the tree on the theme's surface, the marks (VICTIM, pinned, FROZEN),
    the reaper timer, the gauges and the badges all readable on a light background."""
    app = make_app("frozen-android-app", paused=True)

    async def run_before(pilot) -> None:
        pilot.app.theme = "textual-light"
        await _at(640)(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
