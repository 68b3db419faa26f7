"""Real OOM reports of routers (OpenWrt and its forks on MIPS) and of a 6.18 kernel that prints zsmalloc's pages
(zram, zswap), from tests/data/fixtures/public/SOURCES.md: the kernel's victim, the architecture and page size, and
a cause that names where the memory went."""

from __future__ import annotations

from oomtui.importers import analysis
from oomtui.importers.explain import explain_text
from oomtui.importers.report import parse_reports

from .test_report import SHARED

PUBLIC = SHARED / "public"
MT7615 = "4.14-mips-mt7621-github-issue-two-excerpts-tainted-p-driver-pages-uncounted-tie.md"
CLASH = "5.4-mips-mt7621-openclash-github-issue-verdict-then-next-stack-words.md"
CC1PLUS = "6.18-x86_64-notes-cc1plus-ninja-26-compilers-zspages-printed.md"


def _text(name: str) -> str:
    return (PUBLIC / name).read_text(encoding="utf-8")


def test_a_three_way_tie_on_a_router_goes_to_the_first_task_scanned() -> None:
    """The first excerpt of mtk-openwrt-feeds issue 67 (dmesg -r, '<6>' levels): three tasks left, each rss 7 +
    nr_ptes 3 = 10 points; 4.14's oom_evaluate_task() replaces the choice only on more points, so askfirst, the
    first scanned, is killed. Its total-vm 904 kB against 226 pages measures 4 KiB pages."""
    first = explain_text(_text(MT7615))[0]
    assert first.kernel_victim.pid == first.model_victim.pid == 472 and first.agree
    assert [c.points for c in first.ranking] == [10, 10, 10]
    assert "tie on 10 points with dropbear (1272)" in first.why[1]
    assert first.page_size == 4096 and first.page_size_source.startswith("victim's total_vm 226 pages")
    # no 'pages RAM' in this excerpt: the next OOM's, 41 ms later on the line after it, are the same machine's
    assert (first.score_check.printed, first.score_check.model, first.score_check.agree) == (0, 0, True)
    assert first.totalpages == 32768 - 1830 and first.totalpages_source == (
        "RAM 32768 - reserved 1830 + swap 0 pages; borrowed from report 2, of the same boot: report 2 begins on the "
        "line after report 1 ends, and the printed score reproduces with them")


def test_totals_are_borrowed_only_from_the_same_boot() -> None:
    """The first excerpt keeps 'totalpages unknown' when anything says the next report may be another machine's or
    another boot's: the dmesg clock running back between them, a line between them and no kernel line to compare,
    or two kernel lines that differ. The same kernel line (release, build, hardware) across a gap may lend, and
    like the next line it is not proof alone (a fleet's VMs run one kernel): lent totals stand only where the
    printed score reproduces with them."""
    text = _text(MT7615)
    lines = text.splitlines(keepends=True)
    back = "".join(lines[:7] + [line.replace("[ 177", "[  77") for line in lines[7:]])  # 1770.34 s, then 70.38 s
    assert [r.boot for r in parse_reports(back)] == [0, 1] and parse_reports(back)[1].ram_pages == 32768
    apart = text.replace("<4>[ 1770.377252] procd invoked", "some words\n<4>[ 1770.377252] procd invoked")
    for other in (back, apart):
        first = explain_text(other)[0]
        assert first.totalpages is None and first.score_check.agree is None
    cpu = "<6>[ 1770.251714] CPU: 0 PID: 1 Comm: procd Tainted: P                4.14.41 #0\n"
    same = explain_text(cpu + apart)[0]
    assert same.totalpages == 30938 and "the same kernel line, 4.14.41 #0" in same.totalpages_source
    assert same.score_check.agree and "the printed score reproduces with them" in same.totalpages_source
    unconfirmed = explain_text(cpu + apart.replace("score 0 or", "score 7 or", 1))[0]
    assert unconfirmed.totalpages is None and unconfirmed.score_check.printed == 7
    other_build = explain_text(cpu.replace("#0", "#1") + text)[0]
    assert other_build.totalpages is None


def test_a_proprietary_wifi_driver_holding_three_quarters_of_a_router_is_named() -> None:
    """The second excerpt, the next OOM 1 s later: an MT7621 with 128 MiB and the mt7615 Wi-Fi module built for
    another kernel ('Tainted: P'). The summary's first lines are cut; the node line has the LRU lists: 204 + 508 +
    16 + 48 kB = 194 pages. RAM 131072 - reserved 7320 - (free 3622 + slab 354 + 2158 + pagetables 9 + 194) x 4 kB
    = 98404 kB (96.1 MiB) in no counter: the driver's pages. mips from the 32-bit 'Stack :' words, 4 KiB from the
    buddy lines."""
    second = explain_text(_text(MT7615))[1]
    assert second.platform.arch == "mips" and "'Stack :' words of 32 bits" in second.platform.arch_source
    assert second.page_size == 4096 and second.page_size_source == "smallest block of the buddy lists"
    assert (second.trigger.pid, second.trigger.comm) == (1, "procd") and second.kernel_victim is None
    assert second.cause.kind == "kernel_other" and "96.1 MiB (75 % of RAM)" in second.cause.text
    assert "tainted P: a proprietary module is loaded" in second.cause.text
    assert "ends before the kernel's choice" in second.cause.text and "?" not in second.cause.text
    assert "/sys/module/*/taint" in second.advice[0] and "exactly 4.14.41" in second.advice[0]
    assert second.allocation.verdict.startswith("below the low watermark")


def test_uncounted_memory_needs_every_node_line_and_no_room_for_a_hugetlb_pool() -> None:
    """The 96.1 MiB are counted only because the node line holds the LRU lists the cut summary lost, and because
    'total pagecache pages' follows the buddy line directly: hugetlb_show_meminfo() printed no pool. Without the
    node line, or with a line cut between the two, the same report cannot tell where the memory went."""
    text = _text(MT7615)
    assert parse_reports(text)[1].hugetlb_kb == 0
    no_node = "\n".join(line for line in text.splitlines() if "Node 0 active_anon" not in line)
    assert explain_text(no_node)[1].cause.kind == "unknown"
    cut = text.replace("= 14456kB\n", "= 14456kB\n(...)\n")
    assert parse_reports(cut)[1].hugetlb_kb is None and explain_text(cut)[1].cause.kind == "unknown"
    untainted = text.replace("Tainted: P  ", "Not tainted")
    assert explain_text(untainted)[1].cause.kind == "kernel_other"
    assert "tainted" not in explain_text(untainted)[1].cause.text


def test_a_verdict_then_the_next_oom_of_a_mips_router_names_its_arch_from_the_stack_words() -> None:
    """OpenClash issue 1579: clash (uid 65534) killed by its verdict and oom-kill: line and reaped, then the next
    OOM 134 s later from clash again (GFP_KERNEL), its 'Stack :' block and a call trace of bare addresses (no
    kallsyms). Only the second names the architecture: mips, whose pages default to 4 KiB."""
    first, second = explain_text(_text(CLASH))
    assert (first.kernel_victim.pid, first.kernel_victim.comm) == (12929, "clash") and first.trigger is None
    assert first.constraint == "CONSTRAINT_NONE" and first.platform.arch is None
    assert (second.trigger.pid, second.trigger.comm) == (19372, "clash") and second.kernel_victim is None
    assert second.platform.arch == "mips" and second.platform.kernel == "5.4.137"
    assert second.page_size == 4096 and second.page_size_source.startswith("the default of mips")
    assert second.allocation.gfp_flags == ["GFP_KERNEL"] and second.allocation.order == 0
    assert parse_reports(_text(CLASH))[1].taint == ""  # "Not tainted"


def test_a_64_bit_mips_kernel_prints_stack_words_of_16_digits() -> None:
    """The same report as a 64-bit kernel would print it (show_stacktrace()'s " %0*lx" of 2 * sizeof(long)
    digits; words changed, said so): mips64."""
    text = _text(CLASH).replace("Stack : 00000000 80850000", "Stack : 0000000000000000 ffffffff80850000")
    assert explain_text(text)[1].platform.arch == "mips64"
    assert explain_text(text.replace("Stack : ", "Stack: "))[1].platform.arch is None


def test_a_6_18_report_prints_zspages_and_none_of_it_is_held() -> None:
    """A 6.18.41 desktop (16 GiB, no swap) where ninja runs 26 cc1plus at once: every zone line prints zspages:0kB
    ("mm: show_mem: show number of zspages in show_free_areas"). The biggest compiler, cc1plus 9345 (369178 rss +
    3174400 / 4096 page-table pages = 369953 points), is killed; nothing is said of compressed memory."""
    (e,) = explain_text(_text(CC1PLUS))
    assert e.kernel_victim.pid == e.model_victim.pid == 9345 and e.agree and e.ranking[0].points == 369953
    assert e.memory.zspages_kb == 0 and e.cause.kind == "user_memory"
    assert not any("compressed" in u.what for u in e.memory.where)
    assert not any("zram" in a for a in e.advice)


def test_zspages_are_memory_of_their_own_not_a_drivers_hidden_pages() -> None:
    """The same report with its Normal zone's zspages:0kB set to 200000kB (changed, said so; within the ~306 MiB
    this report leaves in no counter): the pages show under where the memory went, and the memory in no counter
    shrinks by exactly that much (uncounted_kb())."""
    text = _text(CC1PLUS)
    changed = text.replace("writepending:8kB zspages:0kB", "writepending:8kB zspages:200000kB")
    (before,), (after,) = parse_reports(text), parse_reports(changed)
    (e,) = explain_text(changed)
    assert e.memory.zspages_kb == 200000
    assert any(u.what.startswith("compressed data") and u.kb == 200000 for u in e.memory.where)
    hidden = [analysis.uncounted_kb(r, analysis.memory(r, 4096), 4) for r in (before, after)]
    assert hidden[0] - hidden[1] == 200000
    # processes still hold most of it, so they stay the cause; with swap (here a full 2 GiB, changed too) the
    # advice says the swap is compressed into RAM
    assert e.cause.kind == "user_memory" and not any("zram" in a for a in e.advice)
    swapped = explain_text(changed.replace("Total swap = 0kB", "Total swap = 2097152kB"))[0]
    assert swapped.cause.kind == "user_memory"
    assert any(a.startswith("Swap is compressed into RAM here (195 MiB of zsmalloc pages") for a in swapped.advice)


def test_a_router_whose_ram_went_to_zram_is_told_zram_not_a_driver() -> None:
    """The MT7621 report with " zspages:90000kB" added to its Normal zone line (4.14 does not print it; added,
    said so), as a 6.18 kernel on a router with zram would: 90000 of the 98404 kB in no counter are zsmalloc's,
    so the cause is the compressed data, not the proprietary driver. With no swap (Total swap = 0kB) it can only
    be a zram RAM disk; with a full 64 MiB swap it is zram swap, which frees only what compression saves."""
    text = _text(MT7615).replace("writepending:0kB present:131072kB", "writepending:0kB zspages:90000kB "
                                 "present:131072kB")  # fmt: skip
    ramdisk = explain_text(text)[1]
    assert ramdisk.cause.kind == "compressed_swap" and "87.9 MiB (69 % of RAM)" in ramdisk.cause.text
    assert "no swap: a zram device used as a RAM disk" in ramdisk.cause.text and "tainted" not in ramdisk.cause.text
    assert "/sys/block/zramN/mem_limit" in ramdisk.advice[0] and "zram disk" in ramdisk.advice[1]
    swap = explain_text(text.replace("Total swap = 0kB", "Total swap = 65536kB"))[1]
    assert swap.cause.kind == "compressed_swap" and "frees only what compression saves" in swap.cause.text
    assert "Swap was 100 % used of 64 MiB" in swap.cause.text and "writeback" in swap.advice[1]
