"""The game in the TUI: objective, result screen, scene picker, best scores, autoplay, presenter layout."""

from __future__ import annotations

import json

import pytest
from textual.containers import VerticalScroll

from oomtui.scene import goals
from oomtui.scene.load import DEFAULT_SCENE, load_scene
from oomtui.scene.sim import Simulation
from oomtui.tui import game
from oomtui.tui.screens.game import ResultScreen, ScenePicker
from oomtui.tui.sequencer import HOLD, READING

from .test_commands import screen_text

SIZE = (120, 36)
STORY = game.story_ids()


# ---------------------------------------------------------------------- model side of the TUI
def test_story_ids_in_order_then_scenarios():
    cat = game.catalogue({})
    assert [e.ref for e in cat[:12]] == STORY
    assert STORY[0] == "first-oom" and len(STORY) == 12
    assert [e.order for e in cat[:12]] == list(range(1, 13))
    rest = [e.ref for e in cat[12:]]
    assert rest == sorted(rest) and "frozen-robust-holder" in rest
    assert all(e.order is None for e in cat[12:])
    assert game.next_story("first-oom") == STORY[1]
    assert game.next_story(STORY[-1]) is None and game.next_story("frozen-robust-holder") is None


def test_live_goals_decide_what_is_decided():
    sim = Simulation(load_scene("first-oom"))
    states = game.live_goals(sim)
    assert [s.state for s in states] == [goals.PENDING, goals.PENDING]  # nothing can be said yet
    sim.run()  # nobody protects db: it is killed
    states = game.live_goals(sim)
    assert states[0].text.startswith("db") and states[0].state == goals.FAILED
    assert "killed" in states[0].detail


def test_memory_back_is_met_early_and_fails_when_its_window_closes():
    sim = Simulation(load_scene("frozen-android-app"))  # linux-5.18: the memory comes 2 s late
    mem = sim.scene.goals[0]
    assert isinstance(mem, goals.MemoryBack)
    sim.run(int(2.8 * sim.k.hz))  # killed at 2.392 s: the 300 ms window is over at 2.692 s
    assert game.live_goals(sim)[0].state == goals.FAILED
    win = Simulation(load_scene("frozen-android-app"))
    win.autoplay()
    win.run(int(2.5 * win.k.hz))
    assert game.live_goals(win)[0].state == goals.MET


def test_step_commands_cover_every_action():
    import inspect

    from oomtui.scene import actions as A
    from oomtui.tui.commands import BY_ID

    every = (A.Oom(), A.Kill(pid=1), A.Sigterm(pid=1), A.Mrelease(pid=1), A.SetAdj(pid=1, value=0),
             A.Freeze(cgroup="/x"), A.Thaw(cgroup="/x"), A.SetPolicy(policy="linux-4.6"), A.Unlock(futex="M"),
             A.Move(pid=1, cgroup="/x"))
    assert {type(a) for a in every} == set(A.ACTIONS)
    for a in every:
        calls = game.step_commands(a)
        assert calls
        for cid, params in calls:
            assert cid in BY_ID
            inspect.signature(BY_ID[cid].execute).bind(None, **params)  # TypeError if a param is not taken


def test_best_scores_persist_in_xdg_state(state_home):
    assert game.scores_path() == state_home / "oomtui" / "scores.json"
    assert game.load_scores() == {}
    assert not game.record_score("first-oom", 120, 200, False)  # kept, but a first loss is no "new best"
    assert game.load_scores()["first-oom"]["score"] == 120
    assert game.record_score("first-oom", 190, 200, True)
    assert not game.record_score("first-oom", 200, 200, False)  # a loss never beats a win
    assert not game.record_score("first-oom", 150, 200, True)
    data = json.loads((state_home / "oomtui" / "scores.json").read_text())
    assert data == {"first-oom": {"score": 190, "max": 200, "won": True}}
    (state_home / "oomtui" / "scores.json").write_text("not json")
    assert game.load_scores() == {}  # a broken file is no scores, not a crash


def test_state_dir_default(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert game.state_dir() == tmp_path / ".local" / "state" / "oomtui"


# ---------------------------------------------------------------------- the app
def test_default_scene_is_the_first_story_scene():
    assert DEFAULT_SCENE == game.story_ids()[0]


async def test_no_argument_opens_first_oom_running():
    from oomtui.tui.app import make_app

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.engine.sim.id == "first-oom" and not app.engine.paused
        text = screen_text(app)
        assert "Objective" in text and "db (pid 100) survives" in text


async def test_objective_panel_hint_and_scenarios_without_goals(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        assert app.goals.display
        assert "h hint" in screen_text(app)
        await pilot.press("h")
        assert "select db and press a" in screen_text(app)
        await pilot.press("h")
        assert "select db and press a" not in screen_text(app)
    app = make_app("frozen-robust-holder")  # a scenario: no goals, no objective, no hint
    async with app.run_test(size=SIZE) as pilot:
        assert not app.goals.display
        await pilot.press("h")
        assert any("no hint" in n.message for n in app._notifications)


async def test_objective_in_the_compact_layout(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.compact and app.goals.display
        assert "db (pid 100) survives" in screen_text(app)


async def test_playing_first_oom_by_hand_wins_and_keeps_the_best_score(make_app, state_home):
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", pid=100)
        await pilot.press("a")  # the oom_score_adj dialog
        await pilot.press(*"\b\b\b\b-500", "enter")
        assert app.engine.k.pids[100].oom_score_adj == -500
        await pilot.press("e")  # end now: run the rest and score it
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)
        result, outcome = app.last_result
        assert result.won and result.score == result.max_score == 200
        text = screen_text(app)
        assert "YOU WON" in text and "200 / 200" in text and "new best" in text
        assert "Which kernel would have saved you" in text and "SIGKILL → batch 200" in text
        await pilot.press("n")  # the next story scene
        await pilot.pause()
        assert app.engine.sim.id == STORY[1] and app.engine.k.jiffies == 0
        assert not isinstance(app.screen, ResultScreen)
    assert game.load_scores()["first-oom"] == {"score": 200, "max": 200, "won": True}


async def test_at_80x24_the_result_screen_shows_its_keys_while_its_body_scrolls(make_app, state_home):
    """The newcomer's first win on a small terminal: the keys that lead on are on screen, not below the fold."""
    app = make_app("first-oom", briefing=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "down", "a", *"-500", "enter", "e")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen) and app.last_result[0].won
        body = app.screen.query_one(VerticalScroll)
        assert body.max_scroll_y > 0  # the body does not fit 24 rows: it scrolls
        text = " ".join(screen_text(app).split())
        assert "r restart" in text and "n next:" in text  # the scene's name may wrap to the next row
        await pilot.press("n")
        await pilot.pause()
        assert app.engine.sim.id == STORY[1]


async def test_doing_nothing_loses_and_restart_resets(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        result, _ = app.last_result
        assert not result.won and "NOT THIS TIME" in screen_text(app)
        assert "✗" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert app.engine.k.jiffies == 0 and not isinstance(app.screen, ResultScreen)


async def test_running_to_the_duration_shows_the_result(make_app):
    app = make_app("first-oom", paused=False, speed=100)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            await pilot.pause(0.02)
            if isinstance(app.screen, ResultScreen):
                break
        assert isinstance(app.screen, ResultScreen)
        await pilot.pause()
        assert app.engine.k.jiffies == app.engine.sim.duration  # scored exactly at the end
        await pilot.press("enter")  # keep watching
        await pilot.pause()
        assert not isinstance(app.screen, ResultScreen) and app.engine.paused


async def test_scene_picker_story_first_with_best_scores(make_app):
    game.record_score("two-second-rule", 170, 200, True)
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, ScenePicker)
        ol = app.screen.query_one("OptionList")
        ids = [ol.get_option_at_index(i).id for i in range(ol.option_count)]
        assert ids[:12] == STORY and ids[12] == "d-state-holder"  # then the scenarios, by id
        text = screen_text(app)
        assert "170/200" in text and "intro" in text and "hard" in text
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.engine.sim.id == STORY[1]


async def test_scene_picker_opens_a_scene_file(make_app, tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(load_scene("first-oom").text.replace('title = "1. The first OOM kill"', 'title = "My own scene"'))
    app = make_app("frozen-robust-holder")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s", "tab")
        await pilot.press(*"/nonexistent.toml", "enter")
        assert isinstance(app.screen, ScenePicker)  # an error keeps the picker open
        inp = app.screen.query_one("#scene-path")
        inp.value = str(f)
        await pilot.press("enter")
        await pilot.pause()
        assert app.engine.sim.scene.title == "My own scene"


async def test_filter_input_is_created_on_first_use(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert not app.query("#filter")
        await pilot.press("slash", *"client", "enter")
        assert app.query("#filter")
        assert [r.key for r in app.table.rows if r.kind == "p"] == [200]


# ---------------------------------------------------------------------- autoplay
def e_stands_still(app) -> bool:
    """Time cannot move: paused, or the sequencer waits for a key."""
    return app.engine.paused or app.seq.waiting is not None


async def _autoplay_to_result(app, pilot, max_frames: int = 600):
    for _ in range(max_frames):
        await pilot.pause(0.01)
        if app.seq.waiting == HOLD:
            await pilot.press("x")
        elif app.seq.waiting == READING:
            app.go_on()  # the reading time is tested on its own; here it would only slow the test
        if isinstance(app.screen, ResultScreen):
            await pilot.pause()  # let it compose before anyone reads the screen
            return
    raise AssertionError(f"no result screen; t={app.engine.k.jiffies} step {app.seq.step_i}/{len(app.seq.steps)}")


@pytest.mark.parametrize("scene", STORY)
async def test_autoplay_wins_every_story_scene(make_app, scene):
    app = make_app(scene, paused=False, speed=100, autoplay=True)
    async with app.run_test(size=SIZE) as pilot:
        await _autoplay_to_result(app, pilot)
        result, _ = app.last_result
        assert result.won, [(g.text, g.detail) for g in result.goals if not g.met]
        assert app.seq.step_i == len(app.engine.sim.walkthrough)
        assert "YOU WON" in screen_text(app)
        # every step's action went through the commands: the kernel saw them as the player's
        assert len(app.engine.sim.played) == sum(1 for s in app.engine.sim.walkthrough if s.action)


async def test_hold_waits_for_a_key_and_the_key_does_nothing_else(make_app):
    app = make_app("first-oom", paused=False, speed=10, autoplay=True)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(600):
            await pilot.pause(0.01)
            if app.seq.waiting == READING:
                app.go_on()
            if app.seq.waiting == HOLD:
                break
        assert app.seq.waiting == HOLD and e_stands_still(app)
        hold = app.engine.sim.walkthrough[app.seq.step_i - 1]
        assert hold.hold and app.engine.k.jiffies == hold.at
        assert "press any key" in screen_text(app) and hold.caption[:30] in screen_text(app)
        app.run_command("select", pid=300)
        app.engine.set_speed(0.05)  # Pilot waits for idle after a key: keep the scene from ending meanwhile
        await pilot.press("k")  # ends the hold, kills nothing
        assert app.seq.waiting is None and not app.engine.paused
        assert not app.engine.k.pids[300].group_exit
        assert "press any key" not in screen_text(app)


async def test_autoplay_paused_start_and_restart_replays_the_walkthrough(make_app):
    app = make_app("frozen-android-app", paused=True, autoplay=True)
    async with app.run_test(size=SIZE) as pilot:
        steps = app.seq.steps
        assert app.engine.stop_at == steps[0].at  # time stops at each step
        await pilot.press("greater_than_sign")  # next event: runs to the first step, not past it
        assert app.engine.k.jiffies <= steps[0].at
        app.engine.paused = False
        for _ in range(400):
            await pilot.pause(0.01)
            if app.seq.waiting == READING:
                app.go_on()
            if app.seq.step_i >= 1:
                break
        assert app.engine.k.policy.id == "linux-6.18"  # the step's policy switch, through the command
        app.engine.paused = True
        await pilot.press("r")
        assert app.seq.step_i == 0 and app.engine.stop_at == steps[0].at


# ---------------------------------------------------------------------- presenter layout
async def test_big_layout_digits_follow_the_model(make_app):
    from textual.widgets import Digits, Static

    from oomtui.scene.units import fmt_size

    app = make_app("frozen-android-app", big=True)
    async with app.run_test(size=SIZE) as pilot:
        assert len(app.query(Digits)) == 3
        assert "SCORE" not in app.table._header(100).text  # fewer columns
        app.advance(int(2.5 * app.engine.k.hz))
        await pilot.pause()
        t, reaper, free, label = app.bigbar.values()
        assert t == "2.50" and reaper not in ("-", "") and "app 100" in label
        assert free == fmt_size(app.engine.k.free_pages() * 4096)
        number, unit = free.split()
        assert app.query_one("#big-free-d", Digits).value == number
        assert str(app.query_one("#big-free-l", Static).render()) == f"free memory ({unit})"
        assert app.query_one("#big-time-d", Digits).value == "2.50"


async def test_every_scene_runs_to_its_end_in_the_app_under_every_policy(make_app):
    """Every built-in scene, every policy, through the app's own commands (scene, restart, end):
    nothing raises, and scenes with goals end on the result screen."""
    from oomtui.kernel.policy import POLICIES
    from oomtui.scene.load import builtin_ids

    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        for sid in builtin_ids():
            for pol in POLICIES:
                app.run_command("scene", scene=sid, raise_errors=True)
                app.run_command("restart", policy=pol, raise_errors=True)
                app.run_command("end", raise_errors=True)
                assert app.engine.finished, (sid, pol)
                if app.engine.sim.scene.goals:
                    assert isinstance(app.screen, ResultScreen), (sid, pol)
                    app.pop_screen()
        await pilot.pause()
        assert app.return_code is None  # no exception inside the app
