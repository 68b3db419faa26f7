"""Real OOM reports out of kernel log lines: grouped, explained, the reaper line attached."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from oomtui.errors import UserError
from oomtui.lab.kmsg import KmsgLine
from oomtui.watch.events import Collector, journal_line, parse_since

REPORTS = Path(__file__).resolve().parents[1] / "data" / "reports"


def kmsg_records(path: Path) -> list[KmsgLine]:
    """/dev/kmsg records "prio,seq,usec,flags;text" (continuation lines " KEY=value" left out, as Kmsg does)."""
    out = []
    for rec in path.read_text().splitlines():
        if rec.startswith(" "):
            continue
        head, _, text = rec.partition(";")
        out.append(KmsgLine(int(head.split(",")[2]), text))
    return out


def test_two_reports_become_two_explained_events() -> None:
    lines = kmsg_records(REPORTS / "kmsg-5.10-two-reports-global-and-memcg.log")
    lines.append(KmsgLine(913_500_000, "oom_reaper: reaped process 1510 (cache-warmer), now anon-rss:0kB, "
                                       "file-rss:0kB, shmem-rss:0kB"))
    c = Collector()
    first = c.feed(lines[:14])  # up to and including the first "Killed process" line
    assert [e.victim for e in first] == [(900, "stress-ng")]
    rest = c.feed(lines[14:])
    assert [e.victim for e in rest] == [(1510, "cache-warmer")]
    g, m = c.events
    assert (g.usec, g.explanation.constraint, g.explanation.agree) == (812_000_000, "CONSTRAINT_NONE", True)
    assert g.summary() == "OOM in the whole machine: killed stress-ng (900); model agrees"
    assert m.memcg == "/jobs/batch" and m.explanation.agree
    assert m.summary() == "OOM in memcg /jobs/batch: killed cache-warmer (1510); model agrees"
    assert m.reaper == [lines[-1].text] and g.reaper == []
    assert m.lines[0].startswith("worker invoked oom-killer") and "Killed process 1510" in m.lines[-1]


def test_with_cgroup_only_its_memcg_ooms_and_the_machines_are_kept() -> None:
    lines = kmsg_records(REPORTS / "kmsg-5.10-two-reports-global-and-memcg.log")
    assert [e.memcg for e in Collector("/jobs").feed(lines)] == [None, "/jobs/batch"]
    assert [e.memcg for e in Collector("/web").feed(lines)] == [None]
    assert [e.memcg for e in Collector("/jobs/b*").feed(lines)] == [None, "/jobs/batch"]


def test_lines_before_a_report_and_an_unfinished_report_give_nothing() -> None:
    c = Collector()
    assert c.feed([KmsgLine(1, "Killed process 5 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB"),
                   KmsgLine(2, "a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"),
                   KmsgLine(3, "Mem-Info:")]) == []
    assert c.pending is not None and len(c.pending) == 2


def test_journal_lines() -> None:
    assert journal_line("[  812.000169] kernel: Out of memory: Killed process 900 (stress-ng)") == \
        KmsgLine(812_000_169, "Out of memory: Killed process 900 (stress-ng)")
    assert journal_line("-- Boot 4b1f... --") is None


def test_since() -> None:
    now = time.mktime((2026, 12, 1, 17, 0, 0, 0, 0, -1))
    assert parse_since("10m", now) == now - 600
    assert parse_since("1.5h", now) == now - 5400
    assert parse_since("16:30", now) == now - 1800
    assert parse_since("2026-12-01 16:59:30", now) == now - 30
    assert parse_since("boot", now) is None
    with pytest.raises(UserError, match="--since 'yesterday'"):
        parse_since("yesterday", now)


def test_an_event_replays_as_a_scene(tmp_path) -> None:
    """What `r` hands to `oomtui play`: the report's text, which loads as a playable scene."""
    from oomtui.scene.load import load_playable

    c = Collector()
    [_, event] = c.feed(kmsg_records(REPORTS / "kmsg-5.10-two-reports-global-and-memcg.log"))
    path = tmp_path / "oom.log"
    path.write_text(event.text)
    ls = load_playable(str(path))
    assert {p.pid for p in ls.scene.processes} >= {1500, 1510}
