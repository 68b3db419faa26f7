"""Logs of many machines (a central syslog server's, `journalctl -m`): each line's syslog host says whose it is, and
machines that OOM at once interleave their reports line by line. Each report must read as it does alone."""

from __future__ import annotations

import itertools
import json
import re

import msgspec
import pytest

from oomtui.importers.explain import explain_text
from oomtui.importers.report import kernel_lines, parse_reports

from .test_pasted import COMPLETE, _read

PAIRS = [(a, b) for a, b in zip(COMPLETE, COMPLETE[1:] + COMPLETE[:1])]
# two host-name styles: names, and addresses whose digits have the same shape (a task row's prefix shape must not
# take the other machine's rows)
HOSTS = [("web-1", "db-2"), ("10.0.0.5", "10.0.0.6")]


def _syslog(text: str, host: str) -> list[str]:
    return [f"Dec  1 10:00:00 {host} kernel: {line}" for line in text.splitlines() if line.strip()]


def _interleave(*logs: list[str]) -> str:
    return "\n".join(line for group in itertools.zip_longest(*logs) for line in group if line is not None) + "\n"


def _facts(e) -> dict:
    """An explanation without its line numbers (which interleaving changes)."""
    d = json.loads(msgspec.json.encode(e))
    del d["index"], d["lines"]
    for t in d["tasks"]:
        t.pop("line", None)
    return json.loads(re.sub(r"\blines? \d+(?:\.\.\d+)?", "line N", json.dumps(d)))


@pytest.mark.parametrize("hosts", HOSTS, ids=["names", "addresses"])
@pytest.mark.parametrize("a,b", PAIRS, ids=[f"{a.name[:3]}+{b.name[:3]}" for a, b in PAIRS])
def test_two_machines_line_by_line_read_as_alone(a, b, hosts):
    alone = [explain_text("\n".join(_syslog(_read(p), h)) + "\n") for p, h in zip((a, b), hosts)]
    both = explain_text(_interleave(*(_syslog(_read(p), h) for p, h in zip((a, b), hosts))))
    assert sorted(e.host for e in both) == sorted(h for h, own in zip(hosts, alone) for _ in own)
    for host, own in zip(hosts, alone):
        mine = [e for e in both if e.host == host]
        assert [_facts(e) for e in mine] == [_facts(e) for e in own]


def _report(host: str, comm: str) -> list[str]:
    """A small global OOM whose victim is pid 300."""
    return _syslog(
        f"{comm} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n"
        f"CPU: 0 PID: 300 Comm: {comm} Not tainted 5.15.0-91-generic #101-Ubuntu\n"
        "Tasks state (memory values in pages):\n"
        "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\n"
        f"[    300]  1000   300    20000     9000    81920        0             0 {comm}\n"
        f"[    301]  1000   301    20000     1000    81920        0             0 other\n"
        "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,"
        f"task={comm},pid=300,uid=1000\n"
        f"Out of memory: Killed process 300 ({comm}) total-vm:80000kB, anon-rss:36000kB, file-rss:0kB, "
        "shmem-rss:0kB, UID:1000 pgtables:80kB oom_score_adj:0\n", host)


def test_the_reaper_line_of_another_machine_is_not_taken():
    """Two machines kill a task of the same pid: each one's reaper line goes to its own report."""
    a, b = _report("web-1", "java"), _report("web-2", "java")
    a.append("Dec  1 10:00:01 web-1 kernel: oom_reaper: reaped process 300 (java), now anon-rss:0kB, file-rss:0kB, "
             "shmem-rss:0kB")
    rs = parse_reports(_interleave(a, b) + "Dec  1 10:00:02 web-2 kernel: some other line\n")
    assert [(r.host, len(r.tasks), r.victim()[0]) for r in rs] == [("web-1", 2, 300), ("web-2", 2, 300)]
    assert [len(r.reaper) for r in rs] == [1, 0]


def test_more_machines_at_once_than_reports_held_open():
    """A fleet's OOMs at once: more machines interleaved than the reports kept open for late lines (8)."""
    path = COMPLETE[0]
    hosts = [f"node{i}" for i in range(12)]
    rs = parse_reports(_interleave(*(_syslog(_read(path), h) for h in hosts)))
    alone = parse_reports(_read(path))
    assert sorted(r.host for r in rs) == sorted(hosts)
    assert {(len(r.tasks), r.victim()[:2]) for r in rs} == {(len(alone[0].tasks), alone[0].victim()[:2])}


def test_the_marks_are_not_kernel_lines():
    text = _interleave(_syslog("a\nb", "web-1"), _syslog("c\nd", "web-2"))
    assert [s for _, s in kernel_lines(text)] == ["a", "c", "b", "d"]


def test_a_victim_reaped_on_one_machine_is_no_victim_of_another():
    """MMF_OOM_SKIP is set on one machine's mm: the same pid and comm on another machine is still a candidate."""
    reaped = "Dec  1 10:00:01 web-1 kernel: oom_reaper: reaped process 300 (java), now anon-rss:0kB"
    one, other = (explain_text("\n".join(_report("web-1", "java") + [reaped] + _report(h, "java")) + "\n")
                  for h in ("web-1", "web-2"))
    assert [(e.host, e.agree) for e in one] == [("web-1", True), ("web-1", False)]  # the same machine: skipped
    assert [(e.host, e.agree) for e in other] == [("web-1", True), ("web-2", True)]


def test_a_merged_journal_of_json_records_is_read_apart_by_hostname(tmp_path) -> None:
    """`journalctl -m -o json`: each record's _HOSTNAME and the kernel's own clock (_SOURCE_MONOTONIC_TIMESTAMP) are
    read as a syslog line's, so two machines' records interleaved read as each machine's alone."""
    from oomtui.importers.report import read_input

    def records(path, host: str) -> list[str]:
        out = []
        for i, line in enumerate(_read(path).splitlines()):
            m = re.match(r"\[\s*(\d+)\.(\d+)\] ?(.*)", line)
            mono = {"_SOURCE_MONOTONIC_TIMESTAMP": str(int(m[1]) * 10**6 + int(m[2]))} if m else {}
            out.append(json.dumps({"__REALTIME_TIMESTAMP": str(1733133600 * 10**6 + i), "_HOSTNAME": host,
                                   "_TRANSPORT": "kernel", **mono, "MESSAGE": m[3] if m else line}))
        return out

    a, b = PAIRS[0]
    f = tmp_path / "merged.json"
    f.write_text(_interleave(records(a, "web-1"), records(b, "db-2")), encoding="utf-8")
    both = explain_text(read_input(str(f)))
    alone = [explain_text(_read(p)) for p in (a, b)]
    assert sorted(e.host for e in both) == sorted(["web-1"] * len(alone[0]) + ["db-2"] * len(alone[1]))
    for host, own in zip(("web-1", "db-2"), alone):
        mine = [e for e in both if e.host == host]
        assert [(e.kernel_victim, e.model_victim, e.agree, e.era, len(e.tasks)) for e in mine] == [
            (e.kernel_victim, e.model_victim, e.agree, e.era, len(e.tasks)) for e in own]
