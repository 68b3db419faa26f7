"""The simulator's inlined selection loop picks what the reference rules (oom_badness_era and
better_candidate, which `oomtui explain` uses) pick, for random process tables of every era, the
CAP_SYS_ADMIN bonus before 4.17 included."""

from hypothesis import given, settings
from hypothesis import strategies as st

from oomtui.kernel.core import Kernel
from oomtui.kernel.oom_badness import OOM_SCORE_ADJ_MIN, better_candidate, oom_badness_era
from oomtui.kernel.oom_kill import OomControl, constrained_alloc, select_bad_process
from oomtui.kernel.policy import get_policy
from oomtui.kernel.state import Vma
from oomtui.kernel.version import KernelVersion

procs = st.lists(st.tuples(st.integers(0, 5000), st.sampled_from([-1000, -998, -500, 0, 0, 0, 1, 300, 1000]),
                           st.booleans()), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(table=procs, version=st.sampled_from([(3, 2), (3, 10), (4, 9), (4, 19), (5, 4), (5, 8), (5, 9), (6, 18)]))
def test_inlined_selection_matches_the_reference_rules(table, version):
    v = KernelVersion(*version)
    k = Kernel(get_policy("linux-6.18").with_version(v), ram_pages=100_000)
    for i, (rss, adj, cap) in enumerate(table):
        p = k.add_process(100 + i, f"p{i}", oom_score_adj=adj, cap_sys_admin=cap)
        k.add_thread(p, 100 + i)
        k.add_vma(p.init_mm, Vma(0x1000, 0x1000 + 4096 * max(rss, 1), "anon", "[heap]", rss))
    oc = OomControl(None, None, False, constrained_alloc(k, None))
    select_bad_process(k, oc)

    chosen, chosen_points = None, None
    for p in k.tasklist:
        if p.oom_score_adj == OOM_SCORE_ADJ_MIN:
            continue
        mm = p.mm
        pages = mm.rss + mm.swapents + mm.pgtables_bytes // 4096
        points = oom_badness_era(pages, p.oom_score_adj, oc.totalpages, v, cap_sys_admin=p.cap_sys_admin)
        if chosen is None or better_candidate(points, chosen_points, True, v):
            chosen, chosen_points = p, points
    assert oc.chosen is chosen
    if chosen is not None:
        assert oc.chosen_points == chosen_points
        assert any(c.pid == chosen.pid and c.points == chosen_points for c in oc.candidates)
