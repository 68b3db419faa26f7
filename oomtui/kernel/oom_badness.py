"""oom_badness() and /proc/PID/oom_score, era by era (mm/oom_kill.c, fs/proc/base.c).

Pure arithmetic on page counts so that the simulator, `oomtui explain` (real reports)
and `oomtui snapshot --check-scores` (live /proc) share one implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import compress

from .page_types import PAGE_SIZE
from .version import KernelVersion

OOM_SCORE_ADJ_MIN = -1000
OOM_SCORE_ADJ_MAX = 1000
LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


def _cdiv(a: int, b: int) -> int:
    """C integer division: truncates toward zero."""
    return a // b if (a >= 0) == (b > 0) else -(-a // b)


def oom_badness_points(
    rss: int,
    swapents: int,
    pgtables_bytes: int,
    adj: int,
    totalpages: int,
    version: KernelVersion,
    *,
    page_size: int = PAGE_SIZE,
) -> int:
    """Badness of an *eligible* process (callers filter unkillable / -1000 / MMF_OOM_SKIP / vfork).

    5.9+ oom_badness(): points = rss + swapents + pgtables_bytes/PAGE_SIZE; adj *= totalpages/1000
    (integer division first); points += adj; may be negative (signed long).
    2.6.36..5.8: the same sum, then `return points > 0 ? points : 1` -- an eligible task never scores
    below 1, so with large negative adj everybody ties at 1 (Yafang Shao's report).
    """
    return badness_from(rss + swapents + pgtables_bytes // page_size, adj, totalpages // 1000,
                        version.signed_badness)


def badness_from(pages: int, adj: int, unit: int, signed: bool) -> int:
    """The core of oom_badness(): `pages` (rss + swap + page tables) plus adj * (totalpages / 1000);
    unsigned kernels (before 5.9) never return less than 1 for an eligible task."""
    points = pages + adj * unit
    return points if signed or points > 0 else 1


def oom_badness(
    rss: int,
    swapents: int,
    pgtables_bytes: int,
    adj: int,
    totalpages: int,
    version: KernelVersion,
    *,
    eligible: bool = True,
    page_size: int = PAGE_SIZE,
) -> int:
    """oom_badness() including the ineligible cases: adj == OOM_SCORE_ADJ_MIN or !eligible gives
    LONG_MIN (5.9+) or 0 (older kernels, unsigned)."""
    if not eligible or adj == OOM_SCORE_ADJ_MIN:
        return LONG_MIN if version.signed_badness else 0
    return oom_badness_points(rss, swapents, pgtables_bytes, adj, totalpages, version, page_size=page_size)


def proc_oom_score(badness: int, totalpages: int, version: KernelVersion) -> int:
    """/proc/PID/oom_score from a badness computed against the *global* totalpages
    (totalram_pages() + total_swap_pages, even for tasks in a memcg).

    5.9+ proc_oom_score(): LONG_MIN prints 0, else (1000 + badness*1000/totalpages) * 2 / 3
    with C truncation -> 0..2000, an idle adj-0 process reads 666.
    3.8..5.8: badness * 1000 / totalpages (unsigned; ineligible 0); 2.6.36-3.7: the 0..1000 badness itself.
    """
    return proc_oom_score_rule(totalpages, version)(badness)


def proc_oom_score_rule(totalpages: int, version: KernelVersion) -> Callable[[int], int]:
    """proc_oom_score as a function of the badness alone, for one era and totalpages (see badness_rule)."""
    tp = max(totalpages, 1)
    if version.oom_score_scaled_2000:
        return lambda badness: 0 if badness == LONG_MIN else _cdiv((1000 + _cdiv(badness * 1000, tp)) * 2, 3)
    if scaled_score(version):
        return lambda badness: max(badness, 0)  # 2.6.36-3.7 proc_oom_score printed oom_badness() itself (0..1000)
    return lambda badness: (max(badness, 0) * 1000) // tp


def kill_score(chosen_points: int, totalpages: int) -> int:
    """The pre-5.1 "Kill process %d (%s) score %u or sacrifice child" score:
    chosen_points * 1000 / totalpages."""
    return (chosen_points * 1000) // max(totalpages, 1)


def better_candidate(points: int, chosen_points: int, chosen_is_leader: bool, version: KernelVersion) -> bool:
    """oom_evaluate_task(): does a candidate with `points` replace the current choice?

    Skip when points < chosen_points (strict), so an equal score replaces: the later-scanned
    process wins (5.9+). Older kernels kept the current choice on a tie when it was a thread group
    leader ("prefer thread group leaders for display purposes"), so the first scanned wins.
    """
    if points < chosen_points:
        return False
    if points == chosen_points and version.leader_tie_break and chosen_is_leader:
        return False
    return True


# the era's rules are asked for many times per dump (explain runs the selection under several eras, and each run
# asks): each worked out once per release
@lru_cache(maxsize=64)
def root_bonus(version: KernelVersion) -> str | None:
    """The CAP_SYS_ADMIN bonus oom_badness() gave in this era (kernel-model.md 1.7), in the kernel's words;
    None from 4.17 ("mm, oom: remove 3% bonus for CAP_SYS_ADMIN processes")."""
    if version.at_least(4, 17):
        return None
    if version.at_least(3, 14):
        return "points -= points * 3 / 100"  # 3.14 "mm, oom: base root bonus on current usage"
    if version.at_least(3, 8):
        return "adj -= 30"
    return "points -= 30"  # 2.6.36-3.7, on the 0..1000 scale


@lru_cache(maxsize=64)
def scaled_score(version: KernelVersion) -> bool:
    """2.6.36-3.7 oom_badness() returned 0..1000 (points * 1000 / totalpages + adj, clamped); 3.8 "mm, oom:
    normalize oom scores to oom_score_adj scale only for userspace" moved to page units."""
    return not version.at_least(3, 8)


def oom_badness_era(pages: int, adj: int, totalpages: int, version: KernelVersion, *, cap_sys_admin: bool) -> int:
    """oom_badness() of an eligible task by the rules of its era (2.6.36 on), CAP_SYS_ADMIN bonus included.
    `pages` = rss + swapents + page-table pages. See badness_rule."""
    return badness_rule(version, totalpages)(pages, adj, cap_sys_admin)


def badness_rule(version: KernelVersion, totalpages: int) -> Callable[[int, int, bool], int]:
    """oom_badness_era as a function of (pages, adj, cap_sys_admin) for one era and totalpages, with what does not
    change from task to task worked out once (a dump may have 100 000 rows).

    2.6.36-3.7: points = pages*1000/totalpages, -30 for CAP_SYS_ADMIN, + adj; <= 0 -> 1; capped at 1000.
    3.8-3.13:   adj -= 30 for CAP_SYS_ADMIN; points = pages + adj * (totalpages/1000); <= 0 -> 1.
    3.14-4.16:  points -= points*3/100 for CAP_SYS_ADMIN, then + adj * (totalpages/1000); <= 0 -> 1.
    4.17 on:    badness_from() (no bonus; signed from 5.9).
    """
    bonus, unit, signed = root_bonus(version), totalpages // 1000, version.signed_badness
    if scaled_score(version):
        tp = max(totalpages, 1)

        def scaled(pages: int, adj: int, cap: bool) -> int:
            points = pages * 1000 // tp - (30 if cap else 0) + adj
            return 1 if points <= 0 else min(points, 1000)

        return scaled

    def paged(pages: int, adj: int, cap: bool) -> int:
        if cap and bonus == "adj -= 30":
            adj -= 30
        elif cap and bonus is not None:
            pages -= pages * 3 // 100
        return badness_from(pages, adj, unit, signed)

    return paged


def badness_column(version: KernelVersion, totalpages: int, pages: Sequence[int], adjs: Sequence[int],
                   caps: Sequence[int] | None = None) -> list[int]:
    """badness_rule over a whole task dump at once: `pages` and `adjs` per task, `caps` whether each holds
    CAP_SYS_ADMIN (true or false per task; None: none does). The arithmetic of badness_rule is written out in one
    comprehension (a dump may have 100 000 rows: a builtin max() call per row for the pre-5.9 clamp took longer
    than the sum, and a call of the rule per row most of an explain of 2.6.36-3.7 reports), and the root bonus is
    applied through badness_rule to the few holding CAP_SYS_ADMIN."""
    unit = totalpages // 1000  # oom_badness(): adj *= totalpages / 1000
    if scaled_score(version):  # 2.6.36-3.7: points*1000/totalpages + adj, <= 0 -> 1, capped at 1000
        tp = max(totalpages, 1)
        points = [1 if (v := p * 1000 // tp + a) <= 0 else v if v < 1000 else 1000 for p, a in zip(pages, adjs)]
    elif version.signed_badness:  # 5.9+: a signed long, may be negative
        points = [p + a * unit for p, a in zip(pages, adjs)]
    else:  # before 5.9: `return points > 0 ? points : 1`
        points = [v if (v := p + a * unit) > 0 else 1 for p, a in zip(pages, adjs)]
    if caps and root_bonus(version) is not None:
        rule = badness_rule(version, totalpages)
        for i in compress(range(len(points)), caps):
            points[i] = rule(pages[i], adjs[i], True)
    return points


def proc_oom_score_column(badness: list[int], totalpages: int, version: KernelVersion) -> list[int]:
    """proc_oom_score_rule over a whole column of badness values; the 5.9+ formula written out (C truncation of
    both divisions), the older ones through the rule."""
    if not version.oom_score_scaled_2000 or LONG_MIN in badness:
        return list(map(proc_oom_score_rule(totalpages, version), badness))
    tp = max(totalpages, 1)
    doubled = [(1000 + (b * 1000 // tp if b >= 0 else -(-b * 1000 // tp))) * 2 for b in badness]
    return [x // 3 if x >= 0 else -(-x // 3) for x in doubled]


def printed_kill_score(chosen_points: int, totalpages: int, version: KernelVersion) -> int:
    """The "score %u" of "Kill process %d (%s) score %u or sacrifice child": 2.6.36-3.7 printed the 0..1000
    points themselves, 3.8-5.0 chosen_points * 1000 / totalpages."""
    return chosen_points if scaled_score(version) else kill_score(chosen_points, totalpages)
