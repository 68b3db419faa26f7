"""Kernel log records written after the lab started, read from /dev/kmsg.

Opening /dev/kmsg and seeking to its end starts after the newest record, so no marker line is
needed; each read() returns one record `prio,seq,usec,flags[,...];text` (Documentation/ABI/testing/dev-kmsg).
"""

from __future__ import annotations

import errno
import os
import re
import select
import time
from collections.abc import Callable, Iterable

import msgspec

from .formats import report_lines

_KILLED = re.compile(r"Killed process (\d+) \(")
_SUMMARY = re.compile(r"^oom-kill:.*,pid=(\d+),")
_REAPED = re.compile(r"^oom_reaper: (?:reaped process |unable to reap pid:)(\d+)")
_INVOKED = re.compile(r"^(\S+) invoked oom-killer:")


class KmsgLine(msgspec.Struct):
    usec: int  # printk timestamp, microseconds since boot
    text: str


class Kmsg:
    """`from_start`: the oldest record still in the ring buffer first, rather than the next one written.
    `keep`: poll() also keeps every line in `lines` (a long `oomtui watch` does not)."""

    def __init__(self, from_start: bool = False, keep: bool = True) -> None:
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        if not from_start:
            os.lseek(self.fd, 0, os.SEEK_END)
        self.keep = keep
        self.lines: list[KmsgLine] = []

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def poll(self) -> list[KmsgLine]:
        """Read every record available now (non-blocking); returns the new ones."""
        new = []
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EPIPE:  # ring buffer overran our position: skip ahead
                    continue
                raise
            head, _, text = rec.decode(errors="replace").partition(";")
            fields = head.split(",")
            new.append(KmsgLine(int(fields[2]), text.split("\n", 1)[0]))
        if self.keep:
            self.lines.extend(new)
        return new

    def wait_for(self, pred: Callable[[KmsgLine], bool], timeout: float) -> KmsgLine | None:
        """The first (already read or new) line matching `pred`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            self.poll()
            for line in self.lines[seen:]:
                if pred(line):
                    return line
            seen = len(self.lines)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            select.select([self.fd], [], [], left)


class OomLines(msgspec.Struct):
    """The OOM lines that concern the lab's own processes: the key lines by kind, and `report`, every
    line of the OOM reports about them (formats.report_lines) for the line-by-line format comparison."""

    invoked: list[str] = []
    oom_kill: list[str] = []
    killed: list[str] = []
    reaper: list[str] = []
    report: list[str] = []

    def all(self) -> list[str]:
        return [*self.invoked, *self.oom_kill, *self.killed, *self.reaper]


def oom_lines(lines: Iterable[KmsgLine], pids: set[int], comms: set[str]) -> OomLines:
    """Keep the OOM killer/reaper lines that name one of `pids` (or, for the header line that
    only has a comm, one of `comms`)."""
    lines = list(lines)
    out = OomLines(report=report_lines((line.text for line in lines), pids))
    for line in lines:
        t = line.text
        if (m := _SUMMARY.match(t)) and int(m.group(1)) in pids:
            out.oom_kill.append(t)
        elif (m := _KILLED.search(t)) and int(m.group(1)) in pids:
            out.killed.append(t)
        elif (m := _REAPED.match(t)) and int(m.group(1)) in pids:
            out.reaper.append(t)
        elif (m := _INVOKED.match(t)) and m.group(1) in comms:
            out.invoked.append(t)
    return out


def killed_pid(line: KmsgLine) -> int | None:
    m = _KILLED.search(line.text)
    return int(m.group(1)) if m else None


def reaper_pid(line: KmsgLine) -> int | None:
    m = _REAPED.match(line.text)
    return int(m.group(1)) if m else None
