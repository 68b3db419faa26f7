"""The process tree: cgroup -> process -> threads, drawn with the Line API.

Only visible lines are rendered, so 5 000 processes cost what 30 cost. The row list is rebuilt
only when its shape changes (collapse, filter, a new scene); values are read live from the model
when a line is drawn, so a frame that changed anything just refreshes the visible lines.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from ...kernel.freezer import freezer_state
from ...kernel.state import Cgroup, Process, Task
from .. import view
from .scroll import QuietScrollView
from ..styles import R

REVERSE = Style(reverse=True)
UNDERLINE = Style(underline=True)

# mark kind (view.marks) and thread state (Task.letter) -> style role (styles.py)
MARK = {kind: f"mark_{kind}" for kind in ("victim", "hung", "dying", "reaped", "pinned", "skip", "exited", "dim")}
STATE = {
    "R": "state_r",
    "S": "state_s",
    "D": "state_d",
    "FROZEN v1": "frozen_v1",
    "FROZEN v2": "frozen_v2",
    "EXITING": "state_exiting",
    "ZOMBIE": "state_zombie",
    "DEAD": "state_dead",
}


class Row(NamedTuple):
    kind: str  # "cg" | "p" | "t"
    key: object  # cgroup path | pid | tid
    obj: object
    depth: int


def _cell(text: str, width: int, right: bool = False) -> str:
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.rjust(width) if right else text.ljust(width)


class ProcessTable(QuietScrollView, can_focus=True):
    """cgroup → process → threads. ↑↓ move, ←→ collapse/expand, enter toggles."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="tree.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="tree.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="tree.pageup"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="tree.pagedown"),
        Binding("home", "jump(0)", "Top", show=False, id="tree.home"),
        Binding("end", "jump(-1)", "Bottom", show=False, id="tree.end"),
        Binding("left", "fold(1)", "Collapse", show=False, id="tree.collapse"),
        Binding("right", "fold(0)", "Expand", show=False, id="tree.expand"),
        Binding("enter", "toggle", "Toggle threads", show=False, id="tree.toggle"),
    ]

    DEFAULT_CSS = """
    ProcessTable { height: 1fr; background: $surface; overflow-x: hidden; }
    """

    class SelectionChanged(Message):
        def __init__(self, row: Row | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, engine, **kw) -> None:
        super().__init__(**kw)
        self.engine = engine
        self.rows: list[Row] = []
        self.cursor = 0
        self.collapsed: set[tuple[str, object]] = set()
        self.expanded: set[tuple[str, object]] = set()
        self.filter = ""
        self._generation = -1
        self._collapse_default = False
        self._show_swap = False
        self._show_file = False
        self._show_shm = False
        self.narrow = False  # the presenter layout: fewer columns (no FILE, SHM, SWAP, SCORE)

    # ------------------------------------------------------------------ rows
    def rebuild(self, repaint: bool = True) -> None:
        """The rows again from the model kernel; `repaint` False: the caller says what to paint again."""
        k = self.engine.k
        if self._generation != self.engine.generation:
            self._generation = self.engine.generation
            self.collapsed.clear()
            self.expanded.clear()
            self._collapse_default = len(k.pids) > 40
            self._show_swap = k.swap_pages > 0
            self._show_file = any(p.mm is not None and p.mm.file for p in k.pids.values())
            self._show_shm = any(p.mm is not None and p.mm.shmem for p in k.pids.values())
        keep = self.rows[self.cursor][:2] if self.rows and self.cursor < len(self.rows) else None
        by_cg: dict[str, list[Process]] = {}
        for p in k.pids.values():
            by_cg.setdefault(p.cgroup.path, []).append(p)
        for lst in by_cg.values():
            lst.sort(key=lambda p: p.order)
        flt = self.filter.lower()
        rows: list[Row] = []
        for cg in k.root.subtree():
            procs = by_cg.get(cg.path, [])
            if flt:
                cg_hit = flt in cg.path.lower()
                procs = [p for p in procs if cg_hit or self._matches(p, flt)]
                if not procs and not cg_hit:
                    continue
            depth = 0 if cg.path == "/" else cg.path.count("/")
            rows.append(Row("cg", cg.path, cg, depth))
            if ("cg", cg.path) in self.collapsed:
                continue
            for p in procs:
                rows.append(Row("p", p.pid, p, depth + 1))
                if self._is_open(p):
                    for t in p.threads:
                        rows.append(Row("t", t.tid, t, depth + 2))
        self.rows = rows
        self.cursor = 0
        kept = False
        if keep is not None:
            for i, r in enumerate(rows):
                if (r.kind, r.key) == keep:
                    self.cursor, kept = i, True
                    break
            else:
                # a hidden thread: select its process. After a scene change the old tid may not
                # exist at all (KeyError here once): then the cursor simply starts over.
                t = self.engine.k.tids.get(keep[1]) if keep[0] == "t" else None
                if t is not None:
                    kept = self._select_key("p", t.process.pid)
        if not kept:
            # start on the first process rather than on "/", or, after a filter hid the selected row,
            # on the first match (as htop's search does): `/ payments enter` then `a` acts on payments
            self.cursor = next((i for i, r in enumerate(rows) if r.kind == "p"), 0)
        self.set_virtual_size(Size(self.size.width, len(rows) + 1))
        self._scroll_to_cursor()
        if repaint:
            self.refresh()

    @staticmethod
    def _matches(p: Process, flt: str) -> bool:
        if flt in p.comm.lower() or flt == str(p.pid) or str(p.pid).startswith(flt):
            return True
        return any(str(t.tid) == flt for t in p.threads)

    def _is_open(self, p: Process) -> bool:
        key = ("p", p.pid)
        if key in self.collapsed:
            return False
        if key in self.expanded:
            return True
        return not self._collapse_default

    def _select_key(self, kind: str, key: object) -> bool:
        for i, r in enumerate(self.rows):
            if r.kind == kind and r.key == key:
                self.set_cursor(i)
                return True
        return False

    # ------------------------------------------------------------------ selection API
    @property
    def selected(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def selected_process(self) -> Process | None:
        r = self.selected
        if r is None:
            return None
        if r.kind == "p":
            return r.obj  # type: ignore[return-value]
        if r.kind == "t":
            return r.obj.process  # type: ignore[union-attr]
        return None

    def selected_cgroup(self, strict: bool = False) -> Cgroup | None:
        """The cgroup row under the cursor; unless strict, also the cgroup of a selected process."""
        r = self.selected
        if r is None:
            return None
        if r.kind == "cg":
            return r.obj  # type: ignore[return-value]
        if strict:
            return None
        p = self.selected_process()
        return p.cgroup if p else None

    def select_pid(self, pid: int) -> bool:
        if self._select_key("p", pid):
            return True
        if pid in self.engine.k.pids and self.filter:
            self.app.set_filter("")  # the filter and its title, as esc clears them
            return self._select_key("p", pid)
        return False

    def select_tid(self, tid: int) -> bool:
        t = self.engine.k.tids.get(tid)
        if t is None:
            return False
        self.expanded.add(("p", t.process.pid))
        self.collapsed.discard(("p", t.process.pid))
        self.rebuild()
        return self._select_key("t", tid)

    def select_cgroup(self, path: str) -> bool:
        return self._select_key("cg", path)

    def set_cursor(self, i: int) -> None:
        i = max(0, min(len(self.rows) - 1, i))
        if i != self.cursor:
            self.cursor = i
            self._scroll_to_cursor()
            self.refresh()
            self.post_message(self.SelectionChanged(self.selected))
        else:
            self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        h = max(1, self.scrollable_content_region.height - 1)
        y = int(self.scroll_y)
        if self.cursor < y:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= y + h:
            self.scroll_to(y=self.cursor - h + 1, animate=False, immediate=True)

    # ------------------------------------------------------------------ actions
    def action_cursor(self, d: int) -> None:
        self.set_cursor(self.cursor + d)

    def action_page(self, d: int) -> None:
        self.set_cursor(self.cursor + d * max(1, self.scrollable_content_region.height - 2))

    def action_jump(self, where: int) -> None:
        self.set_cursor(0 if where == 0 else len(self.rows) - 1)

    def action_fold(self, collapse: int) -> None:
        r = self.selected
        if r is None:
            return
        if r.kind == "t" and collapse:
            p = r.obj.process  # type: ignore[union-attr]
            self.collapsed.add(("p", p.pid))
            self.expanded.discard(("p", p.pid))
            self.rebuild()
            self._select_key("p", p.pid)
            return
        key = (r.kind, r.key)
        if r.kind == "t":
            return
        if collapse:
            if key in self.collapsed or (r.kind == "p" and not self._is_open(r.obj)):  # type: ignore[arg-type]
                # already folded: go to the parent row
                for i in range(self.cursor - 1, -1, -1):
                    if self.rows[i].depth < r.depth:
                        self.set_cursor(i)
                        break
                return
            self.collapsed.add(key)
            self.expanded.discard(key)
        else:
            self.collapsed.discard(key)
            self.expanded.add(key)
        self.rebuild()

    def action_toggle(self) -> None:
        r = self.selected
        if r is None or r.kind == "t":
            return
        open_ = (r.kind, r.key) not in self.collapsed and (r.kind == "cg" or self._is_open(r.obj))  # type: ignore[arg-type]
        self.action_fold(1 if open_ else 0)

    def on_click(self, event: events.Click) -> None:
        y = event.y
        if y <= 0:
            return
        self.set_cursor(int(self.scroll_y) + y - 1)
        self.focus()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self._scroll_to_cursor()


    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ------------------------------------------------------------------ drawing
    MARKS_ROOM = 20  # " VICTIM  reaped  pinned " and the like: the marks are what a row is about

    def _layout(self, width: int) -> dict[str, int]:
        """Column widths; where the marks would not fit, the less important columns give way
        (SHM, FILE, then SCORE, which POINTS repeats in other units), never the marks."""
        cols = {"pid": 5, "comm": 16 if width >= 110 else 12, "adj": 5, "anon": 6,
                "file": 6 if self._show_file else 0, "shm": 5 if self._show_shm else 0,
                "swap": 6 if self._show_swap else 0, "score": 5, "points": 8}
        if width < 72:
            cols.update(comm=10, points=7)
        if self.narrow:
            cols.update(file=0, shm=0, swap=0, score=0)
        for col in ("shm", "file", "score", "swap"):
            if width - (sum(cols.values()) + 6) >= self.MARKS_ROOM:
                break
            cols[col] = 0
        return cols

    def render_lines(self, crop):
        # looked up once per paint, not per row: rich_style walks every ancestor's styles
        self._paint = (self.scrollable_content_region.width, self.rich_style)
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def render_line(self, y: int) -> Strip:
        paint = getattr(self, "_paint", None)
        # the widget's colour and background ($surface) under every cell
        width, base = paint or (self.scrollable_content_region.width, self.rich_style)
        if y == 0:
            return self._header(width).apply_style(base)
        i = int(self.scroll_y) + y - 1
        if i >= len(self.rows):
            return Strip.blank(width, base)
        r = self.rows[i]
        k = self.engine.k
        if r.kind == "cg":
            segs = self._cg_line(k, r, width)
        elif r.kind == "p":
            segs = self._p_line(k, r, width)
        else:
            segs = self._t_line(k, r)
        strip = Strip(segs).crop_extend(0, width, None)
        if i == self.cursor:
            # NO_COLOR's Monochrome filter keeps only luminance, and the cursor's tint had the background's:
            # reverse video there, underlined while the filter or a panel has the keys
            if self.app.no_color:
                strip = strip.apply_style(REVERSE if self.has_focus else UNDERLINE)
            else:
                strip = strip.apply_style(R.cursor if self.has_focus else R.cursor_blur)
        return strip.apply_style(base)

    def _header(self, width: int) -> Strip:
        c = self._layout(width)
        parts = [" " * 2, "PID".rjust(c["pid"]), " ", "COMM".ljust(c["comm"]), "ADJ".rjust(c["adj"]),
                 "ANON".rjust(c["anon"])]
        if c["file"]:
            parts.append("FILE".rjust(c["file"]))
        if c["shm"]:
            parts.append("SHM".rjust(c["shm"]))
        if c["swap"]:
            parts.append("SWAP".rjust(c["swap"]))
        if c["score"]:
            parts.append("SCORE".rjust(c["score"] + 1))
        parts += ["POINTS".rjust(c["points"]), "  MARKS"]
        return Strip([Segment("".join(parts), R.head)]).crop_extend(0, width, None)

    def _cg_line(self, k, r: Row, width: int) -> list[Segment]:
        cg: Cgroup = r.obj  # type: ignore[assignment]
        arrow = "▸ " if ("cg", cg.path) in self.collapsed else "▾ "
        lead = Segment("  " * r.depth + arrow, R.label)
        limit = view.size(cg.limit) if cg.limit is not None else "max"
        segs = [Segment(f"  mem {view.size(cg.usage)}/{limit}", R.cgroup_info)]
        if cg.freezer:
            st = freezer_state(k, cg)
            frozen = st in ("FROZEN", "FREEZING", "frozen")
            segs.append(Segment(f"  freezer {cg.freezer} ", R.cgroup_info))
            segs.append(Segment(f" {st} ", (R.frozen_v1 if cg.freezer == "v1" else R.frozen_v2) if frozen else R.dim))
        if cg.oom_group:
            segs.append(Segment("  oom.group", R.cgroup_info))
        n = len(cg.members)
        segs.append(Segment(f"  {n} proc", R.dim))
        # a long path (a container's hash) gives way in its middle, so its usage and count stay on the row
        path = cg.path if cg.path != "/" else "/ (root)"
        path = view.cut_middle(path, width - len(lead.text) - sum(len(x.text) for x in segs))
        return [lead, Segment(path, R.cgroup), *segs]

    def _p_line(self, k, r: Row, width: int) -> list[Segment]:
        p: Process = r.obj  # type: ignore[assignment]
        c = self._layout(width)
        exited = p.exited_at is not None
        arrow = ("▾ " if self._is_open(p) else "▸ ") if len(p.threads) > 0 else "  "
        mm = p.mm if not exited else None
        segs = [Segment(arrow, R.label), Segment(str(p.pid).rjust(c["pid"]) + " ", R.dim if exited else R.pid),
                Segment(_cell(p.comm, c["comm"]), R.exited if exited else R.comm)]
        adj = p.oom_score_adj
        segs.append(Segment(str(adj).rjust(c["adj"]), R.zero if adj == 0 else (R.adj_neg if adj < 0 else R.adj_pos)))

        def num(pages: int, w: int) -> Segment:
            return Segment(view.size_in(pages, w - 1).rjust(w), R.zero if pages == 0 else R.number)

        if mm is not None:
            segs.append(num(mm.anon, c["anon"]))
            if c["file"]:
                segs.append(num(mm.file, c["file"]))
            if c["shm"]:
                segs.append(num(mm.shmem, c["shm"]))
            if c["swap"]:
                segs.append(num(mm.swapents, c["swap"]))
        else:
            # one placeholder per column, as for the score and the points: a zombie has no mm
            for col in ("anon", "file", "shm", "swap"):
                if c[col]:
                    segs.append(Segment("—".rjust(c[col]), R.dim))
        if c["score"]:
            score = view.oom_score(k, p)
            segs.append(Segment(("—" if score is None else str(score)).rjust(c["score"] + 1),
                                R.dim if score is None else R.score))
        pts, note = view.badness(k, p)
        segs.append(Segment(_points(pts, c["points"] - 1).rjust(c["points"]), R.number if pts is not None else R.dim))
        segs.append(Segment("  "))
        for label, kind in view.marks(k, p):
            segs.append(Segment(f" {label} " if kind not in ("exited", "dim") else label, R[MARK[kind]]))
            segs.append(Segment(" "))
        return segs

    def _t_line(self, k, r: Row) -> list[Segment]:
        t: Task = r.obj  # type: ignore[assignment]
        p = t.process
        last = p.threads[-1] is t
        segs = [Segment("  " + ("└" if last else "├"), R.label),
                Segment(str(t.tid).rjust(5) + " ", R.dim),
                Segment(f" {t.letter} ".ljust(11), R[STATE.get(t.letter, "number")]),
                Segment(" ")]
        if not t.alive:  # exit_mm() cleared the robust list: "no robust" would mislead
            segs.append(Segment("—".ljust(12), R.dim))
        else:
            segs.append(Segment("robust_list " if t.robust_list else "no robust   ",
                                R.robust if t.robust_list else R.dim))
        if t.robust_held:
            segs.append(Segment("holds " + ",".join(f.name for f in t.robust_held) + " ", R.hold))
        owned = [f.name for f in k.futexes.values() if f.owner_task is t and f not in t.robust_held]
        if owned:
            segs.append(Segment("owns " + ",".join(owned) + " ", R.hold))
        if view.hung_on(t) is not None:
            segs.append(Segment(f" HUNG on {t.waiting_on.name} ", R.mark_hung))
        elif t.waiting_on is not None:
            segs.append(Segment(f"waits on {t.waiting_on.name} ", R.wait))
        if t.tif_memdie:
            segs.append(Segment("TIF_MEMDIE ", R.memdie))
        if t.holds_mmap_lock:
            segs.append(Segment("mmap_lock(w) ", R.mmap_lock))
        return segs


def _points(pts: int | None, room: int) -> str:
    """Badness points in at most `room` characters (a column always keeps one space before it)."""
    if pts is None:
        return "—"
    text = str(pts)
    for div, unit in ((10**3, "k"), (10**6, "M"), (10**9, "G"), (10**12, "T")):
        if len(text) <= room:
            break
        text = f"{pts / div:.0f}{unit}"
    return text
