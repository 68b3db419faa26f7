"""The real `oomtui` command in a real terminal (tmux): it draws, takes keys and quits."""

from __future__ import annotations

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
    screen = _wait_for(session, "PAUSED")
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


def test_oomtui_without_arguments_plays_the_first_story_scene(session, tmp_path):
    """`oomtui` alone: the first story scene, running, with its objective; e ends it on the result."""
    exe = str(OOMTUI) if OOMTUI.exists() else f"{sys.executable} -m oomtui.cli"
    env = f"-u COLUMNS -u LINES TERM=xterm-256color TEXTUAL_ANIMATIONS=none XDG_STATE_HOME={tmp_path}"
    subprocess.run(["tmux", "new-session", "-d", "-x", "120", "-y", "36", "-s", session, f"env {env} {exe}"],
                   check=True)
    subprocess.run(["tmux", "set-option", "-t", session, "window-size", "manual"], capture_output=True)
    subprocess.run(["tmux", "resize-window", "-t", session, "-x", "120", "-y", "36"], capture_output=True)
    screen = _wait_for(session, "Objective")
    assert "1. The first OOM kill" in screen and "db (pid 100) survives" in screen
    _wait_for(session, "RUNNING")
    subprocess.run(["tmux", "send-keys", "-t", session, "e"], check=True)
    screen = _wait_for(session, "Which kernel would have saved you")
    assert "NOT THIS TIME" in screen or "YOU WON" in screen
    subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)  # alone: ESC q reads as alt+q
    end = time.monotonic() + 10
    while "Which kernel would have saved you" in _capture(session):
        assert time.monotonic() < end, "esc did not close the result screen"
        time.sleep(0.05)
    subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
    end = time.monotonic() + 10
    while subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0:
        assert time.monotonic() < end, "oomtui did not quit on q"
        time.sleep(0.05)
    assert (tmp_path / "oomtui" / "scores.json").exists()
