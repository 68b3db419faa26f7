"""Real OOM kills as the kernel prints them: kernel log lines grouped into reports, each explained.

Lines come from /dev/kmsg (oomtui.lab.kmsg), or from `journalctl -k -f` where kmsg cannot be opened
(dmesg_restrict for an unprivileged user; the journal may still be readable through the systemd-journal
group). A report runs from "invoked oom-killer" to its "Killed process" line (or "no killable
processes"); it is then parsed and explained by `oomtui explain`'s own code (importers.report,
importers.explain), and a later "oom_reaper:" line about the victim is attached to it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable

import msgspec

from ..errors import UserError
from ..importers.explain import Explanation, explain_report
from ..importers.report import parse_reports
from ..lab.kmsg import Kmsg, KmsgLine
from .reader import within

_INVOKED = re.compile(r" invoked oom-killer: ")
_END = re.compile(r"Killed process \d+ |Out of memory and no killable processes")
_REAPER = re.compile(r"^oom_reaper: (?:reaped process |unable to reap pid:)(\d+)")
MAX_REPORT_LINES = 50_000  # a task dump of tens of thousands of processes; beyond it a lost end is assumed


class OomEvent(msgspec.Struct):
    usec: int  # printk time of the "invoked oom-killer" line, µs since boot
    lines: list[str]  # the report as printed
    explanation: Explanation
    memcg: str | None = None  # the memcg whose limit was hit ("oom_memcg=" of the oom-kill: line)
    reaper: list[str] = []  # "oom_reaper: reaped process ..." lines about the victim

    @property
    def text(self) -> str:
        return "\n".join(self.lines + self.reaper) + "\n"

    @property
    def victim(self) -> tuple[int, str] | None:
        v = self.explanation.kernel_victim
        return (v.pid, v.comm) if v else None

    def summary(self) -> str:
        """One line: what the kernel killed, where, and whether the model agrees."""
        e = self.explanation
        if e.constraint == "CONSTRAINT_MEMCG":
            where = f"memcg {self.memcg}" if self.memcg else "a memcg"
        else:
            where = "sysrq-f" if e.manual else "the whole machine"
        if e.kernel_victim is None:
            return f"OOM in {where}: nothing killed (no killable process)"
        v = e.kernel_victim
        verdict = ("model agrees" if e.agree else
                   f"model picks {e.model_victim.comm} ({e.model_victim.pid})" if e.model_victim and e.compared else
                   "model cannot compare: " + (e.problems[0] if e.problems else "report incomplete"))
        return f"OOM in {where}: killed {v.comm} ({v.pid}); {verdict}"


class Collector:
    """Groups kernel lines into OOM reports; `feed` returns the reports that completed. `only` (watch
    --cgroup): a memcg OOM elsewhere is left out; an OOM of the whole machine concerns every group."""

    def __init__(self, only: str | None = None) -> None:
        self.only = only
        self.pending: list[KmsgLine] | None = None  # since the last "invoked oom-killer"
        self.events: list[OomEvent] = []

    def feed(self, lines: Iterable[KmsgLine]) -> list[OomEvent]:
        done = []
        for line in lines:
            t = line.text
            if _INVOKED.search(t):
                self.pending = [line]
                continue
            if (m := _REAPER.match(t)) is not None:
                pid = int(m.group(1))
                for e in reversed(self.events):
                    if e.victim and e.victim[0] == pid:
                        e.reaper.append(t)
                        break
            if self.pending is None:
                continue
            self.pending.append(line)
            if _END.search(t):
                if (event := self._close(self.pending)) is not None:
                    done.append(event)
                self.pending = None
            elif len(self.pending) > MAX_REPORT_LINES:
                self.pending = None
        return done

    def _close(self, lines: list[KmsgLine]) -> OomEvent | None:
        texts = [x.text for x in lines]
        reports = parse_reports("\n".join(texts))
        memcg = reports[0].oom_memcg
        if self.only is not None and memcg is not None and not within(memcg, self.only):
            return None
        event = OomEvent(lines[0].usec, texts, explain_report(reports[0]), memcg)
        self.events.append(event)
        return event


# --- where the lines come from -------------------------------------------------------------------
def boot_time() -> float:
    """The wall-clock time of boot (printk's µs since boot + this = when)."""
    with open("/proc/uptime") as f:
        return time.time() - float(f.read().split()[0])


_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)$")


def parse_since(text: str, now: float | None = None) -> float | None:
    """--since: "boot" (None: the whole ring buffer), "10m"/"2h"/"30s"/"1d" ago, "HH:MM[:SS]" today, or
    "YYYY-MM-DD HH:MM[:SS]"; returns the wall-clock time."""
    now = time.time() if now is None else now
    text = text.strip()
    if text == "boot":
        return None
    if m := _AGO.match(text):
        return now - float(m.group(1)) * {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}[m.group(2)]
    day = time.strftime("%Y-%m-%d ", time.localtime(now))
    for fmt, prefix in (("%Y-%m-%d %H:%M:%S", ""), ("%Y-%m-%d %H:%M", ""), ("%Y-%m-%d %H:%M:%S", day),
                        ("%Y-%m-%d %H:%M", day)):
        try:
            return time.mktime(time.strptime(prefix + text, fmt))
        except ValueError:
            continue
    raise UserError(f"--since {text!r}: expected boot, an age (30s, 10m, 2h, 1d), HH:MM[:SS] or "
                    "YYYY-MM-DD HH:MM[:SS]")


class KmsgSource:
    def __init__(self, since: float | None, everything: bool) -> None:
        self.kmsg = Kmsg(from_start=everything or since is not None, keep=False)
        self.since_usec = int((since - boot_time()) * 1e6) if since is not None else None

    def poll(self) -> list[KmsgLine]:
        lines = self.kmsg.poll()
        if self.since_usec is not None:
            lines = [x for x in lines if x.usec >= self.since_usec]
        return lines

    def fileno(self) -> int:
        """/dev/kmsg polls readable while a record is unread (devkmsg_poll()); poll() reads them all."""
        return self.kmsg.fd

    def close(self) -> None:
        self.kmsg.close()


_JOURNAL = re.compile(r"^\[\s*(\d+)\.(\d{6})\] (?:\S+ )?kernel: (.*)$")


def journal_line(text: str) -> KmsgLine | None:
    """One `journalctl -o short-monotonic --no-hostname` line: "[  123.456789] kernel: TEXT"."""
    m = _JOURNAL.match(text)
    return KmsgLine(int(m.group(1)) * 1_000_000 + int(m.group(2)), m.group(3)) if m else None


class JournalSource:
    def __init__(self, since: float | None, everything: bool) -> None:
        cmd = ["journalctl", "-k", "-f", "-o", "short-monotonic", "--no-hostname", "--no-pager", "-q"]
        cmd += ["-b", "-n", "all"] if everything else (["--since", f"@{int(since)}"] if since else ["-n", "0"])
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = b""

    def poll(self) -> list[KmsgLine]:
        assert self.proc.stdout is not None
        try:
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return []
        self.buf += chunk
        *full, self.buf = self.buf.split(b"\n")
        return [x for line in full if (x := journal_line(line.decode("utf-8", "replace"))) is not None]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a journalctl stuck on the journal's files: watch still quits
            self.proc.kill()
            self.proc.wait()


def open_source(since: float | None, everything: bool = False) -> tuple[KmsgSource | JournalSource | None, str]:
    """The kernel log, and what it is (or why there is none): /dev/kmsg, else journalctl."""
    try:
        return KmsgSource(since, everything), "/dev/kmsg"
    except OSError as e:
        why = f"/dev/kmsg: {e.strerror}" + (" (kernel.dmesg_restrict)" if e.errno in (1, 13) else "")
    if shutil.which("journalctl") is None:
        return None, f"{why}; no journalctl either: real OOM kills are not shown"
    return JournalSource(since, everything), f"journalctl -k -f ({why})"
