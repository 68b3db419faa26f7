"""oom_badness() and /proc/PID/oom_score against the worked examples of kernel-model.md section 1."""

import pytest

from oomtui.kernel.oom_badness import (
    LONG_MIN,
    badness_column,
    badness_rule,
    better_candidate,
    kill_score,
    oom_badness,
    oom_badness_points,
    proc_oom_score,
    proc_oom_score_column,
    proc_oom_score_rule,
)
from oomtui.kernel.version import KernelVersion

V59, V58, V418 = KernelVersion(5, 9), KernelVersion(5, 8), KernelVersion(4, 18)
TOTAL = 4_000_000  # unit = 4000 pages per adj point


def test_adj_scales_with_totalpages_integer_division_first():
    assert oom_badness_points(0, 0, 0, 500, TOTAL, V59) == 2_000_000
    assert oom_badness_points(0, 0, 0, -999, TOTAL, V59) == -3_996_000
    # totalpages/1000 truncates before the multiplication: 4_000_999 pages still gives 4000 per point
    assert oom_badness_points(0, 0, 0, 1, 4_000_999, V59) == 4000


def test_points_are_rss_plus_swap_plus_pagetable_pages():
    assert oom_badness_points(1000, 200, 8192, 0, TOTAL, V59) == 1000 + 200 + 2


def test_minus_1000_is_never_eligible():
    assert oom_badness(10**6, 0, 0, -1000, TOTAL, V59) == LONG_MIN
    assert oom_badness(10**6, 0, 0, -1000, TOTAL, V58) == 0


def test_pre_5_9_clamps_eligible_scores_to_one():
    assert oom_badness_points(100, 0, 0, -998, TOTAL, V59) < 0
    assert oom_badness_points(100, 0, 0, -998, TOTAL, V58) == 1


def test_oom_score_5_9_idle_process_reads_666():
    assert proc_oom_score(oom_badness_points(10, 0, 4096, 0, TOTAL, V59), TOTAL, V59) == 666


def test_oom_score_5_9_extremes():
    assert proc_oom_score(oom_badness_points(10, 0, 0, 1000, TOTAL, V59), TOTAL, V59) == 1333
    assert proc_oom_score(oom_badness(10, 0, 0, -1000, TOTAL, V59), TOTAL, V59) == 0
    assert proc_oom_score(oom_badness_points(TOTAL, 0, 0, 0, TOTAL, V59), TOTAL, V59) == 1333
    # negative badness truncates toward zero like C: (1000 - 999) * 2 / 3 = 0
    assert proc_oom_score(oom_badness_points(0, 0, 0, -999, TOTAL, V59), TOTAL, V59) == 0


def test_oom_score_before_5_9_small_process_reads_zero():
    assert proc_oom_score(oom_badness_points(10, 0, 0, 0, TOTAL, V58), TOTAL, V58) == 0
    assert proc_oom_score(oom_badness_points(2_000_000, 0, 0, 0, TOTAL, V58), TOTAL, V58) == 500


def test_ties_later_scanned_wins_on_5_9_first_scanned_before():
    assert better_candidate(100, 100, True, V59) is True
    assert better_candidate(100, 100, True, V418) is False
    assert better_candidate(99, 100, False, V59) is False
    assert better_candidate(101, 100, True, V418) is True


def test_pre_5_1_kill_score():
    # RHEL7 fixture 003: (5157063 + 15483 + 1527848) * 1000 / (8379834 - 192987 + 2097151) = 651
    assert kill_score(5157063 + 15483 + 1527848, 8379834 - 192987 + 2097151) == 651


def test_version_parse():
    assert KernelVersion.parse("5.15.158-2-pve") == KernelVersion(5, 15)
    assert KernelVersion.parse("v6.18") == KernelVersion(6, 18)
    assert KernelVersion.parse("3.10.0-514.el7.x86_64") < KernelVersion(4, 0)


@pytest.mark.parametrize("version", [KernelVersion(3, 2), KernelVersion(3, 10), KernelVersion(4, 4), V418, V58, V59])
def test_column_rules_are_the_task_by_task_rules(version):
    # badness_column / proc_oom_score_column write the arithmetic out for speed: negative points and adj, C division
    pages, adjs = [0, 1, 999, 5000, 70000, 3], [-999, -500, 0, 1, 1000, -1]
    tp = 65536
    for caps in (None, [True, False, True, False, False, True]):
        rule = badness_rule(version, tp)
        assert badness_column(version, tp, pages, adjs, caps) == [
            rule(p, a, c) for p, a, c in zip(pages, adjs, caps or [False] * 6)]
    points = badness_column(version, tp, pages, adjs)
    assert proc_oom_score_column(points, tp, version) == list(map(proc_oom_score_rule(tp, version), points))
