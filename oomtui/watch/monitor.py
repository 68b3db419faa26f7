"""`oomtui watch` without the screen: read the machine, weigh the next victims, collect real OOM kills.

The TUI (watch/app.py) and benchmarks/watch.py drive a Monitor: `refresh()` each interval, `poll()` for
kernel log lines. It also serves as the game widgets' engine: `k` is the model kernel of the last
reading, so the game's process tree draws the real machine.
"""

from __future__ import annotations

import os
from collections import deque

from ..errors import UserError
from .events import Collector, JournalSource, KmsgSource, OomEvent, boot_time, open_source
from .reader import Proc, Reader, Reading
from .victims import Model, Scores

HISTORY = 120  # PSI samples kept for the sparklines
# Every refresh reads statm, oom_score_adj, oom_score and the cgroups of every process, status where one of
# them changed (Reader.read_proc); every FULL_EVERY-th one reads status of every process too, for what only it
# says and the model does not weigh (State, Threads, PPid). Reading 1 000 status files costs ~11 ms (parsed
# only where the bytes changed).
FULL_EVERY = 5


class Monitor:
    generation = 0  # the game's tree resets its folds when this changes: never here

    def __init__(self, root: str = "/", cgroup: str | None = None, since: float | None = None,
                 events: bool = True, everything: bool = False) -> None:
        self.reader = Reader(root)
        self.cgroup = cgroup.rstrip("/") or "/" if cgroup else None
        if self.cgroup is not None:  # a PREFIX*'s groups may come and go: the group holding them must be there
            pattern = self.cgroup.endswith("*")
            d = self.reader.memcg_dir(self.cgroup.rsplit("/", 1)[0] or "/" if pattern else self.cgroup)
            if d is None or not os.path.isdir(d):
                raise UserError(f"--cgroup {cgroup}: no such memory cgroup"
                                + (f" (looked for {d})" if d else " (no memory controller is mounted)"))
        self.source: KmsgSource | JournalSource | None = None
        self.source_note = "kernel log not read"
        if events:
            self.source, self.source_note = open_source(since, everything)
        self.collector = Collector(self.cgroup)
        self.boot = boot_time()  # printk's µs since boot + this = wall-clock time
        self.procs: dict[int, Proc] = {}  # the last reading's, by pid
        self.model = Model(self.cgroup)
        self.ticks = 0
        self.psi_some: deque[float] = deque(maxlen=HISTORY)
        self.psi_full: deque[float] = deque(maxlen=HISTORY)
        self.reading: Reading | None = None
        self.scores: Scores | None = None
        self.k = None
        self.refresh()

    def refresh(self) -> None:
        r = self.reader.read(self.cgroup, full=self.ticks % FULL_EVERY == 0)
        self.ticks += 1
        self.model.update(r)
        self.reading, self.k, self.scores = r, self.model.k, self.model.scores
        self.procs = {p.pid: p for p in r.procs}
        if r.psi is not None:
            self.psi_some.append(r.psi.some_avg10)
            self.psi_full.append(r.psi.full_avg10)

    def poll(self) -> list[OomEvent]:
        """Kernel log lines written since the last poll; the OOM reports they completed."""
        if self.source is None:
            return []
        return self.collector.feed(self.source.poll())

    def fileno(self) -> int | None:
        """A descriptor that polls readable when poll() has lines to read: /dev/kmsg's; None for journalctl
        (its pipe polls readable for ever once it exits) and without a kernel log."""
        return self.source.fileno() if isinstance(self.source, KmsgSource) else None

    @property
    def events(self) -> list[OomEvent]:
        return self.collector.events

    def close(self) -> None:
        self.reader.close()
        if self.source is not None:
            self.source.close()
            self.source = None
