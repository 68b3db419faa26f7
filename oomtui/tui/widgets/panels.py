"""The small panels: status bar, OOM reaper, memory, futexes, the OOM decision (dmesg is in dmesg.py).

Each panel redraws from the model and the Engine's folded records, and only when its inputs
changed (`sync(events, moved)`): `events` are this frame's events, `moved` whether time advanced.
"""

from __future__ import annotations

import itertools
import textwrap

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from ...kernel import events as ev
from ...kernel.page_types import PAGE_SIZE
from ...kernel.state import MMF_OOM_SKIP
from ...report.timeline import syscall_text
from .. import view
from ..sequencer import HOLDS_CLOCK, READING
from ..styles import R
from ..view import secs

BAR_FULL = "█"
BAR_EMPTY = "░"
SPARK = "▁▂▃▄▅▆▇█"


def bar(frac: float, width: int, style: Style) -> Text:
    frac = max(0.0, min(1.0, frac))
    n = int(round(frac * width))
    t = Text()
    t.append(BAR_FULL * n, style)
    t.append(BAR_EMPTY * (width - n), R.gauge_empty)
    return t


def gauge_style(frac: float) -> Style:
    return R.gauge_ok if frac < 0.75 else (R.gauge_warn if frac < 0.92 else R.gauge_bad)


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
        self._lines_shown = 0

    def content_width(self) -> int:
        w = self.content_region.width or (self.size.width - 4)
        return max(20, w)

    def plain(self) -> str:
        """The text shown now (tests and tools read panels through this)."""
        if self._last is None:
            self.show(self.render_text())
        return "\n".join(p for p, _ in self._last or [])

    def show(self, text: Text | list[Text]) -> None:
        parts = text if isinstance(text, list) else [text]
        key = [(x.plain, x.spans) for x in parts]
        if self._last is None or key != self._last:
            # a relayout of the whole screen only when the panel may change height (a line more or
            # less); a fixed-height panel (1fr) never needs one
            fixed = self.styles.height is not None and self.styles.height.is_fraction
            lines = 0 if fixed else sum(len(x.wrap(self.app.console, self.content_width())) for x in parts)
            relayout = not fixed and (self._last is None or lines != self._lines_shown)
            self._last, self._lines_shown = key, lines
            self.update(parts[0] if len(parts) == 1 else Group(*parts), layout=relayout)

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
    StatusBar { dock: top; height: 1; background: $panel; color: $text; }
    """

    def __init__(self, engine, **kw) -> None:
        super().__init__(**kw)
        self.engine = engine
        self.seq = None  # the App's Sequencer: the state word says what time waits for
        self._last = ""

    def sync(self, events: list | None = None, moved: bool = True) -> None:
        e = self.engine
        k = e.k
        pol = k.policy
        width = self.size.width or self.app.size.width or 120
        t = Text(no_wrap=True, overflow="crop")
        t.append(" oomtui ", R.brand)
        state = Text(" ❚❚ PAUSED ", R.badge_warn) if e.paused else \
            Text(" ▶ RUNNING ", R.badge_ok)
        waiting = self.seq.waiting if self.seq is not None else None
        if waiting in HOLDS_CLOCK or waiting == READING and not e.paused:
            # a caption being read holds the clock: not "RUNNING" while t stands still
            word = {"briefing": "BRIEFING", "card": "TEACH", "hold": "HOLD", "reading": "READING"}[waiting]
            state = Text(f" ❚❚ {word} ", R.badge_warn)
        if k.panicked:
            state = Text(" KERNEL PANIC ", R.alarm)
        clock = Text(f" t={k.jiffies / k.hz:7.3f}s ", R.strong)
        clock.append(f"j{k.jiffies} ", R.dim)
        speed = Text(f" {e.speed:g}x ", R.speed)
        policy = Text(f" {pol.id} ", R.policy)
        era = Text(f" {pol.kernels} · {pol.version} ", R.label)
        alarms = Text()
        o = e.obs
        if o.hung:
            tid, fut, _ = o.hung[-1]
            alarms.append(f" ⚠ HUNG: {tid} on {fut} ", R.alarm)
            alarms.append(" ")
        if k.livelock is not None:
            alarms.append(f" ⚠ OOM LIVELOCK on {k.livelock.pid} ", R.alarm)
            alarms.append(" ")
        if e.finished and not k.panicked:
            alarms.append(" end of script ", R.dim)
        # what gives way when the line is short, in order: the era, the jiffies, the title for the scene
        # id, then the title cut with "…" while its first 20 characters stay (a replayed report's id, FILE#N,
        # rarely fits: "end of script" dropped its whole title at 120 columns), then nothing
        base = len(t) + len(state) + len(speed) + len(policy) + len(alarms) + 2
        title = e.sim.scene.title
        parts = {"era": era, "clock": clock, "title": title}

        def total() -> int:
            return base + len(parts["clock"]) + (len(era) if parts["era"] else 0) + (
                len(parts["title"]) + 1 if parts["title"] else 0)

        for key, fallback in (("era", None), ("clock", Text(f" t={k.jiffies / k.hz:7.3f}s ", R.strong)),
                              ("title", e.sim.id)):
            if total() > width:
                parts[key] = fallback
        if total() > width:
            parts["title"] = title
            keep = len(title) - (total() - width) - 1
            parts["title"] = title[:keep].rstrip() + "…" if keep >= 20 else None
        clock = parts["clock"]
        t.append(" ")
        if parts["title"]:
            t.append(parts["title"], R.strong)
            t.append(" ")
        t.append_text(policy)
        if parts["era"]:
            t.append_text(era)
        t.append_text(clock)
        t.append_text(speed)
        t.append_text(state)
        t.append(" ")
        t.append_text(alarms)
        key = t.plain + str(len(t.spans))
        if key != self._last:
            self._last = key
            self.update(t, layout=False)  # one row, always: no relayout of the screen

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
        t = Text()  # wraps: from 120x36 up no panel cuts a line
        # the kthread
        t.append("kthread ", R.label)
        cur = k.reaper_current
        if cur is not None:
            job = next((j for j in k.zap_jobs if j.by == "oom_reaper"), None)
            if job is not None and job.current is not None:
                v = job.current
                t.append(" REAPING ", R.reaping)
                t.append(f" {cur.comm} {cur.pid}: VMA {v.start:#x} {v.name or v.kind}", R.reaped_text)
            elif k.reaper_state.startswith("trylock"):
                t.append(f" {k.reaper_state.upper()} ", R.badge_warn)
                t.append(f" mmap_read_trylock on {cur.comm} {cur.pid}", R.warn)
            else:
                t.append(f" {k.reaper_state} ", R.reaping_plain)
                t.append(f" {cur.comm} {cur.pid}")
        elif o.reaper_done is not None and not k.oom_reaper_list:
            pid, result, at = o.reaper_done
            t.append(" idle ", R.badge_idle)
            word = {"reaped": "done: reaped", "unable": "gave up: unable to reap", "skipped": "done: nothing to do"}[result]
            freed = o.freed_kb.get(pid, 0)
            extra = f" {view.size_kb(freed)}" if result == "reaped" and freed else ""
            t.append(f"  {word} {pid}{extra} at {secs(at, k.hz)}", R.ok if result == "reaped" else (R.warn if result == "unable" else R.dim))
        else:
            t.append(" idle ", R.badge_idle)
            t.append("  waiting for work", R.dim)
        # the LIFO queue
        if k.oom_reaper_list:
            t.append("\nqueue ", R.label)
            t.append("(LIFO, head first) ", R.dim)
            t.append(" → ".join(f"{p.comm} {p.pid}" for p in k.oom_reaper_list), R.strong)
        # timers
        delay = k.policy.reaper_delay
        rule = {"immediate": "no delay (4.6-5.17)", "fixed": f"OOM_REAPER_DELAY 2*HZ = {2 * k.hz} jiffies",
                "robust_only": "2*HZ only for robust-list users", "unless_frozen": "2*HZ unless frozen"}[delay]
        if k.policy.never_reap_robust:
            rule += "; never for robust users"
        t.append("\ntimer ", R.label)
        t.append(rule, R.dim)
        shown = o.timers[-6:]
        barw = max(6, w - 29)
        for tr in shown:
            t.append("\n")
            name = f"{tr.comm} {tr.pid}"[:14].ljust(14)
            t.append(name + " ", R.strong)
            if tr.result is None:
                left = max(0, tr.fires_at - k.jiffies)
                frac = left / tr.delay if tr.delay > 0 else 0.0
                col = R.timer_high if frac > 0.5 else (R.timer_mid if frac > 0.2 else R.timer_low)
                t.append_text(bar(frac, barw, col))
                t.append(f" ⏱ {left / k.hz:4.2f}s ", col + R.strong)
                t.append(f"{left}j", R.dim)
            elif tr.result == "fires":
                t.append(" ⏰ FIRES ", R.badge_warn)
                t.append(f" at {secs(tr.ended_at or 0, k.hz)}: victim queued for the reaper", R.warn)
            elif tr.result == "noop":
                t.append(" no-op ", R.badge_ok)
                t.append(f" {MMF_OOM_SKIP} already set ({secs(tr.ended_at or 0, k.hz)})", R.ok)
            elif tr.result == "immediate":
                t.append(" no delay ", R.badge_warn)
                t.append(f" under this policy: queued at {secs(tr.queued_at, k.hz)}", R.warn)
            else:
                t.append(" never ", R.alarm)
                t.append(f" {tr.why}", R.bad)
            if tr.result is None and tr.delay == 0:
                t.append(f" {tr.why}", R.dim)
        if not o.timers:
            t.append(" · no victim yet", R.dim)
        # process_mrelease
        for pid in k.mrelease_calls:
            job = next((j for j in k.zap_jobs if j.by == "process_mrelease" and j.pid == pid), None)
            t.append("\nprocess_mrelease ", R.label)
            t.append(f" IN PROGRESS on {pid} ", R.reaping)
            if job is not None and job.current is not None:
                t.append(f" VMA {job.current.start:#x} {job.current.name}", R.reaped_text)
            else:
                t.append(" waiting for mmap_lock", R.warn)
        if o.syscalls:
            s = o.syscalls[-1]
            style = R.bad_bold if s.errno else R.strong
            # wrapped by hand (the panel does not wrap): the errno's explanation must not be cut off
            for line in textwrap.wrap(syscall_text(s), w, subsequent_indent="  ", break_long_words=False,
                                      break_on_hyphens=False):
                t.append("\n" + line, style)
            if s.errno:
                t.append(" FAILED ", R.alarm)
            else:
                t.append(" OK ", R.badge_ok)
            t.append(f" at {secs(s.t, k.hz)}", R.dim)
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
        t = Text()  # wraps: from 120x36 up no panel cuts a line
        barw = max(6, w - 26)
        used = k.used_pages
        frac = used / k.ram_pages if k.ram_pages else 0
        t.append("RAM  ".ljust(10), R.label)
        t.append_text(bar(frac, barw, gauge_style(frac)))
        t.append(f" {view.size(used)}/{view.size(k.ram_pages)}", R.strong)
        if k.swap_pages:
            sf = k.swap_used / k.swap_pages
            t.append("\n" + "swap".ljust(10), R.label)
            t.append_text(bar(sf, barw, gauge_style(sf)))
            t.append(f" {view.size(k.swap_used)}/{view.size(k.swap_pages)}")
        cgs = [c for c in k.cgroups.values() if c.path != "/" and c.memory]  # memcgs: not the freezer hierarchy
        for c in cgs[:5]:
            if len(c.path) > 9:  # a long path gets its own line rather than a cut
                t.append("\n" + c.path, R.label)
                t.append("\n" + " " * 10)
            else:
                t.append("\n" + c.path.ljust(10), R.label)
            if c.limit:
                cf = c.usage / c.limit
                t.append_text(bar(cf, barw, gauge_style(cf)))
                t.append(f" {view.size(c.usage)}/{view.size(c.limit)}")
            else:
                cf = c.usage / k.ram_pages if k.ram_pages else 0
                t.append_text(bar(cf, barw, R.gauge_nolimit))
                t.append(f" {view.size(c.usage)}/max")
        if len(cgs) > 5:
            t.append(f"\n  + {len(cgs) - 5} more cgroups", R.dim)
        # free-memory sparkline
        hist = [f for _, f in e.obs.free_hist]
        sw = max(8, w - 20)
        hist = hist[-sw:]
        t.append("\n" + "free".ljust(10), R.label)
        if hist:
            top = max(k.ram_pages, 1)
            for f in hist:
                frac_f = max(0.0, f / top)
                i = min(len(SPARK) - 1, int(frac_f * (len(SPARK) - 1) + 0.5))
                t.append(SPARK[i], gauge_style(1 - frac_f))
            t.append(f" {view.size(max(0, k.free_pages()))}", R.strong)
        for line in view.pins(k, list(e.obs.killed)[-50:])[:3]:
            t.append("\n")
            t.append("pinned ", R.mark_pinned)
            t.append(" " + line, R.pinned_text)
        return t


# ---------------------------------------------------------------------- futexes
OUTCOME = {  # waiter outcome: label, style role
    "eownerdead": (" ✓ EOWNERDEAD ", "badge_ok"),
    "acquired": (" ✓ acquired ", "badge_ok_plain"),
    "timedout": (" ETIMEDOUT ", "badge_warn_plain"),
    "killed": (" killed ", "badge_muted"),
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
        self.set_class(not k.futexes, "-empty")  # a scene without futexes gives the room to other panels

    def render_text(self) -> Text:
        k = self.engine.k
        t = Text()  # wraps: from 120x36 up no panel cuts a line
        if not k.futexes:
            t.append("no futexes in this scene", R.dim)
            return t
        first = True
        for f in itertools.islice(k.futexes.values(), 8):
            if not first:
                t.append("\n")
            first = False
            t.append(f.name, R.accent)
            where = f"shm {f.shm.name}" if f.shm else ("private" if f.vma else "")
            t.append(f"  {'robust' if f.robust else 'plain'} · {where} · word {f.word:#010x}", R.label)
            bits = []
            if f.owner_died:
                bits.append("OWNER_DIED")
            if f.word & 0x80000000:
                bits.append("WAITERS")
            if bits:
                t.append(" " + "|".join(bits), R.futex_bits)
            t.append("\n  owner ", R.label)
            ot = f.owner_task
            tid = f.owner_tid
            if tid == 0:
                t.append("none (free)", R.dim)
            else:
                task = k.tids.get(tid)
                if task is not None:
                    t.append(f"{tid} {task.process.comm} ", R.strong)
                    t.append(f"[{task.letter}]", R.frozen_text if "FROZEN" in task.letter else R.text)
                    if not task.alive or task.state in ("zombie", "dead"):
                        t.append(" gone without unlocking", R.bad_bold)
                else:
                    t.append(str(tid))
                if ot is None and task is None:
                    t.append(" (no such task)", R.dim)
            hist = f.history
            if len(hist) > 6:  # the hung and the blocked first, then the latest
                hist = sorted(hist, key=lambda w: (w.outcome != "hung", w.outcome is not None))[:6]
            for w in hist:
                wt = w.task
                t.append("\n  ⟵ ", R.label)
                t.append(f"{wt.tid} {wt.process.comm} ", R.strong)
                if w.outcome is None:
                    t.append(" ⏳ blocked in FUTEX_WAIT ", R.blocked)
                elif w.outcome == "hung":
                    t.append(" ☠ HUNG FOREVER ", R.mark_hung)
                    t.append(" owner gone, word still holds its TID", R.bad_bold)
                else:
                    label, role = OUTCOME.get(w.outcome, (f" {w.outcome} ", "dim"))
                    t.append(label, R[role])
                if w.t is not None:
                    t.append(f" {secs(w.t, k.hz)}", R.dim)
            if len(f.history) > len(hist):
                t.append(f"\n  + {len(f.history) - len(hist)} more waiters", R.dim)
        if len(k.futexes) > 8:
            t.append(f"\n+ {len(k.futexes) - 8} more futexes", R.dim)
        return t


# ---------------------------------------------------------------------- decision
def candidate_table(table: Text, cands: list[ev.Candidate], victim_pid: int | None, cw: int) -> None:
    """The OOM decision's ranking: a header and a row per candidate (▶ the victim), as
    select_bad_process() weighed them."""
    table.append(f"   PID {'COMM':<{cw}}   RSS SWAP PGTBL   ADJ  POINTS", R.head)
    for c in cands:
        win = c.pid == victim_pid
        st = R.winner if win else (R.dim if c.points is None else Style())
        pts = str(c.points) if c.points is not None else (c.note or "—")[:7]
        line = (f"{'▶' if win else ' '}{c.pid:>5} {c.comm[:cw]:<{cw}} {view.size_in(c.rss, 5):>5} "
                f"{view.size_in(c.swapents, 4):>4} {view.size_in(c.pgtables_bytes // PAGE_SIZE, 5):>5} {c.oom_score_adj:>5} "
                f"{pts:>7}")
        table.append("\n" + line, st)


def ranked(sel: ev.OomSelected) -> list[ev.Candidate]:
    """The decision's candidates in the panel's order, as explain ranks them (importers.explain.by_points): by
    points, the victim first among its equals, then scan order; the ineligible (no points) last."""
    return sorted(sel.candidates, key=lambda c: (c.points is None, -(c.points or 0), c.pid != sel.victim_pid))


class DecisionPanel(Panel):
    TITLE = "OOM decision"

    def sync(self, events: list, moved: bool) -> None:
        if self._last is None or any(isinstance(x, (ev.OomSelected, ev.OomAborted, ev.OomInvoked, ev.OomShortcut,
                                                    ev.PolicyChanged)) for x in events):
            self.show(self.render_text())

    def max_rows(self, used: int = 0) -> int:
        """Candidate rows that fit: the panel takes the side column's spare height (1fr), so a hint,
        a caption or a decided goal elsewhere shrinks the ranking instead of adding a scrollbar."""
        if self.has_class("-compact"):
            return 4
        h = self.size.height - 2  # the border
        if h <= 0:
            return 7
        return max(1, h - used)

    def _lines(self, text: Text, width: int) -> int:
        """Rows `text` takes once wrapped at `width`, as Rich wraps it (by words)."""
        return len(text.wrap(self.app.console, max(1, width)))

    def _head(self, head: Text, inv: ev.OomInvoked, rest: str, width: int) -> None:
        """The head in two rows at most: a k8s pod's memcg path (/kubepods/burstable/pod…/…, over 100 characters)
        longer than the first row is cut in its middle, as in the tree (whole, it took 3 of the ranking's rows at
        120x36, under the toasts; the Memory panel has it whole)."""
        at = f"OOM at {secs(inv.t, self.engine.k.hz)} "
        where = f"memcg {view.cut_middle(inv.memcg, width - len(at) - len('memcg '))}" if inv.memcg else inv.kind
        head.append(at, R.strong)
        head.append(where + rest, R.label)

    def render_text(self) -> list[Text]:
        e = self.engine
        k = e.k
        o = e.obs
        inv = o.last_invoked
        sel = o.last_selected
        head = Text()
        if inv is None and o.last_aborted is None:
            head.append("The OOM killer has not run yet. Press ", R.dim)
            head.append("o", R.strong)
            head.append(" for sysrq-f, or wait for an allocation to fail.", R.dim)
            return [head]
        out = [head]
        w = self.content_width()
        room = self.size.height - 2 if self.size.height and not self.has_class("-compact") else None
        ab = None
        if o.last_aborted is not None:
            a = o.last_aborted
            ab = Text()
            ab.append(" SCAN ABORTED " if room is None or room > 8 else " ABORTED ", R.alarm)
            ab.append(f" pending victim {a.blocked_by} ({a.comm})", R.bad_bold)
            since = o.first_abort_t if o.first_abort_t is not None else a.t
            ab.append(f" since {secs(since, k.hz)}" + (f" ×{o.aborts}" if o.aborts > 1 else ""), R.bad)
        ab_lines = self._lines(ab, w) if ab is not None else 0
        if inv is not None:
            who = f"{inv.comm} {inv.pid} allocating" if inv.pid is not None else "sysrq-f"
            self._head(head, inv, f" · {who} · totalpages {inv.totalpages}", w)
        if sel is not None:
            cw = 15 if w >= 54 else 9  # the whole comm (TASK_COMM_LEN 16) where the column is wide enough
            table: Text | None = Text(no_wrap=True)
            cands = ranked(sel)
            why = Text()
            why.append("why ", R.label)
            why.append(sel.why, R.italic)
            used = self._lines(head, w) + 1 + self._lines(why, w) + ab_lines
            if room is not None and used + 1 > room and inv is not None:
                # squeezed by the panels above: the head on one line (the why has the arithmetic)
                head.truncate(0)
                self._head(head, inv, f" · {who}", w)
                used = self._lines(head, w) + 1 + self._lines(why, w) + ab_lines
            n = self.max_rows(used)
            if len(cands) > n:
                n = max(1, n - 1)  # room for the "more" line
            more = len(cands) > n and (room is None or used + n + 1 <= room)
            if room is not None and used + n > room:
                out.append(why)  # no room for even the victim's row: the why names it, with the arithmetic
                table = None
        if sel is not None and table is not None:
            candidate_table(table, cands[:n], sel.victim_pid, cw)
            if more:
                table.append(f"\n  + {len(cands) - n} more candidates", R.dim)
            out.append(table)
            out.append(why)
        if ab is not None:
            out.append(ab)
        return out

