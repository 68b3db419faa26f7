"""Real OOM reports of routers (OpenWrt and its forks on MIPS), from tests/data/fixtures/public/SOURCES.md: the
kernel's victim, the architecture and page size, and a cause that names where the memory went."""

from __future__ import annotations

from oomtui.importers.explain import explain_text
from oomtui.importers.report import parse_reports

from .test_report import SHARED

PUBLIC = SHARED / "public"
MT7615 = "4.14-mips-mt7621-github-issue-two-excerpts-tainted-p-driver-pages-uncounted-tie.md"
CLASH = "5.4-mips-mt7621-openclash-github-issue-verdict-then-next-stack-words.md"


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
    assert first.score_check.printed == 0 and first.score_check.agree is None  # no 'pages RAM' in this excerpt


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
