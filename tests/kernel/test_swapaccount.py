"""A machine booted with swapaccount=0 (the scene's `swapaccount = false`): the memcgs' swap counters are
never charged and their limits cannot be set, until 6.2 ignores the option (KernelVersion.swapaccount_optional)."""

from __future__ import annotations

import re

import pytest

from oomtui.kernel import dmesg
from oomtui.kernel import events as ev
from oomtui.kernel.state import Cgroup
from oomtui.kernel.version import KernelVersion as V
from oomtui.scene import actions as A
from oomtui.scene.load import SceneError

from ..helpers import HEAD, sim
from .test_cgroups import IMMIGRATE, usage_mib

LIMIT_PAGES = 64 * 256  # 64 MiB
SWAP_PAGES = 1024 * 256  # 1 GiB

# db (adj 100) and the allocating hog share a 64 MiB v1 memcg on a machine with 1 GiB of swap
MEMCG = HEAD + """
memcg = "v1"
kernel = "5.10"
swap = "1 GiB"

[[cgroups]]
path = "/app"
memory_max = "64 MiB"

[[processes]]
pid = 100
comm = "db"
cgroup = "/app"
rss = "20 MiB"
oom_score_adj = 100

[[processes]]
pid = 200
comm = "hog"
cgroup = "/app"
rss = "10 MiB"
alloc = { rate = "1 GiB/s", target = "1 GiB", start = "100ms" }
"""


def booted(text: str, swapaccount: str = "false") -> str:
    return text.replace('swap = "1 GiB"\n', f'swap = "1 GiB"\nswapaccount = {swapaccount}\n', 1)


def first_oom(text: str) -> tuple[int, int, dict[str, tuple[int, int]]]:
    """The first memcg OOM's totalpages, victim, and (usage, limit) in kB of each counter its report prints."""
    s = sim(text)
    o = s.run(256)
    invoked = next(e for e in s.k.events if isinstance(e, ev.OomInvoked))
    victim = next(k.pid for k in o.kills if k.reason == "oom")
    counters = {m["counter"]: (int(m["usage"]), int(m["limit"])) for line in o.dmesg
                if (m := re.search(r"\] (?P<counter>[\w+]+): usage (?P<usage>\d+)kB, limit (?P<limit>\d+)kB", line))}
    return invoked.totalpages, victim, counters


def test_without_swap_accounting_the_memcg_may_use_all_of_swap():
    # mem_cgroup_get_max(): memsw.max - memory.max (0 here, the lab's setup) or, unaccounted, PAGE_COUNTER_MAX
    # capped at total_swap_pages. oom_score_adj 100 is worth 100 * totalpages/1000: 6.4 MiB against a hog
    # of ~44 MiB, or 108 MiB once totalpages counts the swap
    totalpages, victim, c = first_oom(MEMCG)
    assert (totalpages, victim, c["memory+swap"]) == (LIMIT_PAGES, 200, c["memory"])  # memsw: memory + no swap
    totalpages, victim, c = first_oom(booted(MEMCG))
    assert (totalpages, victim) == (LIMIT_PAGES + SWAP_PAGES, 100)
    assert c["memory+swap"] == (0, dmesg.PAGE_COUNTER_MAX_KB) and c["memory"][1] == LIMIT_PAGES * 4  # never charged


def test_from_6_2_swapaccount_0_is_ignored():
    on = sim(MEMCG.replace('kernel = "5.10"', 'kernel = "6.2"')).run(256)
    off = sim(booted(MEMCG.replace('kernel = "5.10"', 'kernel = "6.2"'))).run(256)
    assert off.dmesg == on.dmesg and [k.pid for k in off.kills] == [k.pid for k in on.kills] == [200]
    assert first_oom(booted(MEMCG.replace('kernel = "5.10"', 'kernel = "6.1"')))[0] == (
        LIMIT_PAGES + SWAP_PAGES)


def test_cgroup_v2_swap_line_without_accounting():
    cg = Cgroup("/app", Cgroup("/", None), limit=LIMIT_PAGES)
    cg.usage = LIMIT_PAGES
    assert dmesg.memcg_lines(V(5, 10), cg, cg, swap_accounted=False)[1] == (
        f"swap: usage 0kB, limit {dmesg.PAGE_COUNTER_MAX_KB}kB, failcnt 0")
    v2 = booted(MEMCG.replace('memcg = "v1"', 'memcg = "v2"'))
    assert first_oom(v2)[:2] == (LIMIT_PAGES + SWAP_PAGES, 100)


@pytest.mark.parametrize("kernel, moves_swap", [("4.19", False), ("5.10", True)])
def test_a_charge_move_takes_swap_entries_unaccounted_from_5_8(kernel, moves_swap):
    # before 5.8 mc_handle_swap_pte() offered a swap entry only if do_memsw_account(): not precharged, not moved;
    # from 5.8 the swap_cgroup record is kept regardless, and the 40 MiB of entries need room in the precharge
    swapped = IMMIGRATE.replace('rss = "100 MiB"\n', 'rss = "100 MiB"\nswap = "40 MiB"\n', 1)
    text = swapped.replace('memory_max = "1 GiB"', 'memory_max = "230 MiB"', 1).replace(
        'kernel = "6.6"', f'kernel = "{kernel}"\nswapaccount = false', 1)
    s = sim(text)
    events = s.apply(A.Move(pid=100, cgroup="/p/b"))
    move = next(e for e in events if isinstance(e, ev.CgroupMove))
    if moves_swap:
        assert move.errno == "ENOMEM" and usage_mib(s, "/p/a", "/p/b") == (100, 0)
    else:
        assert not move.errno and move.moved_swap_kb == 0 and usage_mib(s, "/p/a", "/p/b") == (0, 100)


def test_swapaccount_is_a_boolean():
    with pytest.raises(SceneError) as e:
        sim(booted(MEMCG, '"0"'))
    assert e.value.path == "swapaccount" and "bool" in str(e.value)


@pytest.mark.parametrize(("kernel", "policy", "swap_in_totalpages"), [
    ("5.10", "linux-6.18", False),  # switched to 6.18, which ignores swapaccount=0
    ("6.6", "linux-4.6", True),  # switched to 4.19, which honours it
])
def test_a_policy_switch_honours_the_boot_option_as_the_new_era_does(kernel, policy, swap_in_totalpages):
    text = booted(MEMCG.replace('kernel = "5.10"', f'kernel = "{kernel}"')) + (
        f'\n[[actions]]\nat = "0ms"\ndo = "policy"\npolicy = "{policy}"\n')
    assert first_oom(text)[0] == LIMIT_PAGES + (SWAP_PAGES if swap_in_totalpages else 0)
