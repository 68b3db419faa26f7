"""The real `oomtui` command in a real terminal (tmux): it draws, takes keys and quits."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

OOMTUI = Path(sys.executable).with_name("oomtui")


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def _wait_for(session: str, text: str, timeout: float = 15.0) -> str:
    end = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < end:
        screen = _capture(session)
        if text in screen:
            return screen
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared; screen:\n{screen}")


def _wait_for_re(session: str, pattern: str, timeout: float = 15.0) -> str:
    import re

    end = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < end:
        screen = _capture(session)
        if re.search(pattern, screen):
            return screen
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} never appeared; screen:\n{screen}")


@pytest.fixture
def session():
    name = f"oomtui-test-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_oomtui_in_tmux(session):
    exe = str(OOMTUI) if OOMTUI.exists() else f"{sys.executable} -m oomtui.cli"
    env = "-u COLUMNS -u LINES TERM=xterm-256color TEXTUAL_ANIMATIONS=none"  # COLUMNS would fix the app at 80
    subprocess.run(["tmux", "new-session", "-d", "-x", "120", "-y", "36", "-s", session,
                    f"env {env} {exe} play frozen-robust-holder --paused"], check=True)
    # with window-size "latest" and no client, tmux may fall back to 80x24: pin the size
    subprocess.run(["tmux", "set-option", "-t", session, "window-size", "manual"], capture_output=True)
    subprocess.run(["tmux", "resize-window", "-t", session, "-x", "120", "-y", "36"], capture_output=True)
    screen = _wait_for(session, "╭─ Processes")  # the wide layout (the compact one has no corners)
    _wait_for(session, "space to close")  # every scene opens on its briefing (--paused: space only closes it)
    subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
    # PAUSED is up from the start (--paused); the briefing has closed once the dmesg panel shows
    screen = _wait_for(session, "dmesg")
    assert "PAUSED" in screen and "A v1-frozen victim" in screen and "dmesg" in screen
    # select loader (the tree starts on init: down x4 -> loader) and SIGKILL it
    subprocess.run(["tmux", "send-keys", "-t", session, "Down", "Down", "Down", "Down", "k"], check=True)
    screen = _wait_for(session, "kill -KILL 300")
    _wait_for(session, "dying")
    # sysrq-f: the OOM killer picks app; its reaper timer shows up
    subprocess.run(["tmux", "send-keys", "-t", session, "o"], check=True)
    screen = _wait_for(session, "VICTIM")
    assert "app 100" in screen
    subprocess.run(["tmux", "send-keys", "-t", session, "?"], check=True)
    _wait_for(session, "what it does")
    subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
    end = time.monotonic() + 10
    while "what it does" in _capture(session) and time.monotonic() < end:
        time.sleep(0.05)
    subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        r = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True)
        if r.returncode != 0:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("oomtui did not quit on q")


def _start(session: str, cmd: str, w: int, h: int) -> None:
    subprocess.run(["tmux", "new-session", "-d", "-x", str(w), "-y", str(h), "-s", session, cmd], check=True)
    subprocess.run(["tmux", "set-option", "-t", session, "window-size", "manual"], capture_output=True)
    subprocess.run(["tmux", "resize-window", "-t", session, "-x", str(w), "-y", str(h)], capture_output=True)


def _keys(session: str, *keys: str, literal: bool = False) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, *(["-l", "--"] if literal else []), *keys], check=True)


def _quits(session: str) -> None:
    end = time.monotonic() + 10
    while subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0:
        assert time.monotonic() < end, "oomtui did not quit on q"
        time.sleep(0.05)


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 50)])
def test_a_newcomer_wins_first_oom_from_the_briefing_alone(session, tmp_path, size):
    """`oomtui` alone, as a newcomer: the briefing names the keys; following it wins the scene, the
    teach cards explain each kernel decision on the way, and q quits from the result screen."""
    exe = str(OOMTUI) if OOMTUI.exists() else f"{sys.executable} -m oomtui.cli"
    env = f"-u COLUMNS -u LINES TERM=xterm-256color TEXTUAL_ANIMATIONS=none XDG_STATE_HOME={tmp_path}"
    _start(session, f"env {env} {exe}", *size)
    screen = _wait_for(session, "space to start")
    assert "BRIEFING" in screen and "t=  0.000s" in screen and "db (pid 100) survives" in screen
    assert "press a" in screen and "-500" in screen  # what to do (the lines wrap anywhere)
    screen = _wait_for(session, "q quit")  # the footer paints a moment later
    assert "? help" in screen
    time.sleep(0.5)
    assert "t=  0.000s" in _capture(session)  # the clock waits for the player
    # what the briefing says: select db (two rows down from init and its thread), a, -500, enter
    _keys(session, "Down", "Down", "a")
    _wait_for(session, "oom_score_adj of db 100")
    _keys(session, "-500", literal=True)
    _keys(session, "Enter")
    _wait_for_re(session, r"100 db\s+-500")  # the tree shows the new oom_score_adj
    _keys(session, "Space")  # start
    _wait_for(session, "RUNNING")
    cards = []
    end = time.monotonic() + 60
    while time.monotonic() < end:
        screen = _capture(session)
        if "YOU WON" in screen or "NOT THIS TIME" in screen:
            break
        if "space continues" in screen:
            cards.append(screen)
            _keys(session, "Space")
            time.sleep(0.3)
        time.sleep(0.1)
    assert "YOU WON" in screen, screen
    assert any("out_of_memory() chose a victim" in c for c in cards), cards
    _keys(session, "q")  # from the result screen
    _quits(session)
    best = json.loads((tmp_path / "oomtui" / "scores.json").read_text())
    assert best["first-oom"]["won"] is True


def test_esc_looks_around_before_starting_and_e_ends_from_any_state(session, tmp_path):
    exe = str(OOMTUI) if OOMTUI.exists() else f"{sys.executable} -m oomtui.cli"
    env = f"-u COLUMNS -u LINES TERM=xterm-256color TEXTUAL_ANIMATIONS=none XDG_STATE_HOME={tmp_path}"
    _start(session, f"env {env} {exe}", 120, 36)
    _wait_for(session, "space to start")
    _keys(session, "Escape")
    screen = _wait_for(session, "PAUSED")
    end = time.monotonic() + 10  # the status bar and the panels may reach the terminal in two writes
    while "Briefing" in screen and time.monotonic() < end:
        time.sleep(0.05)
        screen = _capture(session)
    assert "Briefing" not in screen and "t=  0.000s" in screen and "dmesg" in screen
    _keys(session, "e")
    screen = _wait_for(session, "Which kernel would have saved you")
    assert "NOT THIS TIME" in screen
    _keys(session, "Escape")
    end = time.monotonic() + 10
    while "Which kernel would have saved you" in _capture(session):
        assert time.monotonic() < end, "esc did not close the result screen"
        time.sleep(0.05)
    _keys(session, "q")
    _quits(session)


def test_ctrl_c_exits_130_and_leaves_the_terminal_as_it_found_it(session, tmp_path):
    """Ctrl-C in the view (here on the scene picker, a dialog): exit 130 with the CLI's one line, and the
    shell after it gets a normal terminal: the main screen, the cursor shown, no mouse reporting, typed
    text echoed."""
    exe = str(OOMTUI) if OOMTUI.exists() else f"{sys.executable} -m oomtui.cli"
    env = f"-u COLUMNS -u LINES TERM=xterm-256color TEXTUAL_ANIMATIONS=none XDG_STATE_HOME={tmp_path}"
    _start(session, f"sh -c 'env {env} {exe}; echo EXIT=$?; exec sh'", 80, 24)
    _wait_for(session, "space to start")
    _keys(session, "s")
    _wait_for(session, "esc cancel")
    _keys(session, "C-c")
    screen = _wait_for(session, "EXIT=")
    assert "oomtui: interrupted\nEXIT=130" in screen and "Traceback" not in screen
    flags = subprocess.run(["tmux", "display", "-p", "-t", session,
                            "#{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_button_flag} "
                            "#{mouse_standard_flag} #{mouse_sgr_flag}"], capture_output=True, text=True).stdout.split()
    assert flags == ["0", "1", "0", "0", "0", "0"], flags  # main screen, cursor on, no mouse modes
    _keys(session, "echo typed-$((6*7))", literal=True)
    _keys(session, "Enter")
    _wait_for(session, "typed-42")
