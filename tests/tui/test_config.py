"""The config file as `play` uses it: presets without clashing keys, checks worded like scene errors,
the theme switched in the palette kept, and `record`/`screenshot` untouched by it."""

from __future__ import annotations

import pytest

from oomtui import config
from oomtui.cli import main
from oomtui.tui import keys

from .test_commands import SIZE


def write(config_home, text: str):
    p = config_home / "oomtui" / "config.toml"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


@pytest.fixture
def play(monkeypatch):
    """`oomtui play ARGS` through the CLI up to app.run(): the app main() built, not run."""
    from oomtui import cli
    from oomtui.tui import app as appmod

    made = []
    monkeypatch.setattr(cli, "need_terminal", lambda: None)
    monkeypatch.setattr(appmod.OomApp, "run", lambda self, **kw: made.append(self))
    monkeypatch.setattr(appmod.gc, "freeze", lambda: None)

    def run(*argv):
        made.clear()
        code = main(["play", *argv])
        return made[0] if made else code

    return run


# ---------------------------------------------------------------------- keys
@pytest.mark.parametrize("preset", sorted(config.PRESETS))
def test_no_two_bindings_share_a_key_in_any_preset(preset):
    assert keys.clashes(config.PRESETS[preset]) == []
    ids = keys.effective_bindings({})
    assert set(config.PRESETS[preset]) <= set(ids)  # a preset names bindings that exist


def test_the_clash_check_sees_a_shared_key():
    def pairs(keymap):
        return {(key, frozenset((a, b))) for key, a, b, _ in keys.clashes(keymap)}

    vim = config.PRESETS["vim"]
    # without the preset moving kill, k would both move up in the tree and SIGKILL
    assert pairs({**vim, "oomtui.kill": "k"}) == {("k", frozenset(("tree.up", "oomtui.kill"))),
                                                  ("k", frozenset(("dmesg.up", "oomtui.kill")))}
    assert pairs({"oomtui.kill": "q"}) == {("q", frozenset(("oomtui.kill", "oomtui.quit")))}
    assert pairs({"oomtui.kill": "ctrl+p"}) == {("ctrl+p", frozenset(("oomtui.kill", "command_palette")))}
    assert pairs({"oomtui.kill": "?"}) == {("question_mark", frozenset(("oomtui.kill", "oomtui.help")))}
    assert pairs({"oomtui.kill": "j"}) == set()  # nothing else has j without the vim preset


def test_vim_preset_keys_in_force():
    b = keys.effective_bindings(config.PRESETS["vim"])
    assert (b["tree.down"], b["tree.up"], b["oomtui.kill"], b["oomtui.hint"]) == ("down,j", "up,k", "K", "H")
    assert keys.effective_bindings({})["oomtui.kill"] == "k"


@pytest.mark.parametrize("text, expected", [
    ('theme = "nrod"\n', ":1: unknown theme 'nrod'; did you mean 'nord'? at theme"),
    ('preset = "vim"\n[keymap]\n"oomtui.kil" = "x"\n', ":3: unknown binding id 'oomtui.kil'; did you mean "
                                                       "'oomtui.kill'? at keymap.oomtui.kil"),
    ('[keymap]\nzzz = "x"\n', ":2: unknown binding id 'zzz'; `oomtui config --show` lists them at keymap.zzz"),
    ('preset = "vim"\n\n[keymap]\noomtui.kill = "j"\n',
     ":4: 'j' is also tree.down's key (in the process tree); give one of the two another key at keymap.oomtui.kill"),
])
def test_check_errors(config_home, text, expected):
    write(config_home, text)
    with pytest.raises(config.ConfigError) as e:
        keys.check(config.load())
    assert str(e.value) == f"{config_home}/oomtui/config.toml{expected}"


def test_a_dialog_binding_may_be_moved(config_home):
    write(config_home, '[keymap]\n"result.next" = "N"\n"tree.down" = "down,J"\n')
    keys.check(config.load())  # no error: the result screen's and the tree's ids are known


# ---------------------------------------------------------------------- play
def test_play_takes_theme_keys_speed_and_layout_from_the_config(config_home, play):
    app = play()
    assert (app.theme, app._keymap, app.engine.speed, app.big) == ("textual-dark", {}, 1.0, False)
    write(config_home, 'theme = "nord"\npreset = "vim"\nspeed = 4\nlayout = "auto"\n[keymap]\n"oomtui.end" = "E"\n')
    app = play()
    assert (app.theme, app.engine.speed, app.big) == ("nord", 4.0, False)
    assert app._keymap["oomtui.kill"] == "K" and app._keymap["oomtui.end"] == "E"
    assert app.config_path == config_home / "oomtui" / "config.toml"
    write(config_home, 'speed = 4\nlayout = "big"\n')
    assert play().big and not play("--no-big").big
    assert play("--speed", "0.5").engine.speed == 0.5  # the command line wins


def test_a_bad_config_stops_play_before_it_starts(config_home, play, capsys):
    write(config_home, "speed = 1000\n")
    assert play() == 2  # no app was made
    assert capsys.readouterr().err == f"oomtui: {config_home}/oomtui/config.toml:1: expected 0.05 to 100, got 1000 at speed\n"
    assert main([]) == 2  # `oomtui` alone too
    assert main(["run", "first-oom", "--until", "1s"]) == 0  # the config is play's only


async def test_vim_keys_move_in_the_tree_and_shift_k_kills(config_home, play):
    write(config_home, 'preset = "vim"\n')
    app = play("first-oom", "--paused")
    async with app.run_test(size=SIZE) as pilot:
        app.go_on()  # past the briefing
        await pilot.pause()
        t = app.table
        start = t.cursor
        await pilot.press("j", "j")
        assert t.cursor == start + 2
        await pilot.press("k")
        assert t.cursor == start + 1 and not app.engine.sim.played  # k moved, it killed nothing
        await pilot.press("G")
        assert t.cursor == len(t.rows) - 1
        await pilot.press("g")
        assert t.cursor == 0
        assert app.run_command("select", pid=100)
        await pilot.press("K")
        assert [(type(a).__name__, a.pid) for _, a in app.engine.sim.played] == [("Kill", 100)]
        assert "· H hint" in app.panel_text("goals")  # the objective panel names the key in force


async def test_a_theme_chosen_in_the_palette_is_saved_and_kept(config_home, play):
    p = write(config_home, '# mine\ntheme = "dracula"  # at night\nspeed = 2\n')
    app = play("first-oom", "--paused")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "dracula" and p.read_text().count("dracula") == 1  # starting writes nothing
        await pilot.press("ctrl+p")
        await pilot.press(*"theme")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"nord")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert app.theme == "nord"
        assert f"nord, saved in {p}" in [n.message for n in app._notifications]
    assert p.read_text() == '# mine\ntheme = "nord"  # at night\nspeed = 2\n'
    assert play("first-oom").theme == "nord"


async def test_no_home_means_the_theme_is_not_saved(config_home, play, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", "")
    app = play("first-oom", "--paused")
    assert app.config_path is None
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "nord"
        await pilot.pause()
    assert not config_home.exists()


# ---------------------------------------------------------------------- record and screenshot
def test_record_and_screenshot_ignore_the_config(config_home, tmp_path):
    def outputs(tag):
        cast, svg = tmp_path / f"{tag}.cast", tmp_path / f"{tag}.svg"
        assert main(["record", "sigterm-einval", "--size", "80x24", "-o", str(cast)]) == 0
        assert main(["screenshot", "first-oom", "--at", "7s", "--size", "80x24", "-o", str(svg)]) == 0
        return cast.read_bytes(), svg.read_bytes()

    plain = outputs("plain")
    write(config_home, 'theme = "gruvbox"\npreset = "vim"\nspeed = 7\nlayout = "big"\n'
                       '[keymap]\n"oomtui.help" = "F2"\n')
    assert outputs("configured") == plain


def test_config_show_is_a_config_that_shows_the_same(config_home, capsys):
    write(config_home, 'preset = "vim"\nspeed = 2.5\n[keymap]\n"oomtui.end" = "E"\n')
    assert main(["config", "--show"]) == 0
    shown = capsys.readouterr().out
    assert 'speed = 2.5\n' in shown and '"oomtui.kill" = "K"\n' in shown and '"oomtui.end" = "E"\n' in shown
    assert 'theme = "textual-dark"\n' in shown and '"tree.down" = "down,j"\n' in shown
    write(config_home, shown)  # every binding spelled out, the defaults too: still valid, the same keys
    assert main(["config", "--show"]) == 0
    assert capsys.readouterr().out == shown


def test_screenshots_ignore_textual_theme(monkeypatch):
    """$TEXTUAL_THEME is read once, when Textual is imported, into the default of App.theme: set that."""
    import asyncio

    from textual.app import App

    from oomtui.record.shot import shoot_async

    plain = asyncio.run(shoot_async("first-oom", "1s", size=(60, 16)))
    monkeypatch.setattr(App.__dict__["theme"], "_default", "nord")
    assert App().theme == "nord"  # what TEXTUAL_THEME=nord does
    assert asyncio.run(shoot_async("first-oom", "1s", size=(60, 16))) == plain
