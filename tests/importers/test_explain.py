"""`oomtui explain`: the model must pick the kernel's victim on every complete report of every era."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from oomtui.cli import main as cli_main
from oomtui.importers.explain import explain_text, select_bad_process
from oomtui.importers.report import parse_reports
from oomtui.kernel.version import KernelVersion

from .test_report import DATA, REPO, SHARED
from .test_report import fixture_path as fixture


def explain_file(path: Path):
    return explain_text(path.read_text(encoding="utf-8"))


def _expected_tsv() -> list[tuple[str, int]]:
    rows = csv.DictReader(
        (line for line in (SHARED / "oomanalyser" / "expected.tsv").open() if not line.startswith("# ") or "file" in line),
        delimiter="\t",
    )
    return [(r["# file"], int(r["selected_pid"])) for r in rows if r["complete"] == "yes"]


@pytest.mark.parametrize(("name", "selected"), _expected_tsv())
def test_oomanalyser_victims(name: str, selected: int) -> None:
    (e,) = explain_file(SHARED / "oomanalyser" / name)
    assert e.kernel_selected.pid == selected
    assert e.model_victim.pid == selected
    assert e.agree and e.compared and e.problems == []


def _verdict_pid(text: str) -> int:
    """The kernel's choice read with a plain regex: pre-5.1 'Kill process N', else 'Killed process N'."""
    m = re.search(r"\bKill process (\d+)", text) or re.search(r"Killed process (\d+)", text)
    return int(m[1])


@pytest.mark.parametrize("path", sorted((SHARED / "dmesg").glob("*.log")), ids=lambda p: p.name)
def test_dmesg_fixture_victims(path: Path) -> None:
    (e,) = explain_file(path)
    assert e.kernel_selected.pid == _verdict_pid(path.read_text(encoding="utf-8"))
    assert e.model_victim == e.kernel_selected
    assert e.agree and e.compared


def test_019_biggest_is_not_the_victim_because_of_adj_300() -> None:
    (e,) = explain_file(fixture("019", "dmesg"))
    r = parse_reports(fixture("019", "dmesg").read_text())[0]
    biggest = max(r.tasks, key=lambda t: t.rss)
    assert (biggest.pid, biggest.comm) == (4187, "firefox")
    assert e.model_victim.pid == 23437 and e.ranking[1].pid == 4187
    # 4.19 is before 5.1: the printed "score 303" is chosen_points*1000/totalpages
    assert e.printed_score == e.model_score == 303
    assert any("adj +300 on QtWebEngineProc adds" in w for w in e.why)
    assert any("not the biggest" in w for w in e.why)


@pytest.mark.parametrize(("prefix", "folder", "score"), [("003", "oomanalyser", 651), ("005", "oomanalyser", 651), ("020", "dmesg", 98)])
def test_printed_score_reproduces_with_ram_minus_reserved(prefix: str, folder: str, score: int) -> None:
    (e,) = explain_file(fixture(prefix, folder))
    assert e.printed_score == e.model_score == score


def test_003_totalpages_and_runner_up() -> None:
    (e,) = explain_file(fixture("003"))
    assert e.totalpages == 8379834 - 192987 + 8388604 // 4  # INDEX.md: RAM - reserved + swap pages
    assert [(c.pid, c.points) for c in e.ranking[:2]] == [(6576, 5157063 + 15483 + 1527848), (27502, 2949299)]
    assert e.era == "3.10"


def test_001_points_from_index() -> None:
    (e,) = explain_file(fixture("001"))
    assert (e.ranking[0].pid, e.ranking[0].points) == (473206, 7548824)  # INDEX.md
    # java 331049 is the second-largest by size (INDEX.md): 516062 + 547863 + 12025856/4096 = 1066861 points,
    # but the chrome renderers at adj 300 get 300 * (10309773/1000) = 3092700 pages more and rank second.
    r = parse_reports(fixture("001").read_text())[0]
    scored, _ = select_bad_process(r.tasks, e.totalpages, KernelVersion(6, 1), 4096, e.totalpages)
    java = next(c for c in scored.candidates if c.pid == 331049)
    assert java.points == 1066861
    assert e.ranking[1].comm == "chrome" and e.ranking[1].oom_score_adj == 300 and e.ranking[1].points > java.points
    assert e.ranking[0].oom_score is not None and 0 < e.ranking[0].oom_score <= 2000
    assert any("triggered the OOM" in n for n in e.notes) and any("reaped doxygen" in n for n in e.notes)


def test_002_memcg() -> None:
    (e,) = explain_file(fixture("002"))
    assert e.constraint == "CONSTRAINT_MEMCG"
    assert e.totalpages == 31211520 // 4  # memory limit, swap limit 0
    assert (e.ranking[0].points, e.ranking[1].pid) == (3201932, 3589018)  # INDEX.md
    assert e.trigger.pid == 3923954 != e.kernel_victim.pid


def test_004_sysrq_and_negative_adj() -> None:
    (e,) = explain_file(fixture("004"))
    assert e.manual and e.era == "5.13"
    assert [(c.pid, c.points) for c in e.ranking[:2]] == [(651, 5258), (608, 4700)]  # INDEX.md
    # snapd has the largest rss (8248) but adj -900
    assert any("adj -900 on snapd subtracts" in w for w in e.why)
    # 5.9+ /proc/PID/oom_score: (1000 + 5258*1000/506349) * 2/3 = 673
    assert e.ranking[0].oom_score == 673


def test_a_lone_oom_kill_line_whose_task_is_unreadable_says_why_there_is_no_dump() -> None:
    """Only a 5.0+ oom-kill: line, its task cut off, or a verdict cut: the closing line is named (review: '...
    closing line(s) (),')."""
    (e,) = explain_text("[ 100.000000] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
                        "mems_allowed=0,oom_memcg=/x,task_memcg=/x,task=\n")
    (p,) = [p for p in e.problems if p.startswith("no task dump")]
    assert "the report has only its closing line(s) ('oom-kill:'), not the task dump" in p and "()" not in p
    # a verdict cut past reading is the line named
    (e,) = explain_text("[ 100.000000] Out of memory: Kill process 12 (ja\n")
    (p,) = [p for p in e.problems if p.startswith("no task dump")]
    assert "the report has only its closing line(s) (line 1, not read), not the task dump" in p


def test_009_old_dump_without_swapents() -> None:
    (e,) = explain_file(fixture("009", "dmesg"))
    assert e.agree and e.era == "3.2"
    assert e.printed_score == 944 and e.model_score != 944
    assert any("no swapents or page-table columns" in n for n in e.notes)


def test_incomplete_reports_say_what_is_missing() -> None:
    (e,) = explain_file(fixture("006"))
    assert not e.compared and e.model_victim is None and e.kernel_victim is None
    assert "the report begins with 'invoked oom-killer' but has no 'Killed process' line: truncated?" in e.problems
    # why: cut before its dump (vm.oom_dump_tasks is on: the dump comes after Mem-Info, where the paste ends)
    assert any(p.startswith("no task dump, so the selection cannot be re-run: the report stops at line ")
               and "before any task dump or verdict (cut off?)" in p for p in e.problems)
    (e,) = explain_file(fixture("007"))
    assert not e.compared and e.kernel_victim.pid == 6576
    assert any(p.startswith("no task dump, so the selection cannot be re-run") for p in e.problems)
    assert any("no 'invoked oom-killer' line" in p for p in e.problems)
    assert e.era == "5.0" and "before 5.1" in e.era_source


# --- synthetic reports (hand computations in the comments) ----------------------------------------------


def test_414_tie_keeps_first_scanned_leader() -> None:
    (e,) = explain_file(DATA / "4.14-nodemask-nr_puds-tie-first-leader.log")
    # no CPU line: nr_puds -> at least 4.14, nr_ptes -> before 4.15
    assert e.era == "4.14" and "nr_puds" in e.era_source
    # worker-a and worker-b: rss 1000 + page tables 10+2+0 = 1012 each; before 5.9 the first leader is kept
    assert [(c.pid, c.points) for c in e.ranking[:2]] == [(300, 1012), (400, 1012)]
    assert e.agree and e.printed_score == e.model_score == 10  # 1012*1000/100000
    assert any("tie on 1012 points" in w and "first-scanned" in w for w in e.why)


def test_415_sacrifice_child_is_compared_with_the_selected_parent() -> None:
    (e,) = explain_file(DATA / "4.15-narrow-pgtables-dmesg-T-sacrifice-child.log")
    assert e.era == "4.15"
    # httpd 500: 20000 + 409600/4096 = 20100 points; score 20100*1000/100000 = 201. pid 1 (init) is never chosen.
    assert (e.kernel_selected.pid, e.kernel_victim.pid, e.model_victim.pid) == (500, 501, 500) and e.agree
    assert e.model_score == 201 and all(c.pid != 1 for c in e.ranking)
    assert any("killed its child httpd-worker (501)" in n for n in e.notes)


def test_419_memcg_v1_limit_is_totalpages() -> None:
    (e,) = explain_file(DATA / "4.19-memcg-v1-var-log-messages.log")
    # memory limit 1048576 kB = memory+swap limit: no swap headroom -> 262144 pages
    assert e.constraint == "CONSTRAINT_MEMCG" and e.totalpages == 262144
    # java 235000 + 256 = 235256 -> 235256000/262144 = 897; log-shipper 1000 + 16 + 500*262 = 132016
    assert [(c.comm, c.points) for c in e.ranking[:2]] == [("java", 235256), ("log-shipper", 132016)]
    assert e.printed_score == e.model_score == 897 and e.agree


def test_68_tie_later_scanned_wins() -> None:
    (e,) = explain_file(DATA / "6.8-rss-columns-journalctl-tie-later-wins.log")
    # totalpages 4000000 - 100000 = 3900000; adj 200 adds 200*3900 = 780000 to 50000 + 100 -> 830100 both
    assert [(c.pid, c.points) for c in e.ranking[:2]] == [(4242, 830100), (4100, 830100)]
    assert e.agree and e.model_victim.comm == "Web Content"
    assert any("later-scanned wins on 5.9+" in w for w in e.why)
    assert e.ranking[0].oom_score == 808  # (1000 + 830100*1000/3900000) * 2 / 3


def test_rhel6() -> None:
    (e,) = explain_file(DATA / "rhel6-2.6.32-messages-uid-verdict.log")
    assert e.era == "2.6" and e.agree and e.kernel_victim == e.model_victim and e.model_victim.pid == 2400
    # totalpages = 2000000 - 50000 + 2097148/4 = 2474287; 300000*1000/2474287 = 121
    assert e.totalpages == 2474287 and e.model_score == 121
    assert all(c.pid != 480 for c in e.ranking)  # sshd at -1000


def test_kmsg_two_reports() -> None:
    a, b = explain_file(DATA / "kmsg-5.10-two-reports-global-and-memcg.log")
    assert a.agree and a.model_victim.pid == 900  # the bigger of two; dbd is -1000
    # memcg: 131072 pages, adj 500 adds 500*131: cache-warmer 40000 + 50 + 65500 beats worker 60060
    assert b.agree and b.model_victim.pid == 1510 and b.totalpages == 131072
    assert [c.points for c in b.ranking] == [105550, 60060]
    assert all(c.oom_score is None for c in b.ranking)  # no global totalpages in a memcg report


def test_mail_quoted_wrapped() -> None:
    (e,) = explain_file(DATA / "5.4-mail-quoted-wrapped.log")
    assert e.agree and e.model_victim.comm == "node.js worker"
    # 3000000 - 62144 + 1048572/4 = 3199999; node: 1200000 + 262000 + 2560
    assert e.totalpages == 3199999 and e.ranking[0].points == 1464560


def test_64k_pages_decide_the_winner() -> None:
    path = DATA / "5.14-ppc64le-64k-pages.log"
    (e,) = explain_file(path)
    assert e.page_size == 65536 and e.agree and e.model_victim.comm == "postgres"
    # 520192 + 8388544/64 = 651263; postgres 200000 + 1000 + 32 = 201032, java 150000 + 16 + 50*651 = 182566
    assert e.totalpages == 651263 and [c.points for c in e.ranking] == [201032, 182566]
    # the same dump read with 4 KiB pages would pick java: the page size matters
    r = parse_reports(path.read_text())[0]
    tp_4k = 524288 - 4096 + 8388544 // 4
    _, chosen = select_bad_process(r.tasks, tp_4k, KernelVersion(5, 14), 4096, None)
    assert chosen.comm == "java"


def test_truncated_dump_still_ranks_what_it_has() -> None:
    (e,) = explain_file(DATA / "6.1-truncated-in-task-dump.log")
    assert not e.compared and e.model_victim.pid == 3000
    assert any("truncated?" in p for p in e.problems) and any("task row not understood" in p for p in e.problems)


# --- the command -------------------------------------------------------------------------------------


def test_json_output(capsys) -> None:
    assert cli_main(["explain", "--json", str(DATA / "kmsg-5.10-two-reports-global-and-memcg.log")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["reports"]) == 2
    r = out["reports"][1]
    assert r["kernel_victim"] == {"pid": 1510, "comm": "cache-warmer"} == r["model_victim"]
    assert r["agree"] is True and r["era"] == "5.10" and r["constraint"] == "CONSTRAINT_MEMCG"
    assert r["totalpages"] == 131072 and isinstance(r["problems"], list)
    assert set(r["ranking"][0]) >= {"pid", "comm", "rss", "swapents", "pgtables_bytes", "oom_score_adj", "points"}


def test_human_output(capsys) -> None:
    assert cli_main(["explain", str(DATA / "6.8-rss-columns-journalctl-tie-later-wins.log")]) == 0
    out = capsys.readouterr().out
    assert "Web Content (4242)" in out and "agree" in out and "oom_score" in out


def test_missing_file_and_no_report(capsys, tmp_path) -> None:
    missing = tmp_path / "nope.log"
    assert cli_main(["explain", str(missing)]) == 2
    assert f"oomtui: {missing}: no such file" in capsys.readouterr().err
    assert cli_main(["explain", str(DATA / "no-oom-report.log")]) == 2
    assert "no OOM report found" in capsys.readouterr().err


def test_rich_is_imported_only_when_printing() -> None:
    code = "import sys, oomtui.importers.explain; assert 'rich' not in sys.modules and 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def _bracketed_report() -> str:
    """The 6.8 fixture with comms that look like rich markup."""
    text = (DATA / "6.8-rss-columns-journalctl-tie-later-wins.log").read_text(encoding="utf-8")
    return text.replace("Web Content", "[red]st[/]").replace("firefox", "[/x]").replace("systemd", "[bold]")


def test_human_output_prints_markup_like_names_as_they_are(capsys, tmp_path, monkeypatch) -> None:
    # A comm "[/x]" once raised MarkupError, "oom[x].log" printed as "oom.log", "[red]st[/]" was coloured.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    Path("oom[x].log").write_text(_bracketed_report(), encoding="utf-8")
    assert cli_main(["explain", "oom[x].log"]) == 0
    out = capsys.readouterr().out
    assert "oom[x].log: report 1" in out
    assert "The kernel chose [red]st[/] (4242); the model picks [red]st[/] (4242): agree." in out
    assert "trigger: [red]st[/] (4242)" in out
    assert "[/x]" in out and "[bold]" in out
    assert "\x1b[" not in out


def _stdin(monkeypatch, data: bytes) -> None:
    import io

    # what Python gives a pipe under the C locale: undecodable bytes become lone surrogates
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape"))


def test_stdin_with_non_utf8_bytes(capsys, monkeypatch, tmp_path) -> None:
    data = _bracketed_report().replace("[/x]", "fire\xfffox").encode("latin-1")
    _stdin(monkeypatch, data)
    assert cli_main(["explain", "-", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["file"] == "-" and out["reports"][0]["agree"] is True
    assert "fire\ufffdfox" in {c["comm"] for c in out["reports"][0]["ranking"]}

    _stdin(monkeypatch, data)
    scene = tmp_path / "x.toml"
    assert cli_main(["import", "-", "-o", str(scene)]) == 0
    assert 'comm = "fire\ufffdfox"' in scene.read_text(encoding="utf-8")


def test_stdin_without_a_report_is_named_stdin_and_says_what_it_held(capsys, monkeypatch) -> None:
    """A pipe has no file name, and is gone once read: the error names stdin (not '-'), says when nothing came,
    and tells a user-space killer's log from a kernel report by the lines it kept."""
    _stdin(monkeypatch, b"")
    assert cli_main(["explain", "-"]) == 2
    err = capsys.readouterr().err
    assert err == "oomtui: stdin: nothing came in (give a file, or pipe a log in: dmesg | oomtui explain -)\n"
    _stdin(monkeypatch, b"hello\nworld\n")
    assert cli_main(["explain", "-"]) == 2
    assert capsys.readouterr().err.startswith("oomtui: stdin: no OOM report found (looked for 'invoked oom-killer'")
    _stdin(monkeypatch, (SHARED / "public" / "6.8-systemd-oomd-github-issue-french-not-a-kernel-oom.md").read_bytes())
    assert cli_main(["explain", "-"]) == 2
    assert capsys.readouterr().err.startswith("oomtui: stdin: no kernel OOM report: systemd-oomd killed /user.slice/")
    _stdin(monkeypatch, _bracketed_report().encode())
    assert cli_main(["explain", "-"]) == 0
    assert "stdin: report 1" in capsys.readouterr().out


def test_streamed_json_is_the_whole_output_object(tmp_path, capsys) -> None:
    """main writes one report at a time; the result must be ExplainOutput's encoding, line numbers included
    (a form feed splits a line for str.splitlines, and so for the streamed reader)."""
    import msgspec

    from oomtui.importers.explain import ExplainOutput

    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((SHARED / "dmesg").glob("*.log")))
    text = text.replace("Mem-Info:", "Mem-Info:\x0c", 1)
    f = tmp_path / "all.log"
    f.write_text(text, encoding="utf-8")
    assert cli_main(["explain", "--json", str(f)]) == 0
    out = capsys.readouterr().out
    assert out == msgspec.json.encode(ExplainOutput(str(f), explain_text(text))).decode() + "\n"
    assert len(json.loads(out)["reports"]) == 5


def _many_rows_report(release: str, rows: int) -> str:
    """A global OOM of `rows` task rows and a big one, killed: some root, some never chosen (init, OOM_SCORE_ADJ_MIN),
    names shared and not. Its printed score is the big one's under the 3.14-4.16 root bonus, which the model
    reproduces only by taking every uid-0 task to hold CAP_SYS_ADMIN: 500000 pages - 3% = 485000, * 1000 /
    1048576 pages = 462 (476 without the bonus)."""
    out = [f"x invoked oom-killer: gfp_mask=0x6200ca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
           f"CPU: 0 PID: 9 Comm: x Not tainted {release} #1", "Mem-Info:", "1048576 pages RAM", "0 pages reserved",
           "[ pid ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"]
    out += [f"[{i + 1:7d}] {0 if i % 3 else 1000:5d} {i + 1:5d} {9000 + i:8d} {1000 + i * 37 % 5000:8d} "
            f"{8192 * (i % 4):14d} {i % 7:8d} {-1000 if i % 11 == 0 else i % 5 * 100 - 200:13d} w{i % 13 or i}"
            for i in range(rows)]  # fmt: skip
    out.append(f"[{rows + 1:7d}]     0 {rows + 1:5d}   600000   500000              0        0             0 big")
    return "\n".join(out) + f"\nOut of memory: Kill process {rows + 1} (big) score 462 or sacrifice child\n"


@pytest.mark.parametrize("release", ["4.14.0", "6.1.0"])
def test_streamed_json_of_a_big_task_table_is_its_candidates(tmp_path, capsys, release: str) -> None:
    """A table of more than _JSON_ROWS rows is written a slice at a time (_write_json), its rows built from the
    columns a slice at a time: the same JSON as the whole list of its Candidates encodes to."""
    import msgspec

    from oomtui.importers.explain import _JSON_ROWS, ExplainOutput

    text = _many_rows_report(release, _JSON_ROWS + 700)
    f = tmp_path / "big.log"
    f.write_text(text, encoding="utf-8")
    assert cli_main(["explain", "--json", str(f)]) == 0
    out = capsys.readouterr().out
    assert out == msgspec.json.encode(ExplainOutput(str(f), explain_text(text))).decode() + "\n"
    tasks = json.loads(out)["reports"][0]["tasks"]
    assert len(tasks) == _JSON_ROWS + 701 and tasks[0]["ineligible"] and tasks[1]["points"] is not None
    assert any(t["cap_sys_admin"] for t in tasks) == (release == "4.14.0")


def test_sort_and_all_order_the_task_table(capsys) -> None:
    path = SHARED / "oomanalyser" / "001-archlinux-6.1.1-global-doxygen-reaper.log"
    assert cli_main(["explain", "--sort", "rss", str(path)]) == 0
    table = capsys.readouterr().out.split("candidates, by rss")[1]
    rss = [int(m[1]) for m in re.finditer(r"^\s+\d+\s+\S+\s+(\d+)\s", table, re.M)]
    assert len(rss) == 10 and rss == sorted(rss, reverse=True) and rss[0] == 2308581  # doxygen
    assert cli_main(["explain", "--all", "--sort", "order", str(path)]) == 0
    out = capsys.readouterr().out
    scans = [int(m[1]) for m in re.finditer(r"^\s+(\d+)\s+\d+\s+\S", out.split("every row of the task dump")[1], re.M)]
    assert scans == list(range(1, 113))  # every row, ineligible ones too, in the kernel's scan order
    assert re.search(r"^\s+2\s+274\s+systemd-.* never\s*$", out, re.M)  # adj -1000 (comm folded at 80 columns)


def test_a_device_is_refused_and_an_endless_line_does_not_hide_the_report(capsys, monkeypatch, tmp_path) -> None:
    # /dev/full reads zeros for ever: refused by what it is, before anything is read
    assert cli_main(["explain", "/dev/full"]) == 2
    assert capsys.readouterr().err == (
        "oomtui: /dev/full: is a character device, expected an OOM report (a file, or - for stdin)\n")
    # a line far longer than any kernel line is read in pieces, from a file and from a pipe, and the report after
    # it is still found
    path = tmp_path / "r.log"
    path.write_bytes(_bracketed_report().encode())
    assert cli_main(["explain", str(path), "--json"]) == 0
    first, last = json.loads(capsys.readouterr().out)["reports"][0]["lines"]
    data = b"x" * 300_000 + b"\n" + _bracketed_report().encode()
    path.write_bytes(data)
    assert cli_main(["explain", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["reports"][0]
    assert report["agree"] is True and report["lines"] == [first + 1, last + 1]  # the long line counts as one
    _stdin(monkeypatch, data)
    assert cli_main(["explain", "-", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["reports"][0]
    assert report["agree"] is True and report["lines"] == [first + 1, last + 1]
    assert cli_main(["import", "/dev/zero", "-o", str(tmp_path / "x.toml")]) == 2  # import reads whole: refused too
    assert "/dev/zero: is a character device" in capsys.readouterr().err
