"""Real players are the judge: a cast played by asciinema (the pip package) in a real terminal (tmux)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.record import cast
from tests.record.test_cast import _replay
from tests.tui.test_tmux import _capture, session  # noqa: F401 (a fixture: a tmux session name, killed after)

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


def test_asciinema_play_m_stops_on_each_marker_and_leaves_the_cursor_visible(session, tmp_path):
    # sigterm-einval at 80x24: 3 captions and 5 chapters. `asciinema play -m` stops at each marker with what
    # precedes it drawn: at every stop its screen is the one our own replay shows there; `]` goes to the next.
    text = cast.record("sigterm-einval", size=(80, 24))
    f = tmp_path / "s.cast"
    f.write_text(text)
    events = [json.loads(x) for x in text.splitlines()[1:]]
    stops = [i for i, e in enumerate(events) if e[1] == "m"]
    done = f"{session}-done"
    subprocess.run(["tmux", "new-session", "-d", "-x", "80", "-y", "24", "-s", session,
                    f"env TERM=xterm-256color {ASCIINEMA} play -m -s 20 {f}; tmux wait-for -S {done}; sleep 60"],
                   check=True)
    subprocess.run(["tmux", "set-option", "-t", session, "window-size", "manual"], capture_output=True)
    subprocess.run(["tmux", "resize-window", "-t", session, "-x", "80", "-y", "24"], capture_output=True)
    for n, i in enumerate(stops):
        _wait_screen(session, _replay(text, upto=i + 1))
        assert _flag(session, "#{cursor_flag}") == "0", events[i][2]  # the TUI's cursor stays hidden
        subprocess.run(["tmux", "send-keys", "-t", session, "]"], check=True)  # the next marker, or the end
    subprocess.run(["tmux", "wait-for", done], timeout=15, check=True)  # asciinema has exited
    end = _capture(session)
    assert _lines(end) == _lines(_replay(text)) and "YOU WON" in end
    # the last event showed the cursor again, on the bottom row, where the shell goes on
    assert _flag(session, "#{cursor_flag} #{cursor_x} #{cursor_y}") == "1 0 23"
