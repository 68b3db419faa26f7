"""`oomtui import`: every complete real report becomes a scene whose OOM kills the kernel's victim."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from oomtui.cli import main as cli_main
from oomtui.errors import UserError
from oomtui.importers.facts import find_row
from oomtui.importers.report import parse_reports
from oomtui.importers.to_scene import import_report, toml_str
from oomtui.kernel.policy import policy_for_version
from oomtui.kernel.version import KernelVersion
from oomtui.scene.actions import do_name
from oomtui.scene.load import load_scene, loads, parse_scene
from oomtui.scene.sim import Simulation
from oomtui.scene.units import parse_pages

from .test_report import DATA, SHARED


def _complete_fixtures() -> list[Path]:
    rows = csv.DictReader(
        (line for line in (SHARED / "oomanalyser" / "expected.tsv").open() if not line.startswith("# ") or "file" in line),
        delimiter="\t",
    )
    analyser = [SHARED / "oomanalyser" / r["# file"] for r in rows if r["complete"] == "yes"]
    return analyser + sorted((SHARED / "dmesg").glob("*.log"))


def _kernel_victim(text: str, index: int = 1) -> int:
    """The pid the kernel killed (the sacrificed child before 5.1), as the tgid of its task-dump row."""
    r = parse_reports(text)[index - 1]
    row = find_row(r, r.killed.pid)
    return row.tgid


def _first_oom_kill(toml: str, name: str = "imported.toml") -> int:
    out = Simulation(loads(toml, name)).run()
    return next(k.pid for k in out.kills if k.reason == "oom")


# --- round trip on the real reports -------------------------------------------------------------------


@pytest.mark.parametrize("path", _complete_fixtures(), ids=lambda p: p.name)
def test_fixture_replay_kills_the_kernels_victim(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "scene.toml"
    assert cli_main(["import", str(path), "-o", str(out)]) == 0
    sim = Simulation(load_scene(str(out)))
    outcome = sim.run()
    oom = [k for k in outcome.kills if k.reason == "oom"]
    assert oom, outcome.kills
    assert oom[0].pid == _kernel_victim(path.read_text(encoding="utf-8"))


def test_fixture_list_is_not_empty() -> None:
    assert len(_complete_fixtures()) >= 9


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("4.14-nodemask-nr_puds-tie-first-leader.log", 1),
        ("4.15-narrow-pgtables-dmesg-T-sacrifice-child.log", 1),
        ("4.19-memcg-v1-var-log-messages.log", 1),
        ("5.14-ppc64le-64k-pages.log", 1),
        ("5.4-mail-quoted-wrapped.log", 1),
        ("6.8-rss-columns-journalctl-tie-later-wins.log", 1),
        ("kmsg-5.10-two-reports-global-and-memcg.log", 1),
        ("kmsg-5.10-two-reports-global-and-memcg.log", 2),
        ("rhel6-2.6.32-messages-uid-verdict.log", 1),
    ],
)
def test_synthetic_data_replays(name: str, index: int) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    imp = import_report(text, name, index)
    assert imp.victim_pid == _kernel_victim(text, index)
    assert _first_oom_kill(imp.text) == imp.victim_pid


def test_sacrifice_child_is_declared_a_child() -> None:
    name = "4.15-narrow-pgtables-dmesg-T-sacrifice-child.log"
    imp = import_report((DATA / name).read_text(encoding="utf-8"), name)
    scene = tomllib.loads(imp.text)
    child = next(p for p in scene["processes"] if p["pid"] == 501)
    assert child["parent"] == 500
    assert imp.victim_pid == 501


def test_64k_pages_are_scaled_to_4k() -> None:
    name = "5.14-ppc64le-64k-pages.log"
    text = (DATA / name).read_text(encoding="utf-8")
    imp = import_report(text, name)
    r = parse_reports(text)[0]
    scene = parse_scene(imp.text)
    # totalram in 64 KiB pages -> 16 times as many 4 KiB pages
    assert parse_pages(scene.ram) == (r.ram_pages - (r.reserved_pages or 0)) * 16


# --- the scene text ------------------------------------------------------------------------------------


GLOBAL_REPORT = """\
[  100.000001] bigjob invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0
[  100.000002] CPU: 1 PID: 400 Comm: bigjob Not tainted 6.20.0-test #1
[  100.000003] Free swap  = 0kB
[  100.000004] Total swap = 40000kB
[  100.000005] 30000 pages RAM
[  100.000006] 0 pages HighMem/MovableOnly
[  100.000007] 1000 pages reserved
[  100.000008] Tasks state (memory values in pages):
[  100.000009] [  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name
[  100.000010] [      1]     0     1     5000     1000      900      100        0    40960        0             0 systemd
[  100.000011] [    300]  1000   300     9000     5000     4000      500      500    81920      100          -100 we "ird\\ name
[  100.000012] [    401]  1000   400    12000     8000     8000        0        0    98304        0             0 bigjob
[  100.000013] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=bigjob,pid=400,uid=1000
[  100.000014] Out of memory: Killed process 400 (bigjob) total-vm:48000kB, anon-rss:32000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:96kB oom_score_adj:0
"""

MEMCG_REPORT = """\
Aug 12 03:54:03 host kernel: loader invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
Aug 12 03:54:03 host kernel: CPU: 0 PID: 300 Comm: loader Not tainted 6.6.0-test #1
Aug 12 03:54:03 host kernel: memory: usage 1048576kB, limit 1048576kB, failcnt 12
Aug 12 03:54:03 host kernel: swap: usage 0kB, limit 0kB, failcnt 0
Aug 12 03:54:03 host kernel: Tasks state (memory values in pages):
Aug 12 03:54:03 host kernel: [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name
Aug 12 03:54:03 host kernel: [    100]     0   100   200000   100000   409600        0             0 db
Aug 12 03:54:03 host kernel: [    200]     0   200   100000    60000   245760        0           500 worker
Aug 12 03:54:03 host kernel: [    300]     0   300    10000     5000    40960        0             0 loader
Aug 12 03:54:03 host kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/app/web,task_memcg=/app/web,task=loader,pid=300,uid=0
Aug 12 03:54:03 host kernel: Memory cgroup out of memory: Killed process 200 (worker) total-vm:400000kB, anon-rss:240000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:240kB oom_score_adj:500
"""


def test_synthetic_memcg_report() -> None:
    imp = import_report(MEMCG_REPORT, "memcg.log")
    scene = parse_scene(imp.text)
    assert [c.path for c in scene.cgroups] == ["/app", "/app/web"]
    assert parse_pages(scene.cgroups[1].memory_max) == 262144  # 1 GiB limit
    assert [p.pid for p in scene.processes] == [100, 200, 300]
    assert all(p.cgroup == "/app/web" for p in scene.processes)
    (action,) = scene.actions
    assert (do_name(action), action.at, action.cgroup) == ("oom", "1s", "/app/web")
    assert parse_pages(scene.ram) >= 262144
    # the bigger db loses to worker's adj +500 against the memcg's totalpages: the limit decides
    assert imp.victim_pid == 200
    assert _first_oom_kill(imp.text) == 200
    assert scene.policy == "linux-5.18" and scene.kernel == "6.6"


def test_scene_fields_from_the_dump() -> None:
    imp = import_report(GLOBAL_REPORT, "global.log")
    scene = parse_scene(imp.text)
    assert imp.text.startswith("#:schema ./oomtui-scene.schema.json\n"
                               "# imported by oomtui import from global.log, report 1 of 1\n")
    assert scene.policy == "linux-6.18" and scene.kernel == "6.20" and scene.hz == 250 and scene.duration == "4s"
    assert parse_pages(scene.ram) == 29000 and parse_pages(scene.swap) == 10000
    init, odd, big = scene.processes
    assert init.init and init.pid == 1
    assert odd.comm == 'we "ird\\ name' and odd.uid == 1000 and odd.oom_score_adj == -100
    assert parse_pages(odd.rss) == 4000 - 20 and parse_pages(odd.file_rss) == 500 and parse_pages(odd.swap) == 100
    assert parse_pages(odd.pgtables) == 20
    assert [s.name for s in scene.shm] == ["shmem-300"] and parse_pages(scene.shm[0].size) == 500
    assert odd.vmas[0].kind == "shmem" and odd.vmas[0].shm == "shmem-300"
    assert big.pid == 400  # the row's tid 401 is a thread of tgid 400
    assert "bigjob (400) invoked the OOM killer" in scene.actions[0].caption
    assert "100.000 s after boot" in scene.actions[0].caption
    assert "global.log" in scene.story and "6.20.0-test" in scene.story and "bigjob (400)" in scene.story
    assert scene.source.startswith("global.log")
    # the model's counters equal the dump's
    sim = Simulation(loads(imp.text, "x"))
    mm = sim.k.pids[300].mm
    assert (mm.anon, mm.file, mm.shmem, mm.swapents, mm.pgtables_bytes) == (4000, 500, 500, 100, 81920)
    assert _first_oom_kill(imp.text) == 400


def test_an_older_dumps_victim_takes_file_and_shmem_from_its_killed_line() -> None:
    """Before 6.8 a row has rss only: the victim's row is split as its Killed line's anon/file/shmem-rss (kB at
    kill time), the other rows are all anon."""
    path = SHARED / "oomanalyser" / "004-ubuntu-21.10-5.13-sysrq-manual-global-unattended-upgr.log"
    text = path.read_text(encoding="utf-8")
    r = parse_reports(text)[0]
    scene = parse_scene(import_report(text, path.name).text)
    victim = next(p for p in scene.processes if p.pid == _kernel_victim(text))
    assert (r.killed.file_rss_kb, r.killed.shmem_rss_kb) == (12548, 0)
    assert parse_pages(victim.file_rss) * 4 == 12548 and parse_pages(victim.rss) * 4 == 20848 - 12548
    assert not any(p.file_rss for p in scene.processes if p is not victim)


def test_ram_is_raised_to_hold_the_listed_rss() -> None:
    text = GLOBAL_REPORT.replace("30000 pages RAM", "10000 pages RAM")  # totalram 9000 < the rss listed
    imp = import_report(text, "small.log")
    scene = parse_scene(imp.text)
    assert "# ram raised by" in imp.text
    ram, swap = parse_pages(scene.ram), parse_pages(scene.swap)
    assert ram > 9000
    assert ram + swap == 9000 + 10000  # totalpages kept: swap lowered by as much
    assert _first_oom_kill(imp.text) == 400


def test_byte_stable(tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    src = tmp_path / "r.log"
    src.write_text(GLOBAL_REPORT, encoding="utf-8")
    assert cli_main(["import", str(src), "-o", str(a)]) == 0
    assert cli_main(["import", str(src), "-o", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert import_report(GLOBAL_REPORT, "r.log").text == a.read_text(encoding="utf-8")


def test_old_kernel_story_says_no_reaper() -> None:
    text = (DATA / "rhel6-2.6.32-messages-uid-verdict.log").read_text(encoding="utf-8")
    scene = parse_scene(import_report(text, "rhel6.log").text)
    assert scene.policy == "linux-4.6" and scene.kernel == "2.6"
    assert "no OOM reaper" in " ".join(scene.story.split())  # (the story is wrapped prose)
    assert scene.story.startswith("Imported from rhel6.log (report 1 of 1, host web01, lines 1-18)")


@pytest.mark.parametrize(
    ("version", "policy"),
    [((2, 6), "linux-4.6"), ((4, 19), "linux-4.6"), ((5, 17), "linux-4.6"), ((5, 18), "linux-5.18"),
     ((6, 17), "linux-5.18"), ((6, 18), "linux-6.18"), ((7, 0), "linux-6.18")],
)  # fmt: skip
def test_policy_for_era(version: tuple[int, int], policy: str) -> None:
    assert policy_for_version(KernelVersion(*version)) == policy


def test_toml_str_escapes() -> None:
    for s in ['a"b', "c\\d", "tab\there", "ctl\x01x", "ünï"]:
        assert tomllib.loads(f"x = {toml_str(s)}")["x"] == s


# --- errors ---------------------------------------------------------------------------------------------


def test_no_task_dump_is_a_user_error() -> None:
    text = "\n".join(line for line in GLOBAL_REPORT.splitlines() if "[  " not in line[15:] or "pid" in line)
    text = "\n".join(line for line in text.splitlines() if "] [" not in line)
    with pytest.raises(UserError, match=r"cannot build a scene: no task dump, .* the kernel printed none "
                                        r"\(vm.oom_dump_tasks=0\), or the paste left it out; paste the whole report"):
        import_report(text, "nodump.log")


# Real reports without a task dump: the one-line error says why, as far as the report's lines tell, and what helps.
NO_DUMP = {
    "closing-lines-only": ("5.8-linux-mm-quoted-cpuset-movable-node-only-no-dump.mail", 2,
                           "report 2 (line 60): cannot build a scene: no task dump, so the processes the kernel chose "
                           "from are unknown: the report has only its closing line(s) ('oom_reaper'), not the "
                           "task dump the kernel prints before them; paste the whole report"),
    "before-2.6.25": ("2.6.24-rt-i386-forum-bbcode-font-killed-child-badness78749.md", 1,
                      "Linux 2.6.24-21-rt prints none (vm.oom_dump_tasks came in 2.6.25)"),
    "whole-but-none": ("4.18-3.10-linux-mm-patch-indented-memcg-nodump-three-reports.mail", 3,
                       "the kernel printed none (vm.oom_dump_tasks=0), or the paste left it out"),
    "cut-off": ("5.4-s390x-stable-patch-kernel-prefix-order3-header-only.mail", 1,
                "the report stops at line 42, before any task dump or verdict (cut off?)"),
    "grep-kept-the-header": ("6.x-rpi5-blog-ja-dmesg-T-egrep-filtered.md", 1,
                             "the task dump has a header (line 13) but no rows it could read"),
}


@pytest.mark.parametrize("case", NO_DUMP)
def test_a_real_report_without_a_task_dump_is_refused_saying_why(case: str, tmp_path: Path, capsys) -> None:
    name, index, why = NO_DUMP[case]
    rc, out, err = _cli(["import", str(SHARED / "public" / name), "-o", str(tmp_path / "x.toml"), "--report",
                         str(index)], capsys)  # fmt: skip
    assert rc == 2 and out == "" and err.count("\n") == 1 and why in err and "Traceback" not in err
    assert not (tmp_path / "x.toml").exists()


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    rc = cli_main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_report_out_of_range(tmp_path: Path, capsys) -> None:
    src = tmp_path / "r.log"
    src.write_text(GLOBAL_REPORT, encoding="utf-8")
    rc, _, err = _cli(["import", str(src), "-o", str(tmp_path / "x.toml"), "--report", "3"], capsys)
    assert rc == 2
    assert "no report 3: the file has 1 OOM report" in err and "Traceback" not in err
    assert not (tmp_path / "x.toml").exists()


def test_cli_two_reports(tmp_path: Path, capsys) -> None:
    src = DATA / "kmsg-5.10-two-reports-global-and-memcg.log"
    rc, _, err = _cli(["import", str(src), "-o", str(tmp_path / "x.toml"), "--report", "0"], capsys)
    assert rc == 2 and "the file has 2 OOM reports (--report 1..2)" in err
    rc, out, _ = _cli(["import", str(src), "-o", str(tmp_path / "x.toml"), "--report", "2"], capsys)
    assert rc == 0
    assert out.startswith(f"wrote {tmp_path / 'x.toml'}: ")
    assert "report 2 of 2" in (tmp_path / "x.toml").read_text(encoding="utf-8")


def test_cli_no_task_dump(tmp_path: Path, capsys) -> None:
    (path,) = (SHARED / "oomanalyser").glob("006-*.log")
    rc, _, err = _cli(["import", str(path), "-o", str(tmp_path / "x.toml")], capsys)
    assert rc == 2
    assert "cannot build a scene" in err and "no task dump" in err and "Traceback" not in err
    assert not (tmp_path / "x.toml").exists()


def test_cli_no_report_and_missing_file(tmp_path: Path, capsys) -> None:
    rc, _, err = _cli(["import", str(DATA / "no-oom-report.log"), "-o", str(tmp_path / "x.toml")], capsys)
    assert rc == 2 and "no OOM report found" in err
    rc, _, err = _cli(["import", str(tmp_path / "missing.log"), "-o", str(tmp_path / "x.toml")], capsys)
    assert rc == 2 and "no such file" in err


def test_cli_unwritable_output(tmp_path: Path, capsys) -> None:
    src = tmp_path / "r.log"
    src.write_text(GLOBAL_REPORT, encoding="utf-8")
    rc, _, err = _cli(["import", str(src), "-o", str(tmp_path / "no" / "such" / "dir.toml")], capsys)
    assert rc == 2 and "cannot write the scene" in err and "Traceback" not in err
    rc, _, err = _cli(["import", str(src), "-o", str(tmp_path)], capsys)
    assert rc == 2 and "is a directory" in err


def test_cli_success_message(tmp_path: Path, capsys) -> None:
    src = tmp_path / "r.log"
    src.write_text(GLOBAL_REPORT, encoding="utf-8")
    out_path = tmp_path / "out.toml"
    out_path.write_text("old", encoding="utf-8")  # an existing file is replaced with --overwrite
    rc, out, err = _cli(["import", str(src), "-o", str(out_path), "--overwrite"], capsys)
    assert rc == 0 and err == ""
    schema = tmp_path / "oomtui-scene.schema.json"
    assert out == (f"wrote {out_path}: 3 processes, victim 400 (bigjob); try: oomtui play {out_path}\n"
                   f"wrote {schema}: the JSON Schema that the scene's #:schema line names, for editors (taplo)\n")
    assert load_scene(str(out_path)).scene.processes[2].comm == "bigjob"
    # the scene's editor (taplo) finds the schema beside it and the scene passes it; a second scene reuses it
    jsonschema.validate(tomllib.loads(out_path.read_text()), json.loads(schema.read_text()))
    rc, out, _ = _cli(["import", str(src), "-o", str(tmp_path / "again.toml")], capsys)
    assert rc == 0 and out.count("wrote ") == 1


def test_explain_shows_an_escape_sequence_in_a_comm_escaped(tmp_path: Path) -> None:
    """A log whose comm carries an escape sequence must not clear the reader's screen."""
    import os
    import subprocess
    import sys

    src = tmp_path / "r.log"
    src.write_text(GLOBAL_REPORT.replace("bigjob", "big\x1b[2J\x07job"), encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    r = subprocess.run([sys.executable, "-m", "oomtui", "explain", str(src)], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "big\\x1b[2J\\x07job" in r.stdout  # shown, escaped


# --- play / run REPORT.log: a report replayed as a scene ---------------------------------------------


def _first_selection(ls):
    from oomtui.kernel import events as ev

    sim = Simulation(ls)
    for _ in range(400):  # an imported scene triggers its OOM at 1 s
        sel = next((x for x in sim.advance(25) if isinstance(x, ev.OomSelected)), None)
        if sel is not None:
            return sel
    raise AssertionError("no OOM")


@pytest.mark.parametrize("path", _complete_fixtures(), ids=lambda p: p.name[:40])
def test_a_report_played_ranks_as_explain_does(path):
    """`oomtui play REPORT.log` opens the replayed report: its OOM decision panel ranks the candidates
    as `oomtui explain` does (the panel's own ranking of the OomSelected candidates)."""
    from oomtui.importers.explain import explain_text
    from oomtui.scene.load import load_playable
    from oomtui.tui.widgets.panels import ranked

    e = explain_text(path.read_text(encoding="utf-8", errors="replace"))[0]
    sel = _first_selection(load_playable(str(path)))  # no --report: the file is no TOML but a report
    panel = [(c.pid, c.points) for c in ranked(sel) if c.points is not None]
    shown = [(c.pid, c.points) for c in e.ranking]
    assert panel[:len(shown)] == shown[:len(panel)] and len(shown) >= 1
    assert sel.victim_pid == e.model_victim.pid


def test_play_report_options_and_errors(tmp_path, capsys):
    from oomtui.scene.load import NotToml, SceneError, load_playable

    report = SHARED / "dmesg" / "008-lkml-5.2-rc7-memcg-leaker-reaper.log"
    ls = load_playable(str(report), 1)
    assert "report 1" in ls.name and ls.scene.processes
    with pytest.raises(UserError, match="no report 2: the file has 1 OOM report"):
        load_playable(str(report), 2)
    broken = tmp_path / "broken.toml"  # not TOML, and no report either: the TOML error stands
    broken.write_text("title = \n")
    with pytest.raises(NotToml, match="not valid TOML") as e:
        load_playable(str(broken))
    assert "OOM report" not in str(e.value)  # a .toml is a scene: its error alone
    log = tmp_path / "syslog"  # a log with no OOM report in it: say what play takes
    log.write_text("Dec  1 10:00:00 host sshd[1]: Accepted publickey for root\n")
    with pytest.raises(NotToml, match=r"^.*syslog:1: not valid TOML: .*; and it has no OOM report's lines .*"
                                      r"`oomtui play` takes a scene \(TOML\) or an OOM report$"):
        load_playable(str(log))
    # valid TOML that quotes a report line but breaks the schema is a scene with an error, not a report
    quoting = tmp_path / "quoting.toml"
    quoting.write_text('title = "t"\nstory = "bash invoked oom-killer: gfp_mask=0x0, order=0"\nram = "1 GiB"\nrom = 1\n')
    with pytest.raises(SceneError, match="unknown key 'rom'") as e:
        load_playable(str(quoting))
    assert not isinstance(e.value, NotToml)
    assert cli_main(["run", str(report), "--until", "2s"]) == 0
    assert "leaker" in capsys.readouterr().out
