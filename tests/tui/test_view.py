"""Sizes in narrow columns: they fit their column and still read as the same amount."""

from rich.text import Text

from oomtui.kernel import events as ev
from oomtui.tui import view
from oomtui.tui.widgets.panels import candidate_table

UNIT = {"K": 1, "M": 1024, "G": 1024**2, "T": 1024**3, "P": 1024**4}


def kb_of(s: str) -> float:
    return float(s[:-1]) * UNIT[s[-1]] if s != "0" else 0.0


def test_a_size_fits_its_column_and_keeps_its_value():
    for width in (4, 5, 6):
        for exp in range(0, 36):
            for mant in (1, 3, 5.83, 9.99, 250, 999):
                pages = int(mant * 2**exp)
                s = view.size_in(pages, width)
                assert len(s) <= width, (pages, width, s)
                kb = pages * view.KB_PER_PAGE
                # the shown amount is the real one to within the rounding its digits allow, never 0.0
                assert abs(kb_of(s) - kb) <= 0.05 * kb + UNIT[s[-1]] / 20 if s != "0" else kb == 0, (pages, s)


def test_a_wide_swap_value_keeps_the_decision_table_aligned():
    gib = 1024 * 1024 // view.KB_PER_PAGE
    cands = [ev.Candidate(pid=100, comm="java", rss=3 * gib, swapents=int(5.83 * gib), pgtables_bytes=1 << 20,
                          oom_score_adj=0, points=123456),
             ev.Candidate(pid=101, comm="sh", rss=10, swapents=0, pgtables_bytes=4096, oom_score_adj=0, points=11)]
    t = Text()
    candidate_table(t, cands, 100, 9)
    lines = t.plain.splitlines()
    assert "5.8G" in lines[1]
    # every row as wide as the header, so POINTS stays under its heading
    assert {len(line) for line in lines} == {len(lines[0])}
