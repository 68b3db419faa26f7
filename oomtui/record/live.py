"""`oomtui play SCENE --record FILE.cast`: a live session as it was played, an asciicast v2 file.

What the terminal got, in real time: the App's driver is the one Textual would choose, subclassed so that
each write is also stamped and kept. A chapter (chapters.py) follows the frame that shows its kernel
decision, and each move of the player is one too. Byte-identity is `record`'s promise, not this one's.

The stream loses what only concerns the recorded program's input, which a player would pass on to the
viewer's terminal: mouse, focus and paste reporting, the kitty keyboard protocol, terminal queries (their
answers are not in a cast) and the alternate screen (a cast has no screen to go back to, so the last frame
stays, as in `record`'s casts). The last event shows the cursor again, as `record`'s does.
"""

from __future__ import annotations

import os
import re
import time

from ..errors import UserError
from .cast import dumps, ending
from .chapters import Chapters

# input modes (mouse 1000-1016, focus 1004, bracketed paste 2004, in-band resize 2048), leaving the alternate
# screen, mode queries (DECRQM), the kitty keyboard protocol (push, pop) and device queries
_INPUT_ONLY = re.compile(r"\x1b\[\?(?:100[0-6]|101[56]|2004|2048)[hl]|\x1b\[\?1049l|\x1b\[\?\d+\$p"
                         r"|\x1b\[[>=<]\d*u|\x1b\[[>=]?c|\x1b\[\??6n")
ALT_SCREEN = "\x1b[?1049h"
CLEAR = "\x1b[H\x1b[2J"  # what entering the alternate screen looks like: a blank screen
FRAME = re.compile(r"\x1b\[\d+;\d+H")  # a write that paints (not a pointer shape or a mode)


class LiveCast:
    """Keeps what the App's driver writes; `save()` writes the cast."""

    def __init__(self, app, path: str) -> None:
        self.app, self.path = app, path
        self.events: list[tuple[float, str, str]] = []
        self.t0: float | None = None
        self.size: tuple[int, int] | None = None
        self.first_size: tuple[int, int] | None = None
        self.chapters = Chapters(moves=True)
        e = app.engine
        self.scene, self.policy = e.sim.id, e.k.policy.id
        base = app.driver_class
        live = self

        class RecordingDriver(base):  # type: ignore[misc, valid-type]
            """The driver Textual chose, which also hands each write to the cast."""

            def write(self, data: str) -> None:
                super().write(data)
                live.write(data)

        app.driver_class = RecordingDriver

    def write(self, data: str) -> None:
        now = time.monotonic()
        if self.t0 is None:
            self.t0 = now
        t = round(now - self.t0, 6)
        size = tuple(self.app.size)
        if size != self.size and size[0] > 0:
            if self.size is None:
                self.first_size = size  # the header's
            else:
                self.events.append((t, "r", f"{size[0]}x{size[1]}"))
            self.size = size
        data = _INPUT_ONLY.sub("", data).replace(ALT_SCREEN, CLEAR)
        if data:
            self.events.append((t, "o", data))
        if FRAME.search(data):  # the frame that shows what happened since the last one, then its chapters
            self.events += [(t, "m", label) for label in self.chapters.take(self.app.engine.k)]

    def save(self) -> str:
        """Write the cast; returns a one-line summary."""
        w, h = self.first_size or (80, 24)
        end = self.events[-1][0] if self.events else 0.0
        self.events.append((end, "o", ending(self.size[1] if self.size else h)))
        header = {"version": 2, "width": w, "height": h, "timestamp": int(time.time()), "duration": end,
                  "title": f"oomtui: {self.app.engine.sim.scene.title}",
                  "env": {k: os.environ.get(k, v) for k, v in (("TERM", "xterm-256color"), ("SHELL", "/bin/sh"))},
                  "oomtui": {"scene": self.scene, "policy": self.policy}}
        text = dumps(header, self.events)
        try:
            with open(self.path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        except OSError as err:
            raise UserError(f"{self.path}: cannot write the recording: {err.strerror or err}") from None
        markers = sum(1 for e in self.events if e[1] == "m")
        return (f"wrote {self.path}: {end:.1f} s, {len(self.events)} events, {markers} markers, "
                f"{len(text.encode()) // 1024} KiB, {w}x{h}")
