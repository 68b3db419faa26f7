"""`oomtui import` of a memcg OOM: the scene's `memcg` flavour and `swapaccount` come from the report's lines, and
the replay prints the lines of that flavour (issue 9 §4, issue 10 §2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomtui.importers import facts
from oomtui.importers.explain import explain_text
from oomtui.importers.report import CgroupCounter, parse_reports, read_input
from oomtui.importers.to_scene import import_report
from oomtui.kernel import events as ev
from oomtui.kernel.version import KernelVersion
from oomtui.scene.load import loads, parse_scene
from oomtui.scene.sim import Simulation

from .test_report import DATA, SHARED

PUBLIC = SHARED / "public"
K8S_415 = PUBLIC / "4.15-k8s-pod-memcg-v1-dmesg-T-from-call-trace.log"
LEAKER_52 = SHARED / "dmesg" / "008-lkml-5.2-rc7-memcg-leaker-reaper.log"

# (report file, report number, memcg, swapaccount): real reports from tests/data/fixtures
REAL = [
    (LEAKER_52, 1, "v1", True),  # memory+swap usage above memory's: swap accounted and in use
    (PUBLIC / "3.14-lxc-memcg-big_alloc-score1110-root-bonus.log", 1, "v1", True),
    (PUBLIC / "3.10-el7-blog-zh-sysrq-f-then-docker-memcg-swap-score750-three-reports.md", 2, "v1", True),
    (PUBLIC / "4.19-k8s-github-issue-folded-178-memcg-v1-dirty-cache-killed-child-cut.md", 1, "v1", True),
    (PUBLIC / "4.19-loongarch64-16k-notes-zh-dmesg-T-k8s-memcg-v1-run-together-suppressed.md", 5, "v1", True),
    (K8S_415, 1, "v1", False),  # memory+swap usage 0kB under 123 MiB of memory, no swap in memory.stat
    (PUBLIC / "4.x-notes-zh-cgroup-v1-memcg-from-task-in-memsw-unlimited-score972.md", 1, "v1", False),
    (SHARED / "oomanalyser" / "002-proxmox-5.15-pve-lxc-memcg-v2-php-fpm-dmesg-T.log", 1, "v2", True),
    (PUBLIC / "6.18-arm64-cgroups-mail-wrapped-80-instrumented-badness.mail", 1, "v2", True),
    (DATA / "kmsg-5.10-two-reports-global-and-memcg.log", 2, "v2", True),  # synthetic, in /dev/kmsg's format
]


def _replay(text: str):
    """The model's own dmesg of the imported scene, read back as a report, and explain's reading of it."""
    dmesg = "\n".join(Simulation(loads(text, "imported.toml")).run().dmesg)
    (report,) = parse_reports(dmesg)
    (explained,) = explain_text(dmesg)
    return report, explained


@pytest.mark.parametrize(("path", "index", "memcg", "swapaccount"), REAL, ids=lambda x: getattr(x, "name", x))
def test_real_memcg_report_replays_with_its_flavours_lines(path, index, memcg, swapaccount) -> None:
    text = path.read_text(encoding="utf-8")
    original = parse_reports(text)[index - 1]
    imp = import_report(text, path.name, index)
    scene = parse_scene(imp.text)
    assert (scene.memcg, scene.swapaccount) == (memcg, swapaccount)
    assert ("swapaccount = false" in imp.text) is (not swapaccount)
    replay, explained = _replay(imp.text)
    # v1: memory+swap: and kmem:, never swap:; v2 the other way round; the original printed the same kind
    v1_lines = replay.memsw is not None and replay.kmem is not None
    assert v1_lines is (memcg == "v1") and (replay.swap is None) is (memcg == "v1")
    assert (original.swap is None) is (memcg == "v1")
    assert original.memsw is None or memcg == "v1"
    # the memcg lines of the era: "Task in" before 5.0, oom-kill:'s oom_memcg= after; and the same victim
    assert not original.memcg_task_line or replay.memcg_task_line
    assert not original.oom_memcg or replay.oom_memcg == original.oom_memcg
    assert explained.agree and explained.kernel_victim.pid == imp.victim_pid == original.victim()[0]
    if not swapaccount:  # never charged, its limit file hidden: as the kernel printed it
        assert replay.memsw == CgroupCounter(usage_kb=0, limit_kb=original.memsw.limit_kb, failcnt=0)


def _real_reports():
    """(fixture, report number, report) of every real report that prints memcg counter or memory.stat lines."""
    for path in sorted(SHARED.glob("*/*")):
        if path.suffix in (".log", ".md", ".mail", ".eml"):
            for i, r in enumerate(parse_reports(read_input(str(path))), 1):
                if r.memory or r.memsw or r.kmem or r.swap or r.memcg_stats:
                    yield path, i, r


MEMCG_REPORTS = [(path, i) for path, i, r in _real_reports() if r.tasks]  # those import can replay


@pytest.mark.parametrize(("path", "index"), MEMCG_REPORTS, ids=lambda x: x.name[:40] if isinstance(x, Path) else str(x))
def test_every_real_memcg_report_replays_with_the_lines_it_printed(path: Path, index: int) -> None:
    text = read_input(str(path))
    original = parse_reports(text)[index - 1]
    imp = import_report(text, path.name, index)
    replay, explained = _replay(imp.text)
    if original.swap is not None:
        assert replay.swap is not None and replay.memsw is None and replay.kmem is None
    elif original.memsw or original.kmem or "rss" in original.memcg_stats:
        assert replay.memsw is not None and replay.kmem is not None and replay.swap is None
    assert explained.agree
    if original.victim() is not None and any(n.startswith("a tie: ") for n in explain_text(text)[index - 1].notes):
        # equal points, and the memcg's scan order is not the dump's: the replay kills one of the tied
        assert explained.kernel_victim.comm == imp.victim_comm
    elif original.victim() is not None:
        assert explained.kernel_victim.pid == imp.victim_pid
    for mine, theirs in ((replay.memsw, original.memsw), (replay.swap, original.swap)):  # the swap limit it printed
        if mine is not None and theirs is not None:
            assert facts.unlimited(mine.limit_kb) if facts.unlimited(theirs.limit_kb) else (
                mine.limit_kb == theirs.limit_kb), (mine, theirs)


EL7 = PUBLIC / "3.10-el7-blog-zh-sysrq-f-then-docker-memcg-swap-score750-three-reports.md"


def test_a_memory_swap_limit_is_imported_and_its_headroom_weighs_as_the_kernel_weighed_it() -> None:
    """RHEL 7's docker memcg: 100 MiB of memory, 200 MiB of memory+swap, 147 MiB swapped out. mem_cgroup_get_limit()
    gave totalpages 51200, so stress scored 750; with the memory limit alone the replay said 1501."""
    text = EL7.read_text(encoding="utf-8")
    imp = import_report(text, EL7.name, 2)
    scene = parse_scene(imp.text)
    (cg,) = [c for c in scene.cgroups if c.memory_max is not None]
    assert (cg.memory_max, cg.memsw_max, scene.swap) == ("100 MiB", "200 MiB", "100 MiB")
    assert "the least that gives the memcg the 100 MiB of swap headroom" in imp.text
    dmesg = "\n".join(Simulation(loads(imp.text, "imported.toml")).run().dmesg)
    assert "Kill process 14728 (stress) score 750 or sacrifice child" in dmesg
    assert "memory+swap: usage" in dmesg and "limit 204800kB" in dmesg


@pytest.mark.parametrize(("limit", "written", "swap"), [
    ("9007199254740988", 'memsw_max = "max"', 'swap = "2068268 KiB"'),  # what it has swapped out
    ("1048576", 'memsw_max = "1 GiB"', 'swap = "512 MiB"'),  # the headroom: it swapped out more
    ("524288", None, None),  # no headroom: the scene's default
])
def test_the_memory_swap_limit_and_the_swap_explain_counts_are_imported(limit, written, swap) -> None:
    """The 5.2 leaker's memcg (512 MiB of memory, 2068268 kB swapped out) with its memory+swap limit as printed and
    edited. The report does not print the machine's swap: the scene's is what explain's totalpages counts above the
    memory limit, and the replay's totalpages is explain's."""
    text = LEAKER_52.read_text(encoding="utf-8").replace("limit 9007199254740988kB", f"limit {limit}kB")
    imp = import_report(text, LEAKER_52.name)
    lines = imp.text.splitlines()
    assert (written in lines) if written else not any(line.startswith("memsw_max") for line in lines)
    machine = lines[: lines.index("hz = 250")]  # the keys before the first table
    assert (swap in machine) if swap else not any(line.startswith("swap =") for line in machine)
    sim = Simulation(loads(imp.text, "imported.toml"))
    sim.run()
    invoked = next(e for e in sim.k.events if isinstance(e, ev.OomInvoked))
    assert invoked.totalpages == explain_text(text)[0].totalpages


def test_a_v2_swap_max_is_imported() -> None:
    path = PUBLIC / "6.18-arm64-cgroups-mail-wrapped-80-instrumented-badness.mail"
    text = path.read_text(encoding="utf-8")
    assert "swap: usage 0kB, limit 0kB" in text
    assert parse_scene(import_report(text, path.name).text).cgroups[-1].swap_max is None  # 0: the default
    edited = text.replace("swap: usage 0kB, limit 0kB", "swap: usage 0kB, limit 262144kB", 1)
    imp = import_report(edited, path.name)
    assert parse_scene(imp.text).cgroups[-1].swap_max == "256 MiB"
    replay, _ = _replay(imp.text)
    assert replay.swap.limit_kb == 262144


def test_the_real_memcg_reports_include_v1_and_v2() -> None:
    replayable = [r for _, _, r in _real_reports() if r.tasks]
    assert sum(1 for r in replayable if r.memsw) >= 6 and sum(1 for r in replayable if r.swap) >= 2


def test_the_two_signs_of_swap_unaccounted_agree_in_every_real_report() -> None:
    """A memsw counter never charged under a charged memory counter, and a complete v1 stat dump without swap,
    come together in the real reports (swap_unaccounted() takes either)."""
    seen = 0
    for path, _, r in _real_reports():
        if r.memsw and r.memory and r.memory.usage_kb and "inactive_anon" in r.memcg_stats:
            seen += 1
            assert (r.memsw.usage_kb == 0) is ("swap" not in r.memcg_stats), path.name
    assert seen >= 10


def test_the_reason_is_in_the_scene() -> None:
    imp = import_report(K8S_415.read_text(encoding="utf-8"), K8S_415.name)
    comment = " ".join(line[2:] for line in imp.text.splitlines() if line.startswith("# "))
    assert "kmem charged, as v1 alone does" in comment  # 4.15: cgroup v2 printed memory+swap: too
    assert "'memory+swap: usage 0kB' while 'memory:' has 125952 kB" in comment
    assert "the memory.stat dump has no swap entry" in comment
    assert "v1 assumed" not in imp.text


def _k8s(**edits: tuple[str, str]) -> str:
    text = K8S_415.read_text(encoding="utf-8")
    for old, new in edits.values():
        assert old in text
        text = text.replace(old, new)
    return text


NO_KMEM = ("kmem: usage 2352kB", "kmem: usage 0kB")


def test_before_5_3_without_a_v1_only_charge_v1_is_a_guess_and_memsw_usage_proves_nothing() -> None:
    # cgroup v2 of 4.5 - 5.2 printed memory+swap: and kmem: too, and never charged either counter
    imp = import_report(_k8s(kmem=NO_KMEM), "k8s.log")
    assert parse_scene(imp.text).memcg == "v1"
    assert "and nothing v1 alone charges is charged: v1 assumed" in " ".join(imp.text.split("\n# "))
    # swap accounting off is still shown by memory.stat, which lists swap with it on, on either hierarchy
    assert "swapaccount = false" in imp.text and "'memory+swap: usage 0kB'" not in imp.text
    # a stat dump cut before its LRU lists may have lost swap to the cut: then nothing shows accounting off
    cut = _k8s(kmem=NO_KMEM, stats=(" inactive_anon:", "\n"))
    assert parse_scene(import_report(cut, "k8s.log").text).swapaccount is True


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("writeback:0KB", "writeback:0KB swap:0KB"),  # memory.stat lists swap
        ("memory+swap: usage 0kB", "memory+swap: usage 4096kB"),  # memsw charged
        # a memsw limit: its file exists
        ("memory+swap: usage 0kB, limit 9007199254740988kB", "memory+swap: usage 0kB, limit 131072kB"),
    ],
    ids=["stat-lists-swap", "memsw-charged", "memsw-limited"],
)
def test_swap_accounted_when_anything_shows_it(old: str, new: str) -> None:
    scene = parse_scene(import_report(_k8s(edit=(old, new)), "k8s.log").text)
    assert (scene.memcg, scene.swapaccount) == ("v1", True)


@pytest.mark.parametrize(
    ("release", "swapaccount", "guess"),
    [("5.2.0-rc7", True, True), ("5.4.0", False, False), ("6.6.0", True, False)],
)
def test_memsw_never_charged_is_swapaccount_0_only_on_v1_from_5_3_and_before_6_2(release, swapaccount, guess) -> None:
    """The 5.2 leaker with its memsw and kmem counters never charged and its stat dump cut off. On 5.2 cgroup v2
    printed such lines too, and never charges either counter: v1 is a guess and proves nothing about swap. From
    5.3 only v1 prints them: swapaccount=0, until 6.2, which ignores it and charges memsw on v1 regardless."""
    text = LEAKER_52.read_text(encoding="utf-8")
    edits = (("memory+swap: usage 2592556kB", "memory+swap: usage 0kB"), ("kmem: usage 7260kB", "kmem: usage 0kB"),
             ("Memory cgroup stats for", "cut"))
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    imp = import_report(text.replace("5.2.0-rc7", release), "leaker.log")
    scene = parse_scene(imp.text)
    assert (scene.memcg, scene.swapaccount) == ("v1", swapaccount)
    assert ("v1 assumed" in " ".join(imp.text.split("\n# "))) is guess
    if not swapaccount:
        swapents = sum(t.swapents for t in parse_reports(text)[0].tasks)
        comment = " ".join(imp.text.split("\n# "))  # its wrapped lines joined
        assert swapents and f"not even for the {swapents} swap entries of the task dump" in comment


def test_no_flavour_line_leaves_the_default() -> None:
    """A paste with "Task in ..." but none of the counter lines: both flavours print that line, so nothing is set."""
    path = PUBLIC / "3.x-linux-mm-memcg-syslog-cut-score1000-cap-tie.mail"
    text = path.read_text(encoding="utf-8")
    assert parse_reports(text)[0].memcg_task_line
    imp = import_report(text, path.name)
    assert "memcg =" not in imp.text and "swapaccount" not in imp.text


def test_a_32_bit_kernels_unlimited_memsw_is_no_limit() -> None:
    """On 32-bit PAGE_COUNTER_MAX is LONG_MAX pages: 8589934588 kB with 4 KiB pages, not a limit anyone set, so the
    memsw counter is still never charged nor limited (swapaccount=0), and explain says it has no limit."""
    text = _k8s(unlimited=("9007199254740988", "8589934588"))
    scene = parse_scene(import_report(text, "k8s.log").text)
    assert (scene.memcg, scene.swapaccount) == ("v1", False)
    assert explain_text(text)[0].memcg.memsw_limit_kb is None


def test_a_memory_oom_group_is_cgroup_v2() -> None:
    """memory.oom.group is a cgroup v2 file (mem_cgroup_get_oom_group() returns NULL on v1): a 5.0 report that
    kills one is v2 for certain, though it prints 5.0's memory+swap: and kmem: lines as both versions did."""
    path = PUBLIC / "5.0-rc4-linux-mm-quoted-tid-oom-group-kills-init.mail"
    r = parse_reports(path.read_text(encoding="utf-8"))[0]
    assert r.oom_group_memcg is not None
    flavour = facts.memcg_flavour(r, KernelVersion(5, 0))
    assert (flavour.version, flavour.certain) == ("v2", True) and "memory.oom.group" in flavour.why
