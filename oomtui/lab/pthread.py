"""A glibc robust, process-shared pthread mutex driven through ctypes (x86_64 glibc layout).

Used by the lab parent (to initialise the mutex in a shared page) and by its child processes
(to lock it / wait on it). Stdlib only: child processes import this module too.
"""

from __future__ import annotations

import ctypes
import time

PTHREAD_MUTEX_T_SIZE = 40  # sizeof(pthread_mutex_t), x86_64 glibc
PTHREAD_MUTEXATTR_T_SIZE = 4  # sizeof(pthread_mutexattr_t), x86_64 glibc
PTHREAD_PROCESS_SHARED = 1
PTHREAD_MUTEX_ROBUST = 1

# The futex word is the first int of pthread_mutex_t (__data.__lock): the owner's TID plus the
# kernel's FUTEX_WAITERS / FUTEX_OWNER_DIED bits (kernel/futex/core.c handle_futex_death).
FUTEX_WAITERS = 0x80000000
FUTEX_OWNER_DIED = 0x40000000
FUTEX_TID_MASK = 0x3FFFFFFF


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _libc() -> ctypes.CDLL:
    # CDLL(None): the process's global namespace; libc.so.6 has the pthread symbols since glibc 2.34,
    # older ones get them from libpthread, which the Python binary links.
    return ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        raise OSError(rc, f"{what} failed")


def _mutex(buf: object) -> ctypes.Array[ctypes.c_char]:
    """The pthread_mutex_t at offset 0 of a writable buffer (an mmap of the shared page)."""
    return (ctypes.c_char * PTHREAD_MUTEX_T_SIZE).from_buffer(buf)  # type: ignore[arg-type]


def mutex_init(buf: object) -> None:
    """Initialise a robust, process-shared mutex at offset 0 of a writable buffer (an mmap)."""
    libc = _libc()
    attr = ctypes.create_string_buffer(PTHREAD_MUTEXATTR_T_SIZE)
    mutex = _mutex(buf)
    _check(libc.pthread_mutexattr_init(attr), "pthread_mutexattr_init")
    _check(libc.pthread_mutexattr_setpshared(attr, PTHREAD_PROCESS_SHARED), "pthread_mutexattr_setpshared")
    _check(libc.pthread_mutexattr_setrobust(attr, PTHREAD_MUTEX_ROBUST), "pthread_mutexattr_setrobust")
    _check(libc.pthread_mutex_init(ctypes.byref(mutex), attr), "pthread_mutex_init")
    libc.pthread_mutexattr_destroy(attr)
    del mutex


def mutex_lock(buf: object) -> int:
    """pthread_mutex_lock; returns its error number (0 on success)."""
    libc = _libc()
    mutex = _mutex(buf)
    return int(libc.pthread_mutex_lock(ctypes.byref(mutex)))


def mutex_timedlock(buf: object, timeout_s: float) -> int:
    """pthread_mutex_timedlock with a CLOCK_REALTIME deadline `timeout_s` from now.

    Returns 0, EOWNERDEAD (130: the owner died and the kernel's robust-list walk marked the
    mutex OWNER_DIED; the lock is then made consistent and released) or ETIMEDOUT (110).
    """
    libc = _libc()
    mutex = _mutex(buf)
    deadline = time.time() + timeout_s
    ts = _Timespec(int(deadline), int((deadline % 1) * 1e9))
    rc = int(libc.pthread_mutex_timedlock(ctypes.byref(mutex), ctypes.byref(ts)))
    if rc == 130:  # EOWNERDEAD: we own it now; leave it usable
        libc.pthread_mutex_consistent(ctypes.byref(mutex))
        libc.pthread_mutex_unlock(ctypes.byref(mutex))
    elif rc == 0:
        libc.pthread_mutex_unlock(ctypes.byref(mutex))
    return rc


def futex_word(buf: bytes | bytearray | memoryview) -> int:
    """The mutex's futex word (__lock), read from the shared page."""
    return int.from_bytes(bytes(buf[0:4]), "little")
