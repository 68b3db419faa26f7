"""Issue 9 §2: the printed score of each era reproduces (kernel-model.md 1.7), the CAP_SYS_ADMIN choice is stated,
the era and page size come from every clue, and nothing is asserted that the dump does not show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oomtui.importers.explain import explain_text
from oomtui.importers.report import parse_reports
from oomtui.kernel.oom_badness import oom_badness_era, printed_kill_score
from oomtui.kernel.version import KernelVersion

from .test_pasted import _drop, _from, _read
from .test_report import SHARED

F003 = SHARED / "oomanalyser" / "003-rhel7-3.10.0-514-global-numa-mysqld-rsyslog012.log"
F009 = SHARED / "dmesg" / "009-lkml-3.2-rc3-xfs019-xfs_db-oom_adj.log"
F019 = SHARED / "dmesg" / "019-lkml-4.19.69-gentoo-global-firefox-biggest-not-victim-adj300.log"
F020 = SHARED / "dmesg" / "020-lkml-4.9-i686-highmem-lowmem-oom-firefox-reaper.log"
F611 = SHARED / "dmesg" / "003-qemu-6.11-stress-ng-adj1000-global.log"
# public reports whose printed score needs the root bonus (sources: tests/data/fixtures/public/SOURCES.md)
LXC_1110 = SHARED / "public" / "3.14-lxc-memcg-big_alloc-score1110-root-bonus.log"
XFS_803 = SHARED / "public" / "4.0-rc1-linux-mm-quoted-xfs084-resvtest-score803-root-bonus.mail"


def _as_root(text: str, pid: int) -> str:
    """The row of `pid` with uid 0 (the report does not say who held CAP_SYS_ADMIN; uid 0 is the hint)."""
    return re.sub(rf"(\[\s*{pid}\]\s+)\d+", r"\g<1>0", text, count=1)


def _row(text: str, pid: int) -> list[int]:
    return [int(x) for x in re.search(rf"\[\s*{pid}\]((?:\s+-?\d+)+)\s", text)[1].split()]


# --- the scores of each era ---------------------------------------------------------------------------------


def test_every_printed_score_of_the_real_fixtures_is_checked() -> None:
    checks = {p.name[:3]: explain_text(_read(p))[0].score_check for p in (F003, F009, F019, F020)}
    assert {k: (c.printed, c.model, c.agree) for k, c in checks.items()} == {
        "003": (651, 651, True), "019": (303, 303, True), "020": (98, 98, True),
        "009": (944, checks["009"].model, None),  # 3.2's dump has no swapents/nr_ptes: a range, not a number
    }  # fmt: skip
    c = checks["009"]
    assert c.model < 944 <= c.model_max and "no swapents or nr_ptes" in c.how


@pytest.mark.parametrize(("path", "pid", "printed", "era", "span"),
                         [(LXC_1110, 9252, 1110, "3.14", "3.14 to 3.19"), (XFS_803, 4342, 803, "4.0", None)],
                         ids=["3.14-memcg-lxc", "4.0-mail-quoted"])
def test_public_reports_reproduce_their_score_only_with_the_root_bonus(path: Path, pid: int, printed: int,
                                                                       era: str, span: str | None) -> None:
    """Both victims run as uid 0 on a 3.14-4.16 kernel: points -= points * 3 / 100 is what makes the printed score.
    Without a printed release (the LXC paste) the era is a range: the dump's nr_ptes without nr_pmds (3.6-3.19), from
    3.14 on for the score (3.19 the last 3.x release)."""
    (e,) = explain_text(_read(path))
    assert e.kernel_victim.pid == e.model_victim.pid == pid and e.agree and (e.era, e.era_range) == (era, span)
    assert (e.score_check.printed, e.score_check.model, e.score_check.agree) == (printed, printed, True)
    assert e.cap_sys_admin == f"only {e.kernel_victim.comm} ({pid}) holds CAP_SYS_ADMIN"
    # with nobody holding it the same rows score higher (1144 and 828): the bonus, not luck, reproduces it
    victim = next(t for t in e.tasks if t.pid == pid)
    pages = victim.rss + victim.swapents + victim.pgtables_bytes // 4096
    plain = printed_kill_score(oom_badness_era(pages, 0, e.totalpages, KernelVersion.parse(era), cap_sys_admin=False),
                               e.totalpages, KernelVersion.parse(era))
    assert plain > printed


@pytest.mark.parametrize(("path", "pid"), [(F003, 6576), (F020, 2935)], ids=["3.10-adj-30", "4.9-points-3pct"])
def test_a_root_victim_whose_printed_score_has_no_bonus_did_not_hold_cap_sys_admin(path: Path, pid: int) -> None:
    text = _as_root(_read(path), pid)
    (e,) = explain_text(text)
    assert e.score_check.agree and e.model_score == e.printed_score
    assert e.cap_sys_admin == "no task holds CAP_SYS_ADMIN" and "assuming no task holds" in e.score_check.how
    assert e.agree


def test_3_14_to_4_16_root_bonus_takes_3_percent_of_the_points() -> None:
    """4.9: points -= points * 3 / 100 for CAP_SYS_ADMIN. A printed score with the bonus reproduces only with it."""
    text = _as_root(_read(F020), 2935)
    (plain,) = explain_text(text)
    uid, tgid, total_vm, rss, nr_ptes, nr_pmds, swapents, adj = _row(text, 2935)
    points = rss + swapents + nr_ptes + nr_pmds
    points -= points * 3 // 100
    with_bonus = points * 1000 // plain.totalpages
    assert with_bonus < 98
    (e,) = explain_text(text.replace("score 98 or", f"score {with_bonus} or"))
    assert (e.score_check.printed, e.score_check.model, e.score_check.agree) == (with_bonus, with_bonus, True)
    assert e.cap_sys_admin == "only firefox.real (2935) holds CAP_SYS_ADMIN"  # the one choice that reproduces it


def test_3_8_to_3_13_root_bonus_is_30_off_adj() -> None:
    """3.10: adj -= 30 before adj *= totalpages / 1000, i.e. 3 % of totalpages off the points."""
    text = _as_root(_read(F003), 6576)
    (plain,) = explain_text(text)
    uid, tgid, total_vm, rss, nr_ptes, swapents, adj = _row(text, 6576)
    points = rss + nr_ptes + swapents + (adj - 30) * (plain.totalpages // 1000)
    with_bonus = points * 1000 // plain.totalpages
    (e,) = explain_text(text.replace("score 651 or", f"score {with_bonus} or"))
    assert e.score_check.agree and e.model_score == with_bonus == 621
    assert e.cap_sys_admin == "only mysqld (6576) holds CAP_SYS_ADMIN"


def test_2_6_36_to_3_7_scores_0_to_1000() -> None:
    v = KernelVersion(3, 2)
    assert oom_badness_era(500, 0, 1000, v, cap_sys_admin=False) == 500
    assert oom_badness_era(500, 0, 1000, v, cap_sys_admin=True) == 470  # -30 on the 0..1000 scale
    assert oom_badness_era(900, 500, 1000, v, cap_sys_admin=False) == 1000  # capped
    assert oom_badness_era(10, -998, 1000, v, cap_sys_admin=False) == 1  # clamped: still eligible
    assert printed_kill_score(944, 10**6, v) == 944  # the score is the points themselves
    assert printed_kill_score(944, 10**6, KernelVersion(3, 8)) == 0  # 3.8+: points * 1000 / totalpages


def test_tasks_clamped_to_one_tie_and_the_first_scanned_wins_before_3_8() -> None:
    text = _read(F009)
    # every task -998: all clamp to 1 on the 0..1000 scale; the first eligible row in the dump wins
    tied = re.sub(r"(\[\s*\d+\](?:\s+\d+){6})\s+0 ", r"\1          -998 ", text)
    (e,) = explain_text(tied)
    first = next(c for c in sorted(e.ranking, key=lambda c: c.scan_order))
    assert {c.points for c in e.ranking} == {1} and e.model_victim.pid == first.pid


# --- era ---------------------------------------------------------------------------------------------------


def test_the_task_dump_header_bounds_the_era() -> None:
    (e,) = explain_text(_drop(_read(F009), "Pid: "))  # 2.6.37-3.5 "cpu oom_adj" columns, no release
    assert KernelVersion.parse(e.era) < KernelVersion(3, 6) and "'cpu oom_adj' columns" in e.era_source
    assert e.score_check.agree is None and e.score_check.model <= 944 <= e.score_check.model_max
    (e,) = explain_text(_from(_read(F003), "meminfo"))  # nr_ptes swapents without nr_pmds: 3.6-3.19
    assert KernelVersion(3, 6) <= KernelVersion.parse(e.era) < KernelVersion(4, 0) and e.score_check.agree


def test_a_4_14_dump_with_nr_pmds_and_no_nr_puds_contradicts_nothing() -> None:
    """4.14 printed the 4.0 table: nr_puds was only ever in linux-next (merged for 4.15 with pgtables_bytes). The
    xfs/084 report with its release made 4.14.0: no conflict, and its 4.0.0-rc1 self still dates the column."""
    text = _read(XFS_803)
    # (4.5 on, the Killed line has shmem-rss)
    as_4_14 = text.replace("4.0.0-rc1-dgc+", "4.14.0").replace("file-rss:0kB", "file-rss:0kB, shmem-rss:0kB")
    (e,) = explain_text(as_4_14)
    assert e.era == "4.14" and e.era_conflicts == []
    (e,) = explain_text(text)
    assert e.era == "4.0" and e.era_conflicts == []


def test_contradicting_clues_are_reported() -> None:
    text = _read(F019).replace("4.19.69 #43", "4.14.0 #43")
    (e,) = explain_text(text)
    assert any("'[  pid  ]' task header says at least 4.19" in c for c in e.era_conflicts)
    assert any("the era's clues disagree" in n for n in e.notes)
    (e,) = explain_text(_read(F019))
    assert e.era_conflicts == []


# --- page size -----------------------------------------------------------------------------------------------


def test_page_size_from_the_architecture_when_nothing_measures_it() -> None:
    """loongarch64 kernels default to 16 KiB pages: the register dump names the arch ('ERA:' line)."""
    text = _drop(_read(F611), "Killed process", "kB = ")  # no total-vm:, no buddy lines
    (e,) = explain_text(text)
    assert e.page_size == 4096 and "x86_64" in e.page_size_source  # "RIP:" in its register dump
    (e,) = explain_text(text.replace("RIP: ", "ERA: "))
    assert e.page_size == 16384 and "loongarch64" in e.page_size_source
    (e,) = explain_text(_read(F611).replace("RIP: ", "ERA: "))  # total-vm: measures 4 KiB: it wins
    assert e.page_size == 4096 and "total-vm" in e.page_size_source


def test_page_size_from_an_architecture_named_by_the_call_trace() -> None:
    """Without a release suffix or register dump, the syscall entry of the call trace names the arch."""
    text = _drop(_read(F611), "Killed process", "kB = ", "RIP: ")
    (e,) = explain_text(text)
    assert e.page_size == 4096 and e.page_size_source.startswith("assumed") and e.platform.arch is None
    (e,) = explain_text(text.replace("asm_exc_page_fault+0x26/0x30", "handle_syscall+0xbc/0x158"))
    assert e.page_size == 16384 and "loongarch64 (arch from the call trace: handle_syscall frame)" in e.page_size_source
    assert (e.platform.arch, e.platform.arch_source) == ("loongarch64", "call trace: handle_syscall frame")


@pytest.mark.parametrize(("frame", "arch"), [
    (" el0t_64_sync+0x1b8/0x1c0", "aarch64"), (" el0_svc_common.constprop.0+0x40/0xe0", "aarch64"),
    (" entry_SYSCALL_64_after_hwframe+0x76/0x7e", "x86_64"), (" do_syscall_64+0x82/0x170", "x86_64"),
    (" [<ffffffff81ac9875>] async_page_fault+0x25/0x30", "x86_64"), (" [<c15b8a85>] sysenter_past_esp+0x40/0x6a", "i686"),
    (" [<c104ce5c>] ? page_fault+0x2e/0x34", "i686"), (" ? page_fault+0x2f/0x50", None),  # no address: 32 or 64?
    ("[c0000000fe9e7e10] [c00000000002e3a0] system_call_exception+0x170/0x2f0", "ppc64"),
    ("[c000000001c63e30] [c000000000008628] syscall_exit+0x0/0x40", "ppc64"),
    ("[e1b4be30] [c0016c20] system_call_exception+0x100/0x1b0", "powerpc"),
    (" [<0000000085e9a69c>] __do_syscall+0x1d0/0x200", "s390x"), (" __s390x_sys_ioctl+0xa2/0xe0", "s390x"),
    ("[<ffffffff80002ee6>] do_trap_ecall_u+0x1a6/0x1b0", "riscv64"),
    ("[<ffffffe0000426c0>] ret_from_exception+0x0/0xc", "riscv64"), (" ret_from_exception+0x0/0xc", None),
    ("[<9000000000226d54>] handle_syscall+0xbc/0x158", "loongarch64"),
    ("[<c021c0d0>] (SyS_clone) from [<c020f480>] (ret_fast_syscall+0x0/0x4c)", "arm"),
    (" ksys_read from __sys_trace_return+0x0/0x10", "arm"),  # the 6.x arm unwinder, no addresses
])  # fmt: skip
def test_the_call_trace_names_the_architecture(frame: str, arch: str | None) -> None:
    text = f"a.out invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\nCall Trace:\n{frame}\n"
    (r,) = parse_reports(text)
    name = re.split(r"[+.]", frame.split()[-1].lstrip("("))[0]
    assert r.arch == arch and (arch is None or f"{name} frame" in r.arch_source or "[sp] [lr]" in r.arch_source)


F001 = SHARED / "oomanalyser" / "001-archlinux-6.1.1-global-doxygen-reaper.log"


def _normal_zone(free_kb: int, highatomic: str) -> str:
    """001's Normal zone (min 61948, low 75384, high 88820 kB, no lowmem_reserve) with other free and highatomic."""
    return _read(F001).replace("Normal free:61900kB", f"Normal free:{free_kb}kB").replace(
        "high:88820kB reserved_highatomic:0KB", f"high:88820kB {highatomic}")


def test_the_highatomic_reserve_is_not_free_for_the_watermark() -> None:
    """__zone_watermark_ok() (4.4+) takes the highatomic reserve from free pages for a request without reserves:
    76000 kB free is above the low mark (75384) but 76000 - 2048 is not."""
    (e,) = explain_text(_normal_zone(76000, "reserved_highatomic:0KB"))
    assert e.allocation.verdict == "above the low watermark in node 0 Normal"
    (e,) = explain_text(_normal_zone(76000, "reserved_highatomic:2048KB"))
    (normal,) = [c for c in e.allocation.zones if c.zone == "Normal"]
    assert (normal.below, normal.highatomic_kb, normal.highatomic_decides) == ("low", 2048, True)
    assert e.allocation.verdict.startswith("below the low watermark once the highatomic reserve is taken")
    assert "__zone_watermark_ok(), 4.4+: Normal 2048 kB" in e.allocation.verdict
    # newer kernels print the reserve's free part, which is what they subtract: 76000 - 100 kB is above low
    (e,) = explain_text(_normal_zone(76000, "reserved_highatomic:2048KB free_highatomic:100KB"))
    assert e.allocation.verdict == "above the low watermark in node 0 Normal"
    # __GFP_HIGH halves min and low (30974, 37692 kB) and is ALLOC_MIN_RESERVE, one of ALLOC_RESERVES since 6.3:
    # the reserve is free for it there, not on 6.1 (38500 - 2048 is under the halved low mark)
    high = _normal_zone(38500, "reserved_highatomic:2048KB").replace("gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|",
                                                                    "gfp_mask=0x140dea(GFP_HIGHUSER_MOVABLE|__GFP_HIGH|")
    for release, below, decides in (("6.1.1", "low", True), ("6.3.1", "high", False)):
        (e,) = explain_text(high.replace("6.1.1-arch1-1 #1", f"{release}-arch1-1 #1"))
        (normal,) = [c for c in e.allocation.zones if c.zone == "Normal"]
        assert (e.era, normal.below, normal.highatomic_decides) == (release[:3], below, decides)


# --- nothing the dump does not show -----------------------------------------------------------------------------


def test_no_column_the_dump_lacks_is_asserted() -> None:
    (e,) = explain_text(_read(F009))
    assert all(c.swapents is None and c.pgtables_bytes is None for c in e.ranking)
    assert not any("swapents" in w or "pgtables" in w.split(":")[-1] for w in e.why)


def test_no_model_score_when_totalpages_is_unknown() -> None:
    (e,) = explain_text(_from(_read(F019), "dump"))
    assert e.totalpages is None and e.model_score is None and e.score_check.model is None
    assert e.agree  # the printed score bounds totalpages: the choice holds over that range
    assert any("where the kernel's choice prints its score 303" in n for n in e.notes)


def test_the_text_view_shows_absent_columns_as_absent(capsys) -> None:
    from oomtui.cli import main as cli_main

    assert cli_main(["explain", str(F009)]) == 0
    out = capsys.readouterr().out
    assert "xfs_db" in out and "no such column" in out and "within the model's" in out
