"""The simulator scores by the era of the scene's kernel (kernel-model.md 1.7): the 2.6.36-3.7 0..1000 score and the
CAP_SYS_ADMIN root bonus of each era before 4.17, from a scene's `cap_sys_admin = true`."""

from __future__ import annotations

import re

import pytest

from oomtui.kernel import events as ev
from tests.helpers import sim

# 4000 MiB of RAM, no swap: totalpages = 1 024 000, and 3 % of it (adj 30 x totalpages/1000) is 30 720 pages.
# Each process also gets a 64 KiB stack and a 16 KiB TLS block: 20 pages.
#   rootd: 1000 MiB -> 256 020 pages, uid 0;  user: 950 MiB -> 243 220 pages.
SCENE = """
title = "t"
story = "s"
ram = "4000 MiB"
policy = "linux-4.6"
duration = "2s"

[[processes]]
pid = 100
comm = "rootd"
cap_sys_admin = {cap}
oom_score_adj = {adj}
rss = "1000 MiB"
pgtables = 0

[[processes]]
pid = 200
comm = "user"
uid = 1000
oom_score_adj = {adj}
rss = "950 MiB"
pgtables = 0

[[actions]]
at = "1s"
do = "oom"
"""


def _oom(kernel: str, cap: bool, adj: int = 0) -> tuple[str, int, ev.OomSelected]:
    s = sim(SCENE.format(cap=str(cap).lower(), adj=adj), kernel=kernel)
    s.run()
    (sel,) = [e for e in s.k.events if isinstance(e, ev.OomSelected)]
    (line,) = [e.line for e in s.k.events if isinstance(e, ev.Dmesg) and "or sacrifice child" in e.line]
    m = re.search(r"Kill process \d+ \((\w+)\) score (\d+) or", line)
    return m[1], int(m[2]), sel


@pytest.mark.parametrize(("kernel", "victim", "score"), [
    # 2.6.36-3.7: rootd 256020*1000/1024000 = 250, -30 = 220 < user's 243220*1000/1024000 = 237; printed as is
    ("3.2", "user", 237),
    # 3.8-3.13: rootd 256020 - 30*1024 = 225300 < 243220; printed 243220*1000/1024000 = 237
    ("3.10", "user", 237),
    # 3.14-4.16: rootd 256020 - 256020*3/100 = 248340 > 243220: still chosen, printed 248340*1000/1024000 = 242
    ("4.9", "rootd", 242),
    # 4.17 on: no bonus, rootd 256020 -> 250
    ("4.19", "rootd", 250),
])  # fmt: skip
def test_cap_sys_admin_bonus_of_each_era(kernel: str, victim: str, score: int) -> None:
    assert _oom(kernel, cap=True)[:2] == (victim, score)
    assert _oom(kernel, cap=False)[:2] == ("rootd", 250)  # without the capability the bigger one, every era


def test_2_6_36_to_3_7_clamps_to_1_and_the_first_scanned_wins() -> None:
    """adj -998 takes both below zero on the 0..1000 scale: both score 1 (still eligible), and select_bad_process()
    replaced its choice only on `points > chosen_points`, so the first scanned stays, even with its bonus."""
    comm, score, sel = _oom("3.2", cap=True, adj=-998)
    assert (comm, score) == ("rootd", 1)
    assert [(c.pid, c.points) for c in sel.candidates] == [(100, 1), (200, 1)]
    assert "of 1000" in sel.why and "- 30 for CAP_SYS_ADMIN" in sel.why
