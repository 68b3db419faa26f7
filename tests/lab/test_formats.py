"""The lab's line-by-line comparison of dmesg formats (issue 10 section 3), on the real 6.18 reports in
tests/data/lab (read from /dev/kmsg by `oomtui lab` on this project's machine). No root needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oomtui.lab.formats import format_facts, kind, mask, not_modelled, report_lines, unstamped
from oomtui.lab.model import memcg_oom_scene, run_model
from oomtui.scene.load import loads
from oomtui.scene.sim import Simulation

DATA = Path(__file__).resolve().parents[1] / "data" / "lab"
RELEASE_618 = "6.18.44-fc-v669"


def _real(name: str) -> list[str]:
    return (DATA / f"linux-6.18-{name}.log").read_text().splitlines()


def test_mask_keeps_the_format_and_hides_the_values() -> None:
    assert mask("lab-hog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0") == (
        "COMM invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=N, oom_score_adj=N")
    assert mask("CPU: 1 UID: 0 PID: 15570 Comm: lab-hog Not tainted 6.18.44-fc-v669 #1 PREEMPT(none) ") == (
        "CPU: N UID: N PID: N Comm: COMM TAINT RELEASE #N MODEL ")
    # a 5-digit tgid fills its %5d column: one space, the same format as the model's "    0   100"
    assert mask("[  15570]     0 15570    20018    19038    17472     1566         0   196608        0             0 "
                "lab-hog") == mask("[    100]     0   100    19552    17508    15972     1536         0    24576        "
                                   "0          -999 lab hog 2")
    assert mask("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a-1,"
                "task_memcg=/a-1/b,task=lab-hog,pid=15570,uid=0") == (
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=PATH,mems_allowed=N,oom_memcg=PATH,"
        "task_memcg=PATH,task=COMM,pid=N,uid=N")
    assert mask("oom_reaper: unable to reap pid:7 (lab 9)") == "oom_reaper: unable to reap pid:N (COMM)"


def test_flag_names_and_masks_are_format() -> None:
    assert mask("x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0") != mask(
        "x invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0")
    assert mask("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null)") != mask(
        "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null)")


@pytest.mark.parametrize("name", ["memcg-oom", "frozen-victim"])
def test_the_model_prints_every_line_of_the_real_618_reports_in_their_format(name: str) -> None:
    real = _real(name)
    model = run_model(name, RELEASE_618, None).dmesg
    facts = format_facts(real, model)
    assert [f for f in facts if not f["agree"]] == []
    kinds = {f["fact"] for f in facts}
    assert {"dmesg.invoked", "dmesg.CPU", "dmesg.memory", "dmesg.memory+swap", "dmesg.kmem", "dmesg.dump_tasks row",
            "dmesg.oom-kill", "dmesg.Killed process"} <= kinds
    # the call trace, registers and memory.stat dump are set aside, not silently matched
    assert not_modelled(real)["dump_stack"] > 10 and not_modelled(real)["memory.stat"] > 10
    assert not_modelled(model) == {}


def test_a_format_difference_is_a_disagreement() -> None:
    real = _real("memcg-oom")
    model = run_model("memcg-oom", RELEASE_618, None).dmesg
    # the model before this comparison existed: the page's gfp mask, no UID or preemption model, v2 lines
    drifted = [ln.replace("0xcc0(GFP_KERNEL)", "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)") for ln in model]
    drifted = [ln.replace(" UID: 0", "") if kind(ln) == "CPU" else ln for ln in drifted]
    drifted = [ln for ln in drifted if kind(ln) not in ("memory+swap", "kmem")] + ["swap: usage 0kB, limit 0kB, failcnt 0"]
    differ = {f["fact"]: (f["real"], f["model"]) for f in format_facts(real, drifted) if not f["agree"]}
    assert set(differ) == {"dmesg.invoked", "dmesg.CPU", "dmesg.memory+swap", "dmesg.kmem", "dmesg.swap"}
    assert differ["dmesg.swap"][0] is None and differ["dmesg.kmem"][1] is None


def test_report_lines_keep_only_the_experiments_reports() -> None:
    ours = _real("memcg-oom")  # lab-hog, pid 15885
    other = [ln.replace("15885", "999") for ln in ours]  # another process's memcg OOM on the machine
    assert other != ours
    lines = ["audit: type=1400 something else"] + other + ours + [
        "oom_reaper: reaped process 15885 (lab-hog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
        "oom_reaper: reaped process 999 (lab-hog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
    ]
    assert report_lines(lines, {15885}) == ours + [lines[-2]]
    assert report_lines(lines[:len(other) // 2]) == []  # a report cut before its Killed line is no report
    # the frozen-victim run held two reports: the victim's (15975), then the allocating process's (15994)
    two = _real("frozen-victim")
    assert [kind(ln) for ln in report_lines(two, {15975, 15994})].count("invoked") == 2
    assert [kind(ln) for ln in report_lines(two, {15975})].count("invoked") == 1


def test_the_scene_says_which_cgroup_version_the_memcg_is_on() -> None:
    v1 = memcg_oom_scene()
    v2 = re.sub(r'(?m)^memcg = "v1".*$', "", v1)
    assert v2 != v1

    def usage_lines(text: str) -> list[str]:
        out = Simulation(loads(text, "lab"), "linux-6.18", None).run()
        return [kind(ln) for ln in unstamped(out.dmesg) if kind(ln) in ("memory", "memory+swap", "kmem", "swap")]

    assert usage_lines(v1) == ["memory", "memory+swap", "kmem"]
    assert usage_lines(v2) == ["memory", "swap"]  # the default: cgroup v2, as every scene before
