"""`oomtui watch`'s screen on the fake v1 machine: the game's tree and ranking, read-only keys."""

from __future__ import annotations

import asyncio

import pytest

from oomtui.errors import UserError
from oomtui.watch.app import WatchApp, parse_interval
from oomtui.watch.monitor import Monitor


def test_the_screen_shows_next_victims_and_marks(v1) -> None:
    async def run():
        app = WatchApp(Monitor(root=str(v1), events=False), 1.0)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            panels = {p.border_title: p.plain() for p in app._panels()}
            tree = [app.table.render_line(y).text for y in range(app.table.size.height)]
            keys = {b.key for _, b, _, _ in app.screen.active_bindings.values()}
            await pilot.press("space")
            paused = app.paused
            return panels, tree, keys, paused

    panels, tree, keys, paused = asyncio.run(run())
    db = panels["Next victim: memcg /db"]
    assert "CONSTRAINT_MEMCG · totalpages 163840" in db and "▶  101 pg-worker" in db
    assert "oom_score of pg-worker (101): model 677, kernel 678" in db
    assert "pg-worker (101) has the highest badness" in panels["Next victim: memcg /db"].replace("\n", " ")
    assert "▶  200 chrome" in panels["Next victim: whole machine"]
    assert "some ▂" in panels["Memory and pressure"]  # any pressure shows above the floor and "2.50% avg10" in panels["Memory and pressure"]
    row = next(line for line in tree if " pg-worker" in line)
    assert "kernel 678" in row  # the kernel's oom_score where it differs from the model's (677)
    assert " FROZEN " in next(line for line in tree if " hog " in line)
    assert not keys & {"k", "z", "a", "o", "t", "m", "u"}  # no key acts on the machine
    assert paused


def test_interval() -> None:
    assert [parse_interval(x) for x in ("1s", "0.5s", "500ms", "2")] == [1.0, 0.5, 0.5, 2.0]
    for bad in ("fast", "0s", "1h"):
        with pytest.raises(UserError, match="--interval"):
            parse_interval(bad)
