"""Issue 9 §4: the live view of a replayed real OOM report (`oomtui play REPORT --report N`), played to its end as a
person plays it (space, then the scene runs its course), with the toasts a person sees: the script's (the report's
caption, a k8s pod's memcg path in it) and "End of scene". The OOM decision panel, what the player came to see,
keeps its ranking; the top line keeps the title's first words."""

from __future__ import annotations

import pytest

from oomtui.scene.load import load_playable
from oomtui.tui.app import make_app

from ..importers.test_report import SHARED
from .test_commands import screen_lines

PUBLIC = SHARED / "public"
K8S = PUBLIC / "4.15-k8s-pod-memcg-v1-dmesg-T-from-call-trace.log"  # memcg /kubepods/burstable/pod<uuid>, 6 tasks
LOONGARCH = PUBLIC / "4.19-loongarch64-16k-notes-zh-dmesg-T-k8s-memcg-v1-run-together-suppressed.md"


async def _played(path, index: int, size: tuple[int, int]) -> tuple[object, list[str], int]:
    """The app, the screen's rows and the side column's first column, once the scene has run its course."""
    app = make_app(load_playable(str(path), index), briefing=True, clock=False)
    app.keep_scores = False
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        app.go_on()  # space: the briefing closes, the clock starts
        app.run_to_end()
        if app.compact:
            app.cycle_panel("decision")  # v: the one side panel shown is the decision
        await pilot.pause()
        await pilot.pause()
        shown = {n.title or n.message.split(":")[0] for n in app._notifications}  # compact: the title leads the text
        assert app.engine.finished and {"End of scene", "script at 1.000s"} <= shown
        return app, screen_lines(app), app.query_one("#side").region.x


@pytest.mark.parametrize("size", [(120, 36), (200, 50)])
@pytest.mark.parametrize(("path", "index", "rows"), [
    (K8S, 1, ["▶32308 stress", " 32332 stress", " 25218 bash"]),
    (LOONGARCH, 3, ["▶4112165 prometheu", " 1578890 pause"]),
])  # fmt: skip
async def test_a_replayed_k8s_report_keeps_its_ranking_in_view_at_the_end(path, index, rows, size):
    """The memcg path (up to 111 characters) took up to four rows of the panel's head, and the two toasts at the
    bottom right covered the rows and the why: only the head was left in view."""
    _, lines, x = await _played(path, index, size)
    side = [line[x:] for line in lines]  # the side column, toasts over it included
    for row in ["RSS SWAP PGTBL   ADJ  POINTS", *rows]:
        assert any(row in line for line in side), (row, "\n".join(lines))
    assert any(line.lstrip("│ ").startswith("why ") for line in side), "\n".join(lines)
    head = next(i for i, line in enumerate(side) if "OOM at 1.000s memcg /kubepods" in line)
    assert any("RSS SWAP PGTBL" in line for line in side[head + 1:head + 3])  # the head takes two rows at most


async def test_at_80x24_the_panel_says_how_many_candidates_it_leaves_out():
    """The path took two of the compact panel's seven rows: the '+ 3 more candidates' line was cut off."""
    _, lines, _ = await _played(K8S, 1, (80, 24))
    text = "\n".join(lines)
    assert "▶32308 stress" in text and " 32332 stress" in text and "+ 3 more candidates" in text, text


async def test_end_of_script_leaves_the_title_s_first_words_on_the_top_line():
    """'end of script' dropped a 62-character title at 120 columns: its end is cut with … instead."""
    app, lines, _ = await _played(LOONGARCH, 1, (120, 36))
    title = app.engine.sim.scene.title
    assert title == "prometheus killed: memcg OOM in /imported on a 4.19-era kernel"
    assert "end of script" in lines[0] and "prometheus killed: memcg OOM in /imported" in lines[0], lines[0]
    assert "…" in lines[0] and title not in lines[0]
