"""The lab's child processes.

Protocol on stdin/stdout, one line each: the child prints `ready`, waits for `go` (the parent
first moves it into the lab's cgroups), does its job and reports with more lines. Every child
dies with its parent (PR_SET_PDEATHSIG) and on its own after MAX_LIFETIME_S, so a crashed lab
leaves nothing running. Stdlib only, to stay small.

Usage: `python -m oomtui.lab.child NAME ROLE [ARGS]`; NAME becomes the comm (`lab-NAME`) that dmesg shows.
Roles:
  hog MIB THREADS   touch MIB MiB of anonymous memory (0: until killed), print `done`, sleep
                    with THREADS-1 extra sleeping threads.
  owner FD [MIB [HOLDER]]
                    lock the robust mutex in the shared memory file FD (a memfd the lab passed down) in
                    the main thread (HOLDER `main`) or a second thread (`thread`), touch MIB MiB, print
                    `locked TID`, sleep.
  waiter FD SECS    print `waiting`, pthread_mutex_timedlock(SECS), print `result RC ELAPSED`, exit.
  sharer MIB        touch MIB MiB, clone(CLONE_VM) a sibling process (comm lab-sibling) that shares the
                    mm and only sleeps, print `sibling PID`, sleep.
  vforker FD MIB    touch MIB MiB; a second thread (comm lab-vfork) locks the robust mutex in FD, prints
                    `vforking TID`, then clone(CLONE_VM|CLONE_VFORK)s a child that only sleeps: the thread
                    waits for it in wait_for_vfork_done() (state D, killable) until the child exits.
  exec PATH ARGS    execv(PATH, ARGS) (a program the lab built; it inherits the cgroups).
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
CLONE_VM = 0x100
CLONE_VFORK = 0x4000
SYS_PAUSE = 34  # x86_64
STACK_SIZE = 64 << 10
_KEEP: list[mmap.mmap] = []


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _sleep_forever(keep: object = None) -> None:
    """Sleep until killed (or MAX_LIFETIME_S); `keep` (the memory a role touched) stays referenced."""
    time.sleep(MAX_LIFETIME_S)
    os._exit(3)


def _touch(mib: int) -> list[bytes]:
    chunks = []
    while mib == 0 or len(chunks) < mib:
        chunks.append(b"\x5a" * CHUNK)  # bytes() writes every page: real anon RSS
    return chunks


def _hog(mib: int, threads: int) -> None:
    for _ in range(threads - 1):
        threading.Thread(target=_sleep_forever, daemon=True).start()
    chunks = _touch(mib)
    _say("done")
    _sleep_forever(chunks)


def _clone_sleeper(flags: int) -> int:
    """clone(flags|SIGCHLD) a process that runs no Python: on a stack of its own it calls
    syscall(SYS_pause) with every signal blocked (inherited), so only SIGKILL ends it and it touches
    nothing of the mm it may share. It gets the calling thread's comm. Returns its pid (with
    CLONE_VFORK: once it has exited)."""
    libc = ctypes.CDLL(None, use_errno=True)
    stack = mmap.mmap(-1, STACK_SIZE)
    _KEEP.append(stack)  # its pages stay mapped for as long as the sleeper runs
    # syscall() reads a seventh argument from above its return address: leave the top 256 bytes unused
    top = ctypes.addressof(ctypes.c_char.from_buffer(stack)) + STACK_SIZE - 256
    entry = ctypes.cast(libc.syscall, ctypes.c_void_p)
    libc.clone.restype = ctypes.c_int
    libc.clone.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        pid = libc.clone(entry, top, flags | signal.SIGCHLD, SYS_PAUSE)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    if pid < 0:
        raise OSError(ctypes.get_errno(), "clone failed")
    return pid


def _set_comm(comm: str) -> None:
    """The calling thread's comm (the process's, in the main thread): what dmesg shows, what clone copies."""
    ctypes.CDLL(None).prctl(PR_SET_NAME, ctypes.c_char_p(comm.encode()[:15]))


def _sharer(name: str, mib: int) -> None:
    chunks = _touch(mib)
    _set_comm("lab-sibling")
    sibling = _clone_sleeper(CLONE_VM)
    _set_comm(f"lab-{name}")
    _say(f"sibling {sibling}")
    _sleep_forever(chunks)


def _map(fd: int) -> mmap.mmap:
    try:
        return mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED)
    finally:
        os.close(fd)


def _owner(fd: int, mib: int, holder: str) -> None:
    from oomtui.lab import pthread

    buf = _map(fd)
    chunks = _touch(mib) if mib else []

    def lock() -> None:
        rc = pthread.mutex_lock(buf)
        _say(f"locked {threading.get_native_id()} rc={rc}")
        _sleep_forever()

    if holder == "thread":
        threading.Thread(target=lock, daemon=True).start()
        _sleep_forever(chunks)
    lock()


def _vforker(fd: int, mib: int) -> None:
    from oomtui.lab import pthread

    buf = _map(fd)
    chunks = _touch(mib)

    def hold_and_vfork() -> None:
        # a second thread: it stays blocked in vfork() under the comm it gives the child, while the
        # process keeps its own (dmesg names the process by its main thread)
        _set_comm("lab-vfork")
        rc = pthread.mutex_lock(buf)
        _say(f"vforking {threading.get_native_id()} rc={rc}")
        _clone_sleeper(CLONE_VM | CLONE_VFORK)  # returns when the sleeper is killed
        _sleep_forever()

    threading.Thread(target=hold_and_vfork, daemon=True).start()
    _sleep_forever(chunks)


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
        _owner(int(args[0]), int(args[1]) if len(args) > 1 else 0, args[2] if len(args) > 2 else "main")
    elif role == "sharer":
        _sharer(name, int(args[0]))
    elif role == "vforker":
        _vforker(int(args[0]), int(args[1]))
    elif role == "exec":
        os.execv(args[0], args)
    elif role == "waiter":
        _waiter(int(args[0]), float(args[1]))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
