"""Every dmesg line the model prints, against real lines from shared/fixtures and kernel-model.md 11."""

from oomtui.kernel import dmesg
from oomtui.kernel.state import Cgroup, MmStruct, Process, Vma
from oomtui.kernel.version import KernelVersion

V = KernelVersion


def mm(total_vm: int, anon: int, file: int, shmem: int, pgtables: int, swap: int = 0) -> MmStruct:
    m = MmStruct(1, Cgroup("/", None), pgtables)
    m.add_vma(Vma(0x1000, 0x1000 + (anon + swap) * 4096, "anon", "a", anon, swap=swap))
    m.add_vma(Vma(0x10000000000, 0x10000000000 + file * 4096, "file", "f", file))
    m.add_vma(Vma(0x20000000000, 0x20000000000 + shmem * 4096, "shmem", "s", shmem))
    rest = total_vm - anon - swap - file - shmem
    m.add_vma(Vma(0x30000000000, 0x30000000000 + rest * 4096, "anon", "unmapped", 0))
    m.anon, m.file, m.shmem, m.swapents = anon, file, shmem, swap  # (a kernel's add_vma counts them)
    return m


def proc(pid: int, comm: str, uid: int, adj: int) -> Process:
    return Process(pid, comm, Cgroup("/", None), adj, uid)


def test_6_8_task_row_and_killed_line_match_a_real_6_11_report():
    # shared/fixtures/dmesg/003 line 66 and 68
    m = mm(2628942, 1995157, 141, 0, 16052224)
    p = proc(116, "stress-ng-vm", 0, 1000)
    assert dmesg.dump_task_row(V(6, 11), p, 116, m) == (
        "[    116]     0   116  2628942  1995298  1995157      141         0 16052224        0          1000 stress-ng-vm")
    assert dmesg.killed_line(V(6, 11), "Out of memory", 116, "stress-ng-vm", m, 0, 1000) == (
        "Out of memory: Killed process 116 (stress-ng-vm) total-vm:10515768kB, anon-rss:7980628kB, "
        "file-rss:564kB, shmem-rss:0kB, UID:0 pgtables:15676kB oom_score_adj:1000")
    assert dmesg.dump_tasks_header(V(6, 11))[-1] == (
        "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name")


def test_memcg_killed_line_observed_on_6_18():
    # kernel-model.md 11.1
    m = mm(82356 // 4, 72192 // 4, 6724 // 4, 0, 200 * 1024)
    assert dmesg.killed_line(V(6, 18), "Memory cgroup out of memory", 3276, "python3", m, 0, 0) == (
        "Memory cgroup out of memory: Killed process 3276 (python3) total-vm:82356kB, anon-rss:72192kB, "
        "file-rss:6724kB, shmem-rss:0kB, UID:0 pgtables:200kB oom_score_adj:0")


def test_4_19_row_sacrifice_and_killed_lines_match_a_real_4_19_report():
    # shared/fixtures/dmesg/019 lines 234, 238, 239 (kill score computed in the report)
    m = mm(416243, 16924 // 4, 55892 // 4, 0, 1122304)
    m2 = mm(416243, 18201 - 55892 // 4, 55892 // 4, 0, 1122304)
    p = proc(23437, "QtWebEngineProc", 1000, 300)
    assert dmesg.dump_task_row(V(4, 19), p, 23437, m2) == (
        "[  23437]  1000 23437   416243    18201  1122304        0           300 QtWebEngineProc")
    assert dmesg.sacrifice_line("Out of memory", 23437, "QtWebEngineProc", 303) == (
        "Out of memory: Kill process 23437 (QtWebEngineProc) score 303 or sacrifice child")
    assert dmesg.killed_line(V(4, 19), "Out of memory", 23437, "QtWebEngineProc", m, 1000, 300) == (
        "Killed process 23437 (QtWebEngineProc) total-vm:1664972kB, anon-rss:16924kB, file-rss:55892kB, shmem-rss:0kB")
    assert dmesg.invoked_line(V(4, 19), "emerge", 0, False).endswith("nodemask=(null), order=0, oom_score_adj=0")


def test_4_9_row_and_reaper_line_match_a_real_4_9_report():
    # shared/fixtures/dmesg/020 lines 100, 124: nr_ptes/nr_pmds columns
    m = mm(295381, 127866 - 18111 - 2318, 18111, 2318, 253 * 4096, swap=1)
    p = proc(2935, "firefox.real", 10230, 0)
    assert dmesg.dump_tasks_header(V(4, 9)) == [
        "[ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name"]
    assert dmesg.dump_task_row(V(4, 9), p, 2935, m) == (
        "[ 2935] 10230  2935   295381   127866     253       0        1             0 firefox.real")
    after = mm(295381, 0, 8, 2312, 253 * 4096)
    assert dmesg.reaped_line(2935, "firefox.real", after) == (
        "oom_reaper: reaped process 2935 (firefox.real), now anon-rss:0kB, file-rss:32kB, shmem-rss:9248kB")


def test_4_14_task_table_has_nr_pmds_and_no_nr_puds():
    # 4.14 printed the 4.0 table: "mm: account pud page tables" (its nr_puds column) was posted after the 4.14 merge
    # window and merged for 4.15 with "mm: consolidate page table accounting", which made the three pgtables_bytes;
    # the model counts page tables in nr_ptes, nr_pmds is 0
    assert dmesg.dump_tasks_header(V(4, 14)) == [
        "[ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name"]
    assert dmesg.dump_task_row(V(4, 14), proc(410, "stress", 1000, 0), 410, mm(3000, 600, 0, 0, 6 * 4096)) == (
        "[  410]  1000   410     3000      600       6       0        0             0 stress")


def test_3_x_task_tables_match_real_3_2_and_3_10_reports():
    # shared/fixtures/dmesg/009 lines 72, 75 (2.6.36-3.5: cpu oom_adj); oomanalyser/003 lines 57, 59 (3.6-3.19)
    assert dmesg.dump_tasks_header(V(3, 2)) == [
        "[ pid ]   uid  tgid total_vm      rss cpu oom_adj oom_score_adj name"]
    assert dmesg.dump_task_row(V(3, 2), proc(999, "udevd", 0, -1000), 999, mm(5294, 55, 0, 0, 0)) == (
        "[  999]     0   999     5294       55   0     -17         -1000 udevd")
    assert dmesg.dump_tasks_header(V(3, 10)) == [
        "[ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name"]
    m = mm(11104, 2, 0, 0, 22 * 4096, swap=360)
    assert dmesg.dump_task_row(V(3, 10), proc(433, "systemd-udevd", 0, -1000), 433, m) == (
        "[  433]     0   433    11104        2      22      360         -1000 systemd-udevd")


def test_kill_line_prefix_and_fields_by_era():
    m = mm(100, 10, 0, 0, 4096)
    assert dmesg.killed_line(V(5, 0), "Out of memory", 1, "a", m, 0, 0).startswith("Killed process 1 (a)")
    v51 = dmesg.killed_line(V(5, 1), "Out of memory", 1, "a", m, 0, 0)
    assert v51.startswith("Out of memory: Killed process") and "UID" not in v51
    assert dmesg.killed_line(V(5, 4), "Out of memory", 1, "a", m, 0, 0).endswith("UID:0 pgtables:4kB oom_score_adj:0")


def test_summary_unable_and_group_lines():
    assert dmesg.oom_kill_summary("CONSTRAINT_MEMCG", "/probe1", "/probe1", "python3", 3276, 0) == (
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/probe1,"
        "task_memcg=/probe1,task=python3,pid=3276,uid=0")
    assert dmesg.oom_kill_summary("CONSTRAINT_NONE", None, "/", "stress-ng-vm", 116, 0) == (
        "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,"
        "task=stress-ng-vm,pid=116,uid=0")
    assert dmesg.unable_line(7, "x") == "oom_reaper: unable to reap pid:7 (x)"
    assert dmesg.oom_group_line("/pods/a") == "Tasks in /pods/a are going to be killed due to memory.oom.group set"
    assert dmesg.invoked_line(V(6, 18), "hog", -5, False) == (
        "hog invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=-5")
    assert "order=-1" in dmesg.invoked_line(V(6, 18), "kworker/0:1", 0, True)


def test_timestamps_follow_simulated_time():
    assert dmesg.stamp(0, 250) == "[    0.000000] "
    assert dmesg.stamp(501, 250) == "[    2.004000] "
    assert dmesg.stamp(3, 300) == "[    0.010000] "


def test_cpu_line_by_era():
    # dump_stack_print_info(): UID from 6.12 (shared/fixtures: a 6.11.0-10669 merge-window build has it),
    # the preemption model and a trailing space from 6.15 (tests/data/lab: the real 6.18 line)
    assert dmesg.cpu_line(V(6, 11), 7, "hog") == "CPU: 0 PID: 7 Comm: hog Not tainted 6.11.0-oomtui #1"
    assert dmesg.cpu_line(V(6, 12), 7, "hog") == "CPU: 0 UID: 0 PID: 7 Comm: hog Not tainted 6.12.0-oomtui #1"
    assert dmesg.cpu_line(V(6, 18), 7, "hog") == (
        f"CPU: 0 UID: 0 PID: 7 Comm: hog Not tainted 6.18.0-oomtui #1 {dmesg.PREEMPT_MODEL} ")


def test_a_memcg_oom_from_an_anonymous_fault_prints_the_charge_gfp_mask():
    # mem_cgroup_charge(..., GFP_KERNEL): tests/data/lab (6.18), tests/data/reports (5.10; 4.19's bit values)
    assert "gfp_mask=0xcc0(GFP_KERNEL)," in dmesg.invoked_line(V(6, 18), "hog", 0, False, memcg=True)
    assert "gfp_mask=0xcc0(GFP_KERNEL)," in dmesg.invoked_line(V(5, 10), "hog", 0, False, memcg=True)
    assert "gfp_mask=0x6000c0(GFP_KERNEL)," in dmesg.invoked_line(V(4, 19), "hog", 0, False, memcg=True)
    assert "GFP_HIGHUSER_MOVABLE" in dmesg.invoked_line(V(6, 18), "hog", 0, False)  # a global OOM: the page's


def test_memcg_usage_lines_v1_and_v2():
    cg = Cgroup("/app", Cgroup("/", None), limit=16384)
    cg.usage, cg.failcnt = 16384, 3
    # tests/data/lab/linux-6.18-memcg-oom.log (v1) and tests/data/reports/kmsg-5.10-... (v2)
    assert dmesg.memcg_lines(V(6, 18), cg, cg, v1=True) == [
        "memory: usage 65536kB, limit 65536kB, failcnt 3",
        "memory+swap: usage 65536kB, limit 65536kB, failcnt 0",
        "kmem: usage 0kB, limit 9007199254740988kB, failcnt 0",
    ]
    assert dmesg.memcg_lines(V(6, 18), cg, cg) == [
        "memory: usage 65536kB, limit 65536kB, failcnt 3",
        "swap: usage 0kB, limit 0kB, failcnt 0",
    ]
    # before 5.3 ("mm: memcontrol: dump memory.stat during cgroup OOM") v2 printed v1's lines, of the memsw and
    # kmem counters it never charges; the 5.3 v2 line is as the kmsg-5.10 report's
    assert dmesg.memcg_lines(V(5, 2), cg, None) == [
        "memory: usage 65536kB, limit 65536kB, failcnt 3",
        "memory+swap: usage 0kB, limit 9007199254740988kB, failcnt 0",
        "kmem: usage 0kB, limit 9007199254740988kB, failcnt 0",
    ]
    assert dmesg.memcg_lines(V(5, 3), cg, None)[1:] == ["swap: usage 0kB, limit 0kB, failcnt 0"]
