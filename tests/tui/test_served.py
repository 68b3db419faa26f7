"""A session of `oomtui serve` (`play --served`): its scene picker opens the built-in scenes and the files
of `--scenes DIR`, never a path the player types; its best scores stay in the session, never in the
server user's file; it reads no config file and saves no theme. And `--scenes DIR` in plain `play`."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from oomtui.cli import build_parser, main
from oomtui.scene.load import resolve
from oomtui.tui import game
from oomtui.tui.app import build
from oomtui.tui.commands import CommandError
from oomtui.tui.screens.game import ResultScreen, ScenePicker

from .test_commands import screen_text

SIZE = (120, 40)


@pytest.fixture
def workshop(tmp_path):
    """A directory of two scene files (copies of built-ins, under other names) and one outside it."""
    d = tmp_path / "workshop"
    d.mkdir()
    (d / "b-robust.toml").write_text(resolve("futex-race-2022")[1], encoding="utf-8")
    (d / "a-oom.toml").write_text(resolve("first-oom")[1], encoding="utf-8")
    (tmp_path / "elsewhere.toml").write_text(resolve("first-oom")[1], encoding="utf-8")
    return d


def _app(*args: str):
    return build(build_parser().parse_args(["play", "--paused", *args]))


async def test_the_served_picker_lists_the_scene_files_and_takes_no_path(workshop):
    app = _app("--served", "--scenes", str(workshop), "first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "s")  # past the briefing, then the scene picker
        await pilot.pause()
        assert isinstance(app.screen, ScenePicker)
        assert not app.screen.query(Input)
        assert "tab to the path" not in screen_text(app)
        await pilot.press("end")
        await pilot.pause()
        text = screen_text(app)
        assert "workshop/" in text and text.index("a-oom.toml") < text.index("b-robust.toml")
        await pilot.press("enter")  # the last entry: b-robust.toml
        await pilot.pause()
        assert app.engine.sim.id == str(workshop / "b-robust.toml")


async def test_a_served_session_opens_no_other_file(workshop):
    app = _app("--served", "--scenes", str(workshop), "first-oom")
    async with app.run_test(size=SIZE):
        outside = str(workshop.parent / "elsewhere.toml")
        with pytest.raises(CommandError, match="opens only the scenes its picker lists"):
            app.run_command("scene", raise_errors=True, scene=outside)
        assert app.engine.sim.id == "first-oom"
        for ref in ("two-second-rule", str(workshop / "a-oom.toml")):
            assert app.run_command("scene", raise_errors=True, scene=ref)
            assert app.engine.sim.id == ref


async def test_play_with_scenes_lists_them_and_still_takes_a_path(workshop):
    app = _app("--scenes", str(workshop), "first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "s")
        await pilot.pause()
        assert app.screen.query_one("#scene-path", Input)
        files = [e.ref for e in app.screen.entries if e.file]
        assert files == [str(workshop / "a-oom.toml"), str(workshop / "b-robust.toml")]
        assert app.run_command("scene", raise_errors=True, scene=str(workshop.parent / "elsewhere.toml"))


async def test_served_scores_stay_in_the_session(state_home):
    app = _app("--served", "first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "e")  # past the briefing; end the scene now: it is scored
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)
    result, _ = app.last_result
    assert game.load_scores()["first-oom"]["score"] == result.score  # the picker shows it in this session
    assert not (state_home / "oomtui").exists()  # and the server user's scores file was never touched


async def test_a_served_session_reads_no_config_and_saves_no_theme(config_home):
    """The server user's config (a vim keymap, a theme) is not the attendees': a session has the documented
    keys whoever serves, and a theme switched in it is written nowhere."""
    cfg = config_home / "oomtui" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('theme = "nord"\npreset = "vim"\nspeed = 4\nlayout = "big"\n')
    app = _app("--served", "first-oom")
    assert (app.theme, app._keymap, app.engine.speed, app.big) == ("textual-dark", {}, 1.0, False)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "dracula"  # as the palette's theme picker does
        await pilot.pause()
    assert cfg.read_text().count("dracula") == 0 and list(cfg.parent.iterdir()) == [cfg]
    played = _app("first-oom")  # while play, on the same machine, takes it
    assert (played.theme, played.engine.speed, played.big) == ("nord", 4.0, True)


def test_play_on_file_keeps_scores_in_the_file(state_home):
    assert game.record_score("first-oom", 10, 100, False) is False  # a first loss: kept, no "new best"
    assert game.record_score("first-oom", 50, 100, True) is True
    assert game.load_scores()["first-oom"] == {"score": 50, "max": 100, "won": True}
    assert (state_home / "oomtui" / "scores.json").exists()


def _scenes_dir(d, kind: str):
    if kind == "a file":
        (d / "f.toml").write_text(resolve("first-oom")[1], encoding="utf-8")
        return d / "f.toml"
    if kind != "missing":
        (d / kind).mkdir()
    if kind == "bad":
        (d / "bad" / "a.toml").write_text(resolve("first-oom")[1], encoding="utf-8")
        (d / "bad" / "x.toml").write_text('title = "t"\nstory = "s"\nram = oops\n', encoding="utf-8")
    return d / kind


@pytest.mark.parametrize("kind, message", [
    ("missing", "--scenes {d}/missing: no such directory"),
    ("a file", "--scenes {d}/f.toml: not a directory"),
    ("empty", "--scenes {d}/empty: no scene files (*.toml) in it"),
    ("bad", "{d}/bad/x.toml:3: not valid TOML"),
])
def test_bad_scenes_dirs_are_refused_with_one_line(tmp_path, capsys, kind, message):
    given = _scenes_dir(tmp_path, kind)
    for cmd in ("play", "serve"):
        assert main([cmd, "--scenes", str(given)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("oomtui: " + message.format(d=tmp_path)) and err.count("\n") == 1, err
