"""The lab's child processes.

Protocol on stdin/stdout, one line each: the child prints `ready`, waits for `go` (the parent
first moves it into the lab's cgroups), does its job and reports with more lines. Every child
dies with its parent (PR_SET_PDEATHSIG) and on its own after MAX_LIFETIME_S, so a crashed lab
leaves nothing running. Stdlib only, to stay small.

Usage: `python -m oomtui.lab.child NAME ROLE [ARGS]`; NAME becomes the comm (`lab-NAME`) that dmesg shows.
Roles:
  hog MIB THREADS   touch MIB MiB of anonymous memory (0: until killed), print `done`, sleep
                    with THREADS-1 extra sleeping threads.
  owner FD          lock the robust mutex in the shared memory file FD (a memfd the lab passed down),
                    print `locked TID`, sleep.
  waiter FD SECS    print `waiting`, pthread_mutex_timedlock(SECS), print `result RC ELAPSED`, exit.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import signal
import sys
import threading
import time

MAX_LIFETIME_S = 120.0
CHUNK = 1 << 20
PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _sleep_forever() -> None:
    time.sleep(MAX_LIFETIME_S)
    os._exit(3)


def _hog(mib: int, threads: int) -> None:
    for _ in range(threads - 1):
        threading.Thread(target=_sleep_forever, daemon=True).start()
    chunks = []
    while mib == 0 or len(chunks) < mib:
        chunks.append(b"\x5a" * CHUNK)  # bytes() writes every page: real anon RSS
    _say("done")
    _sleep_forever()


def _map(fd: int) -> mmap.mmap:
    try:
        return mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED)
    finally:
        os.close(fd)


def _owner(fd: int) -> None:
    from oomtui.lab import pthread

    buf = _map(fd)
    rc = pthread.mutex_lock(buf)
    _say(f"locked {threading.get_native_id()} rc={rc}")
    _sleep_forever()


def _waiter(fd: int, seconds: float) -> None:
    from oomtui.lab import pthread

    buf = _map(fd)
    _say("waiting")
    t0 = time.monotonic()
    rc = pthread.mutex_timedlock(buf, seconds)
    _say(f"result {rc} {time.monotonic() - t0:.4f}")


def main(argv: list[str]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    name, role, args = argv[0], argv[1], argv[2:]
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(f"lab-{name}".encode()[:15]))  # the comm dmesg shows
    _say("ready")
    if sys.stdin.readline().strip() != "go":
        os._exit(1)
    if role == "hog":
        _hog(int(args[0]), int(args[1]))
    elif role == "owner":
        _owner(int(args[0]))
    elif role == "waiter":
        _waiter(int(args[0]), float(args[1]))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
