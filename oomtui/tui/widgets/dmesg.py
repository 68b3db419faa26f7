"""The dmesg panel: the kernel's exact lines with their [seconds.micros] stamps, drawn with the Line API.

The widget keeps the Dmesg events themselves (a stamp is formatted only when its line is drawn) and
draws only the rows it shows: an OOM kill in a 5 000-process scene writes a 5 000-row dump_tasks
table, and that costs a list append and a length-based row estimate per line, then the visible rows;
no relayout of the screen (a ScrollView's virtual size is set without the reactive's layout).

Two modes (`wrap`):

- wrap (the wide layout): a line is shown whole, wrapped at the widget's width at a space or after a
  comma, continuation rows indented to just after the `[    2.392000] ` stamp;
- no wrap (the compact layout, `App.-compact`): one row per line; ←/→ (or shift+wheel) scroll sideways,
  a `›` in the last column says a row goes on to the right, a `‹` in the first that it started left.

`wrap` is None by default: the CSS `text-wrap` decides (DEFAULT_CSS makes it `nowrap` under
`App.-compact`); the App sets True/False.

Row counts (wrap mode): exact for the lines already wrapped, an estimate from the length for the
rest (a big batch, every line after a resize). Following the newest line the view is drawn from the
bottom up, wrapping only the lines shown; scrolling up counts the rest once, then the view is drawn
top-down from exact sums. The view follows new lines unless scrolled up (up/pageup/home/mouse); end
follows again. At most `max_lines` lines are kept (10 000: two 5 000-process task dumps).

Colours come from the theme: COMPONENT_CLASSES styled in DEFAULT_CSS with $text-success, $text-error,
$error ... (an App or theme may restyle `DmesgLog > .dmesg--killed` and the others).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from ...kernel import events as ev
from ...kernel.dmesg import stamp
from .scroll import QuietScrollView

MAX_LINES = 10_000  # two 5 000-process dumps; older lines are dropped (in batches of MAX_LINES // 8)
STAMP_W = len(stamp(0, 100))  # "[    0.000000] "
CUE_RIGHT, CUE_LEFT = "›", "‹"

# (component class, pattern): a later rule wins where two match (the Killed process inside Out of memory)
RULES: list[tuple[str, re.Pattern[str]]] = [
    ("dmesg--stamp", re.compile(r"^\[\s*\d+\.\d+\]")),
    ("dmesg--invoked", re.compile(r"invoked oom-killer.*")),
    ("dmesg--oom", re.compile(r"Out of memory.*|Memory cgroup out of memory.*")),
    ("dmesg--reaper", re.compile(r"oom_reaper: .*")),
    ("dmesg--killed", re.compile(r"Killed process \d+ \([^)]*\)")),
    ("dmesg--panic", re.compile(r"Kernel panic.*")),
    ("dmesg--unable", re.compile(r"unable to reap.*")),
]
_STAMP_RX = re.compile(r"\[\s*\d+\.\d+\] ")


def highlight_runs(text: str) -> list[tuple[int, int, int]]:
    """(start, end, rule) runs covering `text`; rule 0 is plain, i > 0 is RULES[i - 1]."""
    marks: list[tuple[int, int, int]] = []
    for i, (_, rx) in enumerate(RULES, 1):
        for m in rx.finditer(text):
            if m.end() > m.start():
                marks.append((m.start(), m.end(), i))
    if not marks:
        return [(0, len(text), 0)]
    owner = [0] * len(text)
    for a, b, i in marks:  # in rule order: later rules overwrite
        owner[a:b] = [i] * (b - a)
    runs = []
    start = 0
    for x in range(1, len(text) + 1):
        if x == len(text) or owner[x] != owner[start]:
            runs.append((start, x, owner[start]))
            start = x
    return runs


def wrap_line(text: str, first: int, cont: int, lead: int = 0) -> list[tuple[int, int]]:
    """Where to cut `text` into rows: (start, end) slices, the first row `first` cells wide, the
    others `cont`. Cuts at the last space (dropped) or after the last comma that fits, unless that
    leaves a row less than half full: then mid-word. No cut before `lead` (the stamp)."""
    first, cont = max(1, first), max(1, cont)
    n = len(text)
    if text.isascii():
        if n <= first:
            return [(0, n)]
        out = []
        pos, avail = 0, first
        while n - pos > avail:
            end = pos + avail
            lo = max(pos + 1, lead)
            cut = text.rfind(" ", lo, end + 1)
            comma = text.rfind(",", lo, end)  # or just after a comma: "cpuset=/,mems_allowed=0,"
            if comma >= cut:
                cut = nxt = comma + 1
            else:
                nxt = cut + 1
            if cut - pos < avail // 2:
                cut = nxt = end
            out.append((pos, cut))
            while nxt < n and text[nxt] == " ":
                nxt += 1
            pos, avail = nxt, cont
        if pos < n:
            out.append((pos, n))
        return out
    # wide characters: the same with cell widths
    widths = [get_character_cell_size(c) for c in text]
    out = []
    pos, avail = 0, first
    while pos < n:
        used, end = 0, pos
        while end < n and used + widths[end] <= avail:
            used += widths[end]
            end += 1
        if end >= n:
            out.append((pos, n))
            break
        if end == pos:  # a character wider than the row
            end += 1
        lo = max(pos + 1, lead)
        cut = text.rfind(" ", lo, end + 1)
        comma = text.rfind(",", lo, end)
        if comma >= cut:
            cut = nxt = comma + 1
        else:
            nxt = cut + 1
        if cut - pos < (end - pos) // 2:
            cut = nxt = end
        out.append((pos, cut))
        while nxt < n and text[nxt] == " ":
            nxt += 1
        pos, avail = nxt, cont
    return out or [(0, 0)]


class DmesgLog(QuietScrollView, can_focus=True):
    """dmesg with the kernel's exact lines and [seconds.micros] stamps.

    The App calls `reset()` (reload from k.events: a new scene, a restart, a jump), `sync(events,
    moved)` each frame (appends this frame's Dmesg events) and may set `wrap`.

    Row bookkeeping in the wrap mode: lines [0, counted) have exact row counts (prefix sums in
    `_cum`); the lines after them (a big batch, or every line after a resize) have only an estimate
    (`_est`, from their lengths). While following the newest line the view is drawn from the bottom
    up, so only the visible lines are wrapped; scrolling away from the bottom counts the rest once
    (then the view is drawn top-down from exact sums). The estimate only moves the scrollbar a little.
    """

    SCOPED_CSS = False  # the compact rule below names the App
    ALLOW_SELECT = False  # rows are not the text's lines: no mouse selection (Textual's would be wrong)
    COMPONENT_CLASSES = {
        "dmesg--stamp", "dmesg--invoked", "dmesg--oom", "dmesg--reaper", "dmesg--killed", "dmesg--panic",
        "dmesg--unable", "dmesg--cue",
    }
    DEFAULT_CSS = """
    DmesgLog {
        border: round $panel-lighten-2; border-title-color: $text-muted;
        background: $surface; color: $text;
        overflow-x: hidden; overflow-y: auto;
        text-wrap: wrap;
    }
    DmesgLog:focus { border: round $accent; }
    App.-compact DmesgLog { text-wrap: nowrap; }
    DmesgLog > .dmesg--stamp { color: $text-success; }
    DmesgLog > .dmesg--invoked { color: $text-accent; text-style: bold; }
    DmesgLog > .dmesg--oom { color: $text-error; text-style: bold; }
    DmesgLog > .dmesg--reaper { color: $text-secondary; text-style: bold; }
    DmesgLog > .dmesg--killed { color: $text; background: $error-darken-1; text-style: bold; }
    DmesgLog > .dmesg--panic { color: $text; background: $error; text-style: bold; }
    DmesgLog > .dmesg--unable { color: $text-warning; text-style: bold; }
    DmesgLog > .dmesg--cue { color: $text-accent; text-style: bold; }
    """

    BINDINGS = [
        Binding("up", "scroll_rows(-1)", "Up", show=False, id="dmesg.up"),
        Binding("down", "scroll_rows(1)", "Down", show=False, id="dmesg.down"),
        Binding("pageup", "scroll_rows(-1000000)", "Page up", show=False, id="dmesg.pageup"),
        Binding("pagedown", "scroll_rows(1000000)", "Page down", show=False, id="dmesg.pagedown"),
        Binding("home", "top", "Oldest", show=False, id="dmesg.home"),
        Binding("end", "bottom", "Newest (follow)", show=False, id="dmesg.end"),
        Binding("left", "scroll_cols(-1)", "Left", show=False, id="dmesg.left"),
        Binding("right", "scroll_cols(1)", "Right", show=False, id="dmesg.right"),
    ]

    def __init__(self, engine=None, *, max_lines: int = MAX_LINES, **kw) -> None:
        super().__init__(**kw)
        self.engine = engine
        self.max_lines = max_lines
        self.border_title = "dmesg"
        self._wrap: bool | None = None  # None: CSS text-wrap decides
        self._entries: list = []  # ev.Dmesg (stamped when drawn) or str (drawn as is)
        self._first = 0  # absolute number of _entries[0] (lines dropped so far)
        self._maxw = 0  # widest line in cells (the no-wrap virtual width)
        self._geom: tuple[int, int] | None = None  # (wrap width, continuation indent) of the counts
        self._cum: list[int] = [0]  # exact rows before each counted line (minus _cum[0]), and after
        self._est = 0  # estimated rows of the lines not counted yet
        self._follow = True
        self._bottom: tuple[tuple, list] | None = None  # the bottom-up layout of the last frame
        self._virtual_pending = False
        self._style_list: list[Style] | None = None  # [plain, *RULES, cue]: rebuilt on a style update
        self._lines: LRUCache[int, tuple[str, list]] = LRUCache(512)  # abs line -> (text, runs)
        self._pieces: LRUCache[tuple, list] = LRUCache(1024)  # (abs line, geom) -> row slices
        self.rendered = 0  # render_line calls (tests: only visible rows are drawn)

    # ------------------------------------------------------------------ API
    @property
    def wrap(self) -> bool:
        """True: lines wrap with a hanging indent; False: one row each, scrolled sideways."""
        if self._wrap is not None:
            return self._wrap
        return self.styles.text_wrap != "nowrap"

    @wrap.setter
    def wrap(self, value: bool | None) -> None:
        before = self.wrap
        self._wrap = value
        if self.wrap != before:
            self._relayout()

    @property
    def line_count(self) -> int:
        return len(self._entries)

    @property
    def following(self) -> bool:
        """Whether new lines scroll into view (False once the user scrolled up)."""
        return self._follow

    def line_text(self, i: int) -> str:
        """The i-th kept line as dmesg prints it (negative: from the end)."""
        return self._format(self._entries[i])

    def sync(self, events: list, moved: bool = True) -> None:
        """Append this frame's Dmesg events."""
        new = ev.dmesg_events(events)
        if new:
            self._append(new)

    def reset(self) -> None:
        """Reload from the kernel's whole event list (a new scene, a restart, run to the end)."""
        self.clear()
        if self.engine is not None:
            self._append(ev.dmesg_events(self.engine.k.events)[-self.max_lines:])

    def write_lines(self, lines: Iterable[str]) -> None:
        """Append plain text lines (shown as given)."""
        new = [s for line in lines for s in (line.splitlines() or [""])]
        if new:
            self._append(new)

    def clear(self) -> None:
        self._first += len(self._entries)
        self._entries = []
        self._maxw = 0
        self._cum = [0]
        self._est = 0
        self._follow = True
        self._bottom = None
        self._lines.clear()
        self._pieces.clear()
        self._set_virtual()
        self.scroll_to(0, 0, animate=False, force=True)
        self.refresh()

    # ------------------------------------------------------------------ lines
    def _hz(self) -> int:
        return self.engine.k.hz if self.engine is not None else 100

    def _format(self, e) -> str:
        return e if type(e) is str else stamp(e.t, self._hz()) + e.line

    def _lead(self, e) -> int:
        """Cells before the message: the stamp's width (where continuation rows could start)."""
        if type(e) is str:
            m = _STAMP_RX.match(e)
            return m.end() if m else 0
        return STAMP_W if e.t < 100_000 * self._hz() else len(stamp(e.t, self._hz()))

    def _line(self, i: int) -> tuple[str, list]:
        """(text, highlight runs) of kept line i, cached by its absolute number."""
        key = self._first + i
        got = self._lines.get(key)
        if got is None:
            text = self._format(self._entries[i])
            got = (text, highlight_runs(text))
            self._lines[key] = got
        return got

    def _slices(self, e, geom: tuple[int, int]) -> list[tuple[int, int]]:
        """Where line `e` is cut into rows at this geometry: (start, end) slices of its text, stamp
        included. A stamped line is wrapped on its message alone, so the stamp never breaks."""
        w, indent = geom
        if type(e) is str:
            return wrap_line(e, w, w - indent, self._lead(e))
        lead = self._lead(e)
        if lead >= w:
            return wrap_line(self._format(e), w, w - indent, lead)
        out = [(a + lead, b + lead) for a, b in wrap_line(e.line, w - lead, w - indent)]
        out[0] = (0, out[0][1])
        return out

    def _row_slices(self, i: int) -> list[tuple[int, int]]:
        """Slices of kept line i's text for each of its rows at the current geometry (cached)."""
        geom = self._geom
        assert geom is not None
        key = (self._first + i, geom)
        got = self._pieces.get(key)
        if got is None:
            got = self._slices(self._entries[i], geom)
            self._pieces[key] = got
        return got

    # ------------------------------------------------------------------ row counts (wrap mode)
    def _estimate(self, items: list) -> int:
        """Rows these lines take, from their lengths alone (character wrap: a lower bound)."""
        w, indent = self._geom  # type: ignore[misc]
        c = max(1, w - indent)
        if items and type(items[0]) is str:
            f = max(1, w)
            lens = [len(e) for e in items]
        else:
            f = max(1, w - STAMP_W)
            lens = [len(e.line) for e in items]
        return sum([1 if n <= f else 2 + (n - f - 1) // c for n in lens])

    @property
    def _counted(self) -> int:
        return len(self._cum) - 1

    def _rows_total(self) -> int:
        if self.wrap and self._geom is not None:
            return self._cum[-1] - self._cum[0] + self._est
        return len(self._entries)

    def _count(self, upto: int) -> None:
        """Exact row counts for lines [counted, upto)."""
        k = self._counted
        if upto <= k:
            return
        items = self._entries[k:upto]
        geom = self._geom
        assert geom is not None
        w = geom[0]
        hz100k = 100_000 * self._hz()
        slices = self._slices
        cum = self._cum
        total = cum[-1]
        for e in items:
            if type(e) is not str and STAMP_W + len(e.line) <= w and e.t < hz100k and e.line.isascii():
                total += 1
            else:
                total += len(slices(e, geom))
            cum.append(total)
        self._est = 0 if upto == len(self._entries) else self._est - self._estimate(items)

    def _count_rows(self, row: int) -> None:
        """Count lines until `row` (from the top) falls in a counted line, or all are counted."""
        n = len(self._entries)
        while self._counted < n and self._cum[-1] - self._cum[0] <= row:
            self._count(min(n, self._counted + 64))

    def _virtual_later(self) -> None:
        """Counts changed while drawing: update the scrollable size after this frame."""
        if not self._virtual_pending:
            self._virtual_pending = True

            def update() -> None:
                self._virtual_pending = False
                self._set_virtual()

            self.call_after_refresh(update)

    def _append(self, items: list) -> None:
        if not items:
            return
        follow = self._follow
        n0 = len(self._entries)
        self._entries.extend(items)
        if type(items[0]) is str:
            widest = max(map(len, items))
        else:
            widest = STAMP_W + max([len(e.line) for e in items])  # wide characters: fixed when drawn
        if widest > self._maxw:
            self._maxw = widest
        if self._geom is not None:
            if self._counted == n0 and (len(items) <= 64 or not follow):
                self._count(len(self._entries))  # a few lines: exact now
            else:
                self._est += self._estimate(items)  # a big batch: counted when needed
            if self._rows_total() < 2 * max(1, self.container_size.height):
                self._count(len(self._entries))  # few rows in all: keep them exact
        dropped = self._trim()
        self._bottom = None
        self._set_virtual()
        if follow:
            self._scroll_end()
        elif dropped:  # keep the rows in view where they are
            self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False, force=True)
        self.refresh()

    def _trim(self) -> int:
        """Drop the oldest lines past max_lines (in batches); returns the rows dropped."""
        n = len(self._entries)
        if n <= self.max_lines + self.max_lines // 8:
            return 0
        k = n - self.max_lines
        if self._geom is None or not self.wrap:
            dropped = k
        elif k <= self._counted:
            dropped = self._cum[k] - self._cum[0]
            del self._cum[:k]
        else:
            gone = self._entries[self._counted:k]
            est = self._estimate(gone)
            dropped = self._cum[-1] - self._cum[0] + est
            self._est -= est
            self._cum = [0]
        del self._entries[:k]
        self._first += k
        return dropped

    # ------------------------------------------------------------------ geometry
    def _content_width(self) -> int:
        """The columns rows are drawn in (the vertical scrollbar, when shown, is not one)."""
        return max(0, self.container_size.width - self.scrollbar_size_vertical)

    def _wrap_width(self) -> int:
        """The columns lines wrap at: the scrollbar's column kept free whether it is shown or not,
        else the first lines wrap one column wider than the rest once the bar appears."""
        bar = self.styles.scrollbar_size_vertical if self.styles.overflow_y != "hidden" else 0
        return max(0, self.container_size.width - bar)

    def _wrap_geom(self) -> tuple[int, int] | None:
        w = self._wrap_width()
        if w <= 0:
            return None
        indent = STAMP_W if w - STAMP_W >= 24 else min(4, w // 4)
        return (w, indent)

    def _top_line(self) -> int:
        """The kept line at the top of the view."""
        if not self._entries:
            return 0
        if not (self.wrap and self._geom is not None):
            return min(len(self._entries) - 1, int(self.scroll_y))
        row = int(self.scroll_y)
        self._count_rows(row)
        cum = self._cum
        return min(len(self._entries) - 1, bisect_right(cum, cum[0] + row) - 1)

    def _relayout(self) -> None:
        """The width or the mode changed: the counts start again (an estimate; exact when needed).
        Scrolled up, the view keeps its top line."""
        geom = self._wrap_geom() if self.wrap else None
        top = None if self._follow else self._top_line()
        if geom != self._geom:
            self._geom = geom
            self._pieces.clear()
            self._bottom = None
            self._cum = [0]
            self._est = self._estimate(self._entries) if geom is not None else 0
            if geom is not None and self._rows_total() < 2 * max(1, self.container_size.height):
                self._count(len(self._entries))
        if self.wrap:
            self.scroll_to(x=0, animate=False, force=True)
        self._set_virtual()
        if self._follow:
            self._scroll_end()
        elif top is not None:
            if geom is not None:
                self._count(top + 1)
                y = self._cum[top] - self._cum[0]
            else:
                y = top
            self.scroll_to(y=y, animate=False, force=True)
        self.refresh()

    def _set_virtual(self) -> None:
        """The scrollable size, without a relayout of the screen unless this widget's own height
        may follow its content (height: auto) or a scrollbar comes or goes."""
        w = self._wrap_width() if self.wrap else self._maxw
        size = Size(w, self._rows_total())
        old = self.virtual_size
        if size == old:
            return
        height = self.styles.height
        shown = self.container_size.height
        if height is not None and height.is_auto and min(old.height, size.height) <= shown:
            self.virtual_size = size  # the reactive: relayout (the panel grows or shrinks)
            return
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)
        self._bars_for = size

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.wrap and self._geom is None and self._entries:
            return len(self._entries)
        return self._rows_total()

    def _scroll_end(self) -> None:
        self._follow = True
        self.scroll_to(y=self.max_scroll_y, animate=False, force=True)

    def on_resize(self) -> None:
        self._relayout()


    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_list = None  # a theme, focus or CSS change: look the styles up again
        if self.is_mounted and self._wrap is None and (self._geom is not None) != self.wrap:
            self._relayout()  # the CSS text-wrap changed (App.-compact)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_end = round(new_value) >= self.max_scroll_y
        if self._follow and not at_end and self.wrap and self._geom is not None \
                and self._counted < len(self._entries):
            # scrolled up from an estimated bottom: count the rest now, keep the distance from the end
            back = self.max_scroll_y - round(new_value)
            self._count(len(self._entries))
            self._set_virtual()
            self._follow = False
            self.scroll_to(y=max(0, self.max_scroll_y - back), animate=False, force=True)
            return
        self._follow = at_end

    # the horizontal scrollbar is hidden (a row is worth more than a bar), yet the view scrolls
    @property
    def allow_horizontal_scroll(self) -> bool:
        if self._check_disabled():
            return False
        return not self.wrap and self.max_scroll_x > 0

    @property
    def allow_vertical_scroll(self) -> bool:
        if self._check_disabled():
            return False
        return self.max_scroll_y > 0

    # ------------------------------------------------------------------ actions
    def action_scroll_rows(self, n: int) -> None:
        page = max(1, self.container_size.height - 1)
        n = max(-page, min(page, n))
        self.scroll_to(y=max(0, min(self.max_scroll_y, self.scroll_y + n)), animate=False, force=True)

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False, force=True)

    def action_bottom(self) -> None:
        self._scroll_end()

    def action_scroll_cols(self, d: int) -> None:
        if self.wrap:
            return
        step = max(4, self._content_width() // 3)
        x = max(0, min(self.max_scroll_x, self.scroll_x + d * step))
        self.scroll_to(x=x, animate=False, force=True)

    # ------------------------------------------------------------------ drawing
    def _styles(self) -> list[Style]:
        """[plain, one per rule, the cue]: the theme's, looked up once per style update (a widget's
        rich_style walks its ancestors: too dear for every row)."""
        if self._style_list is None:
            get = self.get_component_rich_style
            self._style_list = [self.rich_style] + [get(name) for name, _ in RULES] + [get("dmesg--cue")]
        return self._style_list

    def _bottom_rows(self, height: int) -> list[tuple[int, int]] | None:
        """(line, row in line) of the last `height` rows, wrapping only those lines; None when
        all the lines make fewer rows than that."""
        n = len(self._entries)
        key = (self._first, n, self._geom, height)
        if self._bottom is not None and self._bottom[0] == key:
            return self._bottom[1]
        rows: list[tuple[int, int]] = []
        i = n - 1
        while i >= 0 and len(rows) < height:
            for sub in range(len(self._row_slices(i)) - 1, -1, -1):
                rows.append((i, sub))
                if len(rows) == height:
                    break
            i -= 1
        if len(rows) < height:
            return None
        rows.reverse()
        self._bottom = (key, rows)
        return rows

    def render_line(self, y: int) -> Strip:
        self.rendered += 1
        width = self._content_width()
        base = self._styles()[0]
        if width <= 0:
            return Strip.blank(0, base)
        scroll_x, scroll_y = self.scroll_offset
        if not (self.wrap and self._geom is not None):
            row = scroll_y + y
            if row >= len(self._entries):
                return Strip.blank(width, base)
            return self._cut_row(row, scroll_x, width, base)
        if self._follow and self._counted < len(self._entries):
            height = self.scrollable_content_region.height or self.container_size.height
            rows = self._bottom_rows(height)
            if rows is not None:
                return self._wrapped_row(*rows[y], width, base) if y < len(rows) else Strip.blank(width, base)
            self._count(len(self._entries))  # fewer rows than the estimate said
            self._virtual_later()
        row = scroll_y + y
        if self._counted < len(self._entries) and self._cum[-1] - self._cum[0] <= row:
            self._count_rows(row)
            self._virtual_later()
        cum = self._cum
        target = cum[0] + row
        if target >= cum[-1]:
            return Strip.blank(width, base)
        i = bisect_right(cum, target) - 1
        return self._wrapped_row(i, target - cum[i], width, base)

    def _segments(self, text: str, runs: list, a: int, b: int, styles: list[Style]) -> list[Segment]:
        segs = []
        for start, end, rule in runs:
            if end <= a:
                continue
            if start >= b:
                break
            segs.append(Segment(text[max(a, start):min(b, end)], styles[rule]))
        return segs

    def _wrapped_row(self, i: int, sub: int, width: int, base: Style) -> Strip:
        text, runs = self._line(i)
        slices = self._row_slices(i)
        a, b = slices[min(sub, len(slices) - 1)]
        segs = self._segments(text, runs, a, b, self._styles())
        if sub:
            segs.insert(0, Segment(" " * self._geom[1], base))  # type: ignore[index]
        return Strip(segs).crop_extend(0, width, base)

    def _cut_row(self, i: int, x: int, width: int, base: Style) -> Strip:
        text, runs = self._line(i)
        ascii_ = text.isascii()
        n = len(text) if ascii_ else cell_len(text)
        if n > self._maxw:  # wide characters: the line is wider than its length said
            self._maxw = n
            self._virtual_later()
        if ascii_:  # slice the text itself: only the visible cells become segments
            strip = Strip(self._segments(text, runs, x, x + width, self._styles())).extend_cell_length(width, base)
        else:
            strip = Strip(self._segments(text, runs, 0, len(text), self._styles())).crop_extend(x, x + width, base)
        more_right = n > x + width
        more_left = x > 0 and n > 0
        if not (more_right or more_left):
            return strip
        cue = self._styles()[-1]
        parts = []
        if more_left:
            parts.append(Strip([Segment(CUE_LEFT, cue)], 1))
            strip = strip.crop(1, width)
        if more_right:
            parts.append(strip.crop(0, strip.cell_length - 1))
            parts.append(Strip([Segment(CUE_RIGHT, cue)], 1))
        else:
            parts.append(strip)
        return Strip.join(parts)
