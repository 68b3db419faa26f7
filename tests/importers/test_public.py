"""Real OOM reports found in public (tests/data/fixtures/public/SOURCES.md), each pinned on the facts a kernel
engineer would check: the kernel's victim, agreement, the printed score, the era and the cause."""

from __future__ import annotations

import re

import msgspec
import pytest

from oomtui.importers import analysis
from oomtui.importers.explain import explain_text
from oomtui.importers.report import iter_reports, parse_reports
from oomtui.importers.to_scene import import_report, replay_victim

from .test_report import SHARED, fixture

PUBLIC = SHARED / "public"


def _explain(name: str):
    return explain_text((PUBLIC / name).read_text(encoding="utf-8"))


def _by_victim(name: str) -> dict:
    return {e.kernel_victim.pid: e for e in _explain(name) if e.kernel_victim}


BLOG_ZH = "3.10-el7-blog-zh-sysrq-f-then-docker-memcg-swap-score750-three-reports.md"


def test_a_v1_memsw_limit_reproduces_the_score_with_the_swap_the_cgroup_itself_holds() -> None:
    """3.10 docker: memory.limit 100 MiB, memory+swap 200 MiB, host swap not printed. The cgroup has 147 MiB in
    swap, so the host has at least that much and mem_cgroup_get_limit()'s min(limit + swap, memsw) is 200 MiB."""
    reports = _by_victim(BLOG_ZH)
    docker, no_dump = reports[14728], reports[14806]
    assert docker.kernel_victim.pid == docker.model_victim.pid == 14728 and docker.agree and docker.era == "3.10"
    assert docker.totalpages == 51200  # 25600 (memory) + 25600 (memsw - memory), not the 25600 lower bound
    sc = docker.score_check
    assert (sc.printed, sc.model, sc.agree) == (750, 750, True)
    # memsw is full (204800 of 204800 kB) while memory is at 53824 of 102400: the memory+swap limit was hit
    assert docker.cause.kind == "memcg_limit" and "memory+swap limit of 200 MiB" in docker.cause.text
    assert "147 MiB in swap" in docker.cause.text and "swap 147 MiB" in docker.cause.text
    assert "docker --memory-swap" in docker.advice[0]
    # without a dump: the printed score is reported, not checkable, and the victim named from its verdict
    assert (no_dump.score_check.printed, no_dump.score_check.model, no_dump.score_check.agree) == (634, None, None)
    assert not no_dump.compared and "stress (14806, 54.1 MiB resident)" in no_dump.cause.text
    assert "the victim" not in no_dump.cause.text


def test_a_sysrq_f_oom_on_3_10_is_manual_and_its_score_0_reproduces() -> None:
    """echo f > /proc/sysrq-trigger on 3.10 prints order=0 GFP_KERNEL from a kworker, with 93 % of RAM free; its
    trace (moom_callback) says it was sysrq-f. Without the trace, a zone above its high watermark says memory was
    not short."""
    manual = _by_victim(BLOG_ZH)[1065]
    assert manual.kernel_victim.pid == manual.model_victim.pid == 1065 and manual.agree and manual.manual
    assert (manual.score_check.printed, manual.score_check.model, manual.score_check.agree) == (0, 0, True)
    assert manual.cause.kind == "manual" and "14.8 GiB of 15.9 GiB RAM was free" in manual.cause.text
    assert any("moom_callback" in n for n in manual.notes)
    text = (PUBLIC / BLOG_ZH).read_text(encoding="utf-8")
    cut = "\n".join(line for line in text.splitlines() if "moom_callback" not in line)
    first = explain_text(cut)[0]
    assert first.kernel_victim.pid == 1065 and not first.manual
    assert first.cause.kind == "no_shortage" and "14.8 GiB of 15.9 GiB RAM was free" in first.cause.text
    assert "sysrq-f" in first.cause.text and any("SysRq : Manual OOM execution" in a for a in first.advice)


def test_a_5_0_memcg_oom_printed_as_constraint_none_is_read_as_memcg() -> None:
    """5.0 printed oc->constraint before setting it for a memcg OOM; oom_memcg= and the memcg lines say what it was.
    A linux-next release carries the next merge window, so 5.1's verdict prefix is no era conflict."""
    e = _by_victim("5.0-rc4-linux-mm-quoted-tid-oom-group-kills-init.mail")[9188]
    assert e.constraint == "CONSTRAINT_MEMCG" and any("says CONSTRAINT_NONE" in n for n in e.notes)
    assert e.totalpages == 12800 and e.cause.kind == "memcg_limit"
    assert "/test1 reached its limit of 50 MiB" in e.cause.text
    assert e.allocation.verdict.startswith("not a zone shortage")
    assert e.era == "5.1" and "linux-next" in e.era_source and not e.era_conflicts
    # memory.oom.group took init with it: one note names all eleven, another says what that does
    assert any("also killed 11 more: systemd (1), a.out (9182)" in n for n in e.notes)
    assert any("killed global init, systemd (1)" in n and "Attempted to kill init!" in n for n in e.notes)


def test_a_memcg_report_without_swap_in_use_keeps_totalpages_a_lower_bound() -> None:
    """memory+swap usage 0 kB (swap accounting off): the host's swap is unknown and nothing bounds it from below."""
    reports = _explain("4.18-3.10-linux-mm-patch-indented-memcg-nodump-three-reports.mail")
    first = reports[0]
    assert first.kernel_victim.pid == 2746 and first.era == "4.18" and first.totalpages == 131072
    assert "counted as 0, so totalpages is a lower bound" in first.totalpages_source
    assert (first.score_check.printed, first.score_check.model) == (998, None) and not first.compared
    assert reports[2].era == "3.10" and reports[2].kernel_victim.pid == 3206


def test_a_0_to_1000_score_capped_for_every_task_ties_and_the_first_scanned_wins() -> None:
    """2.6.36-3.7, a memcg OOM quoted without its limit: 'score 1000' means totalpages is at most the victim's
    95491 pages, where all six apache2 reach the cap; the first scanned (1046) keeps the tie though 1052 is bigger.
    Without the printed score's bound and the steps of the rounded score, the model could not tell."""
    (e,) = _explain("3.x-linux-mm-memcg-syslog-cut-score1000-cap-tie.mail")
    assert e.kernel_selected.pid == e.model_victim.pid == 1046 and e.agree and e.compared
    assert e.era == "2.6" and e.totalpages is None
    assert any("from 1 to 95491 pages" in n for n in e.notes)
    assert "so apache2 and apache2 (1052) both score 1000 points" in " ".join(e.why)
    assert not any("adj difference" in w for w in e.why)
    # "Kill process 1046 ... or sacrifice child" with no Killed line: the choice, not who died
    assert "chose apache2 (1046) to kill; the report ends before the 'Killed process' line" in e.cause.text
    assert "killed apache2" not in e.cause.text and "the victim" not in e.cause.text


def test_the_0_to_1000_choice_is_tried_at_every_step_of_the_rounded_score() -> None:
    """Without a printed score totalpages may be anything: at 1 page all six are capped (the first scanned wins), at
    64 TiB all round to 1 (the first again), but near 95500 pages 1052's bigger rss scores 1000 against 999. The
    ends alone would call the choice settled."""
    text = (PUBLIC / "3.x-linux-mm-memcg-syslog-cut-score1000-cap-tie.mail").read_text(encoding="utf-8")
    verdict = "Memory cgroup out of memory: Kill process 1046 (apache2) score 1000 or sacrifice child"
    (e,) = explain_text(text.replace(verdict, "Killed process 1046 (apache2) total-vm:914148kB, anon-rss:0kB, "
                                              "file-rss:0kB"))  # fmt: skip
    assert e.kernel_victim.pid == 1046 and e.score_check is None and not e.compared
    assert any("the model picks apache2 (1046) at totalpages 1 and apache2 (105" in p for p in e.problems)


def test_a_2_6_3x_ppc64_slab_leak_ties_at_score_1() -> None:
    """linux-next of December 2010 on ppc64, quoted-printable: 1.2 GiB of unreclaimable slab, two tiny tasks both
    clamped to 1 of 1000, the first scanned killed."""
    (e,) = _explain("2.6.37-next-ppc64-linux-mm-quoted-printable-slab-score1-tie.eml")
    assert e.kernel_victim.pid == e.model_victim.pid == 1913 and e.agree and e.totalpages == 508301
    # no nr_ptes/swapents columns, but both ends of the model's range clamp to 1: reproduced, not 'within'
    sc = e.score_check
    assert (sc.printed, sc.model, sc.model_max, sc.agree) == (1, 1, 1, True)
    assert e.cause.kind == "kernel_slab" and e.advice and "(this kernel)" not in " ".join(e.advice)


def test_a_32_bit_pae_machine_out_of_lowmem_with_oom_kill_allocating_task() -> None:
    """i386 PAE, 64 GiB: a fork's order-1 GFP_KERNEL request fails in Normal (below min) with 60 GiB free in
    HighMem; vm.oom_kill_allocating_task=1 chose the forking sh, whose child sleep died, and printed score 0."""
    (e,) = _explain("3.2-i386-pae-64G-linux-mm-syslog-lowmem-order1-allocating-task.mail")
    assert e.kernel_selected.pid == e.model_victim.pid == 6344 and e.kernel_victim.pid == 6345
    assert e.compared and e.agree and e.era == "3.2"
    assert (e.score_check.printed, e.score_check.model, e.score_check.agree) == (0, 0, True)
    assert e.cause.kind == "lowmem" and "HighMem still had 60.4 GiB free" in e.cause.text
    assert e.allocation.order == 1 and e.allocation.zone == "Normal"
    assert not any("cannot be re-run" in p for p in e.problems)  # it runs no selection
    assert e.advice[0].startswith("Run a 64-bit kernel")


def test_a_ppc64le_memcg_v2_report_cut_by_dots_with_a_victim_holding_nothing_resident() -> None:
    """RHEL 10 on POWER9, 64 KiB pages (total-vm:36544kB over 571 pages), the memcg lines cut as '...': the only
    task has rss 0, so what filled the cgroup is not process memory, and the text says so."""
    (e,) = _explain("6.12-el10-ppc64le-64k-cgroups-patch-indented-memcg-v2-cut.mail")
    assert e.kernel_victim.pid == e.model_victim.pid == 177372 and e.agree and e.era == "6.12"
    assert e.page_size == 64 * 1024 and e.platform.arch == "ppc64le" and e.platform.distribution.startswith("RHEL")
    assert e.cause.kind == "memcg_limit" and "Its processes hold nothing resident" in e.cause.text
    assert e.memcg is not None and e.memcg.usage_kb is None and e.score_check is None


def test_a_grep_filtered_dmesg_t_is_no_older_kernel_for_lacking_its_tasks_state_line() -> None:
    """Japanese `dmesg -T | egrep`: the wide '[  pid  ]' header kept, its 'Tasks state' line dropped by grep. The
    missing line must not bound the era below 4.19 (nor contradict rss_anon's 6.8); the cause names the victim."""
    (e,) = _explain("6.x-rpi5-blog-ja-dmesg-T-egrep-filtered.md")
    assert e.kernel_victim.pid == 1888 and e.kernel_victim_source == "Killed process" and not e.compared
    assert e.era == "6.8" and not e.era_conflicts and "before 4.19" not in e.era_source
    assert e.cause.kind == "unknown" and "The kernel killed astar-collator (1888, 14.4 GiB resident)." in e.cause.text


def test_a_journalctl_paste_cut_at_the_terminal_width_gives_no_none_in_the_advice() -> None:
    """Lines cut by the pager ('sw...', 'anon-...'): the cgroup path is lost, the advice still reads as words, and
    the columns guessed from a cut row give no era clues."""
    (e,) = _explain("6.8-ubuntu-readme-journalctl-less-truncated-memcg-user-slice.md")
    assert e.constraint == "CONSTRAINT_MEMCG" and e.totalpages == 12800 and e.era == "6.8"
    assert not e.era_conflicts
    assert all("None" not in a for a in e.advice) and e.advice[0].startswith("Raise the limit of the cgroup above 50 MiB")
    # the verdict cut at 'anon-...' still names the victim; the cut task row is not guessed at
    assert e.kernel_victim.pid == 483880 and "killed python3 (483880)" in e.cause.text and not e.tasks
    assert any("cut short ('...')" in p for p in e.problems)


def test_a_whole_6_11_report_in_a_details_block_agrees_to_the_oom_score() -> None:
    """A complete report inside <details> in Markdown notes: stress-ng-vm with adj +1000 on 8 GiB without swap."""
    (e,) = _explain("6.11-notes-zh-details-summary-stress-ng-adj1000.md")
    assert e.kernel_victim.pid == e.model_victim.pid == 116 and e.agree and e.era == "6.11"
    assert e.totalpages == 2097022 - 67366 and e.cause.kind == "user_memory"
    assert next(t for t in e.tasks if t.pid == 116).points == 1995298 + 16052224 // 4096 + 1000 * (e.totalpages // 1000)
    assert any("oom_score_adj +1000" in a for a in e.advice)


def test_a_kubernetes_oom_group_that_names_the_victim_twice_killed_no_one_else() -> None:
    """cgroup v2 memory.oom.group on a Burstable pod (grep kept only the OOM lines): the group kill walks every
    member, the victim again; its adj 969 comes from the verdict, and is the kubelet's doing."""
    (e,) = _explain("6.x-k8s-notes-grep-memcg-v2-oom-group-victim-twice.md")
    assert e.kernel_victim.pid == 22609 and e.constraint == "CONSTRAINT_MEMCG" and e.totalpages == 1048576
    assert any("the group kill named only the victim again" in n for n in e.notes)
    assert not any("also killed" in n for n in e.notes)
    assert any(a.startswith("node had oom_score_adj +969: the kubelet sets it") for a in e.advice)


def test_a_kubernetes_group_kill_pasted_from_its_oom_kill_line() -> None:
    """dmesg -T from the oom-kill: line on: a Guaranteed pod's container (adj -997) with memory.oom.group, its
    sleep and bash killed with the stress workers: the note says why they all died."""
    (e,) = _explain("6.x-k8s-blog-zh-dmesg-T-from-oom-kill-line-oom-group-already-exiting.md")
    assert e.kernel_victim.pid == 3804874 and e.constraint == "CONSTRAINT_MEMCG" and not e.compared
    assert any("also killed 9 more: sleep (3803554), bash (3803846)" in n for n in e.notes)
    assert not any("(3804874)" in n and "also killed" in n for n in e.notes)  # the victim's second line
    assert any("kills every process of the container together" in n for n in e.notes)


def test_a_grep_that_kept_one_headerless_row_compares_among_the_rows_shown() -> None:
    """`grep monero syslog` in a GitHub issue: one task row without its header, the oom-kill line, the verdict and
    the reaper. The victim is found and agrees, and the note says the comparison is only among the rows shown."""
    (e,) = _explain("5.3-raspi-github-issue-grep-one-row-headerless.md")
    assert e.kernel_victim.pid == e.model_victim.pid == 3238 and e.agree and e.era == "5.3"
    assert e.totalpages is None and e.page_size == 4096
    assert any(n.startswith("only 1 row(s) of the task dump are shown") for n in e.notes)
    assert "The kernel killed monerod (3238, 535 MiB resident)." in e.cause.text


def test_an_import_of_a_report_cut_after_kill_process_replays_the_selected_process() -> None:
    """The apache2 paste ends at 'Kill process 1046 ... score 1000': the scene's victim is the selected process,
    and replaying the scene kills it (every row tied at the cap, the first scanned)."""
    text = (PUBLIC / "3.x-linux-mm-memcg-syslog-cut-score1000-cap-tie.mail").read_text(encoding="utf-8")
    imported = import_report(text, "cap")
    assert (imported.victim_pid, imported.victim_comm) == (1046, "apache2")
    assert replay_victim(imported.text, "cap") == (1046, "apache2")
    assert "the kernel chose apache2 (1046) to kill (the report ends before its 'Killed process' line)\"" in imported.text
    assert "killed apache2" not in imported.text


def test_an_order_3_header_without_mem_info_names_fragmentation_as_a_possible_cause() -> None:
    """A stable patch quotes only the invoked line and call trace of an s390x order-3 kmalloc: no victim, no zones.
    The cause says what an order-3 request needs; the machine type says s390x."""
    (e,) = _explain("5.4-s390x-stable-patch-kernel-prefix-order3-header-only.mail")
    assert e.kernel_victim is None and not e.compared and e.era == "5.4"
    assert e.allocation.order == 3 and e.allocation.size_kb == 32 and e.allocation.fragmentation == "unknown"
    assert e.cause.kind == "unknown" and "32 KiB of contiguous memory (order 3)" in e.cause.text
    assert e.platform.arch == "s390x" and e.trigger.comm == "qemu-system-s39"


def test_buddy_lines_alone_tell_an_order_3_request_it_finds_no_block() -> None:
    """Michal Hocko's reading of a cut 4.x report (linux-mm, July 2018): DMA32 and Normal have free 4-16 kB blocks
    and none of 32 kB or more; DMA is kept for DMA requests by its reserve. The zones as the buddy lines give them."""
    from oomtui.importers import analysis
    from oomtui.importers.report import OomReport, Zone

    def zone(name: str, blocks: list[int]) -> Zone:
        return Zone(node=0, name=name, free_kb=sum(n * (4 << o) for o, n in enumerate(blocks)), free_blocks=blocks)

    r = OomReport(index=1, first_line=1, last_line=9, gfp_mask="0x14040c0(GFP_KERNEL|__GFP_COMP)", order=3, zones=[
        zone("DMA", [0, 2, 3, 2, 2, 2, 0, 0, 1, 1, 3]), zone("DMA32", [2015, 4517, 5301] + [0] * 8),
        zone("Normal", [6379, 2915, 1266] + [0] * 8)])  # fmt: skip
    assert analysis.allocation(r, None, 4096, "CONSTRAINT_NONE").fragmentation == "fragmented"
    # a single 32 kB block in Normal would serve it
    r.zones[2].free_blocks[3] = 1
    assert analysis.allocation(r, None, 4096, "CONSTRAINT_NONE").fragmentation == "not fragmented"


def test_a_kworker_that_calls_the_oom_killer_with_no_allocation_is_not_a_page_fault() -> None:
    """Johannes Weiner's draft PSI OOM trigger (linux-mm, August 2019): gfp_mask=0 order 0 from kworker/1:2 in
    psi_avgs_work. gfp_mask=0 means the page-fault path only for a user task; here nothing was allocated."""
    e = next(e for e in _explain("5.3-rc1-mm-linux-mm-psi-oom-kworker-gfp0-no-verdict.mail") if e.trigger)
    assert (e.trigger.pid, e.trigger.comm) == (77, "kworker/1:2") and e.era == "5.3"
    assert e.cause.kind == "unknown" and "not a page fault" in e.cause.text and "kernel worker" in e.cause.text
    assert e.kernel_victim is None and not e.compared


def test_the_riscv_5_4_verdict_that_printed_page_table_bytes_as_kb_is_flagged() -> None:
    """openSUSE riscv64 5.4-rc4 (linux-riscv): a user page fault (gfp_mask=0) with 1.4 GiB free; the verdict says
    pgtables:10305536kB, which is the dump's pgtables_bytes (fixed by 'mm/oom: fix pgtables units mismatch')."""
    (e,) = _explain("5.4-rc4-riscv64-linux-riscv-pagefault-oom-pgtables-bytes-as-kB.mail")
    assert e.kernel_victim.pid == e.model_victim.pid == 28600 and e.agree and e.era == "5.4"
    assert e.cause.kind == "pagefault" and e.totalpages == 2096640 - 54874 + 2198524 // 4
    assert any("printed bytes as kB" in n and "9.8 MiB" in n for n in e.notes)


# --- the parser on the same pastes -----------------------------------------------------------------------------


def test_syslog_records_run_together_with_wrap_marks_are_split_and_read() -> None:
    """Linux Journal lost every newline of `tail -f /var/log/messages` and kept its '↪' marks: each record starts
    inside the line before. The memcg limit is 4 KiB, so 'score 0' needs the swap headroom the report omits."""
    first, _cut = _explain("3.10-el7-linuxjournal-run-together-wrap-arrows-memcg-4kB-sacrifice-child.md")
    assert (first.kernel_selected.pid, first.kernel_victim.pid, first.model_victim.pid) == (2687, 2702, 2687)
    assert first.agree and first.kernel_victim_is == "child" and first.era == "3.10"
    assert first.constraint == "CONSTRAINT_MEMCG" and first.memcg.path == "/foo"
    sc = first.score_check
    assert (sc.printed, sc.model, sc.agree) == (0, 0, True) and first.totalpages > 359000
    assert "swap headroom of at least" in first.totalpages_source


def test_headless_rows_wrapped_where_several_spaces_were_and_a_fence_glued_to_the_paste() -> None:
    """py-autovod issue 7: two dmesg -T task rows without their header, each wrapped before its last number (' 0
    python'), the fence glued to the first and last lines, the verdict's sizes written with commas. Each pair of
    pieces is one 4.15+ row (6 + 1 numbers, pgtables_bytes whole pages): python (7899) has 3842522 + 1039052 swapped +
    39899136 / 4096 page-table pages = 4891315 points, the kernel's victim. The verdict's sizes are read without their
    commas ('anon-rss:153,700,88kB' is 15370088 kB, the row's 3842522 pages of 4 KiB)."""
    (e,) = _explain("6.x-github-issue-dmesg-T-rows-wrapped-several-spaces-thousands-commas.md")
    assert (e.kernel_victim.pid, e.kernel_victim.comm) == (7899, "python") and e.agree
    assert [(t.pid, t.comm, t.points) for t in e.ranking] == [(7899, "python", 4891315), (11794, "init", 479)]
    assert e.kernel_victim_source == "Killed process" and e.kernel_victim_rss_kb == 3842522 * 4
    assert not any("could not read" in p or "cut short" in p for p in e.problems)


def test_a_rhel_taint_string_is_its_letters_without_rhels_dashes() -> None:
    """The same RHEL 7 CPU line, 'Tainted: GOE  ------------   3.10.0-327.36.3.el7.x86_64 #1', and as RHEL 7 prints
    it unflattened ('G           OE  ------------'): the taint is print_tainted()'s letters, the release is whole."""
    name = "3.10-el7-linuxjournal-run-together-wrap-arrows-memcg-4kB-sacrifice-child.md"
    text = (SHARED / "public" / name).read_text(encoding="utf-8")
    assert text.count("Tainted: GOE  ------------   3.10.0") == 1
    for taint in ("GOE  ------------", "G           OE  ------------"):
        r = next(iter_reports(text.replace("GOE  ------------", taint).splitlines()))
        assert (r.taint, r.kernel_release, r.kernel_build) == ("GOE", "3.10.0-327.36.3.el7.x86_64", "#1")


def test_a_paste_from_show_mem_totals_keeps_them_and_shell_lines_are_no_task_rows() -> None:
    """RHEL 6 notes from 'Free swap' on: the totals before the dump give totalpages (RAM - reserved); a shell's
    'stress: info: [344]' or 'stress: FAIL: [31]' is neither a dmesg -x prefix nor a task row."""
    (java,) = _explain("2.6.32-rhel6-blog-zh-messages-from-free-swap-blank-line-score853.md")
    assert java.totalpages == 524255 - 10723 and java.score_check.printed == 853
    assert java.score_check.model <= 853 <= java.score_check.model_max
    assert [e.kernel_victim.pid for e in _explain(BLOG_ZH)] == [1065, 14728, 14806]
    assert [e.trigger.comm for e in _explain("5.3-rc1-mm-linux-mm-psi-oom-kworker-gfp0-no-verdict.mail")] == [
        "kworker/1:2"]  # fmt: skip


def test_zone_lines_open_a_report_and_no_killable_processes_is_its_cause() -> None:
    (e,) = _explain("5.x-iommu-quoted-crashkernel-no-killable-processes.mail")
    assert e.kernel_victim is None and e.cause.kind == "no_victim" and "crashkernel=" in e.advice[0]


def test_buddy_lines_without_zone_lines_make_zones_and_show_the_fragmentation() -> None:
    (e,) = _explain("4.x-linux-mm-quoted-cut-buddy-only-order3-fragmented.mail")
    assert e.allocation.fragmentation == "fragmented" and e.cause.kind == "fragmentation"
    assert "Reclaimable kernel slab holds 5.8 GiB" in e.cause.text and any("drop_caches" in a for a in e.advice)


def test_reaper_lines_of_a_group_kill_belong_to_its_report() -> None:
    (e,) = _explain("5.0-rc4-linux-mm-quoted-tid-oom-group-kills-init.mail")
    assert e.kernel_victim.pid == 9188 and len([n for n in e.notes if n.startswith("oom_reaper reaped")]) == 8


def test_a_2_6_24_forum_paste_in_bbcode_is_read_in_its_old_formats() -> None:
    """[FONT=...] glued to the first line, [/FONT] to the verdict; 'oomkilladj=', 'kill process ... or a child',
    'pages of RAM' / 'reserved pages' of 2.6.24: a fork's order-1 request on a 32-bit machine short of lowmem."""
    (e,) = _explain("2.6.24-rt-i386-forum-bbcode-font-killed-child-badness78749.md")
    assert (e.kernel_selected.pid, e.kernel_victim.pid) == (9631, 9635) and e.trigger.pid == 26209
    assert e.totalpages == 491440 - 8031 + 2096472 // 4 and e.score_check.printed == 78749
    assert e.cause.kind == "lowmem" and "HighMem still had 458 MiB free" in e.cause.text


MAILED_TWICE = "6.18-arm64-cgroups-mail-wrapped-80-instrumented-badness.mail"


def test_a_mail_wrapped_at_119_then_at_80_reads_whole() -> None:
    """Folded inside words at 119 columns ('oom_score_ad' / 'j name', 'stre' / 'ss', 'file-rss' / ':536kB'), then
    wrapped again at 80 by the reply, which kept the spaces it broke at. The author's own OOM_EVAL lines printed
    oom_badness() of the two rows: 377 and 131122."""
    (e,) = _explain(MAILED_TWICE)
    assert e.kernel_victim.pid == e.model_victim.pid == 1122 and e.agree and e.compared and not e.problems
    assert [(t.pid, t.comm, t.points) for t in e.ranking] == [(1122, "stress", 131122), (1121, "stress", 377)]
    assert e.kernel_victim_rss_kb == 522880 + 536 + 0 and e.memcg.path == "/test512mb"
    assert e.constraint == "CONSTRAINT_MEMCG" and e.totalpages == 131072 and e.cause.kind == "memcg_limit"
    assert e.trigger.pid == 1122 and e.era == "6.18" and e.lines[0] == 54


def _with_old_dump(text: str) -> str:
    """The 2.6.24 report with the dump a 2.6.25-2.6.35 kernel would print (dump_tasks(): "cpu oom_adj", no
    oom_score_adj): Xorg has the most memory; 2.6.36's rules would pick it."""
    p = "Nov  4 16:54:42 Asus kernel: [ 2704.4290] "
    dump = "".join(p + row + "\n" for row in [
        "[ pid ]   uid  tgid total_vm      rss cpu oom_adj name", "[ 5012]     0  5012   120000    60000   1       0 Xorg",
        "[ 9631]  1000  9631     1100      300   0       0 run-mozilla.sh",
        "[ 9635]  1000  9635    90000    30000   1       0 thunderbird-bin"])  # fmt: skip
    return text.replace(p.replace("4290", "429009") + "8031 reserved pages\n",
                        p.replace("4290", "429009") + "8031 reserved pages\n" + dump)


def test_before_2_6_36_the_score_is_not_reproduced_and_the_victim_still_named() -> None:
    """badness() of before 2.6.36 weighs CPU and run time, which no report prints: explain names the kernel's choice
    and its victim and claims neither agreement nor a model score, with or without a dump."""
    text = (PUBLIC / "2.6.24-rt-i386-forum-bbcode-font-killed-child-badness78749.md").read_text(encoding="utf-8")
    for paste in (text, _with_old_dump(text)):
        (e,) = explain_text(paste)
        assert (e.kernel_selected.pid, e.kernel_victim.pid) == (9631, 9635) and e.era == "2.6"
        assert (e.score_check.printed, e.score_check.model, e.score_check.agree) == (78749, None, None)
        assert "cannot be reproduced" in e.score_check.how and "run time" in e.score_check.how
        assert not e.compared and e.model_victim is None and e.ranking == [] and "before 2.6.36" in e.era_source
    assert any("selection cannot be re-run" in p for p in e.problems)
    # the dump's header alone (no invoked line, no "or a child") says it is of before 2.6.36
    (e,) = explain_text("".join(line + "\n" for line in _with_old_dump(text).splitlines()
                                if "[ pid ]" in line or "] [ " in line or "Killed process" in line))  # fmt: skip
    assert e.kernel_victim.pid == 9635 and not e.compared and e.model_victim is None and len(e.problems) >= 1


def test_a_linux_next_header_with_the_order_first_and_snipped_reports() -> None:
    """4.4-rc6-next printed "invoked oom-killer: order=%d, oom_score_adj=%hd, gfp_mask=..." (the order first, until
    the 4.5 merge window). Nine reports with '(...snipped...)' between their parts: oom-write is chosen every time and
    'or sacrifice child' kills one of its children each time, by sysrq-f (order=-1) from the third on."""
    reports = _explain("4.4-rc6-next-linux-mm-order-first-header-snipped-sysrq-children.mail")
    assert [e.kernel_selected.pid for e in reports] == [9546] * 9
    assert [e.kernel_victim.pid for e in reports] == [9549, 9551, 9552, 9553, 9554, 9555, 9556, 9551, 9551]
    assert all(e.kernel_victim_is == "child" and e.agree and e.model_victim.pid == 9546 for e in reports)
    assert not any("could not read" in p for e in reports for p in e.problems)
    first = reports[0]
    assert (first.trigger.pid, first.trigger.comm, first.era) == (9546, "oom-write", "4.4")
    assert first.allocation.order == 0 and first.allocation.gfp_flags == ["GFP_HIGHUSER_MOVABLE", "GFP_ZERO"]
    assert (first.score_check.printed, first.score_check.model) == (892, None)  # no 'pages RAM': totalpages unknown
    assert reports[1].trigger.comm == "systemd-journal" and reports[1].era == "4.4"  # the header alone dates it
    assert [e.manual for e in reports] == [False, False, True, False, True, True, True, True, True]
    assert reports[3].trigger is None  # its invoked line was snipped
    # report 4 keeps only its rows (8 numbers: nr_ptes and nr_pmds, 4.0-4.14) and verdicts ('or sacrifice child', no
    # oom-kill: line): a range that holds the real 4.4-next, said as a range, not 4.20 from 'before 5.0' alone
    fourth = reports[3]
    assert (fourth.era, fourth.era_range) == ("4.0", "4.0 to 4.14") and "before 4.15 (nr_ptes column)" in (
        fourth.era_source)  # fmt: skip
    assert first.era_range is None and reports[1].era_range is None  # a release, and clues that pin one
    assert all(e.cause.kind == "manual" for e in reports if e.manual)


def test_a_32_bit_arm_fork_fails_an_order_3_block_and_the_report_is_cut_before_its_verdict() -> None:
    """A 4.4 stable arm board with 247 MiB: fork's order-3 GFP_KERNEL request (4.4 prints the mask as a number),
    4248 kB free over a min of 1696 kB but no free block of 32 kB or more: fragmentation. The paste stops after the
    dump ('......'), so no victim is printed; the arm unwinder's '(ret_fast_syscall+0x0/0x4c)' names the arch."""
    (e,) = _explain("4.4-arm32-qualcomm-linux-mm-unwind-order3-fork-fragmented-cut.mail")
    assert e.kernel_victim is None and not e.compared and e.model_victim.pid == 297  # vos.o, rss 20757
    assert any("no 'Killed process' line: truncated?" in p for p in e.problems)
    assert (e.trigger.pid, e.trigger.comm, e.era) == (1748, "sh", "4.4")
    a = e.allocation
    assert (a.order, a.size_kb, a.fragmentation) == (3, 32, "fragmented")
    assert a.gfp_flags == ["GFP_KERNEL", "__GFP_ZERO", "__GFP_NOTRACK"] and "4.4 flag table" in a.gfp_flags_source
    assert a.verdict == "above the low watermark in node 0 Normal" and a.zones[0].free_blocks[3:] == [0] * 8
    assert e.cause.kind == "fragmentation" and "order 3 (32 KiB contiguous)" in e.cause.text
    assert any("compact_memory" in x for x in e.advice)
    assert (e.platform.arch, e.memory.ram_kb) == ("arm", 63232 * 4)


def test_a_v1_memcg_paste_from_task_in_reproduces_its_score_with_the_root_bonus() -> None:
    """cgexec as root: 'Task in /memory-limit' opens the paste, memory+swap unlimited (9007199254740988kB) with no
    swap in use, a 4.0-4.13 dump (nr_pmds). rss 25609 + nr_ptes 59 + nr_pmds 3 = 25671 pages, less 3 % for
    CAP_SYS_ADMIN = 24901, * 1000 / 25600 = 972: the printed score; 25671 would print 1002."""
    (e,) = _explain("4.x-notes-zh-cgroup-v1-memcg-from-task-in-memsw-unlimited-score972.md")
    assert e.kernel_selected.pid == e.kernel_victim.pid == e.model_victim.pid == 24387 and e.agree
    assert (e.score_check.printed, e.score_check.model, e.score_check.agree) == (972, 972, True)
    assert "stress (24387) holds CAP_SYS_ADMIN" in e.cap_sys_admin and e.totalpages == 25600
    assert e.trigger is None and e.constraint == "CONSTRAINT_MEMCG" and e.cause.kind == "memcg_limit"
    assert e.memcg.path == "/memory-limit" and e.memcg.failcnt == 11008165 and len(e.tasks) == 2


def test_a_reaped_victims_page_fault_kills_an_innocent_second_task() -> None:
    """4.12-rc1-mm: allocate (492) is killed; its own page fault then runs pagefault_out_of_memory() (gfp_mask=0)
    and, its mm already skipped, the kernel kills firewalld (233), the second of the first dump. '<cut>' lines stand
    for what the author left out; the second report keeps only its header, trace and verdict."""
    first, second = _explain("4.12-rc1-mm-linux-mm-cut-marks-pagefault-second-victim-firewalld.mail")
    assert first.kernel_victim.pid == first.model_victim.pid == 492 and first.agree and first.era == "4.12"
    assert [c.pid for c in first.ranking[:2]] == [492, 233] and first.score_check.printed == 899
    assert (second.trigger.pid, second.kernel_victim.pid, second.score_check.printed) == (492, 233, 10)
    assert second.cause.kind == "pagefault" and "prints no Mem-Info" in second.cause.text
    assert second.allocation.verdict.startswith("not an allocation")
    assert any("allocate (492), was already killed in report 1" in n for n in second.notes)
    assert not any("already killed" in n for n in first.notes)


def test_a_quoted_printable_mail_that_encodes_every_newline_and_cma_only_blocks() -> None:
    """Outlook sent the body as one quoted-printable run: every line break is '=0A=' (an encoded newline and a soft
    break), and the kernel lines are cut at 76 columns anywhere ('ta=' / 'sk=3Dsh'). A 6.6-rt arm64 board forks
    (order 2, GFP_KERNEL_ACCOUNT) with 197 MiB free, but its free blocks of 16 kB and more are all CMA ('(C)'),
    which an unmovable request may not use: __zone_watermark_ok() fails on the free lists, not on the marks."""
    (e,) = _explain("6.6-rt-arm64-linux-cifs-qp-encoded-newlines-order2-cma.eml")
    assert e.kernel_victim.pid == e.model_victim.pid == 7991 and e.agree and not e.problems
    assert e.kernel_victim_rss_kb == 384 + 640 and len(e.tasks) == 10 and e.constraint == "CONSTRAINT_NONE"
    assert (e.trigger.pid, e.era, e.platform.arch) == (14450, "6.6", "aarch64")
    a = e.allocation
    assert (a.order, a.gfp_flags, a.fragmentation) == (2, ["GFP_KERNEL_ACCOUNT", "__GFP_ZERO"], "fragmented")
    (dma,) = a.zones
    assert (dma.free_kb, dma.free_cma_kb, dma.highatomic_kb, dma.below) == (202296, 91480, 2048, None)
    assert dma.free_block is False and dma.cma_blocks_only
    assert e.cause.kind == "fragmentation" and "all in CMA pageblocks (DMA free_cma 89.3 MiB)" in e.cause.text
    assert "cma=" in e.advice[0]


def test_verdict_lines_only_and_an_allocation_stall_after_them() -> None:
    """4.9-rc8: only verdict and reaper lines, three OOMs in a row, the third cut after its 'Kill process' line; then
    warn_alloc()'s 'page allocation stalls' with a CPU line of its own, which is not an OOM report's trigger."""
    reports = _explain("4.9-rc8-linux-mm-verdicts-only-then-allocation-stall.mail")
    assert [(e.kernel_selected.pid, e.kernel_victim and e.kernel_victim.pid) for e in reports] == [
        (7267, 7267), (7268, 7268), (7269, None)]  # fmt: skip
    assert [e.score_check and e.score_check.printed for e in reports] == [None, 999, 999]
    assert all(e.trigger is None and not e.compared for e in reports)
    assert [len([n for n in e.notes if n.startswith("oom_reaper reaped")]) for e in reports] == [1, 1, 0]
    assert any("'Kill process' line but no 'Killed process' line" in p for p in reports[2].problems)
    # what each report shows: the first two name who died, the third only whom the kernel chose
    assert "The kernel killed a.out (7268, 84 KiB resident)." in reports[1].cause.text
    assert "The kernel chose a.out (7269) to kill; the report ends before" in reports[2].cause.text
    assert "killed a.out" not in reports[2].cause.text


def test_an_arm64_driver_leak_outside_every_counter_with_the_free_memory_in_cma() -> None:
    """6.1 arm64 i.MX8MN, a network driver's page_pool leak (its 'stalled pool shutdown' lines before the report),
    lines cut at the console's width. By hand: RAM 516096 - reserved 17302 pages = 1995176 kB; the Mem-Info counters
    hold 157685 pages (free 136672, anon 10685, file 166, slab 9696, page tables 466) = 630740 kB; no hugetlb pool:
    1364436 kB (1.3 GiB, 66 % of RAM) in no counter. Of 541636 kB free in DMA, free_cma 129241 pages = 516964 kB
    (from the summary: the zone line is cut before its own) serve no GFP_KERNEL_ACCOUNT request: 24672 kB, under min
    30000 kB. (sd-pam) 679: 646 + 73728/4096 = 664 pages + 100 x (498794 / 1000) = 50464, oom_score (1000 +
    50464000 / 498794) * 2 / 3 = 734; systemd 677 has 314 + 16 + 49800 = 50130."""
    (e,) = _explain("6.1-arm64-imx8mn-netdev-page-pool-leak-cma-only-free-console-cut.mail")
    assert e.kernel_victim.pid == e.model_victim.pid == 679 and e.agree and e.era == "6.1" and e.totalpages == 498794
    assert [(t.pid, t.points, t.oom_score) for t in e.ranking[:2]] == [(679, 50464, 734), (677, 50130, 733)]
    assert e.platform.arch == "aarch64" and e.trigger.comm == "eth_test2.sh"
    (dma,) = e.allocation.zones
    assert (dma.free_cma_kb, dma.below) == (516964, "min") and e.allocation.last_attempt.startswith("below the high")
    assert e.cause.kind == "kernel_other" and "1.3 GiB (66 % of RAM)" in e.cause.text
    assert "504 MiB is in CMA pageblocks" in e.cause.text and "the kernel killed (sd-pam) (679" in e.cause.text
    assert "cma=" in e.advice[0] and "page_owner" in e.advice[2]
    # the oom-kill: line cut at the console's width is said, not silently dropped
    assert any("could not read the victim on the 'oom-kill:' line" in p for p in e.problems)


def test_panic_on_oom_kills_no_one_and_a_cma_reserve_leaves_no_free_memory_for_page_tables() -> None:
    """5.4 arm64 (Phytium E2000Q) with vm.panic_on_oom=1: check_panic_on_oom() panics before any selection, so no
    process was killed. By hand: DMA32 free 529024 kB - free_cma 523848 kB = 5176 kB, under min 5396 kB, for a page
    table (__pte_alloc, GFP_KERNEL_ACCOUNT: not movable); 512 MiB of 1.9 GiB is a CMA reserve. totalpages 507904 -
    21066 = 486838; the model's choice oom (147): 322172 + 2613248 / 4096 = 322810 points."""
    (e,) = _explain("5.4-arm64-phytium-blog-zh-panic-on-oom-cma-512m-no-victim.md")
    assert e.panic_on_oom == "system-wide" and e.kernel_victim is None and not e.compared
    assert not any("truncated" in p for p in e.problems)
    assert (e.model_victim.pid, e.ranking[0].points, e.totalpages, e.era) == (147, 322810, 486838, "5.4")
    (dma32,) = e.allocation.zones
    assert (dma32.free_kb - dma32.free_cma_kb, dma32.below) == (5176, "min")
    assert e.cause.kind == "user_memory" and "511 MiB is in CMA pageblocks" in e.cause.text
    assert "killed no process: vm.panic_on_oom=1" in e.cause.text and "killed oom" not in e.cause.text
    assert "panic_on_oom=0" in e.advice[0] and "cma=" in e.advice[1]
    text = (PUBLIC / "5.4-arm64-phytium-blog-zh-panic-on-oom-cma-512m-no-victim.md").read_text(encoding="utf-8")
    imported = import_report(text, "panic")
    assert imported.victim_pid is None
    assert "the kernel killed nobody: vm.panic_on_oom (system-wide) made it panic\"" in imported.text


def test_a_2_6_24_pae_paste_with_dots_for_the_syslog_head_is_lowmem_exhaustion() -> None:
    """Ubuntu 2.6.24 i386 PAE (4 GiB, 3.1 GiB of it HighMem), '... kernel: [430837.19]' where the poster replaced the
    time and host: learned from 2.6's 'Pid: %d, comm:' and 'Mem-info:' lines. The nvidia driver's GFP_KERNEL (0x2d0
    with __GFP_NOWARN) order-0 request: Normal free 3732 kB <= min 3744 kB; DMA 3536 kB <= min 68 + lowmem_reserve
    873 pages (3492 kB); HighMem still 113132 kB free. The poster cut the report before its verdict."""
    (e,) = _explain("2.6.24-i386-pae-forum-nvidia-lowmem-dots-for-host-no-verdict.md")
    assert (e.trigger.pid, e.trigger.comm, e.era) == (6186, "Xorg", "2.6") and e.kernel_victim is None
    a = e.allocation
    assert a.gfp_flags == ["GFP_KERNEL", "__GFP_NOWARN"] and a.order == 0 and a.zone == "Normal"
    assert [(c.zone, c.free_kb, c.reserve_kb, c.below) for c in a.zones] == [("DMA", 3536, 3492, "min"),
                                                                           ("Normal", 3732, 0, "min")]
    assert e.cause.kind == "lowmem" and "HighMem still had 110 MiB free" in e.cause.text
    assert e.platform.arch == "32-bit" and e.memory.free_kb == 30100 * 4
    assert any("truncated" in p for p in e.problems)


def test_a_loongarch64_paste_in_three_forms_with_16k_pages_and_a_suppressed_verdict() -> None:
    """4.19 on LoongArch (16 KiB pages) in Kubernetes, from Chinese notes: a `dmesg -T` block pasted from the memcg
    stats on (two lines run together), a block whose first stamp lost its '[', a syslog block whose verdict was
    ratelimited ('oom_kill_process: 1520 callbacks suppressed': the reaper names the victim), and a lone 'Kill
    process' line eleven days later. By hand: 104844432 kB rss + 5280 kB mapped over 6558422 pages of the dump is
    16.0 kB a page; 104857600 kB / 16 = 6553600 pages of limit, so prometheus has 6558445 + 66977792 / 16384 + 961 x
    6553 = 12859966 points; java 26597 + 1196032 / 16384 - 997 x 25 = 1745 in a 409600 kB (25600-page) memcg."""
    a, b, c, d, e, f = _explain("4.19-loongarch64-16k-notes-zh-dmesg-T-k8s-memcg-v1-run-together-suppressed.md")
    assert (a.kernel_victim.pid, a.kernel_victim_source, a.page_size, a.constraint) == (
        2983827, "oom_reaper", 16384, "CONSTRAINT_MEMCG")  # fmt: skip
    assert "against the memcg's own count" in a.page_size_source and "100 GiB resident" in a.cause.text
    assert (b.trigger.pid, b.kernel_victim, b.platform.arch) == (3347273, None, "loongarch64")
    assert (c.trigger.pid, c.trigger.comm, c.totalpages) == (4112310, "prometheus", 6553600)
    assert c.kernel_victim.pid == c.model_victim.pid == 4112165 and c.ranking[0].points == 12859966
    assert (d.trigger.pid, d.kernel_victim) == (299393, None)  # its CPU line run into the cpuset line
    assert (e.trigger.comm, e.kernel_victim.pid, e.kernel_victim_source, e.totalpages) == (
        "C1 CompilerThre", 585588, "oom_reaper", 25600)  # fmt: skip
    assert e.agree and [(t.pid, t.points) for t in e.ranking] == [(585588, 1745), (1916799, 1), (585567, 1)]
    # the lone 'Kill process' line of 28 April is not the 14 April report's: that one's reaper line came before it
    assert (f.kernel_selected.pid, f.kernel_victim, f.printed_score) == (134320, None, 1003)


def test_the_second_hunts_reports_with_a_dump_replay_to_the_kernels_victim() -> None:
    """import builds a scene of each report with a task dump, and the scene's own OOM kills the kernel's victim
    (16 KiB pages and memcg limits carried over on LoongArch, the page_pool leak's adj +100 on arm64)."""
    cases = [("4.19-loongarch64-16k-notes-zh-dmesg-T-k8s-memcg-v1-run-together-suppressed.md", 1, 2983827),
             ("4.19-loongarch64-16k-notes-zh-dmesg-T-k8s-memcg-v1-run-together-suppressed.md", 3, 4112165),
             ("4.19-loongarch64-16k-notes-zh-dmesg-T-k8s-memcg-v1-run-together-suppressed.md", 5, 585588),
             ("6.1-arm64-imx8mn-netdev-page-pool-leak-cma-only-free-console-cut.mail", 1, 679),
             ("6.8-5.15-azure-wiki-grep-mdsd-row-verdict-then-next-invoked.md", 3, 2002099)]  # fmt: skip
    for name, index, pid in cases:
        imported = import_report((PUBLIC / name).read_text(encoding="utf-8"), name, index)
        assert imported.victim_pid == pid and replay_victim(imported.text, name)[0] == pid, (name, index)


def test_a_tracker_paste_folded_at_178_columns_with_a_dirty_v1_memcg_and_a_cut_verdict() -> None:
    """4.19 Kubernetes, kubedirector issue 356: two lines folded inside words at 178 columns ('limit of /kubepo' /
    'ds/pod95...', 'rss:44' / '8KB'), the verdict cut at 'Killed process 62769 ('. By hand: totalpages = 524288 kB /
    4 = 131072; bash 679 + 0 + 65536/4096 = 695 pages, cp 411 + 77824/4096 = 430; adj -998 x (131072 / 1000 = 131)
    = -130738, so both clamp to 1 (before 5.9) and bash, scanned first, is chosen: score 1 x 1000 / 131072 = 0.
    oom_kill_process() starts victim_points at 0, so its child cp (1 point) dies in its place. The memcg holds
    503316 kB dirty of 524288 kB: cp's copy outran the disk on cgroup v1."""
    (e,) = _explain("4.19-k8s-github-issue-folded-178-memcg-v1-dirty-cache-killed-child-cut.md")
    pod = "/kubepods/pod951f6bc5-c5a5-11ea-8707-80e455f266a2/024952d653ef1cd852f875a61bd27cf45cb1fd6cab3659ca7e5f12f037d99aa9"
    assert (e.memcg.path, e.memcg.stats_kb["rss"], e.memcg.stats_kb["dirty"]) == (pod, 448, 503316)
    assert (e.kernel_selected.pid, e.kernel_victim.pid, e.kernel_victim.comm) == (62685, 62769, "cp")
    assert e.model_victim.pid == 62685 and e.agree and e.totalpages == 131072
    assert (e.score_check.printed, e.score_check.model) == (0, 0) and e.score_check.agree
    assert any("killed its child cp (62769)" in n for n in e.notes)
    assert e.cause.kind == "memcg_limit" and "491 MiB of the charge was dirty" in e.cause.text
    assert "cgroup v1" in e.cause.text and not any("Killed process" in p for p in e.problems)
    assert any("memory.memsw.limit_in_bytes above memory.limit_in_bytes" in a for a in e.advice)
    assert not any(a.startswith("Set memory.high") for a in e.advice)  # v1 has none


def test_user_space_killers_logs_are_said_to_be_no_kernel_oom(capsys, tmp_path) -> None:
    """systemd-oomd (systemd issue 32304, a French journal) and Android's lmkd (flutter issue 161070, logcat) kill
    on their own measures before the kernel runs out: no report to explain, and the error says whose kills they
    are, for explain and import alike."""
    from oomtui.cli import main as cli_main

    oomd = PUBLIC / "6.8-systemd-oomd-github-issue-french-not-a-kernel-oom.md"
    assert cli_main(["explain", str(oomd)]) == 2
    err = capsys.readouterr().err
    assert "no kernel OOM report: systemd-oomd killed /user.slice/user-1000.slice/user@1000.service/app.slice/" \
           "app-org.gnome.Terminal.slice/tmux" in err  # fmt: skip
    lmkd = PUBLIC / "android-lmkd-logcat-github-issue-not-a-kernel-oom.md"
    assert cli_main(["import", str(lmkd), "-o", str(tmp_path / "x.toml")]) == 2
    err = capsys.readouterr().err
    assert "Android's lmkd killed com.samsung.android.smartsuggestions:contentmanagement (591), " \
           "com.android.rkpdapp (3615), com.google.android.as.oss:learning_bg (3566)" in err  # fmt: skip
    assert not (tmp_path / "x.toml").exists()


def test_a_paste_of_only_the_zone_lines_is_said_to_be_a_memory_summary(capsys) -> None:
    """Only the zone and buddy lines of a report (a forum answer quoting the part it talks about): no OOM report,
    and the error says what the lines are and what to paste, for a file and for stdin alike."""
    import io
    import sys

    from oomtui.cli import main as cli_main

    report = SHARED / "dmesg" / "019-lkml-4.19.69-gentoo-global-firefox-biggest-not-victim-adj300.log"
    lines = report.read_text(encoding="utf-8").splitlines()
    zones = [line for line in lines if re.search(r"\] (?:Node \d+ )?(?:DMA|DMA32|Normal)(?:: \d+\*| free:)", line)]
    assert len(zones) >= 3
    text = "As you can see here:\n" + "\n".join(zones) + "\n"
    old_stdin = sys.stdin
    try:
        sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode()))
        assert cli_main(["explain", "-"]) == 2
    finally:
        sys.stdin = old_stdin
    err = capsys.readouterr().err
    assert f"no kernel OOM report: lines 2-{len(zones) + 1} are a memory summary (show_free_areas()" in err
    assert "paste from the 'invoked oom-killer'" in err


def test_earlyoom_lines_beside_the_kernels_verdict_are_not_a_report() -> None:
    """earlyoom issue 121: earlyoom's 'killing process 27541 "bash" with signal 15: badness 550' (its own score)
    and, in a second block, the kernel's journal (Russian month 'апр') with 'Kill process 27541 (bash) score 572':
    one report, the kernel's, whose 572 cannot be checked without a dump."""
    (e,) = _explain("5.0-earlyoom-github-issue-russian-journal-kernel-verdict-only-score572.md")
    assert (e.kernel_victim.pid, e.kernel_victim.comm, e.printed_score) == (27541, "bash", 572)
    assert e.score_check.model is None and e.model_victim is None


def test_no_killable_then_a_memcg_trace_with_a_uid_cpu_line() -> None:
    """systemd issue 40208 (6.17, `systemd-run --user` with a small MemoryMax): 'Out of memory and no killable
    processes...' closes the report before it (cut to '</TASK>'), then the next report's invoked line, a 6.10+
    `CPU: 10 UID: 1000 PID: 20957 Comm: systemd` line and a trace through mem_cgroup_out_of_memory: a memcg OOM,
    which never panics for want of a victim. With the next repeat's own 'no killable' line after it (as the
    kernel prints it), that report says the cgroup's charge fails and repeats."""
    name = "6.17-systemd-github-issue-journal-no-killable-then-memcg-trace-uid-cpu-line.md"
    first, second = _explain(name)
    assert first.cause.kind == "no_victim" and "unless this was a memcg OOM" in first.cause.text
    assert (second.trigger.pid, second.trigger.comm, second.era) == (20957, "systemd", "6.17")
    assert second.constraint == "CONSTRAINT_MEMCG" and second.kernel_victim is None
    assert "The report ends before the kernel's choice" in second.cause.text
    text = (PUBLIC / name).read_text(encoding="utf-8").replace("```\n", "")
    repeat = explain_text(text + "kernel: Out of memory and no killable processes...\n")[1]
    assert repeat.cause.kind == "no_victim" and "A memcg OOM does not panic" in repeat.cause.text
    assert any("OOMScoreAdjust=-1000" in a for a in repeat.advice)


def test_the_advice_without_a_victim_follows_the_constraint_not_the_words_of_the_cause() -> None:
    """No killable process: a memcg OOM gets the cgroup's advice (its tasks' oom_score_adj, its limit), a global one
    the boot and kdump advice, however the cause's text is worded (advice once told them apart by its wording)."""
    name = "6.17-systemd-github-issue-journal-no-killable-then-memcg-trace-uid-cpu-line.md"
    text = (PUBLIC / name).read_text(encoding="utf-8").replace("```\n", "") + \
        "kernel: Out of memory and no killable processes...\n"
    r = list(iter_reports(text.splitlines()))[1]
    e = explain_text(text)[1]
    reworded = analysis.Cause("no_victim", "Nothing in the cgroup could be killed.")
    for constraint, first in (("CONSTRAINT_MEMCG", "List the tasks of"), ("CONSTRAINT_NONE", "Early in boot")):
        advice = analysis.advice(reworded, r, e.memory, e.allocation, e.memcg, constraint, None, None, e.page_size)
        assert advice[0].startswith(first), (constraint, advice)


@pytest.mark.parametrize(("name", "kind", "says"), [
    ("5.8-linux-mm-quoted-cpuset-movable-node-only-no-dump.mail", "cpuset", "Give the cpuset a node with a Normal"),
    ("4.x-linux-mm-quoted-cut-buddy-only-order3-fragmented.mail", "fragmentation", "Dropping the dentry and inode"),
    ("5.4-arm64-phytium-blog-zh-panic-on-oom-cma-512m-no-victim.md", "user_memory", "Make the CMA area"),
    ("6.1-arm64-imx8mn-netdev-page-pool-leak-cma-only-free-console-cut.mail", "kernel_other", "Make the CMA area"),
    ("6.6-rt-arm64-linux-cifs-qp-encoded-newlines-order2-cma.eml", "fragmentation", "Make the CMA area"),
])  # fmt: skip
def test_the_advice_on_cma_slab_and_unusable_zones_follows_the_facts_not_the_words(name, kind, says) -> None:
    """The advice that CMA pageblocks held the free memory, that reclaimable slab breaks it up, or that no zone of a
    cpuset's nodes could serve the request comes from the zones and Mem-Info the cause was found from: the same with
    the cause's text reworded, and absent when the facts are not there."""
    text = (PUBLIC / name).read_text(encoding="utf-8")
    e = explain_text(text)[0]
    r = next(iter_reports(text.splitlines()))
    assert e.cause.kind == kind and any(a.startswith(says) for a in e.advice)
    reworded = analysis.Cause(kind, "Reworded.")
    same = [analysis.advice(c, r, e.memory, e.allocation, e.memcg, e.constraint, None, None, e.page_size)
            for c in (e.cause, reworded)]  # fmt: skip
    assert same[0] == same[1] and any(a.startswith(says) for a in same[1])
    no_facts = analysis.advice(e.cause, r, msgspec.structs.replace(e.memory, slab_reclaimable_kb=None), None, e.memcg,
                               e.constraint, None, None, e.page_size)  # fmt: skip
    assert not any(a.startswith(says) for a in no_facts)


def test_a_vmware_log_guest_prefix_with_two_excerpts_a_cut_cpu_line_and_a_stats_only_memcg() -> None:
    """vmware/photon issue 1535: a guest's kernel log inside vmware.log (`2023-12-04T10:49:30.108Z In(05) vcpu-5 -
    Guest: <6>[39261111.880871] `, a prefix learned from its shape), two excerpts joined at `(...)`, 30 444 s
    apart on the dmesg clock: no report spans that, nor is a line joined across the cut. By hand: node = 130593 +
    7983104/4096 = 132542 pages, adj +999 x T//1000; 'score 1858' = points x 1000 // T holds for T in
    153518..154137 (a 600 MiB limit, 153600 pages, is in it). The second excerpt's memcg prints only its stats:
    rss 613460 kB = 153365 pages charged, so its limit is no lower and adj +999 adds at least 999 x 153 = 152847."""
    first, second, third = _explain("4.19-photon-vmware-log-guest-prefix-memcg-v1-score1858-two-excerpts.md")
    assert (first.kernel_victim.pid, first.model_victim.pid, first.printed_score) == (30411, 30411, 1858)
    assert any("from 153518 to 154137 pages" in n for n in first.notes)
    assert (second.lines, second.trigger.pid, second.trigger.comm) == ([7, 10], 26868, "node")  # CPU line cut
    assert third.lines == [11, 18] and third.memcg.path.startswith("/kubepods/burstable/podfe3f7a38")
    assert third.model_victim.pid == 19388 and any("from 153365 pages (charged to the memcg" in n for n in third.notes)
    assert any("adds at least 152847 pages" in w for w in third.why)
    assert third.advice[-1].startswith("cgroup v1 has no memory.high")  # v1: its stats have rss and cache


def test_a_page_allocation_failure_is_said_to_be_no_oom(capsys) -> None:
    """ipython issue 12494: a 4.15 kern.log indented by the issue's Markdown (8 spaces, then 4) of `python3: page
    allocation failure: order:4, mode:0x14040c0(GFP_KERNEL|__GFP_COMP)` with its cpuset, CPU line and trace, cut:
    warn_alloc(), not an OOM; above order 3 __alloc_pages_may_oom() never runs the OOM killer (4 << 4 = 64 kB)."""
    from oomtui.cli import main as cli_main

    assert cli_main(["explain", str(PUBLIC / "4.15-ubuntu-github-issue-indented-page-allocation-failure-order4-"
                                             "not-an-oom.md")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "no kernel OOM report: python3's page allocation failure of order 4 (warn_alloc)" in err
    assert "never runs for an order above 3 (PAGE_ALLOC_COSTLY_ORDER): 16 contiguous pages (64 kB" in err


def test_sparc64_pages_from_its_hugepage_sizes_and_two_show_mems_are_two_reports() -> None:
    """stress-ng issue 177 (mator's sparc64 runs of oom-pipe): two excerpts 0.55 s apart, each from the middle of
    a different report's show_free_areas(). The first (zones, buddy lines from 8 kB, hstates, the page cache count)
    holds nothing of an OOM by itself; the second begins again at the hstates: zones never follow the totals in one
    report. Its hugepages_size=262144kB and 2097152kB are sparc64's (8 KiB pages), so 2095568 pages RAM are
    16 GiB (the first excerpt's present:16764544kB), and totalpages = 2095568 - 32480 + 787176 / 8 = 2161485."""
    (e,) = _explain("4.19-sparc64-8k-stress-ng-issue-two-excerpts-hugepage-sizes-only.md")
    assert e.lines[0] == 16 and (e.page_size, e.totalpages) == (8192, 2161485)
    assert "only sparc64 has" in e.page_size_source and e.memory.ram_kb == 16764544
    assert e.model_victim.pid == 519 and e.ranking[0].points == 0 + 396 + 73728 // 8192


def test_a_reserved_count_below_zero_printed_unsigned_on_a_32_bit_board() -> None:
    """ipp-usb issue 43: an i.MX6 (arm, 4.1.46) log exported as CSV (`2022-03-04T10:11:54.107177Z,BTL200068500133,
    4,1,kernel:, [77776.905633] `, a prefix learned from its shape), two excerpts: the invoked line and arm
    backtrace, then show_mem's `131072 pages RAM`, `4294905822 pages reserved` (2^32 - 61474: present - managed
    summed below 0 in an unsigned long) and `65536 pages cma reserved`, and three rows of a 4.0-4.14 dump.
    totalram_pages = 131072 - (-61474) = 192546, as the kernel's own unsigned arithmetic gives."""
    (e,) = _explain("4.1-arm32-imx6-csv-log-reserved-pages-wrapped-negative-cma.md")
    assert (e.trigger.pid, e.trigger.comm, e.era, e.totalpages) == (19236, "pidof", "4.1", 192546)
    assert any("'4294905822 pages reserved' is -61474 printed unsigned" in n for n in e.notes)
    assert e.model_victim.pid == 103 and e.kernel_victim is None  # cut before the verdict


def test_a_paste_that_starts_at_the_unsigned_reserved_line_has_no_ram_to_subtract_it_from() -> None:
    """The same log pasted from its 'pages reserved' line on: no 'pages RAM' line, so the note explains the unsigned
    count without totalram_pages (it subtracted from None and crashed), and totalpages stays unknown."""
    text = (PUBLIC / "4.1-arm32-imx6-csv-log-reserved-pages-wrapped-negative-cma.md").read_text(encoding="utf-8")
    (e,) = explain_text(text[text.index("2022-03-04T10:11:54.131830Z") :])
    assert e.totalpages is None and e.model_victim.pid == 103
    assert any(n.startswith("'4294905822 pages reserved' is -61474 printed unsigned") and
               n.endswith("RAM minus that (the paste has no 'pages RAM' line)") for n in e.notes)


def test_an_android_3_0_header_with_oom_adj_beside_oom_score_adj() -> None:
    """eolwral/OSMonitor issue 54 (a Galaxy Nexus, 2015): `osmcore_L invoked oom-killer: gfp_mask=0x200da, order=0,
    oom_adj=-17, oom_score_adj=-1000`: dump_header() printed oom_adj beside oom_score_adj from the 2.6.36 rewrite
    until 'oom: remove deprecated oom_adj' (3.7), so 2.6.36-3.6 (the era is kept to minor versions: 2.6 to 3.6);
    the old arm unwinder's `(do_DataAbort+0x0/0xa0) from` frames name the architecture; cut in the exception stack."""
    (e,) = _explain("3.0-android-arm32-galaxy-nexus-github-issue-oom-adj-header-cut.md")
    assert (e.trigger.comm, e.allocation.order, e.platform.arch) == ("osmcore_L", 0, "arm")
    assert "before 3.7 (oom_adj= beside oom_score_adj= on the header line: 3.6 at most)" in e.era_source
    assert e.kernel_victim is None and e.model_victim is None


def test_a_verdict_without_shmem_rss_dates_the_kernel_before_4_5() -> None:
    """moby issue 15654 (Ubuntu 14.04's 3.19 under Docker, BTRFS): syslog lines without a host name, one headerless
    row (seven numbers: read as 3.6-3.19's nr_ptes/swapents, as no other 7-number format's values can be),
    `Kill process 17377 (java) score 495 or sacrifice child`, `Killed process 19715 (java)` without shmem-rss (added
    in 4.5), then the next OOM's header with the pre-4.9 raw stack words and a trace cut at `dump_st`. Its CPU line
    (3.19) is not lent to the first report: lines with no host name do not tell one machine's log from two pastes."""
    first, second = _explain("3.19-docker-github-issue-syslog-no-host-row-verdict-then-next-invoked-hex-stack.md")
    assert (first.kernel_selected.pid, first.kernel_victim.pid, first.printed_score) == (17377, 19715, 495)
    assert first.era_range == "3.6 to 3.19" and "before 4.0 (nr_ptes without nr_pmds)" in first.era_source
    assert first.host is None and second.host is None  # "Aug 19 00:32:04 kernel: ": syslog's tag, no host
    assert (second.trigger.pid, second.era, second.kernel_victim) == (19856, "3.19", None)


def test_dmesg_time_format_iso_keeps_the_reaper_line() -> None:
    """equinor/ert issue 7797: `dmesg --time-format iso | grep oom` (`2024-04-29T14:55:41,678628+02:00 `): grep kept
    the header, one frame, the dump's header, oom-kill:, the verdict and `... oom_reaper: reaped process`, whose
    tag looked like a syslog host ("Apr 01 14:13:32 mysrv: ") and was stripped with the stamp. Host names have no
    '_'; the report ends at the reaper line, which names the victim again."""
    (e,) = _explain("5.x-dmesg-time-format-iso-grep-oom-github-issue-reaper-not-a-host.md")
    assert e.lines == [5, 10] and (e.kernel_victim.pid, e.kernel_victim.comm) == (1440763, "perl")
    assert "oom_reaper reaped perl (1440763)" in e.notes and e.trigger.comm == "pool"


def test_a_raspberry_pi_release_names_its_architecture() -> None:
    """FullPageOS issue 291 (Chromium's Compositor on a Raspberry Pi 4, 2019): syslog lines indented four spaces by
    the issue's Markdown, `4.19.57-v7l+` (Raspberry Pi OS's ARMv7 LPAE kernel: 32-bit arm; -v8+ is its arm64
    one), the arm unwinder's `(unwind_backtrace) from` frames, cut at a lone `A` before any Mem-Info."""
    (e,) = _explain("4.19-rpi4-v7l-github-issue-indented-header-only-arm-from-release.md")
    assert (e.platform.arch, e.trigger.pid, e.era) == ("arm", 1042, "4.19")
    assert "release 4.19.57-v7l+" in e.platform.arch_source


def test_the_third_hunts_reports_with_a_verdict_replay_to_the_kernels_victim() -> None:
    """import builds a scene of each and the scene's own OOM kills the kernel's victim: on 4.19 the kubedirector
    memcg's bash (1 point) is chosen and its child cp dies in its place (victim_points starts at 0); the vmware.log
    node wins its memcg with adj +999 on every task."""
    cases = [("4.19-k8s-github-issue-folded-178-memcg-v1-dirty-cache-killed-child-cut.md", 1, 62769),
             ("4.19-photon-vmware-log-guest-prefix-memcg-v1-score1858-two-excerpts.md", 1, 30411)]  # fmt: skip
    for name, index, pid in cases:
        imported = import_report((PUBLIC / name).read_text(encoding="utf-8"), name, index)
        assert imported.victim_pid == pid and replay_victim(imported.text, name)[0] == pid, (name, index)


# --- the fifth hunt: public reports a reviewer read (SOURCES.md) ---------------------------------------------


def test_rhel7_verdict_with_the_uid_after_the_comm_keeps_its_sizes() -> None:
    """RHEL 7's 3.10: "Killed process 799153 (node), UID 1000, total-vm:606096kB, anon-rss:68308kB, file-rss:13648kB,
    shmem-rss:0kB": sizes and uid read, not called garbled."""
    es = _explain("3.10-rhel7-k8s-github-issue-quoted-killed-uid-form-series.md")
    assert [e.kernel_victim.pid for e in es][:3] == [799153, 799402, 799889]
    assert es[0].kernel_victim_rss_kb == 68308 + 13648 + 0
    assert not any("garbled" in p for e in es[:-1] for p in e.problems)  # (the last line is cut)
    (r, *_) = parse_reports((PUBLIC / "3.10-rhel7-k8s-github-issue-quoted-killed-uid-form-series.md").read_text())
    assert (r.killed.uid, r.killed.total_vm_kb) == (1000, 606096)


def test_a_console_prompt_glued_to_the_header_is_not_the_trigger_name() -> None:
    (e,) = _explain("4.9-amzn-s3fs-github-issue-console-login-prompt-glued-blank-lines.md")
    assert (e.trigger.comm, e.trigger.pid) == ("yum", 13361)


def test_a_memcg_verdict_behind_an_events_words_is_a_memcg_oom() -> None:
    (e,) = _explain("4.x-k8s-website-event-memcg-kill-score1994.md")
    assert (e.constraint, e.kernel_selected.pid, e.printed_score) == ("CONSTRAINT_MEMCG", 4481, 1994)


@pytest.mark.parametrize("name", ["5.x-journal-dpservice-github-issue-memcg-v2-counters-only.log",
                                  "6.1-arm32-rpi-github-issue-trace-meminfo-cma-no-header.md"])
def test_a_fragment_only_an_oom_prints_is_a_report(name: str) -> None:
    """A memcg's counters (mem_cgroup_print_oom_meminfo()) or a call trace through out_of_memory() before Mem-Info:
    printed on an OOM only, so a report whose beginning and end are missing, not "no OOM report"."""
    (e,) = _explain(name)
    assert any("beginning is missing" in p for p in e.problems) and e.kernel_victim is None


def test_a_cut_constraint_is_not_read() -> None:
    (e,) = _explain("6.1-arm32-rpi-github-issue-rows-then-oom-kill-constraint-cut.log")
    assert e.constraint == "CONSTRAINT_NONE" and "assumed" in " ".join(e.notes)
    assert any("could not read the 'oom-kill:' line" in p for p in e.problems)


def test_markdown_bold_around_the_closing_lines_keeps_them_with_the_rows() -> None:
    (e,) = _explain("6.x-openwrt-logread-smartdns-github-issue-markdown-bold-verdict.md")
    assert (e.kernel_victim.pid, e.kernel_victim.comm, len(e.tasks)) == (1247, "smartdns", 4)
    assert e.constraint == "CONSTRAINT_NONE" and not e.compared  # the kernel's choice is above the rows shown


def test_import_without_swap_totals_gives_the_machine_its_tasks_swap(tmp_path) -> None:
    """No 'Total swap' line, but rows with swap entries: the scene's machine has at least that swap, so the
    replay's Mem-Info never prints a free swap below 0."""
    name = "7.1-lru_marie-github-issue-rss_anon-rows-swap-no-meminfo-oom-kill-cut.log"
    text = (PUBLIC / name).read_text(encoding="utf-8")
    imported = import_report(text, name)
    (r,) = parse_reports(text)
    swap_kb = sum(t.swapents for t in r.tasks) * 4
    assert f'swap = "{swap_kb} KiB"' in imported.text.splitlines()
    from oomtui.scene.load import loads
    from oomtui.scene.sim import Simulation

    dmesg = "\n".join(Simulation(loads(imported.text, "s.toml")).run().dmesg)
    assert "Free swap  = 0kB" in dmesg and f"Total swap = {swap_kb}kB" in dmesg


def test_import_names_a_victim_the_dump_does_not_show(tmp_path, capsys) -> None:
    from oomtui.cli import main

    out = tmp_path / "s.toml"
    assert main(["import", str(PUBLIC / "5.x-arc-github-issue-console-one-row-victim-not-in-dump.md"), "-o",
                 str(out)]) == 0
    said = capsys.readouterr().out
    assert "1 process, the kernel's victim futex_cmp_reque (20344) is not in its task dump" in said


@pytest.mark.parametrize("name,era_range,columns", [
    ("3.4-arm32-h3-github-issue-headerless-cpu-oom_adj-rows-kill-cut.log", "2.6 to 3.5", "oom_adj"),
    ("4.15-4.18-crunchy-github-issue-headerless-pgtables-narrow-pid-rows.log", "4.15 to 4.18", "pgtables_bytes"),
    ("3.10-syslog-cortx-github-issue-headerless-nr_ptes-rows.md", "3.6 to 3.19", "nr_ptes"),
    ("5.x-arc-github-issue-console-one-row-victim-not-in-dump.md", "5.4 to 6.7", "pgtables_bytes"),
])  # fmt: skip
def test_headerless_rows_of_a_7_number_format_date_the_report(name: str, era_range: str, columns: str) -> None:
    """Rows without their header, in a format only their print widths or values tell: the columns are read as that
    format's (the ARC row's 3072 pgtables_bytes is no page count, but its "[%7d]" field is 4.19's), and the model
    runs by that era's rules where it could not before."""
    (e,) = _explain(name)
    (r,) = parse_reports((PUBLIC / name).read_text(encoding="utf-8"))
    assert r.task_columns_guessed and columns in r.task_columns
    assert e.era_range == era_range and e.model_victim is not None


def test_whole_page_pgtables_tell_a_64k_page_kernel() -> None:
    """Page tables are whole pages: every row's pgtables_bytes a multiple of 64 KiB is a 64 KiB page, and the rows'
    rss read in it (a 4 KiB guess made the processes 16 times too small)."""
    name = "el8-ltp-github-issue-syslog-rows-64k-pgtables-no-verdict.md"
    (e,) = _explain(name)
    (r,) = parse_reports((PUBLIC / name).read_text(encoding="utf-8"))
    assert e.page_size == 65536 and "pgtables_bytes" in e.page_size_source
    assert e.memory.tasks_rss_kb == sum(r.tasks.column("rss")) * 64 > 0


def test_a_choice_in_no_row_of_a_whole_dump_is_a_thread_of_the_process_killed() -> None:
    """Before 5.1 the selection walked threads (a memcg's css_task_iter, the global do_each_thread) and printed the
    thread it chose; dump_tasks() lists processes. The chosen pid in no row of a whole dump was a thread, and the
    process killed is its own: the model's pick of that process agrees. The lowest totalpages counts the memcg's
    swap too (memory+swap charges it)."""
    name = "3.10-el7-k8s-github-issue-memcg-kill-thread-24572-killed-28438.md"
    e, _ = _explain(name)
    assert (e.kernel_selected.pid, e.kernel_victim.pid, e.model_victim.pid) == (24572, 28438, 28438)
    assert (e.kernel_victim_is, e.compared, e.agree) == ("thread", True, True)
    assert any("in no row of the dump: a thread" in n for n in e.notes)
    assert not any("not among the eligible rows" in p for p in e.problems)
    (r, _) = parse_reports((PUBLIC / name).read_text(encoding="utf-8"))
    stats = r.memcg_stats
    assert e.totalpages_range[0] == (stats["rss"] + stats["cache"] + stats["swap"]) // 4096


def test_agree_is_null_when_nothing_was_compared() -> None:
    es = _explain("3.10-rhel7-k8s-github-issue-quoted-killed-uid-form-series.md")
    assert es and all(e.agree is None and not e.compared for e in es)


def test_the_allocating_task_path_advises_on_its_sysctl() -> None:
    """vm.oom_kill_allocating_task=1 (a 3.2 i386 report): the kernel killed the task that asked, unranked; what to do
    says so, after what the cause (lowmem) asks for."""
    (e,) = _explain("3.2-i386-pae-64G-linux-mm-syslog-lowmem-order1-allocating-task.mail")
    assert e.cause.kind == "lowmem" and e.advice[0].startswith("Run a 64-bit kernel")
    assert any("sysctl vm.oom_kill_allocating_task=0" in a for a in e.advice[1:])


def test_a_child_whose_parents_row_was_lost_is_no_thread() -> None:
    """The kernel chose mysqld (6576) and killed rotatelogs, but the paste lost mysqld's row: rotatelogs is no
    thread of a process it killed in the chosen one's place (it has the least memory, not the most)."""
    text = fixture("003")
    text = "\n".join(line for line in text.splitlines() if "[ 6576] 12345" not in line)
    text = text.replace("Killed process 6576 (mysqld)", "Killed process 6330 (rotatelogs)")
    (e,) = explain_text(text)
    assert (e.kernel_selected.pid, e.kernel_victim.pid, e.kernel_victim_is) == (6576, 6330, "child")
    assert not any("in no row of the dump: a thread" in n for n in e.notes)


@pytest.mark.parametrize("arch,pgtables,page", [
    ("x86_64", [65536] * 8, 4096),  # an architecture of one page size: its default
    (None, [16384] * 3, 4096),  # three rows of 4 KiB pages all a multiple of 16 KiB: chance, once in 64
    (None, [65536, 131072, 327680, 196608], 65536),
    (None, [16384 * k for k in range(1, 9)], 16384),
    (None, [147456] * 8, 4096),  # eight forked workers of one size: one value, as likely a multiple by chance
])  # fmt: skip
def test_page_size_from_whole_page_pgtables_only_where_chance_cannot_explain_it(arch, pgtables, page) -> None:
    from oomtui.importers.facts import infer_page_size
    from oomtui.importers.report import OomReport, TaskRow, TaskTable

    rows = [TaskRow(line=i, pid=100 + i, uid=0, tgid=100 + i, total_vm=1000, rss=100, swapents=0, oom_score_adj=0,
                    comm="w", pgtables_bytes=b) for i, b in enumerate(pgtables)]  # fmt: skip
    r = OomReport(index=1, first_line=1, last_line=1, arch=arch, tasks=TaskTable(rows),
                  task_columns=["uid", "tgid", "total_vm", "rss", "pgtables_bytes", "swapents", "oom_score_adj"])
    assert infer_page_size(r)[0] == page


def test_a_memcg_tie_is_no_disagreement() -> None:
    """Four equal rows of a memcg, the kernel killing the last: a memcg OOM meets its tasks in the order they joined
    it, not the dump's, so the model's first-scanned pick and the kernel's are one tie. The next report's CPU line,
    cut inside its release after RHEL's "Kdump: loaded", still dates it."""
    first, second = _explain("3.10-el7-ltp-github-issue-memcg-four-equal-rows-tie-then-cut-cpu-line.log")
    assert (first.kernel_victim.pid, first.compared, first.agree) == (42424, True, True)
    assert any(n.startswith("a tie: the kernel's choice memcg_test_1 (42424)") for n in first.notes)
    assert not any("but the model picks" in p for p in first.problems)
    assert (second.era, second.trigger.comm, second.trigger.pid) == ("3.10", "memcg_test_1", 42423)


def test_from_5_3_a_memcg_dump_is_in_scan_order_and_a_tie_is_a_disagreement() -> None:
    """5.3 on a memcg OOM's dump is printed by the same scan that chose (mem_cgroup_scan_tasks): with a copy of the
    victim's row after it, 5.15's later-scanned-wins rule picks the copy, and the kernel's pick of the first is a
    disagreement, not a tie of unknown order."""
    row = "[Di Aug 12 03:54:03 2025] [3902942]  1000 3902942  3685044  3195335 27021312        0             0 php-fpm"
    text = fixture("002").replace(row, row + "\n" + row.replace("3902942", "3902999"))
    (e,) = explain_text(text)
    assert (e.kernel_victim.pid, e.model_victim.pid, e.agree) == (3902942, 3902999, False)
    assert not any(n.startswith("a tie: ") for n in e.notes)


def test_a_pre_2_6_36_report_names_the_old_formats_it_prints() -> None:
    """badness() of before 2.6.36: the era's words name the old formats this report prints, not every one known."""
    (e,) = _explain("2.6.24-rt-i386-forum-bbcode-font-killed-child-badness78749.md")
    assert e.era_source.endswith("before 2.6.36 by its formats (oomkilladj= on the header line, 'or a child')")
