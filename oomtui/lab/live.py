"""`oomtui lab NAME --watch`: the experiment runs while `oomtui watch` shows its groups live, so that a
room sees the kernel decide (a presenter's real OOM on stage).

The lab itself runs as a child, `oomtui lab NAME --yes`, after runner.main asked here (the same plan
and y/N question; a screen needs a terminal anyway). The child keeps every safety rule of its own:
its watchdog removes its groups however it ends. It runs in a session of its own (the terminal's keys
belong to the screen), dies with this process (PR_SET_PDEATHSIG: SIGTERM, which the lab unwinds like
Ctrl-C), and is sent SIGTERM if the screen quits before the run ends. The screen watches every memcg
of the child's run (--cgroup /oomtui-lab-CHILD-*) and the kernel log from just before the child
started; when the run ends it says how, and stays until q. Then the child's report is printed as
`oomtui lab NAME` prints it, and its exit status is this command's.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from .cgroup import run_prefix
from .procs import PACKAGE_ROOT

PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_S = 30.0  # a stopped lab thaws, kills and removes its groups: seconds at most


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the process that started it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class LabRun:
    """The child `oomtui lab ... --yes`: its report goes to a private temporary file, its progress lines
    ("running NAME ...", or its one-line refusal) to a pipe read without blocking."""

    def __init__(self, argv: list[str]) -> None:
        self.started = time.time()  # the kernel log is watched from here on
        self.names = [a for a in argv if not a.startswith("-")] or ["every experiment"]
        self.report = tempfile.TemporaryFile()
        env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, COLUMNS=str(shutil.get_terminal_size().columns))
        if sys.stdout.isatty():
            env["FORCE_COLOR"] = "1"  # its report ends up on this terminal
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "oomtui", "lab", *argv, "--yes"], stdin=subprocess.DEVNULL, stdout=self.report,
            stderr=subprocess.PIPE, env=env, start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
        assert self.proc.stderr is not None
        os.set_blocking(self.proc.stderr.fileno(), False)
        self.lines: list[str] = []  # what it wrote on stderr
        self._buf = b""
        self.stopped = False

    @property
    def cgroup(self) -> str:
        """Every memcg of the child's run (LabGroups names them after its pid)."""
        return "/" + run_prefix(self.proc.pid) + "*"

    def poll(self) -> int | None:
        """Its exit status once it ended, None while it runs; its stderr read so far."""
        assert self.proc.stderr is not None
        try:
            while chunk := os.read(self.proc.stderr.fileno(), 4096):
                self._buf += chunk
        except BlockingIOError:
            pass
        *full, self._buf = self._buf.split(b"\n")
        self.lines += [x.decode("utf-8", "replace") for x in full if x.strip()]
        return self.proc.poll()

    def state(self) -> str:
        """One phrase for the status line and the notice: what it is doing, or how it ended."""
        code = self.proc.returncode
        if code is None:
            doing = self.lines[-1].removesuffix(" ...") if self.lines else "starting"
            return f"lab {doing}"
        if self.stopped:
            return "lab stopped before it ended (its groups are removed)"
        if code == 0:
            return "lab ended: the model agrees on every fact (q: its report)"
        why = next((x for x in reversed(self.lines) if x.startswith("oomtui:")), None)
        if code == 1:
            return "lab ended: a disagreement with the model, or a failure (q: its report)"
        return f"lab ended with status {code}" + (f": {why.removeprefix('oomtui: ')}" if why else "")

    def stop(self) -> int:
        """Wait for it, after a SIGTERM if it still runs (the lab then removes its groups and exits)."""
        if self.proc.poll() is None:
            self.stopped = True
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:  # its watchdog removes the groups once it is gone
            self.proc.kill()
            code = self.proc.wait()
        self.poll()
        return code

    def output(self) -> bytes:
        self.report.seek(0)
        return self.report.read()


INTERVAL_S = 0.25  # a lab's few processes are read in well under a ms; its hog lives for a fraction of a second


def run_watched(argv: list[str], interval: float = INTERVAL_S) -> int:
    """The child lab under the watch screen; then its report. The caller asked first and checked the terminal."""
    from ..watch.app import WatchApp
    from ..watch.monitor import Monitor

    since = time.time()
    lab = LabRun(argv)
    try:
        monitor = Monitor(cgroup=lab.cgroup, since=since)
        try:
            WatchApp(monitor, interval, lab=lab).run()
        finally:
            monitor.close()
    finally:
        if lab.proc.poll() is None:
            print("oomtui: stopping the lab (it removes its groups and processes) ...", file=sys.stderr, flush=True)
        code = lab.stop()
    sys.stdout.flush()
    sys.stdout.buffer.write(lab.output())
    sys.stdout.flush()
    for line in lab.lines:
        if not line.startswith("running ") and not (lab.stopped and line == "oomtui: interrupted"):
            print(line, file=sys.stderr)
    if lab.stopped:
        print("oomtui: the lab was stopped before it ended; its groups and processes are removed", file=sys.stderr)
    return code if code >= 0 else 1
