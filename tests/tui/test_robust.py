"""Never crash, never lose a score: a corrupt scores file, no home directory, tiny terminals, a thread
selected across a scene change, markup-like scene text."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from oomtui.scene.load import loads
from oomtui.tui import game
from oomtui.tui.screens.game import ResultScreen, ScenePicker
from oomtui.tui.screens.modals import PickerScreen

from .test_commands import screen_text

SIZE = (120, 36)
GOOD = {"score": 190, "max": 200, "won": True}


@pytest.fixture(autouse=True)
def no_stale_warning():
    game.take_warning()  # a warning left by another test is not this test's
    yield
    game.take_warning()


def _scores(state_home):
    return state_home / "oomtui" / "scores.json"


def _write(state_home, data: bytes | str):
    p = _scores(state_home)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def _bad_files(state_home) -> list:
    return sorted((state_home / "oomtui").glob("scores.json.bad-*"))


# ---------------------------------------------------------------------- unreadable files are moved aside
BAD_FILES = {
    "not json": b"{ not json",
    "a list": b'[{"score": 1}]',
    "a string": b'"first-oom"',
    "null": b"null",
    "nested 10000 deep": b"[" * 10000 + b"]" * 10000,
    "nested object 10000 deep": b'{"a":' * 10000 + b"1" + b"}" * 10000,
    "invalid utf-8": b'{"first-oom": {"score": 1, "max": 2, "won": true}, "\xff\xfe": 1}',
    "empty": b"",
    "too large": b'{"x": "' + b"a" * (game.MAX_FILE + 10) + b'"}',
}


@pytest.mark.parametrize("content", list(BAD_FILES.values()), ids=list(BAD_FILES))
def test_an_unparsable_scores_file_is_moved_aside_and_the_player_told_once(state_home, content):
    _write(state_home, content)
    assert game.load_scores() == {}
    bad = _bad_files(state_home)
    assert len(bad) == 1 and re.fullmatch(r"scores\.json\.bad-\d{8}T\d{6}", bad[0].name)
    assert bad[0].read_bytes() == content  # kept, byte for byte
    assert not _scores(state_home).exists()
    msg = game.take_warning()
    assert msg and bad[0].name in msg and "could not be read" in msg
    assert game.take_warning() is None  # once
    assert game.load_scores() == {} and game.take_warning() is None  # no file now: nothing more to say
    # the next score starts a fresh file; the bad one is still there
    assert game.record_score("first-oom", 190, 200, True)
    assert json.loads(_scores(state_home).read_text()) == {"first-oom": GOOD}
    assert _bad_files(state_home) == bad


def test_a_directory_in_place_of_the_file_is_moved_aside_with_its_contents(state_home):
    d = _scores(state_home)
    d.mkdir(parents=True)
    (d / "keep").write_text("mine")
    assert game.load_scores() == {}
    (bad,) = _bad_files(state_home)
    assert (bad / "keep").read_text() == "mine"
    assert "not a regular file" in game.take_warning()
    assert game.record_score("first-oom", 190, 200, True) and game.load_scores() == {"first-oom": GOOD}


def test_a_fifo_in_place_of_the_file_does_not_hang(state_home):
    p = _scores(state_home)
    p.parent.mkdir(parents=True)
    os.mkfifo(p)  # reading it would block forever with no writer
    t = time.monotonic()
    assert game.load_scores() == {}
    assert time.monotonic() - t < 5
    assert len(_bad_files(state_home)) == 1 and game.take_warning()


def test_a_second_bad_file_never_overwrites_the_first(state_home):
    _write(state_home, b"first")
    game.load_scores()
    _write(state_home, b"second")
    game.load_scores()  # the same second, most likely: a -1 suffix
    assert sorted(b.read_bytes() for b in _bad_files(state_home)) == [b"first", b"second"]


def test_a_bad_file_that_cannot_be_moved_is_never_written_over(state_home, monkeypatch):
    p = _write(state_home, b"{ precious but broken")

    def no_rename(*a):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "rename", no_rename)
    assert game.load_scores() == {}
    assert not game.record_score("first-oom", 190, 200, True)
    assert p.read_bytes() == b"{ precious but broken"
    msg = game.take_warning()
    assert "nor moved aside" in msg
    game.load_scores()
    assert game.take_warning() is None  # said once, not at every read


def test_an_unreadable_path_is_handled_as_a_bad_file(state_home, monkeypatch):
    # root reads a chmod 000 file anyway: an OSError from open stands in for EACCES
    _write(state_home, json.dumps({"first-oom": GOOD}))
    real_open = os.open

    def deny(path, *a, **kw):
        if str(path).endswith("scores.json"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **kw)

    monkeypatch.setattr(os, "open", deny)
    assert game.load_scores() == {}
    monkeypatch.undo()
    assert "Permission denied" in game.take_warning()
    (bad,) = _bad_files(state_home)
    assert json.loads(bad.read_text()) == {"first-oom": GOOD}  # moved, not lost


# ---------------------------------------------------------------------- wrong entries are ignored one by one
def test_wrong_entries_are_ignored_and_the_rest_kept(state_home):
    _write(state_home, json.dumps({
        "first-oom": GOOD,
        "str": "x", "list": [1, 2], "null": None, "number": 5,
        "score-str": {"score": "150", "max": 200, "won": True},
        "score-abc": {"score": "abc", "max": 200, "won": True},
        "score-bool": {"score": True, "max": 200, "won": True},
        "score-frac": {"score": 150.5, "max": 200, "won": True},
        "score-float": {"score": 150.0, "max": 200.0, "won": False},
        "score-huge": {"score": 10**20, "max": 10**20, "won": False},
        "score-vast": {"score": 10**40, "max": 200, "won": False},
        "score-neg": {"score": -5, "max": 200, "won": False},
        "no-max": {"score": 150, "won": True},
        "won-str": {"score": 150, "max": 200, "won": "false"},
        "won-one": {"score": 150, "max": 200, "won": 1},
        "no-won": {"score": 150, "max": 200},
    }) + "\n")
    s = game.load_scores()
    assert s == {
        "first-oom": GOOD,
        "score-float": {"score": 150, "max": 200, "won": False},
        "score-huge": {"score": game.MAX_POINTS, "max": game.MAX_POINTS, "won": False},
        "score-neg": {"score": 0, "max": 200, "won": False},
        "won-str": {"score": 150, "max": 200, "won": False},  # "false" is not a win, nor is any string
        "won-one": {"score": 150, "max": 200, "won": False},
        "no-won": {"score": 150, "max": 200, "won": False},
    }
    assert all(type(e["score"]) is int and type(e["max"]) is int and type(e["won"]) is bool for e in s.values())
    assert _bad_files(state_home) == [] and game.take_warning() is None  # a readable file stays in place


def test_nan_and_infinity_are_ignored(state_home):
    _write(state_home, '{"a": {"score": NaN, "max": 1, "won": true}, "b": {"score": 1, "max": Infinity},'
                       ' "first-oom": {"score": 190, "max": 200, "won": true}}')
    assert game.load_scores() == {"first-oom": GOOD}


def test_record_score_keeps_other_scenes_even_entries_it_cannot_read(state_home):
    raw = {"first-oom": GOOD, "weird": {"score": "abc"}, "junk": [1, 2]}
    _write(state_home, json.dumps(raw))
    assert not game.record_score("lmkd-player", 80, 100, False)  # a first loss: kept, not a "new best"
    data = json.loads(_scores(state_home).read_text())
    assert data == {**raw, "lmkd-player": {"score": 80, "max": 100, "won": False}}


def test_a_bad_entry_for_the_scene_itself_is_replaced(state_home):
    _write(state_home, json.dumps({"first-oom": {"score": "999", "max": 200, "won": "true"}}))
    assert not game.record_score("first-oom", 100, 200, False)  # the old entry is no best to beat
    assert game.load_scores()["first-oom"] == {"score": 100, "max": 200, "won": False}
    assert game.record_score("first-oom", 190, 200, True)


def test_recorded_scores_are_clamped(state_home):
    game.record_score("a", 10**12, -3, True)
    assert game.load_scores()["a"] == {"score": game.MAX_POINTS, "max": 0, "won": True}


# ---------------------------------------------------------------------- no home, no state directory
def _no_home(monkeypatch):
    import pwd

    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)

    def nobody(uid):
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", nobody)  # Path.home() now raises RuntimeError


def test_no_home_at_all_means_no_saving(monkeypatch):
    _no_home(monkeypatch)
    with pytest.raises(RuntimeError):
        from pathlib import Path

        Path.home()  # the case this test is about
    assert game.state_dir() is None and game.scores_path() is None
    assert game.load_scores() == {}
    assert game.record_score("first-oom", 190, 200, True) is False


@pytest.mark.parametrize("home", ["", "relative/home"])
def test_a_relative_home_is_no_home(monkeypatch, tmp_path, home):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", home)
    assert game.state_dir() is None
    assert not game.record_score("first-oom", 190, 200, True)
    assert list(tmp_path.iterdir()) == []  # nothing written relative to the working directory


def test_a_relative_xdg_state_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", "rel")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert game.state_dir() == tmp_path / ".local" / "state" / "oomtui"


def test_an_unwritable_home_means_no_saving(monkeypatch, tmp_path):
    # root can write anywhere: a HOME that is a regular file makes mkdir fail for anyone
    home = tmp_path / "home"
    home.write_text("")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    assert game.load_scores() == {}
    assert game.record_score("first-oom", 190, 200, True) is False
    assert home.read_text() == ""


async def test_end_and_score_with_no_home(make_app, monkeypatch):
    _no_home(monkeypatch)
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")  # end & score: record_score once called Path.home() and crashed
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)
        await pilot.press("escape", "s")
        await pilot.pause()
        assert isinstance(app.screen, ScenePicker)


# ---------------------------------------------------------------------- the TUI with a bad scores file
async def test_picker_with_one_bad_entry_shows_the_others(make_app, state_home):
    _write(state_home, json.dumps({"first-oom": GOOD, "lmkd-player": {"score": "abc", "max": None, "won": "false"},
                                   "frozen-robust-holder": [1]}))
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ScenePicker)
        text = screen_text(app)
        assert "★ 190/200" in text
        assert not [n for n in app._notifications if n.title == "Best scores"]  # nothing moved: nothing to say


async def test_picker_with_an_unparsable_scores_file_warns_once(make_app, state_home):
    _write(state_home, b"[" * 10000)
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(2):
            await pilot.press("s")
            await pilot.pause()
            assert isinstance(app.screen, ScenePicker)
            await pilot.press("escape")
        warned = [n for n in app._notifications if n.title == "Best scores"]
        assert len(warned) == 1 and "scores.json.bad-" in warned[0].message
    assert len(_bad_files(state_home)) == 1


async def test_result_screen_with_a_corrupt_scores_file(make_app, state_home):
    _write(state_home, b'{"first-oom": {"score": 1')  # truncated
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)
        warned = [n for n in app._notifications if n.title == "Best scores"]
        assert len(warned) == 1 and "scores.json.bad-" in warned[0].message
    assert len(_bad_files(state_home)) == 1
    assert "first-oom" in json.loads(_scores(state_home).read_text())  # this run's score, in a fresh file


# ---------------------------------------------------------------------- crashes in the tree and the pickers
async def test_scene_change_with_a_thread_selected(make_app):
    # the tree kept the selected tid across a scene change and looked it up in the new scene: KeyError
    app = make_app("frozen-robust-holder")
    async with app.run_test(size=SIZE) as pilot:
        t = app.table
        i = max(i for i, r in enumerate(t.rows) if r.kind == "t")
        t.set_cursor(i)
        tid = t.selected.key
        await pilot.press("s")
        await pilot.pause()
        ol = app.screen.query_one("OptionList")
        ol.highlighted = ol.get_option_index("first-oom")
        await pilot.press("enter")
        await pilot.pause()
        assert app.engine.sim.id == "first-oom"
        assert tid not in app.engine.k.tids  # the case: the old thread does not exist any more
        assert t.selected is not None


async def test_restart_with_a_thread_selected_keeps_it(make_app):
    app = make_app("frozen-robust-holder")
    async with app.run_test(size=SIZE) as pilot:
        t = app.table
        i = max(i for i, r in enumerate(t.rows) if r.kind == "t")
        t.set_cursor(i)
        key = t.selected[:2]
        await pilot.press("r")
        await pilot.pause()
        assert t.selected[:2] == key


async def test_pickers_at_tiny_sizes(make_app):
    # an OptionList narrower than its border, padding and scrollbar raised ValueError in Textual
    # (every width up to 9 crashed, 10 and 11 at height 1; a sample keeps this test to a few seconds)
    app = make_app("first-oom")
    async with app.run_test(size=(40, 10)) as pilot:
        for w, h in ((1, 1), (2, 2), (3, 10), (5, 4), (8, 1), (9, 10), (10, 1), (11, 1), (11, 3), (12, 1)):
            await pilot.resize_terminal(w, h)
            for key, screen in (("s", ScenePicker), ("p", PickerScreen)):
                await pilot.press(key)
                await pilot.pause()
                assert isinstance(app.screen, screen), (w, h, key)
                await pilot.press("down", "escape")
                await pilot.pause()
        assert len(app.screen_stack) == 1


# ---------------------------------------------------------------------- scene text that looks like markup
MARKUP = (open(os.path.join(os.path.dirname(__file__), "..", "..", "scenes", "first-oom.toml"), encoding="utf-8")
          .read()
          .replace('comm = "db"', 'comm = "[/x]"')
          .replace('comm = "batch"', 'comm = "[bold]"')
          .replace('title = "1. The first OOM kill"', 'title = "[b]x[/"'))


async def test_markup_like_comm_in_dialogs_and_the_palette(make_app):
    # a comm "[/x]" raised MarkupError in the oom_score_adj dialog and in the command palette
    app = make_app(loads(MARKUP, "markup.toml"))
    async with app.run_test(size=SIZE) as pilot:
        assert app.table.select_pid(100)
        await pilot.press("a")
        await pilot.pause()
        assert "oom_score_adj of [/x] 100" in screen_text(app)
        await pilot.press("escape", "ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"mrel")
        await pilot.pause(0.3)
        assert "process_mrelease on [/x] 100" in screen_text(app)
        await pilot.press("escape", "escape")
        await pilot.pause()


async def test_markup_like_text_in_notifications(make_app):
    # toasts parsed their message as markup: "SIGKILL to [/x] 100" raised MarkupError when drawn
    app = make_app(loads(MARKUP, "markup.toml"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts are drawn only with this
        assert app.table.select_pid(100)
        await pilot.press("k")
        await pilot.pause(0.2)
        assert any("[/x] 100" in n.message for n in app._notifications)
        assert "to [/x] 100" in screen_text(app)


async def test_palette_at_tiny_sizes(make_app):
    # Textual 8: the palette's list wrapped its options to width 0 (ValueError at width 4), and
    # OptionList._move_page raised KeyError for a list with no area (pageup at 1x1)
    app = make_app("first-oom")
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.press("ctrl+p", "k")
        await pilot.pause()
        await pilot.resize_terminal(4, 1)
        await pilot.resize_terminal(1, 1)
        await pilot.press("pageup", "pagedown", "pageup")
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await pilot.press("pagedown", "escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1


async def test_control_characters_in_scene_text_are_shown_escaped(make_app):
    from tests.test_sanitize import SHOWN, scene_text as hostile

    app = make_app(loads(hostile(), "hostile.toml"))
    async with app.run_test(size=(160, 44)) as pilot:
        svg = app.export_screenshot()
        text = screen_text(app)
        assert "\x1b" not in svg and "\x07" not in svg and "\x9b" not in svg
        assert "Evil" + SHOWN[:20] in text  # the status bar's title
        assert "db\\x1b[2J" in text  # the process tree
        assert "goal\\x1b[2J" in text  # the objective panel
        await pilot.press("question_mark")
        await pilot.pause()
        app.screen.query_one("VerticalScroll").scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert "line one\\x1b[2J" in screen_text(app)  # the story, at the end of the help screen
        await pilot.press("escape", "e")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)
        assert "Evil\\x1b[2J" in screen_text(app) and "\x1b" not in app.export_screenshot()


async def test_a_scene_path_with_control_characters_in_the_status_bar(make_app, tmp_path, monkeypatch):
    # where the title does not fit, the status bar shows the scene's id: for a file, the path as given
    from tests.test_sanitize import scene_text as hostile

    monkeypatch.chdir(tmp_path)
    (tmp_path / "e\x1b[2J.toml").write_text(hostile(), encoding="utf-8")
    app = make_app("e\x1b[2J.toml")
    shown = []
    async with app.run_test(size=(120, 30)) as pilot:
        for w in range(50, 121, 5):
            await pilot.resize_terminal(w, 30)
            assert "\x1b" not in app.export_screenshot(), w
            shown.append(screen_text(app).splitlines()[0])
    assert any("e\\x1b[2J.toml" in line for line in shown), shown


async def test_a_bad_scores_file_found_before_start_up_is_shown_at_start(make_app, state_home):
    # `oomtui play` reads the scores before the app starts (teach mode): the warning waits for the app
    _write(state_home, b"\xff\xfe not utf-8")
    assert game.load_scores() == {}
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        warned = [n for n in app._notifications if n.title == "Best scores"]
        assert len(warned) == 1 and "not UTF-8" in warned[0].message


def test_scores_in_the_old_place_are_kept_when_platformdirs_puts_them_elsewhere(monkeypatch, tmp_path, state_home):
    # macOS: platformdirs says ~/Library/Application Support/oomtui, versions before it ~/.local/state/oomtui
    new = tmp_path / "Application Support" / "oomtui"
    monkeypatch.setattr(game, "state_dir", lambda: new)
    old = state_home / "oomtui" / "scores.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"first-oom": GOOD}))
    assert game.load_scores() == {"first-oom": GOOD}
    assert game.record_score("oom-reaper", 50, 100, True)
    assert game.load_scores() == {"first-oom": GOOD, "oom-reaper": {"score": 50, "max": 100, "won": True}}
    assert json.loads((new / "scores.json").read_text())["first-oom"] == GOOD  # carried over
    assert json.loads(old.read_text()) == {"first-oom": GOOD}  # and the old file left as it was
    old.write_text(json.dumps({"first-oom": {"score": 1, "max": 200, "won": False}}))
    assert game.load_scores()["first-oom"] == GOOD  # once the new file exists, the old one is not read
