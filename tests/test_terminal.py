"""A well-behaved terminal program (issue 11 §2): NO_COLOR, no terminal, a closed pipe, `python -m`,
`-o -` and `--overwrite`.

Each test runs what a user runs, as far as it can without a real terminal: subprocesses for exit codes,
pipes and stdin; the app under Textual's headless driver for what the TUI draws and how it exits.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from oomtui.cli import main

REPORT = Path(__file__).parent / "data" / "reports" / "4.14-nodemask-nr_puds-tie-first-leader.log"


def oomtui(*args: str, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "oomtui", *args], text=True, **kw)


# 1. NO_COLOR


def _color_env(monkeypatch, how: str) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_FILTERS", raising=False)
    if how == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")
    elif how == "dim":
        monkeypatch.setenv("TEXTUAL_FILTERS", "dim")


def test_screenshots_do_not_depend_on_no_color_or_textual_filters(monkeypatch):
    from oomtui.record.shot import shoot_async

    svgs = {}
    for how in ("plain", "no_color", "dim"):
        _color_env(monkeypatch, how)
        svgs[how] = asyncio.run(shoot_async("first-oom", "7s", size=(80, 24)))
    assert svgs["no_color"] == svgs["plain"]
    assert svgs["dim"] == svgs["plain"]


def test_a_recording_made_under_no_color_is_byte_identical_and_goes_to_stdout(monkeypatch, capsys, tmp_path):
    _color_env(monkeypatch, "plain")
    out = tmp_path / "a.cast"
    assert main(["record", "sigterm-einval", "--size", "80x24", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: ")
    _color_env(monkeypatch, "no_color")
    assert main(["record", "sigterm-einval", "--size", "80x24", "-o", "-"]) == 0
    got = capsys.readouterr()
    assert got.out == out.read_text(encoding="utf-8")  # stdout holds the cast and nothing else
    assert got.err.startswith("wrote <stdout>: ")


@pytest.fixture
def no_color_app(monkeypatch):
    from textual.filter import Monochrome

    from oomtui.tui.app import make_app

    monkeypatch.setenv("NO_COLOR", "1")

    def make(scene: str, **kw):
        app = make_app(scene, **kw)
        assert app.no_color and any(isinstance(f, Monochrome) for f in app._filters)
        return app

    return make


# every screen of the app: the briefing, the running view, an OOM kill, the result, help, the scene
# picker, the policy picker, the oom_score_adj dialog, the filter, the palette; then quit
KEYS = ["space", "o", "e", "escape", "question_mark", "escape", "s", "down", "escape", "p", "down", "escape",
        "down", "a", "minus", "escape", "slash", "d", "escape", "ctrl+p", "escape", "enter", "q"]


@pytest.mark.parametrize("scene,opts", [("first-oom", {"teach": True}),
                                        ("frozen-android-app", {"autoplay": True, "big": True, "speed": 100})])
async def test_the_tui_draws_every_screen_under_no_color(no_color_app, scene, opts):
    app = no_color_app(scene, paused=False, **opts)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        for key in KEYS:
            await pilot.press(key)
            assert app._exception is None, f"after {key}"
            if app._exit:
                break
        await pilot.pause()
    assert app._exception is None


# 2. no terminal, a crash, a closed pipe


@pytest.mark.parametrize("args", [[], ["play"], ["play", "first-oom", "--autoplay"]])
def test_the_interactive_view_refuses_without_a_terminal(args):
    r = oomtui(*args, stdin=subprocess.DEVNULL, env=_env_without("TEXTUAL_DRIVER"))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and "oomtui run SCENE" in r.stderr and "Traceback" not in r.stderr


def _env_without(*names: str) -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in names}


def test_textual_driver_lets_the_view_start_without_a_terminal(monkeypatch):
    """textual-serve runs `oomtui` with pipes and TEXTUAL_DRIVER set: no refusal then."""
    from oomtui.tui.app import OomApp

    started = []
    monkeypatch.setattr(OomApp, "run", lambda self: started.append(self.engine.sim.scene.title))
    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    assert main(["play", "first-oom"]) == 2  # pytest's stdin is no terminal
    assert started == []
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")
    assert main(["play", "first-oom"]) == 0
    assert len(started) == 1


def test_bad_arguments_are_reported_before_the_missing_terminal(capsys):
    assert main(["play", "first-oom", "--speed", "0"]) == 2
    assert capsys.readouterr().err.startswith("oomtui: --speed 0: expected 0.05 to 100")


@pytest.fixture
def headless_play(monkeypatch):
    """`oomtui play` (tui.app.main, app.run() and all) under the headless driver; `then` is called by
    the app's message loop once the view is up (as a key handler would be)."""
    from textual.drivers.headless_driver import HeadlessDriver

    import oomtui.tui.app as tui_app

    monkeypatch.setenv("TEXTUAL_DRIVER", "headless")  # no terminal needed: the driver is below
    factory = tui_app.make_app

    def play(then) -> int:
        def make_app(scene, **kw):
            app = factory(scene, driver_class=HeadlessDriver, **kw)
            run = app.run

            async def auto_pilot(pilot) -> None:
                await pilot.pause()
                app.call_later(then, app)

            app.run = lambda *a, **k: run(*a, auto_pilot=auto_pilot, **k)
            return app

        monkeypatch.setattr(tui_app, "make_app", make_app)
        return main(["play", "first-oom", "--paused"])

    return play


def test_a_crashed_tui_exits_non_zero(headless_play, capsys):
    def crash(app):
        raise RuntimeError("injected crash")

    assert headless_play(crash) == 1
    assert "injected crash" in capsys.readouterr().err  # Textual printed the traceback


def test_a_tui_that_quits_exits_zero(headless_play):
    assert headless_play(lambda app: app.exit()) == 0


@pytest.mark.parametrize("args", [["run", "first-oom"], ["run", "first-oom", "--json"], ["compare", "first-oom"],
                                  ["scenes"], ["schema"], ["explain", str(REPORT)]])
def test_a_reader_that_goes_away_is_no_error(args):
    """`oomtui run SCENE | head -1`: the reader closes the pipe. Here it is closed before oomtui writes
    anything, so every write fails (with `head`, whether one does depends on timing)."""
    p = subprocess.Popen([sys.executable, "-m", "oomtui", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0, err
    assert err == ""


# 3. python -m oomtui


def test_python_dash_m_oomtui():
    r = oomtui("--version")
    assert r.returncode == 0 and r.stdout.startswith("oomtui ")
    r = oomtui("check", "no-such-scene")
    assert r.returncode == 2 and r.stderr.startswith("oomtui: ")


# 4. -o - and --overwrite


def test_screenshot_to_stdout_is_the_file(capsys, tmp_path):
    out = tmp_path / "a.svg"
    assert main(["screenshot", "first-oom", "--at", "2s", "--size", "80x24", "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["screenshot", "first-oom", "--at", "2s", "--size", "80x24", "-o", "-"]) == 0
    got = capsys.readouterr()
    assert got.out == out.read_text(encoding="utf-8") and got.out.startswith("<svg")
    assert got.err.startswith("wrote <stdout> ")


def test_import_to_stdout_is_the_file(capsys, tmp_path):
    out = tmp_path / "a.toml"
    assert main(["import", str(REPORT), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["import", str(REPORT), "-o", "-"]) == 0
    got = capsys.readouterr()
    assert got.out == out.read_text(encoding="utf-8")
    assert "wrote the scene to stdout" in got.err


@pytest.mark.parametrize("args", [["record", "first-oom"], ["screenshot", "first-oom"], ["import", str(REPORT)]])
def test_an_existing_output_file_needs_overwrite(args, tmp_path, capsys):
    out = tmp_path / "exists"
    out.write_text("keep me")
    assert main([*args, "-o", str(out)]) == 2
    got = capsys.readouterr()
    assert got.out == ""
    assert got.err == f"oomtui: {out}: already exists; use --overwrite to replace it, or -o - for stdout\n"
    assert out.read_text() == "keep me"


def test_overwrite_replaces_the_file(tmp_path, capsys):
    out = tmp_path / "exists.svg"
    out.write_text("old")
    assert main(["screenshot", "first-oom", "--size", "80x24", "-o", str(out), "--overwrite"]) == 0
    assert out.read_text(encoding="utf-8").startswith("<svg")
    out = tmp_path / "exists.toml"
    out.write_text("old")
    assert main(["import", str(REPORT), "-o", str(out), "--overwrite"]) == 0
    assert out.read_text(encoding="utf-8").startswith("#:schema ./oomtui-scene.schema.json\n# imported by oomtui import")
