"""The small panels: status bar, OOM reaper, memory, futexes, the OOM decision, dmesg.

Each panel redraws from the model and the Engine's folded records, and only when its inputs
changed (`sync(events, moved)`): `events` are this frame's events, `moved` whether time advanced.
"""

from __future__ import annotations

import itertools
import re
import textwrap

from rich.console import Group
from rich.highlighter import Highlighter
from rich.style import Style
from rich.text import Text
from textual.widgets import Log, Static

from ...kernel import events as ev
from ...kernel.state import MMF_OOM_SKIP
from ...report.timeline import syscall_text
from .. import view
from ..view import secs

RED = "#ff5555"
ALARM = Style(color="#ffffff", bgcolor="#c0141c", bold=True)
OK = Style(color="#66dd66", bold=True)
WARN = Style(color="#ffcc33", bold=True)
DIM = Style(color="#7a7a7a")
LABEL = Style(color="#8a9bb0")
BAR_FULL = "█"
BAR_EMPTY = "░"
SPARK = "▁▂▃▄▅▆▇█"


def bar(frac: float, width: int, color: str, empty: str = "#3a3f47") -> Text:
    frac = max(0.0, min(1.0, frac))
    n = int(round(frac * width))
    t = Text()
    t.append(BAR_FULL * n, Style(color=color))
    t.append(BAR_EMPTY * (width - n), Style(color=empty))
    return t


def gauge_color(frac: float) -> str:
    return "#5fbf5f" if frac < 0.75 else ("#e0b030" if frac < 0.92 else "#ff4d4d")


class Panel(Static):
    """A bordered panel whose content is a Rich Text rebuilt only when needed."""

    DEFAULT_CSS = """
    Panel { height: auto; border: round $panel-lighten-2; padding: 0 1; border-title-color: $text-muted; }
    """
    TITLE = ""

    def __init__(self, engine, **kw) -> None:
        super().__init__(**kw)
        self.engine = engine
        self.border_title = self.TITLE
        self._last: list | None = None

    def content_width(self) -> int:
        w = self.content_region.width or (self.size.width - 4)
        return max(20, w)

    def show(self, text: Text | list[Text]) -> None:
        parts = text if isinstance(text, list) else [text]
        key = [(x.plain, x.spans) for x in parts]
        if self._last is None or key != self._last:
            self._last = key
            self.update(parts[0] if len(parts) == 1 else Group(*parts))

    def sync(self, events: list, moved: bool) -> None:  # pragma: no cover - overridden
        self.show(self.render_text())

    def render_text(self) -> Text:
        return Text()

    def on_resize(self) -> None:
        self._last = None
        self.show(self.render_text())


# ---------------------------------------------------------------------- status bar
class StatusBar(Static):
    """Scene title, policy (kernel era), simulated time, speed, paused or running, alarms."""

    DEFAULT_CSS = """
    StatusBar { dock: top; height: 1; background: $primary-background; color: $text; }
    """

    def __init__(self, engine, **kw) -> None:
        super().__init__(**kw)
        self.engine = engine
        self._last = ""

    def sync(self, events: list | None = None, moved: bool = True) -> None:
        e = self.engine
        k = e.k
        pol = k.policy
        width = self.size.width or 120
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" oomtui ", Style(color="#000000", bgcolor="#e0a030", bold=True))
        state = Text(" ❚❚ PAUSED ", Style(color="#000000", bgcolor="#ffcc33", bold=True)) if e.paused else \
            Text(" ▶ RUNNING ", Style(color="#000000", bgcolor="#55cc55", bold=True))
        if k.panicked:
            state = Text(" KERNEL PANIC ", ALARM)
        clock = Text(f" t={k.jiffies / k.hz:7.3f}s ", Style(color="#ffffff", bold=True))
        clock.append(f"j{k.jiffies} ", DIM)
        speed = Text(f" {e.speed:g}x ", Style(color="#88ccff", bold=True))
        policy = Text(f" {pol.id} ", Style(color="#ffffff", bgcolor="#3a4a6a", bold=True))
        era = Text(f" {pol.kernels} · {pol.version} ", LABEL)
        alarms = Text()
        o = e.obs
        if o.hung:
            tid, fut, _ = o.hung[-1]
            alarms.append(f" ⚠ HUNG: {tid} on {fut} ", ALARM)
            alarms.append(" ")
        if k.livelock is not None:
            alarms.append(f" ⚠ OOM LIVELOCK on {k.livelock.pid} ", ALARM)
            alarms.append(" ")
        if e.finished and not k.panicked:
            alarms.append(" end of script ", DIM)
        title = e.sim.scene.title
        fixed = len(state) + len(clock) + len(speed) + len(policy) + len(alarms) + 13
        compact = width < 100
        if not compact:
            fixed += len(era)
        room = width - fixed
        t.append(" ")
        if room > 8:
            t.append(title if len(title) <= room else title[: room - 1] + "…", Style(bold=True))
            t.append(" ")
        t.append_text(policy)
        if not compact:
            t.append_text(era)
        t.append_text(clock)
        t.append_text(speed)
        t.append_text(state)
        t.append(" ")
        t.append_text(alarms)
        key = t.plain + str(len(t.spans))
        if key != self._last:
            self._last = key
            self.update(t)

    def on_resize(self) -> None:
        self._last = ""
        self.sync()


# ---------------------------------------------------------------------- reaper
class ReaperPanel(Panel):
    TITLE = "OOM reaper"

    def sync(self, events: list, moved: bool) -> None:
        k = self.engine.k
        busy = bool(k.reaper_timers or k.reaper_current or k.zap_jobs or k.mrelease_calls or k.oom_reaper_list)
        if events or (moved and busy) or self._last is None:
            self.show(self.render_text())

    def render_text(self) -> Text:
        e = self.engine
        k = e.k
        o = e.obs
        w = self.content_width()
        t = Text(no_wrap=True, overflow="ellipsis")
        # the kthread
        t.append("kthread ", LABEL)
        cur = k.reaper_current
        if cur is not None:
            job = next((j for j in k.zap_jobs if j.by == "oom_reaper"), None)
            if job is not None and job.current is not None:
                v = job.current
                t.append(" REAPING ", Style(color="#ffffff", bgcolor="#7b3fa0", bold=True))
                t.append(f" {cur.comm} {cur.pid}: VMA {v.start:#x} {v.name or v.kind}", Style(color="#d9a6ff"))
            elif k.reaper_state.startswith("trylock"):
                t.append(f" {k.reaper_state.upper()} ", Style(color="#000000", bgcolor="#ffaa33", bold=True))
                t.append(f" mmap_read_trylock on {cur.comm} {cur.pid}", WARN)
            else:
                t.append(f" {k.reaper_state} ", Style(color="#ffffff", bgcolor="#7b3fa0"))
                t.append(f" {cur.comm} {cur.pid}")
        elif o.reaper_done is not None and not k.oom_reaper_list:
            pid, result, at = o.reaper_done
            t.append(" idle ", Style(color="#000000", bgcolor="#6a7a8a"))
            word = {"reaped": "done: reaped", "unable": "gave up: unable to reap", "skipped": "done: nothing to do"}[result]
            freed = o.freed_kb.get(pid, 0)
            extra = f" {view.size_kb(freed)}" if result == "reaped" and freed else ""
            t.append(f"  {word} {pid}{extra} at {secs(at, k.hz)}", OK if result == "reaped" else (WARN if result == "unable" else DIM))
        else:
            t.append(" idle ", Style(color="#000000", bgcolor="#6a7a8a"))
            t.append("  waiting for work", DIM)
        # the LIFO queue
        if k.oom_reaper_list:
            t.append("\nqueue ", LABEL)
            t.append("(LIFO, head first) ", DIM)
            t.append(" → ".join(f"{p.comm} {p.pid}" for p in k.oom_reaper_list), Style(bold=True))
        # timers
        delay = k.policy.reaper_delay
        rule = {"immediate": "no delay (4.6-5.17)", "fixed": f"OOM_REAPER_DELAY 2*HZ = {2 * k.hz} jiffies",
                "robust_only": "2*HZ only for robust-list users", "unless_frozen": "2*HZ unless frozen"}[delay]
        if k.policy.never_reap_robust:
            rule += "; never for robust users"
        t.append("\ntimer ", LABEL)
        t.append(rule, DIM)
        shown = o.timers[-6:]
        barw = max(6, w - 29)
        for tr in shown:
            t.append("\n")
            name = f"{tr.comm} {tr.pid}"[:14].ljust(14)
            t.append(name + " ", Style(bold=True))
            if tr.result is None:
                left = max(0, tr.fires_at - k.jiffies)
                frac = left / tr.delay if tr.delay > 0 else 0.0
                col = "#ffcc33" if frac > 0.5 else ("#ff8c1a" if frac > 0.2 else "#ff4040")
                t.append_text(bar(frac, barw, col))
                t.append(f" ⏱ {left / k.hz:4.2f}s ", Style(color=col, bold=True))
                t.append(f"{left}j", DIM)
            elif tr.result == "fires":
                t.append(" ⏰ FIRES ", Style(color="#000000", bgcolor="#ff8c1a", bold=True))
                t.append(f" at {secs(tr.ended_at or 0, k.hz)}: victim queued for the reaper", WARN)
            elif tr.result == "noop":
                t.append(" no-op ", Style(color="#000000", bgcolor="#5fbf5f", bold=True))
                t.append(f" {MMF_OOM_SKIP} already set ({secs(tr.ended_at or 0, k.hz)})", OK)
            elif tr.result == "immediate":
                t.append(" no delay ", Style(color="#000000", bgcolor="#e0b030", bold=True))
                t.append(f" under this policy: queued at {secs(tr.queued_at, k.hz)}", WARN)
            else:
                t.append(" never ", ALARM)
                t.append(f" {tr.why}", Style(color=RED))
            if tr.result is None and tr.delay == 0:
                t.append(f" {tr.why}", DIM)
        if not o.timers:
            t.append(" · no victim yet", DIM)
        # process_mrelease
        for pid in k.mrelease_calls:
            job = next((j for j in k.zap_jobs if j.by == "process_mrelease" and j.pid == pid), None)
            t.append("\nprocess_mrelease ", LABEL)
            t.append(f" IN PROGRESS on {pid} ", Style(color="#ffffff", bgcolor="#7b3fa0", bold=True))
            if job is not None and job.current is not None:
                t.append(f" VMA {job.current.start:#x} {job.current.name}", Style(color="#d9a6ff"))
            else:
                t.append(" waiting for mmap_lock", WARN)
        if o.syscalls:
            s = o.syscalls[-1]
            style = Style(bold=True, color=RED) if s.errno else Style(bold=True)
            # wrapped by hand (the panel does not wrap): the errno's explanation must not be cut off
            for line in textwrap.wrap(syscall_text(s), w, subsequent_indent="  ", break_long_words=False,
                                      break_on_hyphens=False):
                t.append("\n" + line, style)
            if s.errno:
                t.append(" FAILED ", ALARM)
            else:
                t.append(" OK ", Style(color="#000000", bgcolor="#5fbf5f", bold=True))
            t.append(f" at {secs(s.t, k.hz)}", DIM)
        return t


# ---------------------------------------------------------------------- memory
class MemoryPanel(Panel):
    TITLE = "Memory"

    def sync(self, events: list, moved: bool) -> None:
        if moved or events or self._last is None:
            self.show(self.render_text())

    def render_text(self) -> Text:
        e = self.engine
        k = e.k
        w = self.content_width()
        t = Text(no_wrap=True, overflow="ellipsis")
        barw = max(6, w - 26)
        used = k.used_pages
        frac = used / k.ram_pages if k.ram_pages else 0
        t.append("RAM  ".ljust(10), LABEL)
        t.append_text(bar(frac, barw, gauge_color(frac)))
        t.append(f" {view.size(used)}/{view.size(k.ram_pages)}", Style(bold=True))
        if k.swap_pages:
            sf = k.swap_used / k.swap_pages
            t.append("\n" + "swap".ljust(10), LABEL)
            t.append_text(bar(sf, barw, gauge_color(sf)))
            t.append(f" {view.size(k.swap_used)}/{view.size(k.swap_pages)}")
        cgs = [c for c in k.cgroups.values() if c.path != "/"]
        for c in cgs[:5]:
            t.append("\n" + (c.path if len(c.path) <= 9 else c.path[:8] + "…").ljust(10), LABEL)
            if c.limit:
                cf = c.usage / c.limit
                t.append_text(bar(cf, barw, gauge_color(cf)))
                t.append(f" {view.size(c.usage)}/{view.size(c.limit)}")
            else:
                cf = c.usage / k.ram_pages if k.ram_pages else 0
                t.append_text(bar(cf, barw, "#5f8fbf"))
                t.append(f" {view.size(c.usage)}/max")
        if len(cgs) > 5:
            t.append(f"\n  … {len(cgs) - 5} more cgroups", DIM)
        # free-memory sparkline
        hist = [f for _, f in e.obs.free_hist]
        sw = max(8, w - 20)
        hist = hist[-sw:]
        t.append("\n" + "free".ljust(10), LABEL)
        if hist:
            top = max(k.ram_pages, 1)
            for f in hist:
                frac_f = max(0.0, f / top)
                i = min(len(SPARK) - 1, int(frac_f * (len(SPARK) - 1) + 0.5))
                t.append(SPARK[i], Style(color=gauge_color(1 - frac_f)))
            t.append(f" {view.size(max(0, k.free_pages()))}", Style(bold=True))
        for line in view.pins(k, list(e.obs.killed)[-50:])[:3]:
            t.append("\n")
            t.append("pinned ", Style(color="#ffffff", bgcolor="#2a62c9", bold=True))
            t.append(" " + line, Style(color="#a9c4f5"))
        return t


# ---------------------------------------------------------------------- futexes
OUTCOME = {
    "eownerdead": (" ✓ EOWNERDEAD ", Style(color="#000000", bgcolor="#5fbf5f", bold=True)),
    "acquired": (" ✓ acquired ", Style(color="#000000", bgcolor="#5fbf5f")),
    "timedout": (" ETIMEDOUT ", Style(color="#000000", bgcolor="#e0b030")),
    "killed": (" killed ", Style(color="#cccccc", bgcolor="#555555")),
}


class FutexPanel(Panel):
    TITLE = "Futexes"

    def sync(self, events: list, moved: bool) -> None:
        k = self.engine.k
        waiting = any(f.waiters for f in k.futexes.values())
        if any(isinstance(x, (ev.FutexEvent, ev.ThreadState, ev.RobustListFault, ev.ProcessExit)) for x in events) \
                or self._last is None or (moved and waiting):
            self.show(self.render_text())
        self.set_class(bool(self.engine.obs.hung), "-alarm")

    def render_text(self) -> Text:
        k = self.engine.k
        t = Text(no_wrap=True, overflow="ellipsis")
        if not k.futexes:
            t.append("no futexes in this scene", DIM)
            return t
        first = True
        for f in itertools.islice(k.futexes.values(), 8):
            if not first:
                t.append("\n")
            first = False
            t.append(f.name, Style(bold=True, color="#ffcc66"))
            where = f"shm {f.shm.name}" if f.shm else ("private" if f.vma else "")
            t.append(f"  {'robust' if f.robust else 'plain'} · {where} · word {f.word:#010x}", LABEL)
            bits = []
            if f.owner_died:
                bits.append("OWNER_DIED")
            if f.word & 0x80000000:
                bits.append("WAITERS")
            if bits:
                t.append(" " + "|".join(bits), Style(color="#ff9966"))
            t.append("\n  owner ", LABEL)
            ot = f.owner_task
            tid = f.owner_tid
            if tid == 0:
                t.append("none (free)", DIM)
            else:
                task = k.tids.get(tid)
                if task is not None:
                    t.append(f"{tid} {task.process.comm} ", Style(bold=True))
                    t.append(f"[{task.letter}]", Style(color="#66ccff" if "FROZEN" in task.letter else "#cccccc"))
                    if not task.alive or task.state in ("zombie", "dead"):
                        t.append(" gone without unlocking", Style(color=RED, bold=True))
                else:
                    t.append(str(tid))
                if ot is None and task is None:
                    t.append(" (no such task)", DIM)
            hist = f.history
            if len(hist) > 6:  # the hung and the blocked first, then the latest
                hist = sorted(hist, key=lambda w: (w.outcome != "hung", w.outcome is not None))[:6]
            for w in hist:
                wt = w.task
                t.append("\n  ⟵ ", LABEL)
                t.append(f"{wt.tid} {wt.process.comm} ", Style(bold=True))
                if w.outcome is None:
                    t.append(" ⏳ blocked in FUTEX_WAIT ", Style(color="#000000", bgcolor="#e0b030", bold=True))
                elif w.outcome == "hung":
                    t.append(" ☠ HUNG FOREVER ", Style(color="#ffffff", bgcolor="#d00000", bold=True, blink=True))
                    t.append(" owner gone, word still holds its TID", Style(color=RED, bold=True))
                else:
                    label, st = OUTCOME.get(w.outcome, (f" {w.outcome} ", DIM))
                    t.append(label, st)
                if w.t is not None:
                    t.append(f" {secs(w.t, k.hz)}", DIM)
            if len(f.history) > len(hist):
                t.append(f"\n  … {len(f.history) - len(hist)} more waiters", DIM)
        if len(k.futexes) > 8:
            t.append(f"\n… {len(k.futexes) - 8} more", DIM)
        return t


# ---------------------------------------------------------------------- decision
class DecisionPanel(Panel):
    TITLE = "OOM decision"

    def sync(self, events: list, moved: bool) -> None:
        if self._last is None or any(isinstance(x, (ev.OomSelected, ev.OomAborted, ev.OomInvoked, ev.OomShortcut,
                                                    ev.PolicyChanged)) for x in events):
            self.show(self.render_text())

    def max_rows(self) -> int:
        return 4 if self.has_class("-compact") else 7

    def render_text(self) -> list[Text]:
        e = self.engine
        k = e.k
        o = e.obs
        inv = o.last_invoked
        sel = o.last_selected
        head = Text()
        if inv is None and o.last_aborted is None:
            head.append("The OOM killer has not run yet. Press ", DIM)
            head.append("o", Style(bold=True))
            head.append(" for sysrq-f, or wait for an allocation to fail.", DIM)
            return [head]
        out = [head]
        if inv is not None:
            where = f"memcg {inv.memcg}" if inv.memcg else inv.kind
            who = f"{inv.comm} {inv.pid} allocating" if inv.pid is not None else "sysrq-f"
            head.append(f"OOM at {secs(inv.t, k.hz)} ", Style(bold=True))
            head.append(f"{where} · {who} · totalpages {inv.totalpages}", LABEL)
        if sel is not None:
            table = Text(no_wrap=True, overflow="ellipsis")
            cands = sorted(sel.candidates, key=lambda c: (c.points is None, -(c.points or 0)))
            n = self.max_rows()
            table.append("   PID COMM        RSS SWAP PGTBL   ADJ  POINTS", Style(bold=True, color="#8a9bb0"))
            for c in cands[:n]:
                win = c.pid == sel.victim_pid
                st = Style(color="#ffffff", bgcolor="#8b1a1a", bold=True) if win else (DIM if c.points is None else Style())
                pts = str(c.points) if c.points is not None else (c.note or "—")[:7]
                line = (f"{'▶' if win else ' '}{c.pid:>5} {c.comm[:9]:<9} {view.size(c.rss):>5} {view.size(c.swapents):>4}"
                        f" {view.size(c.pgtables_bytes // 4096):>5} {c.oom_score_adj:>5} {pts:>7}")
                table.append("\n" + line, st)
            if len(cands) > n:
                table.append(f"\n  … {len(cands) - n} more candidates", DIM)
            out.append(table)
            why = Text()
            why.append("why ", LABEL)
            why.append(sel.why, Style(italic=True))
            out.append(why)
        if o.last_aborted is not None:
            a = o.last_aborted
            ab = Text()
            ab.append(" SCAN ABORTED ", ALARM)
            ab.append(f" blocked by pending victim {a.blocked_by} ({a.comm})", Style(color=RED, bold=True))
            since = o.first_abort_t if o.first_abort_t is not None else a.t
            ab.append(f" since {secs(since, k.hz)}" + (f" ×{o.aborts}" if o.aborts > 1 else ""), Style(color=RED))
            out.append(ab)
        return out


# ---------------------------------------------------------------------- dmesg
class DmesgHighlighter(Highlighter):
    RULES = [
        (re.compile(r"^\[\s*\d+\.\d+\]"), Style(color="#6a9955")),
        (re.compile(r"invoked oom-killer.*"), Style(color="#ffcc66", bold=True)),
        (re.compile(r"Out of memory.*|Memory cgroup out of memory.*"), Style(color="#ff6b6b", bold=True)),
        (re.compile(r"oom_reaper: .*"), Style(color="#d9a6ff", bold=True)),
        (re.compile(r"Killed process \d+ \([^)]*\)"), Style(color="#ffffff", bgcolor="#8b1a1a", bold=True)),
        (re.compile(r"Kernel panic.*"), Style(color="#ffffff", bgcolor="#c0141c", bold=True)),
        (re.compile(r"unable to reap.*"), Style(color="#ff9933", bold=True)),
    ]

    def highlight(self, text: Text) -> None:
        for rx, style in self.RULES:
            for m in rx.finditer(text.plain):
                text.stylize(style, m.start(), m.end())


class DmesgLog(Log):
    """dmesg with the kernel's exact lines and [seconds.micros] stamps."""

    DEFAULT_CSS = """
    DmesgLog { border: round $panel-lighten-2; border-title-color: $text-muted; background: $surface; }
    """

    def __init__(self, engine, **kw) -> None:
        super().__init__(highlight=True, max_lines=5000, auto_scroll=True, **kw)
        self.engine = engine
        self.highlighter = DmesgHighlighter()
        self.border_title = "dmesg"

    def sync(self, events: list, moved: bool) -> None:
        lines = [self.engine.k.format_dmesg(x) for x in events if isinstance(x, ev.Dmesg)]
        if lines:
            self.write_lines(lines)

    def reset(self) -> None:
        self.clear()
        k = self.engine.k
        self.write_lines([k.format_dmesg(x) for x in k.events if isinstance(x, ev.Dmesg)])
