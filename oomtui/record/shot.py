"""`oomtui screenshot SCENE --at TIME -o FILE.svg`: the view at a simulated time, for slides and docs.

The simulation is advanced headlessly (no wall clock) to TIME; with --autoplay the walkthrough's
steps run on the way, through the same commands as the keys, and the caption bar shows the last
one. `--at end` runs to the scene's end: scenes with goals then show their result screen.
"""

from __future__ import annotations

import asyncio
import sys

from ..errors import UserError
from .cast import new_app, parse_size


async def shoot_async(scene: str, at: str = "0s", *, size=(120, 36), policy: str | None = None,
                      kernel: str | None = None, autoplay: bool = False, big: bool = False) -> str:
    from ..scene.units import parse_duration

    app = new_app(scene, policy, kernel, big, autoplay=autoplay)  # no reading time, holds or cards
    e = app.engine
    if at.strip().lower() == "end":
        target = e.sim.duration
    else:
        try:
            target = parse_duration(at, e.k.hz)
        except ValueError as err:
            raise UserError(f"--at {at!r}: {err}") from None
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        while e.k.jiffies < target and not e.k.panicked:
            j0 = e.k.jiffies
            app.advance(target - j0)
            if e.k.jiffies == j0 and (e.stop_at is None or e.stop_at <= j0):
                break
        app.redraw()
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
        svg = app.export_screenshot()
    return svg


def main(args) -> int:
    size = parse_size(args.size)
    svg = asyncio.run(shoot_async(args.scene, args.at, size=size, policy=args.policy,
                                  kernel=getattr(args, "kernel", None), autoplay=bool(args.autoplay),
                                  big=bool(getattr(args, "big", False))))
    from ..cli import write_output

    out = write_output(args.output, svg)  # "-": stdout, and then the summary goes to stderr
    print(f"wrote {out} ({size[0]}x{size[1]}, t={args.at})", file=sys.stderr if args.output == "-" else sys.stdout)
    return 0
