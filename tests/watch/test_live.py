"""The end-to-end: a real memcg OOM on this machine (root, cgroup v1, as the lab makes its groups) seen
by `oomtui watch`: the hog is the memcg's next victim before, and after the kill its event names it,
explained, the model agreeing. Skipped with the reason where the lab cannot run."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from oomtui.lab import cgroup
from oomtui.watch.app import WatchApp
from oomtui.watch.monitor import Monitor

MISSING = cgroup.missing_prerequisites()
pytestmark = pytest.mark.skipif(bool(MISSING), reason="a real memcg OOM needs " + "; ".join(MISSING))

# named oomtui-hog (prctl PR_SET_NAME); 16 MiB touched, then on "go" 1 MiB more at a time until killed
HOG = r"""
import ctypes, sys
ctypes.CDLL(None).prctl(15, b"oomtui-hog", 0, 0, 0)
sys.stdin.readline()
keep = [bytearray(16 << 20)]
print("ready", flush=True)
sys.stdin.readline()
while True:
    keep.append(bytearray(1 << 20))
"""


def test_a_real_memcg_oom_kill_is_shown_explained() -> None:
    groups = cgroup.LabGroups("watch", 48)
    groups.create()
    hog = None
    try:
        monitor = Monitor()  # kmsg opened at its end: only what happens from now on
        assert monitor.source is not None and monitor.source_note == "/dev/kmsg"
        hog = subprocess.Popen([sys.executable, "-c", HOG], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        groups.add(hog.pid)
        hog.stdin.write("in\n")
        hog.stdin.flush()
        assert hog.stdout.readline() == "ready\n"
        memcg = "/" + groups.memcg.name

        monitor.refresh()
        verdict = next(v for v in monitor.scores.verdicts if v.memcg == memcg)
        assert (verdict.victim, verdict.victim_comm, verdict.limit) == (hog.pid, "oomtui-hog", 48 << 20)
        me = monitor.procs[hog.pid]
        assert me.oom_score == monitor.scores.model[hog.pid]  # the kernel's oom_score is the model's

        hog.stdin.write("go\n")
        hog.stdin.flush()
        assert hog.wait(timeout=20) == -9
        mine = []  # other OOMs may happen meanwhile (a lab run elsewhere): the one that killed the hog

        async def screen() -> str:
            """The screen reads the report when /dev/kmsg has it (WatchApp._log_ready: no timer)."""
            async with WatchApp(monitor, 60.0).run_test(size=(120, 36)) as pilot:
                deadline = time.monotonic() + 5
                while not mine and time.monotonic() < deadline:
                    await pilot.pause(0.05)
                    mine[:] = [e for e in monitor.events if e.victim and e.victim[0] == hog.pid]
                return pilot.app.events_panel.plain()

        shown = asyncio.run(screen())
        [event] = mine
        assert f"killed oomtui-hog ({hog.pid})" in shown
        assert event.victim == (hog.pid, "oomtui-hog")
        assert event.memcg == memcg and event.explanation.agree
        assert event.summary() == f"OOM in memcg {memcg}: killed oomtui-hog ({hog.pid}); model agrees"
    finally:
        if hog is not None and hog.poll() is None:
            hog.kill()
            hog.wait()
        groups.teardown()
    assert not groups.memcg.exists()
