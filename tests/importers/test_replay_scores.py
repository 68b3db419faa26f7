"""Issue 9 §2/§4: a real pre-4.17 report replayed (`oomtui import` / `oomtui play REPORT.log`) scores as `oomtui
explain` does: the era's rules, explain's CAP_SYS_ADMIN assumption carried into the scene (`cap_sys_admin = true`),
the same victim and the same printed "score %u" in the dmesg the model writes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from oomtui.importers.explain import Explanation, explain_text
from oomtui.importers.to_scene import import_report
from oomtui.kernel import events as ev
from oomtui.scene.load import loads
from oomtui.scene.sim import Simulation

from .test_era_scores import F003, F009, F020, LXC_1110, XFS_803, _as_root
from .test_pasted import PUBLIC, _read
from .test_report import DATA

F005 = F003.with_name("005-rhel7-3.10.0-514-global-numa-java-2017-original-HISTORY.log")
RHEL6 = DATA / "rhel6-2.6.32-messages-uid-verdict.log"
OLD = [F009, F003, F005, F020, RHEL6, DATA / "4.14-nodemask-nr_puds-tie-first-leader.log",
       DATA / "4.15-narrow-pgtables-dmesg-T-sacrifice-child.log", LXC_1110, XFS_803]  # fmt: skip


def _replay(text: str) -> tuple[Explanation, dict, ev.OomSelected, int, int]:
    """explain's reading, the imported scene (as TOML data), the replay's first OOM decision, the pid it killed
    and the score it printed. The replay's own dmesg explains back to the same choice, in the same era."""
    (e,) = explain_text(text)
    imported = import_report(text, "report.log")
    s = Simulation(loads(imported.text, "report.toml"))
    out = s.run()
    sel = next(x for x in s.k.events if isinstance(x, ev.OomSelected))
    score = next(int(m[1]) for x in s.k.events if isinstance(x, ev.Dmesg)
                 and (m := re.search(r"score (\d+) or sacrifice child", x.line)))  # fmt: skip
    (back,) = explain_text("\n".join(out.dmesg))
    assert back.agree and back.era == e.era and back.era_conflicts == [] and back.printed_score == score
    return e, tomllib.loads(imported.text), sel, out.killed_pids("oom")[0], score


def _tgid(e: Explanation, pid: int) -> int:
    return next(t.tgid for t in e.tasks if t.pid == pid)


def _assert_ranks_as_explain(e: Explanation, sel: ev.OomSelected) -> None:
    """Every candidate the replay scored has explain's points (by process), and the same one is chosen: a row with
    less rss than the TLS block every scene process gets (TLS_PAGES) gives those pages up from its swap."""
    rows = {}
    for t in e.tasks:
        rows.setdefault(t.tgid, t)
    scored = [(c.pid, c.points) for c in sel.candidates if c.points is not None]
    assert scored and scored == [(pid, rows[pid].points) for pid, _ in scored]
    assert sel.victim_pid == _tgid(e, e.model_victim.pid)


@pytest.mark.parametrize("path", OLD, ids=lambda p: p.name[:30])
def test_an_old_report_replays_with_explains_scores_and_the_kernels(path: Path) -> None:
    e, scene, sel, killed, score = _replay(_read(path))
    assert scene["kernel"] == e.era and e.agree
    _assert_ranks_as_explain(e, sel)
    assert killed == _tgid(e, e.kernel_victim.pid)  # the kernel's victim (a sacrificed child before 5.1)
    assert score == e.model_score
    if e.score_check.agree:
        assert score == e.printed_score  # the kernel's own "score %u"
    else:  # 3.2's dump has no swapents/nr_ptes: explain and the replay count rss only
        assert e.score_check.agree is None and score <= e.printed_score <= e.score_check.model_max


# Each: a real report with one uid-0 process whose printed score only the CAP_SYS_ADMIN bonus of its era reproduces.
CAP_CASES = {
    # 3.10 (3.8-3.13: adj -= 30): mysqld as root; the kernel printed 621 instead of 651
    "3.10-adj-30": (F003, 6576, "score 651 or", "score 621 or", 621),
    # 4.9 (3.14-4.16: points -= points * 3 / 100): firefox as root; 98 -> 95
    "4.9-points-3pct": (F020, 2935, "score 98 or", "score 95 or", 95),
    # 3.2 (2.6.36-3.7: -30 of 1000): xfs_db is root already; a printed 840 is below the 863..990 that rss, swap and
    # page tables can make without the bonus, within 833..960 with it (the dump has no swapents/nr_ptes columns)
    "3.2-minus-30": (F009, 11341, "score 944 or", "score 840 or", 833),
}


@pytest.mark.parametrize("case", CAP_CASES)
def test_explains_cap_sys_admin_assumption_is_replayed(case: str) -> None:
    path, pid, old, new, replay_score = CAP_CASES[case]
    text = _as_root(_read(path), pid).replace(old, new)
    e, scene, sel, killed, score = _replay(text)
    assert e.cap_sys_admin.startswith("only ") and f"({pid}) holds CAP_SYS_ADMIN" in e.cap_sys_admin
    assert [p["pid"] for p in scene["processes"] if p.get("cap_sys_admin")] == [pid]
    _assert_ranks_as_explain(e, sel)
    assert sel.victim_pid == killed == pid and score == e.model_score == replay_score
    if e.score_check.agree:
        assert score == e.printed_score
    # without the capability the same scene prints a higher score: the bonus is what reproduces it
    plain = import_report(text, "report.log").text.replace("cap_sys_admin = true\n", "")
    s = Simulation(loads(plain, "plain.toml"))
    s.run()
    assert not any(f"score {score} or" in x.line for x in s.k.events if isinstance(x, ev.Dmesg))


# Real reports that print no totalpages (no Mem-Info, no memcg usage line) but a "score %u" that pins it to a range:
# the scene takes its totalpages from that range, so the replay prints the kernel's own score.
PINNED = {
    "memcg-v1-1858": ("4.19-photon-vmware-log-guest-prefix-memcg-v1-score1858-two-excerpts.md", 1),
    "global-892": ("4.4-rc6-next-linux-mm-order-first-header-snipped-sysrq-children.mail", 1),
    "2.6.36-3.7-memcg-1000": ("3.x-linux-mm-memcg-syslog-cut-score1000-cap-tie.mail", 1),
}


def _first_decision(text: str, index: int) -> tuple[Explanation, Simulation, ev.OomInvoked]:
    e = explain_text(text)[index - 1]
    s = Simulation(loads(import_report(text, "report.log", index).text, "report.toml"))
    s.run()
    return e, s, next(x for x in s.k.events if isinstance(x, ev.OomInvoked))


@pytest.mark.parametrize("case", PINNED)
def test_a_printed_score_pins_an_unknown_totalpages_in_the_replay(case: str) -> None:
    name, index = PINNED[case]
    e, s, invoked = _first_decision(_read(PUBLIC / name), index)
    low, high = e.totalpages_range
    assert e.totalpages is None and low <= invoked.totalpages <= high
    printed = [int(m[1]) for x in s.k.events if isinstance(x, ev.Dmesg) and (m := re.search(r"score (\d+) or", x.line))]
    assert printed[0] == e.printed_score


def test_a_memcg_limit_not_printed_is_its_charge_by_its_stats() -> None:
    """16 KiB pages, a v1 memcg whose usage line was not pasted: the scene's limit is what memory.stat shows charged
    (explain's lowest totalpages), and the replay's points are explain's in 4 KiB pages (adj * (totalpages / 1000)
    rounds at a different unit: within |adj| * 4)."""
    e, s, invoked = _first_decision(_read(PUBLIC / "4.19-loongarch64-16k-notes-zh-dmesg-T-k8s-memcg-v1-run-together-"
                                                   "suppressed.md"), 1)  # fmt: skip
    assert e.page_size == 16384 and invoked.totalpages == e.totalpages_range[0] * 4
    sel = next(x for x in s.k.events if isinstance(x, ev.OomSelected))
    rows = {t.tgid: t for t in e.tasks}
    for c in sel.candidates:
        assert abs(c.points - rows[c.pid].points * 4) < max(abs(rows[c.pid].oom_score_adj) * 4, 1)
