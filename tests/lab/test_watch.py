"""`oomtui lab NAME --watch` (issue 12, section 3). The real run (root, cgroup v1, tmux; skipped with the
reason elsewhere): in a terminal, memcg-oom runs while the watch screen shows its OOM kill explained,
says when the run ended and stays until q; then the lab's report is printed and nothing of the run is
left. Without a terminal it refuses before anything is created, --yes or not."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from oomtui.lab.cgroup import run_groups

from .test_lab import ROOT, _cli, needs_lab


def test_watch_is_neither_json_nor_model_only() -> None:
    for extra in ("--json", "--model-only"):
        proc = _cli("lab", "memcg-oom", "--watch", "--yes", extra)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr == "oomtui: --watch shows a real run on the screen: not with --json or --model-only\n"


@needs_lab
def test_watch_without_a_terminal_refuses_even_with_yes() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "oomtui.cli", "lab", "memcg-oom", "--watch", "--yes"], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == ""
    assert err.startswith("oomtui: the interactive view needs a terminal") and err.count("\n") == 1
    assert run_groups(proc.pid) == []


def _screen(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def _wait(session: str, pattern: str, timeout: float = 30.0) -> re.Match[str]:
    end = time.monotonic() + timeout
    while True:
        screen = _screen(session)
        if (m := re.search(pattern, screen)) is not None:
            return m
        if time.monotonic() > end:
            raise AssertionError(f"{pattern!r} never appeared; screen:\n{screen}")
        time.sleep(0.1)


@needs_lab
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_lab_watch_shows_the_real_oom_explained_then_the_report() -> None:
    session = f"oomtui-labwatch-{uuid.uuid4().hex[:8]}"
    env = "-u COLUMNS -u LINES TERM=xterm-256color TEXTUAL_ANIMATIONS=none"
    cmd = f"cd {ROOT} && env {env} {sys.executable} -m oomtui.cli lab memcg-oom --watch --yes; echo EXIT=$?; sleep 60"
    subprocess.run(["tmux", "new-session", "-d", "-x", "160", "-y", "40", "-s", session, cmd], check=True)
    try:
        subprocess.run(["tmux", "set-option", "-t", session, "window-size", "manual"], capture_output=True)
        subprocess.run(["tmux", "resize-window", "-t", session, "-x", "160", "-y", "40"], capture_output=True)
        _wait(session, r"lab ended: the model agrees on every fact \(q: its report\)")
        time.sleep(1.5)
        assert "lab ended" in _screen(session)  # it stays until q
        # the kill in the list of real OOM kills (another memcg's OOM is not listed): open its explanation
        subprocess.run(["tmux", "send-keys", "-t", session, "Tab", "Enter"], check=True)
        _wait(session, r"r replays it in the game")
        screen = _screen(session)
        kill = re.search(r"OOM in memcg /oomtui-lab-(\d+)-memcg-oom: killed lab-hog \((\d+)\); model agrees", screen)
        assert kill is not None and "cause:" in screen, screen
        child = int(kill.group(1))
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        time.sleep(0.5)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        _wait(session, r"EXIT=0")
        screen = " ".join(_screen(session).split())
        assert "The model reproduces every fact of the real run." in screen
        assert f"Killed process {kill.group(2)} (lab-hog)" in screen
        assert run_groups(child) == []
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
