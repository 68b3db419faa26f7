"""Real players are the judge: a cast played by asciinema (the pip package) in a real terminal (tmux)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.record import cast
from tests.record.test_cast import _replay
from tests.tui.test_tmux import _capture, _wait_for, session  # noqa: F401 (a fixture: a tmux session, killed after)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ASCIINEMA = Path(sys.executable).with_name("asciinema")


def _lines(screen: str) -> list[str]:
    return [x.rstrip() for x in screen.splitlines()]


def _wait_screen(session: str, want: str, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    got = ""
    while time.monotonic() < end:
        got = _capture(session)
        if _lines(got) == _lines(want):
            return
        time.sleep(0.05)
    raise AssertionError(f"the player's screen:\n{got}\nexpected:\n{want}")


def _flag(session: str, fmt: str) -> str:
    return subprocess.run(["tmux", "display", "-p", "-t", session, fmt], capture_output=True, text=True).stdout.strip()


def _tmux(session: str, cmd: str, w: int, h: int) -> None:
    subprocess.run(["tmux", "new-session", "-d", "-x", str(w), "-y", str(h), "-s", session, cmd], check=True)
    # with window-size "latest" and no client, tmux may fall back to 80x24: pin the size
    subprocess.run(["tmux", "set-option", "-t", session, "window-size", "manual"], capture_output=True)
    subprocess.run(["tmux", "resize-window", "-t", session, "-x", str(w), "-y", str(h)], capture_output=True)


def _keys(session: str, *keys: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, *keys], check=True)


def test_asciinema_play_m_stops_on_each_marker_and_leaves_the_cursor_visible(session, tmp_path):
    # sigterm-einval at 80x24: 3 captions and 5 chapters. `asciinema play -m` stops at each marker with what
    # precedes it drawn: at every stop its screen is the one our own replay shows there; `]` goes to the next.
    text = cast.record("sigterm-einval", size=(80, 24))
    f = tmp_path / "s.cast"
    f.write_text(text)
    events = [json.loads(x) for x in text.splitlines()[1:]]
    stops = [i for i, e in enumerate(events) if e[1] == "m"]
    done = f"{session}-done"
    _tmux(session, f"env TERM=xterm-256color {ASCIINEMA} play -m -s 20 {f}; tmux wait-for -S {done}; sleep 60", 80, 24)
    for n, i in enumerate(stops):
        _wait_screen(session, _replay(text, upto=i + 1))
        assert _flag(session, "#{cursor_flag}") == "0", events[i][2]  # the TUI's cursor stays hidden
        _keys(session, "]")  # the next marker, or the end
    subprocess.run(["tmux", "wait-for", done], timeout=15, check=True)  # asciinema has exited
    end = _capture(session)
    assert _lines(end) == _lines(_replay(text)) and "YOU WON" in end
    # the last event showed the cursor again, on the bottom row, where the shell goes on
    assert _flag(session, "#{cursor_flag} #{cursor_x} #{cursor_y}") == "1 0 23"


def test_play_record_keeps_the_live_session_and_asciinema_plays_it_back(session, tmp_path):
    # a player's session, paused after the briefing: SIGTERM and SIGKILL to app, then "end & score"
    f = tmp_path / "live.cast"
    oomtui = Path(sys.executable).with_name("oomtui")
    env = (f"env -u COLUMNS -u LINES TERM=xterm-256color TEXTUAL_ANIMATIONS=none XDG_STATE_HOME={tmp_path} "
           f"XDG_CONFIG_HOME={tmp_path}")  # the tmux server's environment is not this test's
    done = f"{session}-done"
    _tmux(session, f"{env} {oomtui} play sigterm-einval --paused --no-teach --record {f}; "
                   f"tmux wait-for -S {done}; sleep 60", 100, 30)
    _wait_for(session, "space to close")  # --paused: space closes the briefing, the clock stays at 0
    _keys(session, "Space")
    _wait_for(session, "PAUSED")
    _keys(session, "Down", "Down", "Down", "Down", "t")  # the tree starts on init: app is 4 rows down
    _wait_for(session, "kill -TERM 100")
    _keys(session, "k")
    _wait_for(session, "kill -KILL 100")
    _keys(session, "e")
    _wait_for(session, "your actions 2")
    _keys(session, "q")
    subprocess.run(["tmux", "wait-for", done], timeout=15, check=True)
    # -J joins the lines the terminal wrapped (a long temporary path wraps the message mid-word)
    joined = subprocess.run(["tmux", "capture-pane", "-p", "-J", "-t", session], capture_output=True, text=True).stdout
    assert re.search(r"wrote .*live\.cast: [\d.]+ s, \d+ events, \d+ markers", joined)

    text = f.read_text()
    header = json.loads(text.splitlines()[0])
    assert (header["width"], header["height"]) == (100, 30) and header["oomtui"]["scene"] == "sigterm-einval"
    events = [json.loads(x) for x in text.splitlines()[1:]]
    markers = [e[2] for e in events if e[1] == "m"]
    # each move, then the chapters of what "end & score" ran: the scene's own process_mrelease at 500 ms,
    # which reaps app now that the player's SIGKILL made it a dying process
    assert markers[:4] == ["player: kill -TERM 100", "player: kill -KILL 100",
                           "process_mrelease reaped app (100): 1200 MiB freed", "process_mrelease() returned 0 — app (100)"]
    stream = "".join(e[2] for e in events if e[1] == "o")
    # what only concerned oomtui's input is not passed on to the viewer's terminal
    assert not re.search(r"\x1b\[\?(1000|1003|1006|1015|1004|2004|1049)[hl]|\$p|\x1b\[[<>]\d*u", stream)
    assert events[-1][2].endswith("\x1b[?25h")

    player = f"{session}-play"
    try:
        _tmux(player, f"env TERM=xterm-256color {ASCIINEMA} play -s 4 -i 0.25 {f}; tmux wait-for -S {done}; sleep 60",
              100, 30)
        subprocess.run(["tmux", "wait-for", done], timeout=30, check=True)
        _wait_screen(player, _replay(text))  # the result screen over the tree, as the player saw it at the end
        assert "your actions 2" in _capture(player)
        assert _flag(player, "#{cursor_flag} #{cursor_x} #{cursor_y}") == "1 0 29"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", player], capture_output=True)
