"""`oomtui watch`: this machine, live, in the game's widgets and theme. Read-only: no key acts on it.

Left: the game's process tree (memcg -> process), drawn from the model kernel of the last reading, with
the kernel's own oom_score beside the model's and freezer marks; below it the real OOM kills, newest
last. Right: memory and PSI, and the next victim of the machine and of each memcg with a limit, as
the game's OOM decision panel draws a ranking. enter opens a kill's explanation, r replays it in the
game (`oomtui play` on the report, in a private temporary file).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Region
from textual.screen import ModalScreen
from textual.widgets import Static

from ..tui import styles, view
from ..tui.styles import R
from ..tui.widgets.game import KeyBar
from ..tui.widgets.panels import SPARK, Panel, bar, candidate_table, gauge_style
from ..tui.widgets.proctable import ProcessTable, Row
from .events import OomEvent
from .monitor import Monitor
from .reader import Robust, frozen_state, read_robust
from .victims import Verdict

if TYPE_CHECKING:
    from ..lab.live import LabRun

COMPACT_W, COMPACT_H = 112, 28
VICTIM_ROWS = 4  # candidates shown per OOM domain


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n < 10 * 2**30 else f"{n / 2**30:.1f} GiB"


def spark(values, width: int, top: float = 100.0) -> str:
    """The last `width` values as ▁..█, scaled to `top` (PSI is a percentage)."""
    vals = list(values)[-width:]
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.999))] for v in vals)


# ---------------------------------------------------------------------- the tree
class WatchTable(ProcessTable):
    """The game's tree on the real machine: marks add the kernel's /proc/PID/oom_score where it differs
    from the model's, the freezer state, and robust futex lists once read (the selected process)."""

    def __init__(self, monitor: Monitor, **kw) -> None:
        super().__init__(monitor, **kw)
        self.robust: dict[int, Robust] = {}
        self._generation = monitor.generation  # the folds are kept across readings
        self._collapse_default = True  # a process's row opens on its robust lists, read on demand
        self._cg_shown: dict[str, tuple] = {}  # a memcg row's numbers as last painted by refresh_rows

    def rebuild(self, changed: list[int] | None = None) -> None:
        """Each reading is a new model kernel: the rows are rebuilt on its objects (cursor and folds kept).
        `changed`: the processes whose numbers changed (the rest kept theirs, as did their scores); when the
        rows on screen are the same ones as before, only theirs are painted again (refresh_rows)."""
        k = self.engine.k
        top, height = int(self.scroll_y), max(0, self.size.height - 1)  # line 0 is the header
        before = (self._show_swap, self._show_file, self._show_shm, [r[:2] for r in self.rows[top:top + height]])
        self._show_swap = k.swap_pages > 0
        self._show_file = True
        self._show_shm = any(p.mm is not None and p.mm.shmem for p in k.pids.values())
        super().rebuild(repaint=False)
        after = (self._show_swap, self._show_file, self._show_shm, [r[:2] for r in self.rows[top:top + height]])
        if changed is not None and int(self.scroll_y) == top and after == before:
            self.refresh_rows(changed)
        else:
            self._cg_shown.clear()
            self.refresh()

    def refresh_rows(self, pids: list[int]) -> None:
        """Repaint the rows of these processes and of the memcgs whose line says something new (usage as
        shown, limit, processes), where they are on screen; the rest of the tree stays as painted."""
        top, height = int(self.scroll_y), self.size.height - 1  # line 0 is the header
        want = set(pids)
        for i in range(top, min(len(self.rows), top + height)):
            r = self.rows[i]
            if r.kind == "cg":
                cg = r.obj
                shown = (view.size(cg.usage), cg.limit, len(cg.members))  # type: ignore[attr-defined]
                if self._cg_shown.get(r.key) == shown:
                    continue
                self._cg_shown[r.key] = shown  # type: ignore[index]
            elif r.key not in want:
                continue
            self.refresh(Region(0, i - top + 1, self.size.width, 1))

    def _layout(self, width: int) -> dict[str, int]:
        cols = super()._layout(width)
        cols["pid"] = 7  # pid_max is 4194304 on 64-bit
        return cols

    def _p_line(self, k, r: Row, width: int):
        from rich.segment import Segment

        segs = super()._p_line(k, r, width)
        m = self.engine
        p = m.procs.get(r.key)
        if p is None:
            return segs
        model = m.scores.model.get(p.pid)  # of the counters read with the kernel's
        if p.oom_score is None:
            segs.append(Segment("kernel ? ", R.dim))
        elif p.oom_score != model:
            segs.append(Segment(f"kernel {p.oom_score} ", R.warn))
        if fz := frozen_state(m.reading, p):
            segs.append(Segment(f" {fz} ", R.frozen_v1 if fz != "frozen" else R.frozen_v2))
            segs.append(Segment(" "))
        rb = self.robust.get(p.pid)
        if rb is not None and rb.holding:
            segs.append(Segment(f"robust held ({len(rb.holding)} thr) ", R.hold))
        if p.threads > 1:
            segs.append(Segment(f"{p.threads} thr", R.dim))
        return segs

    def _t_line(self, k, r: Row):
        """One row per process (its leader): /proc's threads are not read each interval. The robust
        list is shown when get_robust_list(2) could tell."""
        from rich.segment import Segment

        rb = self.robust.get(r.obj.process.pid)
        segs = [Segment("  └", R.label), Segment(str(r.key).rjust(7) + " ", R.dim)]
        if rb is None:
            return segs + [Segment("robust lists: select the process to read them", R.dim)]
        if rb.unknown and not rb.registered:
            return segs + [Segment(f"robust lists unknown: {rb.unknown}", R.dim)]
        segs.append(Segment(f"robust_list registered by {rb.registered} thread(s)", R.robust))
        if rb.holding:
            segs.append(Segment(f"; held (non-empty list) by tid {', '.join(map(str, rb.holding[:4]))}", R.hold))
        elif rb.unknown:
            segs.append(Segment(f"; held or not: {rb.unknown}", R.dim))
        else:
            segs.append(Segment("; none held", R.dim))
        return segs


# ---------------------------------------------------------------------- the side panels
class MemoryPanel(Panel):
    TITLE = "Memory and pressure"

    def render_text(self) -> Text:
        m = self.engine
        r = m.reading
        w = self.content_width()
        t = Text(no_wrap=True, overflow="crop")
        tot = r.totals.mem_total_kb
        used = tot - r.mem_available_kb
        frac = used / tot if tot else 0
        barw = max(10, w - 26)
        t.append("RAM  ", R.label)
        t.append_text(bar(frac, barw, gauge_style(frac)))
        t.append(f" {used / 2**20:.1f}/{tot / 2**20:.1f} GiB", R.number)
        if r.psi is None:
            t.append("\nPSI  /proc/pressure/memory unreadable (CONFIG_PSI off?)", R.dim)
            return t
        for name, hist, now in (("some", m.psi_some, r.psi.some_avg10), ("full", m.psi_full, r.psi.full_avg10)):
            t.append(f"\n{name} ", R.label)
            t.append(spark(hist, barw).ljust(barw), gauge_style(now / 100 * 4))
            t.append(f" {now:5.2f}% avg10", R.number)
        return t


class VictimPanel(Panel):
    """One OOM domain: the machine or a memcg with a limit, its ranking as the game's OOM decision."""

    def __init__(self, monitor: Monitor, index: int, **kw) -> None:
        super().__init__(monitor, **kw)
        self.index = index

    def verdict(self) -> Verdict | None:
        v = self.engine.scores.verdicts
        return v[self.index] if self.index < len(v) else None

    def render_text(self) -> list[Text]:
        v = self.verdict()
        if v is None:
            return [Text()]
        m = self.engine
        title = "Next victim: " + ("whole machine" if v.memcg is None else f"memcg {v.memcg}")
        if self.border_title != title:  # setting it paints the panel again, the same title or not
            self.border_title = title
        w = self.content_width()
        head = Text(no_wrap=True, overflow="ellipsis")
        if v.memcg is not None and v.limit:
            frac = (v.usage or 0) / v.limit
            head.append_text(bar(frac, max(8, w - 30), gauge_style(frac)))
            head.append(f" {_mib(v.usage or 0)} of {_mib(v.limit)}", R.number)
            mc = m.reading.memcgs[v.memcg]
            extra = [f"failcnt {mc.failcnt}" if mc.failcnt else "", f"oom_kill {mc.oom_kills}" if mc.oom_kills else ""]
            if mc.pressure is not None:
                extra.append(f"psi {mc.pressure.some_avg10:.1f}%")
            if any(extra):
                head.append("\n" + "  ".join(x for x in extra if x), R.bad if mc.oom_kills else R.label)
            head.append("\n")
        head.append(f"{v.constraint} · totalpages {v.totalpages}", R.label)
        table = Text(no_wrap=True, overflow="crop")
        candidate_table(table, v.candidates[:VICTIM_ROWS], v.victim, 15 if w >= 60 else 9)
        out = [head, table]
        p = m.procs.get(v.victim) if v.victim is not None else None
        if p is not None:
            model = m.scores.model.get(p.pid)
            score = Text(f"oom_score of {p.comm} ({p.pid}): model {model}, kernel ", R.label)
            score.append("?" if p.oom_score is None else str(p.oom_score), R.ok if p.oom_score == model else R.warn)
            out.append(score)
        why = Text()
        why.append("why ", R.label)
        why.append(v.why, R.italic)
        return [*out, why]


class EventsPanel(Panel, can_focus=True):
    """The real OOM kills since watch started (or --since), newest last; ↑↓ select, enter explains."""

    TITLE = "Real OOM kills"
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="events.up"),
        Binding("down", "move(1)", "Down", show=False, id="events.down"),
        Binding("enter", "open", "Explain", id="events.open"),
        Binding("r", "replay", "Replay", id="events.replay"),
    ]
    cursor = -1  # -1: follow the newest

    def render_text(self) -> Text:
        m = self.engine
        ev = m.events
        t = Text(no_wrap=True, overflow="ellipsis")
        if not ev:
            t.append(f"none yet · reading {m.source_note}", R.dim)
            return t
        sel = self.selected_index()
        boot = m.boot
        rows = 3 if self.app.has_class("-compact") else 7  # what #events' max-height leaves
        first = max(0, min(sel - rows // 2, len(ev) - rows))
        for i, e in enumerate(ev[first:first + rows], start=first):
            when = time.strftime("%H:%M:%S", time.localtime(boot + e.usec / 1e6))
            line = Text(("▶ " if i == sel else "  ") + when + " ", R.label)
            line.append(e.summary(), R.winner if i == sel and self.has_focus else
                        (R.text if e.explanation.agree else R.warn))
            if e.reaper:
                line.append(" · " + e.reaper[-1].split(",")[0], R.dim)
            t.append_text(line)
            t.append("\n")
        t.rstrip()
        return t

    def selected_index(self) -> int:
        n = len(self.engine.events)
        return n - 1 if self.cursor < 0 or self.cursor >= n else self.cursor

    def selected(self) -> OomEvent | None:
        ev = self.engine.events
        return ev[self.selected_index()] if ev else None

    def action_move(self, d: int) -> None:
        n = len(self.engine.events)
        if n:
            self.cursor = max(0, min(n - 1, self.selected_index() + d))
            self.show(self.render_text())

    def action_open(self) -> None:
        if (e := self.selected()) is not None:
            self.app.push_screen(EventScreen(e))

    def action_replay(self) -> None:
        if (e := self.selected()) is not None:
            self.app.replay(e)  # type: ignore[attr-defined]

    def on_focus(self) -> None:
        self.show(self.render_text())

    def on_blur(self) -> None:
        self.show(self.render_text())


def explanation_text(e: OomEvent) -> Text:
    """The kill as `oomtui explain` words it: verdict, why, notes, what the report lacks, the reaper."""
    x = e.explanation
    t = Text()
    t.append(e.summary() + "\n\n", R.strong)
    t.append(f"kernel era {x.era or '?'} · {x.constraint or '?'} · totalpages {x.totalpages}", R.label)
    if x.trigger:
        t.append(f" · trigger {x.trigger.comm} ({x.trigger.pid})", R.label)
    t.append("\n")
    if x.cause is not None:
        t.append("\ncause: ", R.strong)
        t.append(x.cause.text + "\n", R.text)
    if x.ranking:
        t.append(f"\n   #     PID {'COMM':<15}      RSS   SWAP   ADJ    POINTS  (pages)", R.head)
        for i, c in enumerate(x.ranking[:8], 1):
            mark = "▶" if x.model_victim and c.pid == x.model_victim.pid else " "
            t.append(f"\n{mark}{i:>3} {c.pid:>7} {c.comm[:15]:<15} {c.rss:>8} {c.swapents:>6} {c.oom_score_adj:>5} "
                     f"{c.points:>9}", R.winner if mark == "▶" else R.text)
        t.append("\n")
    for line in x.why:
        t.append("\n· " + line, R.text)
    for line in x.notes:
        t.append("\n· note: " + line, R.dim)
    for line in x.problems:
        t.append("\n· " + line, R.warn)
    for line in e.reaper:
        t.append("\n" + line, R.label)
    t.append("\n\nr replays it in the game · escape closes", R.dim)
    return t


class EventScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "dismiss(None)", "Close", id="event.close"),
                Binding("r", "replay", "Replay", id="event.replay")]
    DEFAULT_CSS = """
    EventScreen { align: center middle; }
    EventScreen > VerticalScroll { width: 96%; max-width: 112; height: 90%; border: thick $accent;
                                   background: $panel; padding: 0 1; }
    """

    def __init__(self, event: OomEvent) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(explanation_text(self.event))

    def action_replay(self) -> None:
        self.app.replay(self.event)  # type: ignore[attr-defined]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,f1,q", "dismiss(None)", "Close", id="watchhelp.close")]
    DEFAULT_CSS = EventScreen.DEFAULT_CSS.replace("EventScreen", "HelpScreen")

    def compose(self) -> ComposeResult:
        t = Text()
        t.append("oomtui watch: this machine, read-only\n\n", R.accent)
        for key, what in (("↑ ↓ ← → enter", "the process tree: move, collapse/expand (enter on a process reads "
                                            "its robust futex lists)"),
                          ("tab", "between the tree and the real OOM kills"),
                          ("enter", "on a kill: its explanation"), ("r", "replay the selected kill in the game"),
                          ("space", "pause / resume reading"), ("v", "next side panel (80x24 layout)"),
                          ("? q F10", "this help / quit")):
            t.append(f"{key:<16}", R.accent)
            t.append(what + "\n", R.text)
        t.append("\nNo key here acts on the machine: no kill, no freeze, no oom_score_adj.\n", R.dim)
        t.append("Marks: ", R.strong)
        t.append("kernel N", R.warn)
        t.append(" the kernel's /proc/PID/oom_score where it differs from the model's (SCORE); ", R.text)
        t.append(" FROZEN ", R.frozen_v1)
        t.append(" v1 freezer, ", R.text)
        t.append(" frozen ", R.frozen_v2)
        t.append(" v2 cgroup.freeze.\n", R.text)
        with VerticalScroll():
            yield Static(t)


# ---------------------------------------------------------------------- the app
class WatchStatus(Static):
    DEFAULT_CSS = "WatchStatus { dock: top; height: 1; background: $panel; color: $text; }"
    _text: Text | None = None

    def sync(self, paused: bool, interval: float) -> None:
        m: Monitor = self.app.monitor  # type: ignore[attr-defined]
        r = m.reading
        t = Text(no_wrap=True, overflow="crop")
        t.append(" oomtui watch ", R.brand)
        t.append(" ❚❚ PAUSED " if paused else " ● LIVE ", R.badge_warn if paused else R.badge_ok)
        if (lab := self.app.lab) is not None:  # type: ignore[attr-defined]  # first: it is what the room watches
            code = lab.proc.returncode
            t.append(f" {lab.state()} ·", R.accent if code is None else R.ok if code == 0 else R.warn)
        t.append(f" {socket.gethostname()} · Linux {r.release} · {m.k.policy.id} · every {interval:g}s ", R.label)
        t.append(f"· {len(r.procs)} processes", R.text)
        if m.cgroup:
            t.append(f" in {m.cgroup}", R.text)
        if r.vanished:
            t.append(f" ({r.vanished} exited mid-read)", R.dim)
        for c in r.cannot:
            t.append(f" · cannot read {c}", R.warn)
        if t != self._text:
            self._text = t
            self.update(t, layout=False)  # one line, docked: nothing moves


class WatchApp(styles.StyledApp, App):
    CSS_PATH = Path(__file__).parents[1] / "tui" / "oomtui.tcss"
    CSS = """
    #events { height: auto; max-height: 9; text-wrap: nowrap; text-overflow: ellipsis; }
    App.-compact #events { max-height: 4; border: none; border-top: solid $panel-lighten-2; }
    #side > VictimPanel { height: auto; }
    """
    TITLE = "oomtui watch"
    BINDINGS = [
        Binding("question_mark,f1", "help", "help", id="watch.help"),
        Binding("q,f10", "quit", "quit", priority=True, id="watch.quit"),  # F10: htop's quit key
        Binding("space", "pause", "pause", id="watch.pause"),
        Binding("v", "panel", "panel", id="watch.panel"),
    ]

    def __init__(self, monitor: Monitor, interval: float = 1.0, driver_class=None, lab: LabRun | None = None) -> None:
        super().__init__(driver_class=driver_class)
        self.monitor = monitor
        self.lab = lab  # `oomtui lab NAME --watch`: the run shown, said on the status line
        self.lab_ended = False
        self.interval = interval
        self.paused = False
        self.panel_index = 0
        self._frozen: dict[str, str] = {}
        self._rebuilds = monitor.model.rebuilds
        self._log_fd: int | None = None
        self.started_usec = int((time.time() - monitor.boot) * 1e6)

    def compose(self) -> ComposeResult:
        m = self.monitor
        self._compact()
        yield WatchStatus(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                self.table = WatchTable(m, id="tree")
                self.table.border_title = "Processes (SCORE, POINTS: the model's)"
                yield self.table
                yield EventsPanel(m, id="events")
            with VerticalScroll(id="side"):
                yield MemoryPanel(m, id="memory", classes="panel")
                for i in range(len(m.scores.verdicts)):
                    yield VictimPanel(m, i, classes="panel")
        yield KeyBar(id="footer")

    def on_mount(self) -> None:
        self.status = self.query_one(WatchStatus)
        styles.on_terminal(self)
        self.events_panel = self.query_one(EventsPanel)
        self.table.rebuild()
        self.table.focus()
        self._shown()
        self._redraw()
        self.set_interval(self.interval, self._tick)
        # the kernel log is read when it has a line (waking 5 times a second cost 0.2 % of a core); a lab
        # run, or journalctl, is looked at every 0.2 s
        self._log_fd = self.monitor.fileno() if self.lab is None else None
        if self._log_fd is not None:
            asyncio.get_running_loop().add_reader(self._log_fd, self._log_ready)
        else:
            self.set_interval(0.2, self._poll)

    def _compact(self) -> None:
        w, h = self.size
        self.set_class(w < COMPACT_W or h < COMPACT_H, "-compact")

    def on_resize(self) -> None:
        self._compact()
        self._shown()

    def _panels(self) -> list[Panel]:
        return list(self.query("#side > .panel").results(Panel))

    def _shown(self) -> None:
        """Which side panel the compact layout shows (v cycles); the side's title names it there."""
        panels = self._panels()
        for i, p in enumerate(panels):
            p.set_class(i == self.panel_index % max(1, len(panels)), "-shown")
        shown = panels[self.panel_index % len(panels)] if panels else None
        side = self.query_one("#side")
        side.border_title = f"{shown.border_title}  (v: next panel)" if shown and self.has_class("-compact") else None

    def _redraw(self) -> None:
        """After a refresh: what changed is painted again. The tree's rows are laid out again only when
        processes came or went (or moved, or a freezer changed), else the changed processes' rows (and
        the memcgs', whose usage moves) are repainted."""
        m = self.monitor
        self.status.sync(self.paused, self.interval)
        if m.model.moved or m.reading.frozen != self._frozen:
            # a kernel built anew may weigh every process otherwise (the machine's size, a limit changed)
            same = m.reading.frozen == self._frozen and m.model.rebuilds == self._rebuilds
            self._frozen, self._rebuilds = m.reading.frozen, m.model.rebuilds
            self.table.rebuild(m.model.changed if same else None)
        else:
            self.table.refresh_rows(m.model.changed)
        have = len(self._panels()) - 1
        want = len(m.scores.verdicts)
        if want != have:
            side = self.query_one("#side")
            if want > have:
                side.mount_all([VictimPanel(m, i, classes="panel") for i in range(have, want)])
            for p in self._panels()[want + 1:]:
                p.remove()
            self._shown()
        for p in self._panels():
            p.show(p.render_text())  # Panel.show: only a text that changed is drawn
        self.events_panel.show(self.events_panel.render_text())

    def _tick(self) -> None:
        if self.paused:
            return
        self.monitor.refresh()
        self._redraw()

    def _log_ready(self) -> None:
        try:
            self._poll()
        except Exception as e:  # noqa: BLE001 - the descriptor would stay readable: stop watching it, say why
            asyncio.get_running_loop().remove_reader(self._log_fd)
            self._handle_exception(e)

    def _poll(self) -> None:
        if self.lab is not None and not self.lab_ended and self.lab.poll() is not None:
            self.lab_ended = True  # the screen stays until q
            self.notify(self.lab.state(), title="lab", severity="information" if self.lab.proc.returncode == 0
                        else "warning", timeout=30)
        if self.lab is not None:
            self.status.sync(self.paused, self.interval)
        new = self.monitor.poll()
        if new:
            self.events_panel.show(self.events_panel.render_text())
            for e in new:
                if e.usec >= self.started_usec:  # not the backlog of --since
                    self.notify(e.summary(), title="OOM kill", severity="warning", timeout=8)

    def on_process_table_selection_changed(self, message: ProcessTable.SelectionChanged) -> None:
        p = self.table.selected_process()
        if p is not None and p.pid not in self.table.robust and not self.monitor.reader.root:
            self.table.robust[p.pid] = read_robust(p.pid)
            self.table.refresh()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.status.sync(self.paused, self.interval)

    def action_panel(self) -> None:
        self.panel_index += 1
        self._shown()

    def replay(self, e: OomEvent) -> None:
        """The kill as a scene in the game: `oomtui play` on its report, written to a private file."""
        d = tempfile.mkdtemp(prefix="oomtui-watch-")  # 0700
        path = os.path.join(d, f"oom-{e.usec}.log")
        try:
            Path(path).write_text(e.text, encoding="utf-8")
            with self.suspend():
                subprocess.run([sys.executable, "-m", "oomtui", "play", path], check=False)
        except Exception as err:  # noqa: BLE001 - headless drivers cannot suspend: say so, watch goes on
            self.notify(f"cannot replay here: {err or type(err).__name__}", severity="warning")
        finally:
            Path(path).unlink(missing_ok=True)
            os.rmdir(d)

    def on_unmount(self) -> None:
        if self._log_fd is not None:
            asyncio.get_running_loop().remove_reader(self._log_fd)
        self.monitor.close()


def main(args) -> int:
    from ..cli import need_terminal
    from .events import parse_since

    interval = parse_interval(args.interval)
    since = parse_since(args.since) if args.since else None
    monitor = Monitor(cgroup=args.cgroup, since=since, everything=args.since == "boot")  # a bad --cgroup says so
    try:
        need_terminal()
        WatchApp(monitor, interval).run()
    finally:
        monitor.close()
    return 0


def parse_interval(text: str) -> float:
    from ..errors import UserError

    t = text.strip().removesuffix("s")
    try:
        v = float(t[:-1]) / 1000 if t.endswith("m") else float(t)
    except ValueError:
        raise UserError(f"--interval {text!r}: expected seconds such as 1s, 0.5s or 500ms") from None
    if not 0.1 <= v <= 60:
        raise UserError(f"--interval {text!r}: between 0.1s and 60s")
    return v
