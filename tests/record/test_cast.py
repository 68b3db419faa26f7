"""`oomtui record` and `oomtui screenshot`: deterministic output, replayed through a terminal emulator."""

from __future__ import annotations

import inspect
import json

import pytest

from oomtui.cli import main
from oomtui.record import cast
from oomtui.record.cast import Grid, diff

SCENE = "frozen-android-app"


def test_textual_still_writes_the_display_through_a_non_headless_driver():
    """The recorder relies on a private detail of App: _display() writes the ANSI stream through
    self._driver.write unless the driver is headless. If a Textual upgrade changes that, this test
    says so before a recording comes out empty (record_async also raises if nothing is written)."""
    import textual
    from textual.app import App

    src = inspect.getsource(App._display)
    assert "is_headless" in src and "_driver.write" in src, (
        f"Textual {textual.__version__}: App._display no longer writes through the driver; "
        "update oomtui/record/cast.py")
    assert "driver_class" in inspect.signature(App.__init__).parameters


@pytest.fixture(scope="module")
def recorded():
    return (cast.record(SCENE, size=(100, 30)),)


def test_two_recordings_are_byte_identical():
    # a short scene (4 s) with a walkthrough, holds and a result screen, at a small size: the same
    # recorder path as SCENE's, in less than half the time
    a = cast.record("sigterm-einval", size=(80, 24))
    assert cast.record("sigterm-einval", size=(80, 24)) == a
    markers = [e[2] for e in json.loads("[" + ",".join(a.splitlines()[1:]) + "]") if e[1] == "m"]
    # all of it ran: its 3 steps and the process_mrelease results they lead to
    from oomtui.scene.load import load_scene

    steps = [s.caption for s in load_scene("sigterm-einval").scene.walkthrough]
    assert "YOU WON" in _replay(a) and [m for m in markers if m in steps] == steps and len(steps) == 3
    assert [m for m in markers if m.startswith("process_mrelease()")] == [
        "process_mrelease() returned -1 (EINVAL) — app (100)", "process_mrelease() returned 0 — app (100)"]


def test_the_readme_cast_is_what_record_writes_today():
    """docs/frozen-android-app.cast is linked from the README as a real recording: it must be what
    `oomtui record frozen-android-app` writes now (regenerate it with the README's command when the
    view changes)."""
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "frozen-android-app.cast"
    assert cast.record("frozen-android-app") == docs.read_text(encoding="utf-8")


def test_cast_is_asciicast_v2_in_simulated_time_with_markers(recorded):
    from oomtui.scene.load import load_scene
    from oomtui.scene.sim import Simulation

    lines = recorded[0].splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and (header["width"], header["height"]) == (100, 30)
    assert "timestamp" not in header and "4. The frozen Android app" in header["title"]
    assert header["oomtui"] == {"scene": SCENE, "policy": "linux-6.18"}
    assert not any(".cast" in str(v) for v in header.values())
    events = [json.loads(x) for x in lines[1:]]
    assert all(len(e) == 3 and e[1] in ("o", "m") for e in events)
    times = [e[0] for e in events]
    assert times == sorted(times) and times[0] == 0
    sim = Simulation(load_scene(SCENE))
    steps = sim.walkthrough
    captions = {s.caption for s in steps}
    markers = [e for e in events if e[1] == "m" and e[2] in captions]
    assert [m[2] for m in markers] == [s.caption for s in steps]
    # each caption is read before time goes on: the briefing (the first caption) and every step's
    # caption add their reading time to the timeline, a hold its 3 s
    from oomtui.tui import teach
    from oomtui.tui.sequencer import HOLD_S

    brief = teach.briefing(sim.scene, steps, sim.k.hz, key_of=str).caption()
    offset, want = teach.reading_time(brief), []
    for s in steps:
        want.append(round(s.at / sim.k.hz + offset, 6))
        offset += HOLD_S if s.hold else teach.reading_time(s.caption)
    assert [m[0] for m in markers] == pytest.approx(want)
    # 8 s of scene + the reading and holds + 5 s on the result screen
    assert times[-1] == pytest.approx(sim.duration / sim.k.hz + offset + cast.END_S)


def _replay(text: str, until: float | None = None, upto: int | None = None):
    """The screen after the events up to time `until`, or before the event at index `upto`."""
    import pyte

    lines = text.splitlines()
    h = json.loads(lines[0])
    screen = pyte.Screen(h["width"], h["height"])
    stream = pyte.Stream(screen)
    for i, line in enumerate(lines[1:]):
        t, kind, data = json.loads(line)
        if (until is not None and t > until) or (upto is not None and i >= upto):
            break
        if kind == "o":
            stream.feed(data)
    return "\n".join(screen.display)


def test_each_marker_comes_after_the_frame_that_shows_its_caption(recorded):
    # `asciinema play -m` stops at a marker with every event before it drawn: that screen must show the
    # caption the marker names (the caption bar wraps a long caption: its first words, as one line)
    from oomtui.scene.load import load_scene

    text = recorded[0]
    events = [json.loads(x) for x in text.splitlines()[1:]]
    captions = {s.caption for s in load_scene(SCENE).scene.walkthrough}
    steps = [i for i, e in enumerate(events) if e[1] == "m" and e[2] in captions]
    assert len(steps) == len(captions)
    for i in steps:
        screen = " ".join(_replay(text, upto=i).split())
        assert " ".join(events[i][2].split()[:4]) in screen, events[i][2]
    # and a chapter after the frame that shows its kernel event: the kill in dmesg, the waiter's EOWNERDEAD
    at = {e[2]: i for i, e in enumerate(events) if e[1] == "m"}
    for label, shown in (("out_of_memory() chose a victim — app (100)", "Killed process 100 (app)"),
                         ("a waiter's fate: EOWNERDEAD — thread 200, M", "✓ EOWNERDEAD")):  # the futex panel's
        frame = max(j for j in range(at[label]) if events[j][1] == "o")
        assert _replay(text, upto=frame).count(shown) < _replay(text, upto=at[label]).count(shown), label


def test_a_scene_without_a_walkthrough_has_chapters_at_its_kernel_events():
    # d-state-mmap-lock has no walkthrough: the reaper cannot take app's mmap_lock, gives up, and the next
    # OOM picks batch. Every chapter follows the frame of its event, in the order the kernel decided.
    text = cast.record("d-state-mmap-lock", size=(80, 24))
    markers = [e[2] for e in (json.loads(x) for x in text.splitlines()[1:]) if e[1] == "m"]
    assert markers == [
        "out_of_memory() chose a victim — app (100)", "queue_oom_reaper() armed the timer — app (100)",
        "out_of_memory() found a pending victim — app (100)", "the reaper's timer fired — app (100)",
        "oom_reaper: unable to reap app (100); MMF_OOM_SKIP set anyway",
        "out_of_memory() chose a victim — batch (200)", "queue_oom_reaper() armed the timer — batch (200)"]


def test_the_cast_leaves_the_terminal_as_it_found_it(recorded):
    # the last event shows the cursor again, resets attributes, and every private mode the cast set
    # (the hidden cursor; a mouse mode or the alternate screen if it ever emitted one) is back to its default
    import re

    lines = recorded[0].splitlines()
    header = json.loads(lines[0])
    events = [json.loads(x) for x in lines[1:]]
    last = events[-1]
    assert last[1] == "o" and "\x1b[?25h" in last[2] and last[2].startswith("\x1b[0m")
    assert last[0] == header["duration"]
    modes: dict[str, str] = {}
    for _, kind, data in events:
        if kind == "o":
            for num, hl in re.findall(r"\x1b\[\?([0-9;]+)([hl])", data):
                for n in num.split(";"):
                    modes[n] = hl
    assert modes.get("25") == "h" and all(v == "l" for n, v in modes.items() if n not in ("25", "7"))


def test_cast_replays_to_the_right_screens(recorded):
    text = recorded[0]
    second = [json.loads(x) for x in text.splitlines()[1:] if '"m"' in x][1][0]
    mid = _replay(text, until=second + 0.1)  # the second step: just after the kill under 6.18
    assert "4. The frozen Android app" in mid and "linux-6.18" in mid
    assert "EOWNERDEAD" in mid and "victim" in mid.lower()
    assert "All of app's threads ran their own futex" in mid  # the caption bar
    end = _replay(text)
    assert "YOU WON" in end and "200 / 200" in end and "linux-6.18" in end


def test_grid_and_diff_round_trip_through_a_terminal():
    import pyte

    g = Grid(20, 3)
    g.feed("\x1b[1;1H\x1b[1;38;2;255;0;0mHi\x1b[0m 漢字 ok\x1b[2;3Hline two\x1b]22;default\x07")
    first = g.snapshot()
    g.feed("\x1b[2;3HLINE")
    second = g.snapshot()
    d = diff(first, second)
    assert d.count("\x1b[2;") == 1 and "LINE" in d and "Hi" not in d
    screen = pyte.Screen(20, 3)
    stream = pyte.Stream(screen)
    stream.feed(diff(None, first) + d)
    assert screen.display[0].startswith("Hi 漢字 ok")  # pyte pads wide characters
    assert screen.display[1].startswith("  LINE two")
    assert screen.buffer[0][0].bold and screen.buffer[0][0].fg == "ff0000"


def test_record_cli(tmp_path, capsys):
    out = tmp_path / "first.cast"
    assert main(["record", "first-oom", "-o", str(out), "--size", "100x30"]) == 0
    text = out.read_text()
    assert json.loads(text.splitlines()[0])["width"] == 100
    assert "wrote" in capsys.readouterr().out
    assert main(["record", "first-oom", "-o", str(out), "--size", "huge"]) == 2


def test_screenshot_cli(tmp_path):
    out = tmp_path / "shot.svg"
    assert main(["screenshot", SCENE, "--at", "2.6s", "--autoplay", "-o", str(out), "--size", "100x30"]) == 0
    svg = out.read_text()
    assert svg.startswith("<svg") and "EOWNERDEAD" in svg and "linux" in svg
    out2 = tmp_path / "end.svg"
    assert main(["screenshot", "first-oom", "--at", "end", "-o", str(out2)]) == 0
    assert "NOT&#160;THIS&#160;TIME" in out2.read_text() or "NOT THIS TIME" in out2.read_text()
    assert main(["screenshot", "first-oom", "--at", "soon", "-o", str(out2)]) == 2


def test_record_and_screenshot_word_bad_policy_kernel_and_duration(tmp_path, capsys):
    from oomtui.scene.load import load_scene

    lines = [('duration = "soon"' if x.startswith("duration =") else x) for x in load_scene("first-oom").text.splitlines()]
    bad = tmp_path / "bad.toml"
    bad.write_text("\n".join(lines) + "\n")
    line = lines.index('duration = "soon"') + 1
    for cmd, out in (("record", tmp_path / "x.cast"), ("screenshot", tmp_path / "x.svg")):
        assert main([cmd, "first-oom", "--policy", "linux-9", "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("oomtui: first-oom") and "unknown policy 'linux-9'" in err and "--policy" in err
        assert main([cmd, "first-oom", "--kernel", "9.x", "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("oomtui: first-oom") and "'9.x'" in err and "--kernel" in err
        assert main([cmd, str(bad), "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"oomtui: {bad}:{line}: ") and "'soon'" in err and "duration" in err
        assert not out.exists()


def test_record_and_play_record_need_an_output_file_that_does_not_exist(tmp_path, capsys):
    assert main(["record", "sigterm-einval"]) == 2
    assert "-o FILE.cast" in capsys.readouterr().err
    assert main(["record", "sigterm-einval", "--gif", "-"]) == 2
    assert "a GIF goes to a file" in capsys.readouterr().err
    existing = tmp_path / "x.gif"
    existing.write_bytes(b"GIF89a")
    assert main(["record", "sigterm-einval", "--gif", str(existing)]) == 2
    assert "already exists; use --overwrite" in capsys.readouterr().err and existing.read_bytes() == b"GIF89a"
    assert main(["play", "sigterm-einval", "--record", str(existing)]) == 2  # before any terminal is needed
    assert "already exists; use --overwrite" in capsys.readouterr().err and existing.read_bytes() == b"GIF89a"
    assert main(["play", "sigterm-einval", "--record", "-"]) == 2
    assert "drawn on stdout" in capsys.readouterr().err
