"""A memcg's swap limits (the scene's memsw_max on cgroup v1, swap_max on v2): mem_cgroup_get_max() adds the swap
the memcg may use, at most total_swap_pages, to a memcg OOM's totalpages, and the report prints the limit."""

from __future__ import annotations

import pytest

from oomtui.kernel import dmesg
from oomtui.scene.load import SceneError

from ..helpers import sim
from .test_swapaccount import LIMIT_PAGES, MEMCG, SWAP_PAGES, booted, first_oom

MIB = 256  # pages


def limited(text: str, key: str, value: str) -> str:
    return text.replace('memory_max = "64 MiB"\n', f'memory_max = "64 MiB"\n{key} = "{value}"\n', 1)


def at(text: str, kernel: str, memcg: str = "v1") -> str:
    return text.replace('kernel = "5.10"', f'kernel = "{kernel}"').replace('memcg = "v1"', f'memcg = "{memcg}"')


# mem_cgroup_get_limit()'s min(limit + swap, memsw) of 3.10 and 4.4, its swap.max cap from 4.5 (4.9), the rename
# to mem_cgroup_get_max() (4.19), the v1/v2 branches of 5.10 and do_memsw_account()'s of 6.2 (6.18)
V1_ERAS = ["3.10", "4.4", "4.9", "4.19", "5.10", "6.18"]


@pytest.mark.parametrize("kernel", V1_ERAS)
@pytest.mark.parametrize(("memsw", "headroom", "printed_kb"), [
    ("96 MiB", 32 * MIB, 96 * 1024),  # memsw.max - memory.max
    ("2 GiB", SWAP_PAGES, 2 * 1024 * 1024),  # capped at total_swap_pages
    ("max", SWAP_PAGES, dmesg.PAGE_COUNTER_MAX_KB),
    ("64 MiB", 0, 64 * 1024),  # the default: no swap
])
def test_a_v1_memcg_oom_adds_its_memory_swap_headroom(kernel, memsw, headroom, printed_kb):
    totalpages, _, c = first_oom(at(limited(MEMCG, "memsw_max", memsw), kernel))
    assert totalpages == LIMIT_PAGES + headroom and c["memory+swap"][1] == printed_kb


def test_the_headroom_weighs_oom_score_adj():
    # db (20 MiB, adj 100) against a hog that fills the rest of 64 MiB: 100 x totalpages/1000 is 6.4 MiB with no
    # swap, 9.6 MiB with 32 MiB of headroom, 108 MiB with all of the 1 GiB swap
    assert first_oom(MEMCG)[1] == 200
    assert first_oom(limited(MEMCG, "memsw_max", "96 MiB"))[1] == 200
    assert first_oom(limited(MEMCG, "memsw_max", "max"))[1] == 100


@pytest.mark.parametrize(("swap_max", "headroom", "printed_kb"), [
    ("32 MiB", 32 * MIB, 32 * 1024),
    ("max", SWAP_PAGES, dmesg.PAGE_COUNTER_MAX_KB),
    ("0", 0, 0),
])
def test_a_v2_memcg_oom_adds_its_swap_max(swap_max, headroom, printed_kb):
    totalpages, _, c = first_oom(at(limited(MEMCG, "swap_max", swap_max), "5.10", "v2"))
    assert totalpages == LIMIT_PAGES + headroom and c["swap"][1] == printed_kb


@pytest.mark.parametrize(("kernel", "swap"), [("4.4", SWAP_PAGES), ("4.5", 0)])
def test_cgroup_v2_before_4_5_had_no_swap_limit(kernel, swap):
    # mem_cgroup_get_limit() of 4.4 added total_swap_pages capped by the memsw limit, a file of cgroup v1 only;
    # 4.5's "mm: memcontrol: charge swap to cgroup2" capped it at swap.max (0 in a scene unless set)
    assert first_oom(at(MEMCG, kernel, "v2"))[0] == LIMIT_PAGES + swap


def test_without_swap_accounting_before_6_2_all_of_swap_counts_and_from_6_2_the_limit():
    assert first_oom(booted(at(MEMCG, "6.1")))[0] == LIMIT_PAGES + SWAP_PAGES
    assert first_oom(booted(at(limited(MEMCG, "memsw_max", "96 MiB"), "6.2")))[0] == LIMIT_PAGES + 32 * MIB


FREEZER = MEMCG.replace('[[processes]]', '[[cgroups]]\npath = "/frozen"\nhierarchy = "freezer"\nfreezer = "v1"\n'
                        'KEY\n\n[[processes]]', 1)


@pytest.mark.parametrize(("text", "path", "words"), [
    (limited(MEMCG, "memsw_max", "32 MiB"), "cgroups[0].memsw_max", "below the memory limit (64 MiB)"),
    (limited(MEMCG, "memsw_max", "lots"), "cgroups[0].memsw_max", 'got \'lots\' (or "max": no limit)'),
    (at(limited(MEMCG, "memsw_max", "96 MiB"), "5.10", "v2"), "cgroups[0].memsw_max", "with swap_max"),
    (limited(MEMCG, "swap_max", "32 MiB"), "cgroups[0].swap_max", "with memsw_max"),
    (at(limited(MEMCG, "swap_max", "32 MiB"), "4.4", "v2"), "cgroups[0].swap_max", "came in 4.5"),
    (booted(limited(MEMCG, "memsw_max", "96 MiB")), "cgroups[0].memsw_max", "swapaccount = false (kernel 5.10)"),
    (MEMCG.replace('memory_max = "64 MiB"\n', 'memsw_max = "1 GiB"\n'), "cgroups[0].memsw_max",
     "below the memory limit (max)"),
    (FREEZER.replace("KEY", 'memsw_max = "1 GiB"'), "cgroups[1].memsw_max", "the freezer hierarchy has none"),
])
def test_a_swap_limit_the_kernel_would_not_take_is_refused(text, path, words):
    with pytest.raises(SceneError) as e:
        sim(text)
    assert e.value.path == path and words in str(e.value), str(e.value)
    assert e.value.line is not None and text.splitlines()[e.value.line - 1].startswith(path.split(".")[-1])
