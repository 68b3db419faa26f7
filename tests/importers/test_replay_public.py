"""Issue 9 §4: every report of the repository's fixtures that has a task dump (the real public pastes of
tests/data/fixtures/public — mails, forum posts, Markdown, several reports a file, 2.6.x to 6.x, memcg v1/v2, 8/16/64
KiB pages, cpuset/mempolicy — OOMAnalyser's samples, the dmesg captures and tests/data/reports) is replayed as
`oomtui play FILE --report N` replays it: the scene `oomtui import` writes, run to its OOM. The replay kills the
kernel's victim, and the OOM decision panel ranks the candidates as `oomtui explain` does."""

from __future__ import annotations

import re
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
from oomtui.scene.units import parse_size
from oomtui.tui.widgets.panels import ranked

from .test_report import DATA, SHARED

_NOT_REPORTS = {"INDEX.md", "SOURCES.md", "LICENSE.txt", "expected.tsv"}


def _with_a_task_dump() -> list[tuple[Path, int]]:
    """(file, report number) of every fixture report whose task dump has rows: the ones a scene can be built from."""
    files = sorted(p for p in SHARED.glob("*/*") if p.name not in _NOT_REPORTS) + sorted(DATA.glob("*.log"))
    return [(p, r.index) for p in files for r in parse_reports(read_input(str(p))) if len(r.tasks)]


REPORTS = _with_a_task_dump()


def _first_oom(path: Path, index: int) -> tuple[ev.OomInvoked, ev.OomSelected, ev.Kill, list]:
    """`oomtui play FILE --report N`'s scene, run only up to its first OOM kill (the OOM is triggered at 1 s): its
    decision, its kill and the events up to them."""
    sim = Simulation(load_playable(str(path), index))
    seen: list = []
    for _ in range(20):
        seen += sim.advance(25)
        kill = next((x for x in seen if isinstance(x, ev.Kill) and x.reason == "oom"), None)
        if kill is not None:
            invoked = next(x for x in seen if isinstance(x, ev.OomInvoked))
            return invoked, next(x for x in seen if isinstance(x, ev.OomSelected)), kill, seen
    raise AssertionError(f"{path.name} #{index}: no OOM kill by {sim.k.jiffies} jiffies")


def _panel(sel: ev.OomSelected) -> list[ev.Candidate]:
    """The OOM decision panel's ranking (tui/widgets/panels.py), the eligible candidates (those with points)."""
    return [c for c in ranked(sel) if c.points is not None]


def _tgid(e: Explanation, pid: int) -> int | None:
    return next((t.tgid for t in e.tasks if t.pid == pid), None)


@pytest.mark.parametrize(("path", "index"), REPORTS, ids=[f"{p.name[:48]}#{i}" for p, i in REPORTS])
def test_a_fixture_report_replays_as_explain_reads_it(path: Path, index: int) -> None:
    e = explain_text(read_input(str(path)))[index - 1]
    invoked, sel, kill, seen = _first_oom(path, index)
    kernel = _tgid(e, e.kernel_victim.pid) if e.kernel_victim else None
    tie = any(n.startswith("a tie: ") for n in e.notes)  # the kernel's choice and the model's, on equal points
    if e.agree and kernel is not None and not tie:  # explain re-ran the kernel's choice: the replay kills it
        assert kill.pid == kernel  # (before 5.1 the child it sacrificed, declared the selected one's child)
    if e.model_victim is None:  # the choice depends on the totalpages the report lacks: explain names the two ends'
        (ends,) = [re.findall(r"\((\d+)\) (?:up to|above)", p) for p in e.problems if "totalpages unknown" in p]
        assert sel.victim_pid in set(map(int, ends))  # the scene's totalpages lies between them
        return
    assert sel.victim_pid == _tgid(e, e.model_victim.pid)
    # the scene is in 4 KiB pages: explain's points x scale, up to the rounding of adj x (totalpages / 1000) and of
    # the 3 % root bonus (3.14-4.16) at the other unit
    scale = e.page_size // PAGE_SIZE
    shown = _panel(sel)[: len(e.ranking)]
    if e.totalpages is None and scaled_score(KernelVersion.parse(e.era)):
        # 2.6.36-3.7 clamps scores at 1000: who ties with the victim depends on the totalpages the report lacks
        shown, ranking = shown[:1], e.ranking[:1]
    else:
        ranking = e.ranking
    assert [c.pid for c in shown] == [c.tgid for c in ranking]
    if e.totalpages is None and e.totalpages_range:  # the scene's guess is one the report allows
        assert e.totalpages_range[0] * scale <= invoked.totalpages <= e.totalpages_range[1] * scale
    tp = e.totalpages if e.totalpages is not None else (e.totalpages_range or [None])[0]
    if e.constraint == "CONSTRAINT_MEMCG" and parse_reports(read_input(str(path)))[index - 1].memory is not None:
        # the memcg's limit and its swap headroom (the scene's memsw_max or swap_max, and the swap explain counts)
        assert tp is not None and invoked.totalpages == tp * scale
    elif tp is None or invoked.totalpages != tp * scale:
        # the scene's totalpages is not explain's: a cpuset's nodes (the scene has no cpusets), RAM raised to hold
        # the listed rss, or a guess inside the range explain allows (explain shows the lowest; a memcg OOM without
        # its 'memory:' line)
        return
    for c, x in zip(shown, ranking):
        assert abs(c.points - x.points * scale) <= (abs(x.oom_score_adj) + 1) * (scale - 1), (c, x)
    if e.score_check is not None and e.score_check.agree:  # explain reproduced the kernel's "score %u": so does the
        dmesg = "\n".join(x.line for x in seen if isinstance(x, ev.Dmesg))  # replay's Kill process line
        assert f"score {e.printed_score} or sacrifice child" in dmesg


def test_the_replayed_fixtures_are_the_ones_with_a_task_dump() -> None:
    """Every real public paste is there (a glob that found nothing would pass the test above vacuously)."""
    public = {p.name for p, _ in REPORTS if p.parent.name == "public"}
    assert len(REPORTS) >= 60 and len(public) >= 30
    assert "4.19-loongarch64-16k-notes-zh-dmesg-T-k8s-memcg-v1-run-together-suppressed.md" in public


def test_a_report_without_mem_info_replays_with_the_totals_explain_borrowed() -> None:
    """The MT7621 router's first excerpt prints no 'pages RAM': explain takes report 2's (the same boot, on the next
    line), and so does the scene, so the panel's points are explain's."""
    path = SHARED / "public" / "4.14-mips-mt7621-github-issue-two-excerpts-tainted-p-driver-pages-uncounted-tie.md"
    e = explain_text(read_input(str(path)))[0]
    invoked, sel, _, _ = _first_oom(path, 1)
    assert invoked.totalpages == e.totalpages == 32768 - 1830
    assert [(c.pid, c.points) for c in _panel(sel)] == [(c.tgid, c.points) for c in e.ranking]


_SNIPPED = SHARED / "public" / "4.4-rc6-next-linux-mm-order-first-header-snipped-sysrq-children.mail"
_CUT = SHARED / "public" / "4.12-rc1-mm-linux-mm-cut-marks-pagefault-second-victim-firewalld.mail"
_ABOVE = [(_CUT, 1)] + [(_SNIPPED, i) for i in range(1, 10)]


@pytest.mark.parametrize(("path", "index"), _ABOVE, ids=[f"{p.name[:12]}#{i}" for p, i in _ABOVE])
def test_a_guess_above_what_the_printed_score_allows_is_explains_lowest(path: Path, index: int) -> None:
    """No Mem-Info: the listed RSS plus 25 % is more than the totalpages the kernel's printed score allows; the
    scene takes the lowest it allows, where explain computes its points, so the panel shows explain's points."""
    e = explain_text(read_input(str(path)))[index - 1]
    invoked, sel, _, _ = _first_oom(path, index)
    assert e.totalpages is None and e.constraint == "CONSTRAINT_NONE"
    assert invoked.totalpages == e.totalpages_range[0] < e.totalpages_range[1]
    assert [(c.pid, c.points) for c in _panel(sel)[: len(e.ranking)]] == [(c.tgid, c.points) for c in e.ranking]


def test_a_report_with_swap_but_no_ram_replays_the_printed_score(tmp_path: Path) -> None:
    """The 4.4-rc6-next paste's first report with a 'Total swap' line and still no 'pages RAM': the scene's
    totalpages is RAM + swap, so the guessed RAM is what the printed score allows less the swap; the replay's
    'Kill process' line prints the kernel's score 892."""
    lines = _SNIPPED.read_text(encoding="utf-8").splitlines()[:30]
    header = next(i for i, line in enumerate(lines) if "[ pid ]" in line)
    lines.insert(header, "[  120.194000] Total swap = 1048576kB")
    report = tmp_path / "swap.mail"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    e = explain_text(read_input(str(report)))[0]
    assert e.totalpages is None and e.printed_score == 892
    invoked, sel, _, seen = _first_oom(report, 1)
    assert invoked.totalpages == e.totalpages_range[0]
    assert parse_size(load_playable(str(report)).scene.swap) > 0  # the report's swap is in the scene
    dmesg = "\n".join(x.line for x in seen if isinstance(x, ev.Dmesg))
    assert "Kill process 9546 (oom-write) score 892 or sacrifice child" in dmesg


async def test_a_played_reports_title_fits_the_top_line() -> None:
    """A k8s pod's memcg path and a long release made the title too long for the live view's top line, which then
    drops it: the title keeps them only where short (the story has them whole)."""
    from oomtui.tui.app import make_app

    path = SHARED / "public" / "4.19-loongarch64-16k-notes-zh-dmesg-T-k8s-memcg-v1-run-together-suppressed.md"
    ls = load_playable(str(path), 5)
    assert ls.scene.title == "java killed: memcg OOM on Linux 4.19"
    assert "/kubepods.slice/kubepods-pod776b973b_ea34_4ae9_9d79_5b9a2cb363b6.slice" in ls.scene.story
    assert "4.19.0-91.82.152.28.tyy.5.uelc20.loongarch64" in ls.scene.story
    app = make_app(ls, paused=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert ls.scene.title in str(app.query_one("#status").render())
    short = load_playable(str(SHARED / "public" / "6.12-el10-ppc64le-64k-cgroups-patch-indented-memcg-v2-cut.mail"))
    assert short.scene.title == "test_zswap killed: memcg OOM in /no_zswap_test on Linux 6.12"
