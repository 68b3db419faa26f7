"""`oomtui record SCENE -o FILE.cast`: the scene's walkthrough as an asciicast v2 file, in simulated time.

No terminal and no asciinema: the App runs under a driver derived from Textual's headless driver
that says it is *not* headless, so `App._display` hands it the exact ANSI stream a terminal would
get. Time comes from the kernel model, never from the wall clock: the recorder advances the
simulation one frame (1/FPS simulated seconds) at a time, waits until Textual has painted it,
and stamps what changed with the simulated time (plus the pauses of hold steps). Markers follow the frame
they name: each walkthrough step's caption, and a chapter at each kernel decision (chapters.py).

Textual splits a frame into paints as its own (wall-clock) update timer happens to fire, so the raw
stream of two runs differs in how, though not in what, it draws. The recorder therefore plays each
frame's stream into a cell grid (the few sequences Textual writes: cursor moves, SGR, text) and
writes the cells that changed since the last frame, in one canonical form: two runs give the same
bytes, and the cast is smaller than the raw stream.

The one private detail relied on: App._display writes through `self._driver.write` when the
driver is not headless (Textual 8.2). `tests/record/test_cast.py` fails loudly if that changes.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import re
import sys

from ..errors import UserError
from .chapters import Chapters

FPS = 20  # frames per simulated second in the cast
END_S = 5.0  # the result screen stays this long at the end
CLEAR = "\x1b[?25l\x1b[2J\x1b[H"  # hide the cursor, clear: the first frame then paints everything


def ending(height: int) -> str:
    """The last output event: what the cast set, undone (attributes, the hidden cursor), and the cursor on the
    bottom row, so that the player's terminal is left as a shell expects it. No newline: a scroll would move
    the last frame in fixed-size players (asciinema-player, agg)."""
    return f"\x1b[0m\x1b[{height};1H\x1b[?25h"


_TOKEN = re.compile(r"\x1b\[(\d*)(?:;(\d*))?H|\x1b\[([0-9;]*)m|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
                    r"|\x1b\[[?0-9;]*[A-Za-z]|\x1b.|[\r\n]|[^\x1b\r\n]+")


class Grid:
    """Just enough of a terminal for what Textual writes: absolute cursor moves, SGR and text."""

    def __init__(self, width: int, height: int) -> None:
        self.w, self.h = width, height
        self.cells = [[(" ", "")] * width for _ in range(height)]
        self.x = self.y = 0
        self.sgr = ""

    def feed(self, data: str) -> None:
        for m in _TOKEN.finditer(data):
            tok = m.group(0)
            if tok.startswith("\x1b"):
                if tok.endswith("H") and tok[1] == "[" and (m.group(1) is not None):
                    self.y = max(0, int(m.group(1) or 1) - 1)
                    self.x = max(0, int(m.group(2) or 1) - 1)
                elif m.group(3) is not None:
                    params = m.group(3)
                    if params in ("", "0"):
                        self.sgr = ""
                    elif params.startswith("0;"):
                        self.sgr = params[2:]
                    else:
                        self.sgr = f"{self.sgr};{params}" if self.sgr else params
                elif tok == "\x1b[2J":
                    self.cells = [[(" ", "")] * self.w for _ in range(self.h)]
                continue  # modes, OSC (pointer shape), other controls: no cells
            if tok == "\r":
                self.x = 0
            elif tok == "\n":
                self.x, self.y = 0, self.y + 1
            else:
                self._text(tok)

    def _text(self, text: str) -> None:
        if not 0 <= self.y < self.h:
            return
        row = self.cells[self.y]
        for ch in text:
            n = cell_size(ch)
            if n == 0:
                continue
            if self.x + n > self.w:
                break
            row[self.x] = (ch, self.sgr)
            if n == 2:
                row[self.x + 1] = ("", self.sgr)  # the right half of a wide character
            self.x += n

    def snapshot(self) -> list[list[tuple[str, str]]]:
        return [list(r) for r in self.cells]


def diff(old: list[list[tuple[str, str]]] | None, new: list[list[tuple[str, str]]]) -> str:
    """The cells of `new` that differ from `old` (everything if old is None), canonically encoded."""
    out: list[str] = []
    for y, row in enumerate(new):
        prev = old[y] if old is not None else None
        x, w = 0, len(row)
        while x < w:
            if prev is not None and row[x] == prev[x]:
                x += 1
                continue
            start = x
            if row[start][0] == "" and start > 0:
                start -= 1  # begin on the left half of a wide character
            # extend the run while cells differ, bridging short equal gaps (a move costs ~8 bytes)
            end = x + 1
            while end < w:
                if prev is None or row[end] != prev[end]:
                    end += 1
                    continue
                gap = end
                while gap < w and gap - end < 6 and row[gap] == prev[gap]:
                    gap += 1
                if gap < w and gap - end < 6 and row[gap] != prev[gap]:
                    end = gap
                else:
                    break
            out.append(f"\x1b[{y + 1};{start + 1}H")
            style = None
            for ch, sgr in row[start:end]:
                if ch == "":
                    continue
                if sgr != style:
                    out.append(f"\x1b[0;{sgr}m" if sgr else "\x1b[0m")
                    style = sgr
                out.append(ch)
            if style:
                out.append("\x1b[0m")
            x = end
    return "".join(out)


def cell_size(ch: str) -> int:
    from rich.cells import get_character_cell_size

    return get_character_cell_size(ch)


class Recorder:
    """Collects what the driver writes; each frame becomes one output event of what changed."""

    def __init__(self, width: int, height: int) -> None:
        self.grid = Grid(width, height)
        self.shown: list[list[tuple[str, str]]] | None = None
        self.events: list[tuple[float, str, str]] = []
        self.pending: list[str] = []  # markers waiting for the frame that shows what they name
        self.offset = 0.0  # seconds of holds so far
        self.t = 0.0
        self.bytes_written = 0

    def write(self, data: str) -> None:
        self.grid.feed(data)
        self.bytes_written += len(data)

    def flush(self, t: float) -> None:
        """What changed on screen since the last flush becomes one output event at time t, followed by
        the markers of what happened in it: `asciinema play -m` pauses on a marker having drawn the
        events before it, so a marker comes after the frame that shows its caption or its kernel event."""
        self.t = max(self.t, round(t, 6))
        now = self.grid.snapshot()
        data = diff(self.shown, now)
        if self.shown is None:
            data = CLEAR + data
        self.shown = now
        if data:
            self.events.append((self.t, "o", data))
        self.events += [(self.t, "m", label) for label in self.pending]
        self.pending.clear()

    def marker(self, label: str) -> None:
        """A marker for the next frame."""
        self.pending.append(label)


def driver_class(rec: Recorder):
    from textual.drivers.headless_driver import HeadlessDriver

    class CastDriver(HeadlessDriver):
        """The headless driver, except that it asks to be written to."""

        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            rec.write(data)

        def flush(self) -> None:
            pass

    return CastDriver


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise UserError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 120x36") from None
    if not (40 <= w <= 400 and 10 <= h <= 200):
        raise UserError(f"--size {text}: expected 40..400 x 10..200")
    return w, h


def fixed_console(app) -> None:
    """Colours and size must not depend on the environment (TERM, COLORTERM, NO_COLOR ...)."""
    from rich.console import Console

    from textual.filter import ANSIToTruecolor

    app.console = Console(color_system="truecolor", file=io.StringIO(), markup=True, highlight=False, emoji=False,
                          legacy_windows=False, _environ={}, force_terminal=True, safe_box=False, soft_wrap=False)
    # App.__init__ reads NO_COLOR (a Monochrome or NoColor line filter and the -nocolor pseudo-class) and
    # TEXTUAL_FILTERS (a DimFilter): a recording or a screenshot is the same file whoever makes it, so only
    # the theme's ANSI-to-truecolor filter stays
    app._filters = [f for f in app._filters if isinstance(f, ANSIToTruecolor)]
    app.no_color = False
    app.theme = "textual-dark"  # Textual's default, whatever $TEXTUAL_THEME says (and never the config's)


def new_app(scene: str, policy: str | None, kernel: str | None, big: bool, autoplay: bool, driver=None,
            teach: bool = False, reading: bool = False, holds: bool = False):
    """An app that the recorder (or the screenshot) drives: no wall-clock timer, no score keeping, no
    briefing panel; reading time, holds and teach cards only where the caller asks (the recorder adds
    their time to the cast's timeline instead of waiting)."""
    from ..scene.load import load_scene
    from ..tui.app import make_app

    app = make_app(load_scene(scene), policy=policy, kernel=kernel, paused=False, autoplay=autoplay, big=big,
                   clock=False, driver_class=driver, briefing=False, teach=teach, reading=reading, holds=holds)
    app.keep_scores = False
    app.animation_level = "none"
    fixed_console(app)
    return app


async def _settle(pilot, rec: Recorder) -> None:
    """Until Textual has processed everything this frame caused and painted it: a pass that
    processes what is queued and paints what is dirty, repeated until a pass writes nothing."""
    for _ in range(12):
        before = rec.bytes_written
        await pilot.pause(0)  # no wall-clock wait
        if rec.bytes_written == before:
            await pilot.pause(0)
            if rec.bytes_written == before:
                return


async def record_async(scene: str, *, size=(120, 36), policy: str | None = None, kernel: str | None = None,
                       big: bool = False, fps: int = FPS, teach: bool = False) -> tuple[dict, list[tuple[float, str, str]]]:
    """Run the walkthrough and return (header, events). The briefing is the first caption; each
    caption's reading time, each hold and each teach card adds its time to the timeline. A marker for each
    step's caption and each kernel decision, after the frame that shows it."""
    from ..tui.screens.game import ResultScreen
    from ..tui.sequencer import READING

    w, h = size
    rec = Recorder(w, h)
    app = new_app(scene, policy, kernel, big, autoplay=True, driver=driver_class(rec), teach=teach, reading=True,
                  holds=True)
    e = app.engine
    hz = e.k.hz

    def now() -> float:
        return rec.offset + app.engine.k.jiffies / hz

    app.on_step = lambda step: rec.marker(step.caption)
    chapters = Chapters()

    def flush() -> None:
        for label in chapters.take(e.k):
            rec.marker(label)
        rec.flush(now())

    async with app.run_test(headless=False, size=size) as pilot:
        await _settle(pilot, rec)
        flush()
        if rec.bytes_written == 0:
            raise RuntimeError("the TUI wrote nothing to the recording driver: Textual's App no longer writes "
                               "through a non-headless driver (App._display); oomtui.record.cast needs updating")
        limit = e.sim.duration + hz  # never loop forever
        stuck = 0
        while e.k.jiffies < limit:
            if isinstance(app.screen, ResultScreen):
                break
            if e.finished and not e.sim.scene.goals:
                break
            if app.seq.waiting == READING:
                # a caption being read counts its seconds down in the cast as on a terminal: a frame a second
                # (to its next whole second, never a frame within a tenth of another: agg drops those)
                left = app.seq.read_left
                dt = left - math.ceil(left) + 1
                if dt < 0.1 and left > 1:
                    dt += 1
                if left - dt < 0.1:  # read: what is due now runs at once, as after a hold below
                    rec.offset += left
                    app.go_on()
                else:
                    rec.offset += dt
                    app.seq.tick(dt)
                    app.after_events([], moved=False)
                await _settle(pilot, rec)
                flush()
                continue
            if app.seq.waiting is not None:
                # a hold or a card: the cast shows it for that long
                rec.offset += app.seq.owed()
                app.go_on()
                await _settle(pilot, rec)
                flush()
                continue
            j0 = e.k.jiffies
            events = app.advance(e.take(1 / fps))
            await _settle(pilot, rec)
            flush()
            stuck = stuck + 1 if e.k.jiffies == j0 and not events else 0
            if stuck > fps and not isinstance(app.screen, ResultScreen):
                break  # nothing can move any more (a panic)
        await _settle(pilot, rec)
        flush()
        end_t = round(now() + END_S, 6)
        title = f"oomtui: {e.sim.scene.title}"
        scene_id, policy_id = e.sim.id, e.k.policy.id
        app.exit()
    rec.events.append((end_t, "o", ending(h)))
    # nothing from the machine, the clock or the command line (no timestamp, no output path): two
    # recordings of the same scene, policy and size are the same bytes
    header = {"version": 2, "width": w, "height": h, "duration": end_t, "title": title,
              "env": {"TERM": "xterm-256color", "SHELL": "/bin/sh"}, "oomtui": {"scene": scene_id, "policy": policy_id}}
    return header, rec.events


def dumps(header: dict, events: list[tuple[float, str, str]]) -> str:
    lines = [json.dumps(header, ensure_ascii=False)]
    lines += [json.dumps([t, kind, data], ensure_ascii=False) for t, kind, data in events]
    return "\n".join(lines) + "\n"


def record(scene: str, **kw) -> str:
    header, events = asyncio.run(record_async(scene, **kw))
    return dumps(header, events)


def main(args) -> int:
    gif = getattr(args, "gif", None)
    if args.output is None and gif is None:
        raise UserError("record: say where: -o FILE.cast (- for stdout), --gif FILE.gif, or both")
    if gif == "-":
        raise UserError("--gif -: a GIF goes to a file; -o - writes the cast to stdout")
    size = parse_size(args.size)
    from .gif import find_agg, write_gif

    agg = find_agg() if gif else None  # before the recording: a missing extra is said at once
    text = record(args.scene, size=size, policy=args.policy, kernel=getattr(args, "kernel", None),
                  big=bool(getattr(args, "big", False)), teach=bool(getattr(args, "teach", False)))
    from ..cli import write_output

    # "-": the cast goes to stdout, and then the summaries to stderr
    say = sys.stderr if args.output == "-" else sys.stdout
    if args.output is not None:
        out = write_output(args.output, text)
        n = text.count("\n") - 1
        markers = text.count('"m", ')
        print(f"wrote {out}: {n} events, {markers} markers, {len(text.encode()) // 1024} KiB, {size[0]}x{size[1]}",
              file=say)
    if gif:
        write_gif(text, gif, agg)
        print(f"wrote {gif}: {os.path.getsize(gif) // 1024} KiB, rendered by {agg}", file=say)
    return 0
