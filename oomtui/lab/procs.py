"""Child processes of the lab, /proc reads and the process_mrelease(2) syscall (ctypes)."""

from __future__ import annotations

import ctypes
import errno
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec

SYS_PROCESS_MRELEASE = 448  # x86_64 (and every arch using the unified numbering since 5.1)
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding oomtui/


class Call(msgspec.Struct):
    """One syscall: its return value, the errno name ("OK" when it succeeded) and how long it took."""

    ret: int
    errno: str
    ms: float


def errno_name(code: int) -> str:
    return errno.errorcode.get(code, str(code))


def process_mrelease(pidfd: int) -> Call:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    t0 = time.perf_counter()
    ret = int(libc.syscall(ctypes.c_long(SYS_PROCESS_MRELEASE), ctypes.c_int(pidfd), ctypes.c_uint(0)))
    ms = (time.perf_counter() - t0) * 1000
    return Call(ret, "OK" if ret == 0 else errno_name(ctypes.get_errno()), round(ms, 3))


def thread_states(pid: int) -> list[str]:
    """One-letter state of every thread (D for a v1-frozen task, S sleeping, Z zombie ...)."""
    states = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []
    for tid in sorted(tids, key=int):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        states.append(stat.rpartition(")")[2].split()[0])
    return states


class ChildError(RuntimeError):
    pass


class Child:
    """A `python -m oomtui.lab.child NAME ROLE ARGS` process with a pidfd and line I/O with timeouts."""

    def __init__(self, name: str, role: str, *args: object, pass_fds: tuple[int, ...] = ()) -> None:
        env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PYTHONDONTWRITEBYTECODE="1")
        self.name = name
        # stderr joins the pipe to the lab (a traceback shows up as the child's unexpected line): a child,
        # frozen or not, never holds the caller's stdout or stderr
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "oomtui.lab.child", name, role, *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=pass_fds,
            env=env,
            cwd="/",
        )
        self.pid = self.proc.pid
        self.pidfd = os.pidfd_open(self.pid)
        self._buf = b""

    def readline(self, timeout: float) -> str:
        """The next line the child printed; ChildError if none comes within `timeout` s or it died."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise ChildError(f"lab-{self.name} (pid {self.pid}) said nothing within {timeout:g} s")
            data = os.read(fd, 4096)
            if not data:
                raise ChildError(f"lab-{self.name} (pid {self.pid}) exited unexpectedly")
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode()

    def expect(self, word: str, timeout: float) -> str:
        line = self.readline(timeout)
        if not line.startswith(word):
            raise ChildError(f"lab-{self.name} (pid {self.pid}) said {line!r}, expected {word!r}")
        return line

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def wait_exit(self, timeout: float) -> float | None:
        """Seconds until the process exits (pidfd becomes readable), None if still alive after `timeout`."""
        t0 = time.monotonic()
        if not select.select([self.pidfd], [], [], timeout)[0]:
            return None
        return time.monotonic() - t0

    def signal_name(self) -> str | None:
        """How a reaped child ended: "SIGKILL", "exit 0" ... (None while alive)."""
        rc = self.proc.poll()
        if rc is None:
            return None
        return signal.Signals(-rc).name if rc < 0 else f"exit {rc}"

    def close(self) -> None:
        """Kill (if still running), reap and release everything. Safe to call twice."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass  # still frozen: the cgroup teardown thaws it, then reaps it
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None and not f.closed:
                try:
                    f.close()
                except BrokenPipeError:
                    pass
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
