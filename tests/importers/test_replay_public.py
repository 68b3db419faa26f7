"""Issue 9 §4: every report of the repository's fixtures that has a task dump (the real public pastes of
tests/data/fixtures/public — mails, forum posts, Markdown, several reports a file, 2.6.x to 6.x, memcg v1/v2, 8/16/64
KiB pages, cpuset/mempolicy — OOMAnalyser's samples, the dmesg captures and tests/data/reports) is replayed as
`oomtui play FILE --report N` replays it: the scene `oomtui import` writes, run to its OOM. The replay kills the
kernel's victim, and the OOM decision panel ranks the candidates as `oomtui explain` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomtui.importers.explain import Explanation, explain_text
from oomtui.importers.report import parse_reports, read_input
from oomtui.kernel import events as ev
from oomtui.kernel.oom_badness import scaled_score
from oomtui.kernel.page_types import PAGE_SIZE
from oomtui.kernel.version import KernelVersion
from oomtui.scene.load import load_playable
from oomtui.scene.sim import Simulation

from .test_report import DATA, SHARED

_NOT_REPORTS = {"INDEX.md", "SOURCES.md", "LICENSE.txt", "expected.tsv"}


def _with_a_task_dump() -> list[tuple[Path, int]]:
    """(file, report number) of every fixture report whose task dump has rows: the ones a scene can be built from."""
    files = sorted(p for p in SHARED.glob("*/*") if p.name not in _NOT_REPORTS) + sorted(DATA.glob("*.log"))
    return [(p, r.index) for p in files for r in parse_reports(read_input(str(p))) if len(r.tasks)]


REPORTS = _with_a_task_dump()


def _first_oom(path: Path, index: int) -> tuple[ev.OomInvoked, ev.OomSelected, ev.Kill]:
    """`oomtui play FILE --report N`'s scene, run only up to its first OOM kill (the OOM is triggered at 1 s)."""
    sim = Simulation(load_playable(str(path), index))
    seen: list = []
    for _ in range(20):
        seen += sim.advance(25)
        kill = next((x for x in seen if isinstance(x, ev.Kill) and x.reason == "oom"), None)
        if kill is not None:
            invoked = next(x for x in seen if isinstance(x, ev.OomInvoked))
            return invoked, next(x for x in seen if isinstance(x, ev.OomSelected)), kill
    raise AssertionError(f"{path.name} #{index}: no OOM kill by {sim.k.jiffies} jiffies")


def _panel(sel: ev.OomSelected) -> list[ev.Candidate]:
    """The OOM decision panel's order (tui/widgets/panels.py): by points, the victim first among its equals."""
    return sorted((c for c in sel.candidates if c.points is not None),
                  key=lambda c: (-c.points, c.pid != sel.victim_pid))  # fmt: skip


def _tgid(e: Explanation, pid: int) -> int | None:
    return next((t.tgid for t in e.tasks if t.pid == pid), None)


def test_a_report_without_mem_info_replays_with_the_totals_explain_borrowed() -> None:
    """The MT7621 router's first excerpt prints no 'pages RAM': explain takes report 2's (the same boot, on the next
    line), and so does the scene, so the panel's points are explain's."""
    path = SHARED / "public" / "4.14-mips-mt7621-github-issue-two-excerpts-tainted-p-driver-pages-uncounted-tie.md"
    e = explain_text(read_input(str(path)))[0]
    invoked, sel, _ = _first_oom(path, 1)
    assert invoked.totalpages == e.totalpages == 32768 - 1830
    assert [(c.pid, c.points) for c in _panel(sel)] == [(c.tgid, c.points) for c in e.ranking]
