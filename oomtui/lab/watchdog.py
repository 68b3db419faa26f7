"""The lab's watchdog: removes a run's cgroups and processes when the lab dies, however it dies.

The lab starts it first, before any group exists, and keeps the write end of a pipe that is the
watchdog's stdin. A lab that finishes (its Sessions have removed their groups) writes `done` and
closes it; one that dies (an exception, or SIGKILL: the kernel closes its files in every case)
leaves the watchdog an EOF without `done`, and the watchdog removes every group named after the
lab's pid (cgroup.remove_groups: thaw, SIGKILL the members, rmdir).

It runs in its own session, ignores the terminal's SIGINT/SIGHUP (Ctrl-C in the lab must not kill
the one process that cleans up after it), and holds neither the caller's stdout nor its stderr,
so `oomtui lab X | cat` ends when the lab does.

Usage: `python -m oomtui.lab.watchdog LAB_PID` with the pipe on stdin.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

from .cgroup import remove_groups, run_groups
from .procs import PACKAGE_ROOT

DONE = b"done\n"


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Run the block under a watchdog for this process: whatever of this run the block leaves behind
    by dying (or by being killed) is removed."""
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "oomtui.lab.watchdog", str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd="/",
        start_new_session=True,
    )
    assert proc.stdin is not None
    try:
        yield
    except BaseException:
        proc.stdin.close()  # EOF alone: the watchdog removes what is left of this run
        raise
    with contextlib.suppress(BrokenPipeError):  # a watchdog that died has nothing to be told
        proc.stdin.write(DONE)  # the groups are gone; later groups of this process are not its business
        proc.stdin.close()


def _log(text: str) -> None:
    """A line in the kernel log (its stdout and stderr go nowhere): what it removed after a lab died."""
    try:
        fd = os.open("/dev/kmsg", os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.write(fd, f"oomtui-lab-watchdog: {text}\n".encode())
    except OSError:
        pass
    finally:
        os.close(fd)


def main(argv: list[str]) -> None:
    for s in (signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    lab_pid = int(argv[0])
    said = b""
    while chunk := os.read(0, 4096):  # until EOF: the lab has finished, or is gone
        said += chunk
    if said.endswith(DONE):
        return
    groups = run_groups(lab_pid)
    if not groups:
        return
    try:
        remove_groups(groups)
    except RuntimeError as e:
        _log(f"lab {lab_pid} died; {e}")
    else:
        _log(f"lab {lab_pid} died; removed {', '.join(map(str, groups))}")


if __name__ == "__main__":
    main(sys.argv[1:])
