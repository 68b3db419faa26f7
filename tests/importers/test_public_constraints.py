"""Real reports of OOMs confined to NUMA nodes (CONSTRAINT_CPUSET, CONSTRAINT_MEMORY_POLICY) or short of memory set
aside as huge pages, from tests/data/fixtures/public/SOURCES.md: the kernel's victim, and a cause that names it."""

from __future__ import annotations

from oomtui.importers.explain import explain_text
from oomtui.importers.report import parse_reports

from .test_report import SHARED

PUBLIC = SHARED / "public"
MOVABLE = "5.8-linux-mm-quoted-cpuset-movable-node-only-no-dump.mail"
OTHER_NODE = "6.3-lkml-cpuset-oom-patch-dump-other-node-killed.mail"


def test_a_cpuset_of_one_movable_node_cannot_serve_a_request_that_is_not_movable() -> None:
    """Feng Tang's report (quoted by Michal Hocko, linux-mm, September 2021): docker --cpuset-mems 4, node 4 has
    only a Movable zone with 130021408 kB free, and runc's GFP_HIGHUSER pipe buffer may use zones up to Normal only.
    show_mem() printed node 4 alone (SHOW_MEM_FILTER_NODES): no zone in the cpuset's nodes could serve it, and the
    kernel killed containerd, which frees nothing there."""
    text = (PUBLIC / MOVABLE).read_text(encoding="utf-8")
    first = explain_text(text)[0]
    assert (first.trigger.pid, first.trigger.comm) == (8291, "runc:[2:INIT]")
    assert (first.kernel_victim.pid, first.kernel_victim.comm) == (4100, "containerd")
    assert first.constraint == "CONSTRAINT_CPUSET" and first.score_check is None
    assert first.allocation.zone == "Normal" and first.allocation.zones == []
    assert first.allocation.verdict == "no zone it may use: every zone printed (node 4 Movable) is above Normal"
    assert first.cause.kind == "cpuset" and "could only use NUMA node 4: its cpuset docker-9976a269" in first.cause.text
    assert "node 4 Movable had 123 GiB free that it could never take" in first.cause.text
    assert "It killed containerd (4100" in first.cause.text
    assert "Normal zone" in first.advice[0] and "5.16" in first.advice[0]
    report = parse_reports(text)[0]
    assert report.mems_allowed == "4" and report.cpuset.startswith("docker-9976a269")
    assert report.cpuset.endswith(".scope")


def test_a_global_oom_that_printed_only_zones_above_its_request_was_cut() -> None:
    """The same report as an unconstrained OOM (its oom-kill: line says CONSTRAINT_NONE): show_mem() prints every
    node's zones when no nodemask or cpuset limits the allocation, so a report showing only node 4 Movable lost the
    zones the request could use; the verdict is unknown, not 'no zone it may use'."""
    text = (PUBLIC / MOVABLE).read_text(encoding="utf-8")
    assert text.count("constraint=CONSTRAINT_CPUSET,") == 1
    first = explain_text(text.replace("constraint=CONSTRAINT_CPUSET,", "constraint=CONSTRAINT_NONE,"))[0]
    assert first.constraint == "CONSTRAINT_NONE" and first.cause.kind != "cpuset"
    assert first.allocation.verdict == "unknown: no zone it may use was printed (only node 4 Movable): the report was cut"


def test_the_reaper_lines_of_later_kills_name_their_own_victims() -> None:
    """The same paste keeps five oom_reaper lines of the kills that followed (their reports cut): each reaped a
    different process, so each is a kill of its own, never the first report's victim."""
    reports = explain_text((PUBLIC / MOVABLE).read_text(encoding="utf-8"))
    assert [e.kernel_victim.pid for e in reports] == [4100, 8248, 2054, 1452, 2146, 8291]


def test_a_cpuset_oom_before_cpuset_aware_selection_kills_a_task_of_another_node() -> None:
    """Gang Li's "mm: oom: introduce cpuset oom" (v4, April 2023), its 'before' excerpt: mem_on_node0 runs out in
    cpuset test (node 0); select_bad_process() scores mem_on_node1 highest by its resident memory on every node
    (rss 786745 + 6344704 / 4096 page-table pages = 788294) and kills it, freeing nothing on node 0. The excerpt
    cut the header after 'invoked oom-killer' and the oom-kill: line after mems_allowed=."""
    before, after = explain_text((PUBLIC / OTHER_NODE).read_text(encoding="utf-8"))
    assert before.kernel_victim.pid == before.model_victim.pid == 13432 and before.agree
    assert before.ranking[0].points == 788294 and before.ranking[1].pid == 13457
    assert before.constraint == "CONSTRAINT_CPUSET" and before.cause.kind == "cpuset"
    assert "could only use NUMA node 0: its cpuset test confined it there" in before.cause.text
    assert "frees memory there only as far as the victim held pages on those nodes" in before.cause.text
    assert "oom_cpuset_eligible()" in before.cause.text and "It killed mem_on_node1 (13432" in before.cause.text
    assert any("numastat" in a for a in before.advice) and "cpuset test more nodes" in before.advice[0]
    assert after.kernel_victim.pid == after.model_victim.pid == 2614 and after.cause.kind == "cpuset"
    for e in (before, after):  # the cut header still names the trigger (no pid: that is the CPU line's)
        assert (e.trigger.comm, e.trigger.pid, e.allocation) == ("mem_on_node0", None, None)


def test_a_memory_policy_oom_names_the_policy_and_its_nodes() -> None:
    """The first report with its oom-kill: line as an MPOL_BIND allocation prints it (nodemask=0, the cpuset's
    nodes 0-1): the nodes are the nodemask's, and the advice is the policy's, not the cpuset's."""
    text = (PUBLIC / OTHER_NODE).read_text(encoding="utf-8").replace(
        "CONSTRAINT_CPUSET,nodemask=(null),cpuset=test,mems_allowed=0\n[ 2787.229991]",
        "CONSTRAINT_MEMORY_POLICY,nodemask=0,cpuset=/,mems_allowed=0-1\n[ 2787.229991]")  # fmt: skip
    e = explain_text(text)[0]
    assert e.constraint == "CONSTRAINT_MEMORY_POLICY" and e.cause.kind == "mempolicy"
    assert "could only use NUMA node 0: its memory policy (MPOL_BIND" in e.cause.text
    assert "numactl --preferred" in e.advice[0] and "fit the workload to node 0" in e.advice[0]


def test_a_hugetlb_pool_that_holds_most_of_ram_is_named_with_its_unused_pages() -> None:
    """No public report of a machine whose RAM went to huge pages was found, so this is a real report with only its
    2 MiB hugepages line changed: the 6.1 arm64 i.MX8MN report (test_public.py) has 1364436 kB in no Mem-Info counter
    (the driver's leaked pages); here 666 x 2048 kB = 1363968 kB of that is a hugetlb pool, 600 pages of it free
    (hugetlb_show_meminfo_node(): 'Node 0 hugepages_total=666 hugepages_free=600 ...'). RAM 516096 - reserved 17302
    pages = 1995176 kB; 1995176 - 1363968 = 631208 kB (616 MiB) is left for everything else. The victim and scores
    do not change: hugetlb pages are in no task's rss."""
    name = "6.1-arm64-imx8mn-netdev-page-pool-leak-cma-only-free-console-cut.mail"
    text = (PUBLIC / name).read_text(encoding="utf-8")
    line = "Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB"
    assert text.count(line) == 1
    (e,) = explain_text(text.replace(line, line.replace("total=0 hugepages_free=0", "total=666 hugepages_free=600")))
    assert e.kernel_victim.pid == e.model_victim.pid == 679 and e.ranking[0].points == 50464
    assert (e.memory.hugetlb_kb, e.memory.hugetlb_free_kb) == (1363968, 1228800)
    assert (e.memory.where[0].what, e.memory.where[0].percent) == ("huge pages (hugetlb pool)", 66.1)
    assert e.cause.kind == "hugetlb"
    assert e.cause.text.startswith("1.3 GiB (66 % of RAM) is set aside as huge pages (the hugetlb pool")
    assert "1.2 GiB of it mapped by nothing yet (hugepages_free" in e.cause.text and "the remaining 616 MiB" in e.cause.text
    assert "It killed (sd-pam) (679" in e.cause.text and "504 MiB is in CMA pageblocks" in e.cause.text
    assert "cma=" in e.advice[0]
    assert e.advice[1].startswith("1.2 GiB of the pool was mapped by nothing. Size the pool")
    assert "vm.nr_hugepages" in e.advice[1] and "hugepages= boot option" in e.advice[1]
    assert "HugePages_Free" in e.advice[1] and "HugetlbPages in /proc/PID/status" in e.advice[2]


def test_a_small_hugetlb_pool_is_not_the_cause() -> None:
    """The same report with a pool of a tenth of its RAM (100 x 2 MiB, all mapped): the other 1159636 kB in no counter
    are still the driver's, and the cause stays kernel_other (a pool must hold over half of RAM - reserved)."""
    name = "6.1-arm64-imx8mn-netdev-page-pool-leak-cma-only-free-console-cut.mail"
    line = "Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB"
    text = (PUBLIC / name).read_text(encoding="utf-8").replace(line, line.replace("total=0", "total=100"))
    (e,) = explain_text(text)
    assert e.memory.hugetlb_kb == 204800 and e.memory.hugetlb_free_kb == 0 and e.cause.kind == "kernel_other"
    assert "1.1 GiB (56 % of RAM) is neither free nor" in e.cause.text


def test_a_hugepages_line_cut_short_is_not_joined_with_the_next_sizes_line() -> None:
    """A console cut (no wrap) ends the 1 GiB pool's line after hugepages_free=: the 2 MiB pool's line that follows
    is its own line (hugetlb_show_meminfo_node() prints one per hstate), so it keeps its own numbers rather than
    lending its hugepages_size= to the cut line (4 x 1 GiB read as 4 x 2 MiB)."""
    text = (PUBLIC / "6.11-notes-zh-details-summary-stress-ng-adj1000.md").read_text(encoding="utf-8")
    gib = "hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=1048576kB"
    assert text.count(gib) == 1 and text.index(gib) < text.index("hugepages_size=2048kB")
    pooled = text.replace(gib, gib.replace("total=0 hugepages_free=0", "total=4 hugepages_free=4"))
    whole, cut = parse_reports(pooled)[0], parse_reports(pooled.replace(gib.replace("total=0 hugepages_free=0", (
        "total=4 hugepages_free=4")), "hugepages_total=4 hugepages_free=4"))[0]
    assert (whole.hugetlb_kb, sorted(whole.hugepage_sizes_kb)) == (4 * 1048576, [2048, 1048576])
    assert (cut.hugetlb_kb, sorted(cut.hugepage_sizes_kb)) == (0, [2048])


def test_a_vendor_manuals_excerpts_with_rsyslog_severity_prefixes_and_a_spliced_mempolicy_line() -> None:
    """Huawei Cloud EulerOS's manual, 'OOM 相关参数配置与原因排查' (its causes of OOM): /var/log/messages excerpts of
    four OOMs. Two memcg ones behind an rsyslog template's 'warning|kernel[-]|' prefix; a global one and a
    MPOL_BIND one behind 'kernel: ', the Mem-Info summary joined by rsyslog's '#012'. The manual cut 'oom-killer'
    to 'oom' on the invoked lines: each still names its trigger, gfp_mask and order. Its node 1 excerpt splices in
    the oom-kill: line of another OOM: stamped 933 s between lines of 465 s, naming pid 1733 where the verdict kills
    1734. printk's clock never runs back within a boot, so the two are two kills: 1733 under node 1's memory
    policy, and 1734 whose own oom-kill: line is not shown (its constraint unknown, taken as CONSTRAINT_NONE); the
    465 s header and node 1's zone line before the splice are a report without its end."""
    text = (PUBLIC / "5.10-hce-manual-zh-syslog-pipes-mempolicy-node1-oom-kill-pid-differs.md").read_text("utf-8")
    memhog, parent, whole, node1, policy, spliced = explain_text(text)
    assert (memhog.kernel_victim.pid, memhog.trigger.comm) == (2021820, "memhog")
    assert memhog.constraint == "CONSTRAINT_MEMCG" and memhog.cause.kind == "memcg_limit"
    assert "reached its limit of 80 MiB (80 MiB in use, 30 charges failed)" in memhog.cause.text
    assert parent.kernel_victim.pid == 3238866 and "199 charges failed" in parent.cause.text
    assert whole.kernel_victim.pid == 1822 and whole.constraint == "CONSTRAINT_NONE"
    for cut in (whole, node1):  # "main invoked oom: gfp_mask=0x100dca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO), order=0"
        assert cut.trigger.comm == "main" and cut.trigger.pid is None
        assert (cut.allocation.gfp_mask, cut.allocation.order) == ("0x100dca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO)", 0)
        assert "'invoked oom-killer' line is incomplete: only its comm, gfp_mask, order read" in cut.problems[0]
    assert node1.kernel_victim is None and node1.allocation.verdict == "below the low watermark"
    assert policy.kernel_victim.pid == 1733 and policy.constraint == "CONSTRAINT_MEMORY_POLICY"
    assert policy.cause.kind == "mempolicy" and "could only use NUMA node 1: its memory policy" in policy.cause.text
    assert "numactl --preferred" in policy.advice[0] and "fit the workload to node 1" in policy.advice[0]
    assert spliced.kernel_victim.pid == 1734 and spliced.cause.kind != "mempolicy"


def test_a_choice_on_lines_that_could_not_be_read_is_not_called_missing() -> None:
    """The i.MX8MN report with its verdict's pid garbled (the oom-kill: line is console-cut before task=): the
    choice's lines are there but unread, so the cause points at them rather than saying the report ends first."""
    name = "6.1-arm64-imx8mn-netdev-page-pool-leak-cma-only-free-console-cut.mail"
    text = (PUBLIC / name).read_text(encoding="utf-8")
    assert text.count("Killed process 679 ((sd-pam))") == 1
    (e,) = explain_text(text.replace("Killed process 679 ((sd-pam))", "Killed process 6?9 ((sd-pam))"))
    assert e.kernel_victim is None
    assert "the kernel's choice is on a line that could not be read (line 167)" in e.cause.text
    assert "ends before the kernel's choice" not in e.cause.text
