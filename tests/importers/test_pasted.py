"""Real reports as people paste them (issue 9 §1): from the middle, wrapped with marks, coloured, with bad bytes,
an unknown prefix, cut verdicts, two reports run together. Every input is made here from a real fixture, and the
kernel's victim is read from the fixture with a plain regex, independently of the parser."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from oomtui.importers.explain import explain_text
from oomtui.importers.report import parse_reports
from oomtui.importers.to_scene import import_report, replay_victim

from .test_report import SHARED

COMPLETE = sorted((SHARED / "dmesg").glob("*.log")) + sorted((SHARED / "oomanalyser").glob("00[1-5]-*.log"))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").replace("#012", "\n")  # rsyslog's escaped newlines, as real lines


def _kernel_choice(text: str) -> int:
    """Pre-5.1 'Kill process N', else 'Killed process N' (plain regex, not the parser)."""
    m = re.search(r"\bKill process (\d+)", text) or re.search(r"Killed process (\d+)", text)
    return int(m[1])


def _victim_pid(text: str) -> int:
    return int(re.search(r"Killed process (\d+)", text)[1])


# where a paste may begin: (name, a plain test of the line)
PARTS = {
    "invoked": lambda s: " invoked oom-killer:" in s,
    "cpu": lambda s: bool(re.search(r"\bCPU: \d+ (?:UID: \d+ )?PID: |\bPid: \d+, comm:", s)),
    "meminfo": lambda s: "Mem-Info:" in s,
    "memcg": lambda s: bool(re.search(r"\bmemory: usage \d+kB", s)),
    "task_in": lambda s: "Task in " in s and "killed as a result of limit" in s,
    "dump": lambda s: "Tasks state (memory values in pages)" in s or bool(re.search(r"\[\s*pid\s*\]\s+uid", s)),
    "rows": lambda s: bool(re.search(r"\[\s*\d+\]\s+\d+\s+\d+\s", s)),  # the header lost too
}
CASES = [
    (path, part)
    for path in COMPLETE
    for part, test in PARTS.items()
    if any(test(line) for line in _read(path).splitlines())
]


def _from(text: str, part: str) -> str:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if PARTS[part](line))
    return "\n".join(lines[start:]) + "\n"


@pytest.mark.parametrize(("path", "part"), CASES, ids=lambda v: v.name[:3] if isinstance(v, Path) else v)
def test_pasted_from_any_part(path: Path, part: str) -> None:
    text = _read(path)
    (e,) = explain_text(_from(text, part))
    assert e.kernel_selected.pid == _kernel_choice(text)
    assert not any("no task dump" in p for p in e.problems)
    if e.compared:
        assert e.agree, e.problems
    else:  # only a paste without the Mem-Info totals may lack totalpages; then it must say so
        assert part in ("dump", "rows") and e.totalpages is None
    if part == "rows":  # the header is guessed from the rows: the same columns as the real header
        assert any("header is missing" in n for n in e.notes)
        (guessed,), (whole,) = parse_reports(_from(text, part)), parse_reports(text)
        assert guessed.task_columns == whole.task_columns and guessed.task_pid_wide == whole.task_pid_wide
        assert [(t.pid, t.rss, t.swapents, t.oom_score_adj, t.comm) for t in guessed.tasks] == [
            (t.pid, t.rss, t.swapents, t.oom_score_adj, t.comm) for t in whole.tasks]


def test_pasted_from_the_middle_mostly_compares() -> None:
    """Every paste that starts before the task dump has what a comparison needs, and agrees."""
    compared = [explain_text(_from(_read(p), part))[0] for p, part in CASES if part not in ("dump", "rows")]
    assert compared and all(e.compared and e.agree for e in compared)


def _wrap_with_marks(text: str, width: int = 72) -> str:
    out = []
    for line in text.splitlines():
        first, *rest = textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""]
        out.append(first)
        out += ["\u21aa " + piece for piece in rest]  # "↪ " on every continuation
    return "\n".join(out) + "\n"


def _mail_wrap(line: str, width: int) -> list[str]:
    """A mail client's greedy wrap that keeps the spaces it breaks at on the line's end (up to the width; the rest
    begin the next line) and cuts a word longer than the width."""
    out, cur = [], ""
    for chunk in re.findall(r"\s+|\S+", line):
        if chunk.isspace():
            room = width - len(cur)
            cur, rest = cur + chunk[:room], chunk[room:]
            if rest:
                out.append(cur)
                cur = rest
            continue
        if len(cur) + len(chunk) > width and cur:
            out.append(cur)
            cur = ""
        while len(chunk) > width:
            out.append(chunk[:width])
            chunk = chunk[width:]
        cur += chunk
    return [*out, cur]


def _mailed_twice(text: str) -> str:
    """Folded at 119 columns inside words, then wrapped at 80 by a reply's mail client (the 6.18 arm64 cgroups
    mail): two levels of wrap, one over the other."""
    out = []
    for line in text.splitlines():
        for fold in [line[i : i + 119] for i in range(0, len(line), 119)] or [""]:
            out += _mail_wrap(fold, 80)
    return "\n".join(out) + "\n"


def _human(text: str) -> str:
    """dmesg -H (as on Raspberry Pi forums): the first line of a minute stamped "[Dec 8 17:51]", every other one
    with the time since the line before, "[  +0.000009]"."""
    out, last = [], None
    for line in text.splitlines():
        if m := re.match(r"\[\s*(\d+\.\d+)\]", line):
            t = float(m[1])
            stamp = "[Dec 8 17:51]" if last is None else f"[  +{t - last:.6f}]"
            out.append(stamp + line[m.end() :])
            last = t
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _colour(text: str) -> str:
    """dmesg --color=always: the stamp green, a subsystem prefix ("oom_reaper:") yellow, warnings bold."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"^(\[[^\]]*\])", "\x1b[32m\\1\x1b[0m", line)
        line = re.sub(r"(oom_reaper:|oom-kill:)", "\x1b[33m\\1\x1b[0m", line)
        line = line.replace("Killed process", "\x1b[1;31mKilled process\x1b[0m")
        out.append("\x1b[1m" + line + "\x1b[0m")
    return "\n".join(out) + "\n"


def _bad_bytes(text: str) -> str:
    """Invalid UTF-8 at every line end and inside the Mem-Info lines, decoded the way explain reads a file."""
    raw = b"".join(line.encode() + b"\xff\xfe\n" for line in text.splitlines())
    raw = raw.replace(b"Mem-Info:", b"Mem-Info:\xc3")
    return raw.decode("utf-8", "replace")


def _unknown_prefix(text: str) -> str:
    """A prefix no rule knows: a log shipper's "host | date time,ms | level |"."""
    return "".join(f"node7 | 2019-11-0{1 + i % 9} 12:00:{i % 60:02d},{i:03d} | WARN | {line}\n"
                   for i, line in enumerate(text.splitlines()))  # fmt: skip


@pytest.mark.parametrize("mangle", [_wrap_with_marks, _colour, _bad_bytes, _unknown_prefix], ids=lambda f: f.__name__)
@pytest.mark.parametrize("path", COMPLETE, ids=lambda p: p.name[:3])
def test_mangled_pastes_give_the_kernels_victim(path: Path, mangle) -> None:
    text = _read(path)
    (e,) = explain_text(mangle(text))
    (plain,) = explain_text(text)
    assert e.kernel_selected.pid == _kernel_choice(text)
    assert (e.agree, e.model_victim, e.era, e.totalpages) == (plain.agree, plain.model_victim, plain.era, plain.totalpages)
    assert (e.memory, e.memcg, e.allocation, e.cause) == (plain.memory, plain.memcg, plain.allocation, plain.cause)


def test_a_coloured_dmesg_of_two_boots_is_split_where_its_clock_starts_again() -> None:
    """dmesg's clock never runs back within a boot: coloured lines (cleaned one by one, not as a batch's clean lines
    are) read it too. They did not, so two boots' reports were one boot's, and one could lend the other its totals."""
    text = _read(COMPLETE[0])
    stamps = re.findall(r"^\[\s*(\d+)\.", text, flags=re.M)
    assert stamps and min(map(int, stamps)) > 10  # the next boot's stamps below: its clock started again
    two = text + re.sub(r"^\[\s*\d+\.", "[    5.", text, flags=re.M)
    plain = [(r.first_line, r.boot) for r in parse_reports(two)]
    assert plain == [(1, 0), (len(text.splitlines()) + 1, 1)]
    assert [(r.first_line, r.boot) for r in parse_reports(_colour(two))] == plain


@pytest.mark.parametrize("above", [
    "From: a@b.c\nSubject: Re: java invoked oom-killer\n\nHi,\n",
    "# stress-ng invoked oom-killer\n\nThis is what I got when my VM invoked oom-killer\n```\n",
    "Re: java invoked oom-\n",
], ids=["subject", "title-and-prose", "subject-cut"])
def test_a_title_or_sentence_saying_invoked_oom_killer_above_the_paste_opens_no_report(above: str) -> None:
    """People paste the thread's subject or their question's title with the log: "x invoked oom-killer" without
    a field, a comm longer than a task's or no printk line after it is not a header cut short (review)."""
    text = _read(COMPLETE[0])
    reports = parse_reports(above + text)
    first = len(above.splitlines()) + 1
    assert [(r.first_line, r.trigger_comm) for r in reports] == [(first, parse_reports(text)[0].trigger_comm)]


@pytest.mark.parametrize("hosts", [("web1", "web2"), ("web1", "web1")])
def test_a_report_without_a_printed_score_borrows_no_totals_from_the_report_before(hosts) -> None:
    """A central syslog or two pasted VMs: a 6.11 report, then one of the same kernel line and hardware on the very
    next line, its Mem-Info cut. Nothing tells one machine from two (the host need not be printed; a fleet's VMs run
    one kernel) and no printed score can confirm the totals (5.1+ prints none): totalpages stays unknown (review:
    the second's points were weighed with the first's RAM, "of the same boot")."""
    text = _read(COMPLETE[0])
    head = text.split("Mem-Info:")[0].splitlines()[:-1] + [line for line in text.splitlines() if "Tasks state" in line
                                                            or re.match(r"\[\s*\d+\.\d+\] \[", line)]
    one = "".join(f"Mar 30 12:00:01 {hosts[0]} kernel: {line}\n" for line in text.splitlines())
    two = "".join(f"Mar 30 12:00:03 {hosts[1]} kernel: {line}\n" for line in head)
    first, second = explain_text(one + two)
    assert first.totalpages is not None and second.totalpages is None and second.score_check is None


@pytest.mark.parametrize("header", ["x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=40000000000, "
                                    "oom_score_adj=0", "x invoked oom: gfp_mask=0xcc0(GFP_KERNEL), order=40000000000"])
def test_a_garbled_order_is_not_read_and_not_computed(header: str, tmp_path: Path, capsys) -> None:
    """PAGE_SIZE << order of a 20-digit order ran explain out of memory for ever (review)."""
    from oomtui.cli import main

    text = f"{header}\nCPU: 0 PID: 1 Comm: x Not tainted 5.10.0 #1\n"
    (e,) = explain_text(text)
    assert e.allocation.order is None and e.allocation.size_kb is None
    assert any("order=40000000000 is no allocation's order" in p for p in e.problems)
    (tmp_path / "r.log").write_text(text, encoding="utf-8")
    assert main(["explain", str(tmp_path / "r.log")]) == 0
    assert "x asked for memory of an unknown order, GFP_KERNEL" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("subject", ["Re: java invoked oom-killer", "Fwd: java invoked oom-killer",
                                     "Subject: RE[2]: java invoked oom-", "Subject: java invoked oom-killer"])
def test_a_mail_subject_right_above_a_paste_from_the_middle_is_no_header(subject: str) -> None:
    """A reply's subject, then the report pasted from Mem-Info on: "Re: java" fits a task's comm and a printk line
    follows, but a subject is no header cut short (review: the report opened on it, trigger 'Re: java')."""
    text = _read(COMPLETE[0])
    middle = text[text.index("Mem-Info:"):]
    middle = middle[middle.index("\n") + 1:]
    (alone,) = parse_reports(middle)
    (r,) = parse_reports(subject + "\n" + middle)
    assert (r.first_line, r.trigger_comm, len(r.tasks)) == (alone.first_line + 1, None, len(alone.tasks))


def test_a_cut_header_before_a_mark_where_lines_were_cut_opens_its_report() -> None:
    """'java invoked oom-killer', '...', then the rest: the author cut the header and the lines after it (review:
    the header was dropped, the report began at the line after the mark with no trigger)."""
    text = _read(COMPLETE[0])
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if " invoked oom-killer:" in line)
    comm = parse_reports(text)[0].trigger_comm
    for mark in ("...", "[...]", "<snip>"):
        cut = "\n".join([lines[head].split(" invoked oom-killer:")[0] + " invoked oom-killer", mark, *lines[head + 3:]])
        (r,) = parse_reports(cut)
        assert (r.first_line, r.trigger_comm) == (1, comm), mark
    # a sentence before a mark is not a header: it has spaces a comm of one word has not
    (r,) = parse_reports("\n".join(["so my java invoked oom-killer", "...", *lines[head + 3:]]))
    assert r.first_line > 2 and r.trigger_comm is None


def test_a_cut_header_whose_stamp_lost_its_bracket_still_opens_its_report() -> None:
    """A paste selected from one character too far, its header then cut: the stamp's rest is no part of the comm,
    which fits a task's (review: the comm was 'Thu Apr 17 22:43:41 2025] mem_on_node0', too long to be one)."""
    text = ("Thu Apr 17 22:43:41 2025] mem_on_node0 invoked oom-killer\n"
            "[Thu Apr 17 22:43:41 2025] CPU: 1 PID: 7 Comm: mem_on_node0 Not tainted 6.3.0 #1\n")
    (r,) = parse_reports(text)
    assert (r.first_line, r.trigger_comm, r.trigger_pid) == (1, "mem_on_node0", 7)


def test_a_header_wrapped_at_oom_killers_hyphen_is_joined() -> None:
    """'x invoked oom-' / 'killer: gfp_mask=...': a mail client wrapped the header at its hyphen (review: the
    header was lost and the report began on its CPU line)."""
    text = _read(COMPLETE[0])
    wrapped = text.replace(" invoked oom-killer: ", " invoked oom-\nkiller: ", 1)
    assert wrapped != text
    (plain,), (r,) = parse_reports(text), parse_reports(wrapped)
    assert (r.first_line, r.trigger_comm, r.gfp_mask, r.order, r.problems) == (
        1, plain.trigger_comm, plain.gfp_mask, plain.order, plain.problems)


def test_a_page_allocation_failure_of_a_garbled_order_is_said_not_computed(tmp_path: Path, capsys) -> None:
    """not_an_oom() computed 1 << order for a 5-digit order: int() of its 6 000 digits raised, a traceback's exit
    70 (review); a 10-digit one would have filled memory."""
    from oomtui.cli import main

    line = "[  1.000000] java: page allocation failure: order:20000, mode:0x40cc0(GFP_KERNEL|__GFP_COMP), nodemask=(null)\n"
    (tmp_path / "f.log").write_text(line, encoding="utf-8")
    assert main(["explain", str(tmp_path / "f.log")]) == 2
    assert "page allocation failure (warn_alloc) of a garbled order (20000)" in capsys.readouterr().err


def test_a_verdict_wrapped_at_total_vms_hyphen_is_joined_and_one_without_commas_says_its_sizes_were_lost() -> None:
    """A mail client wrapped 'total-' / 'vm:...' (no space: join_next's rule): read whole, as before _killed_ends;
    a verdict whose commas were lost names the victim and says its sizes could not be read (review)."""
    text = _read(COMPLETE[0])
    (plain,) = explain_text(text)
    assert plain.kernel_victim_rss_kb
    wrapped = re.sub(r"(Killed process .*? total-)(vm:)", "\\1\n\\2", text)
    assert wrapped != text
    (e,) = explain_text(wrapped)
    assert e.kernel_victim_rss_kb == plain.kernel_victim_rss_kb and e.problems == plain.problems
    lost = "\n".join(line.replace("kB, ", "kB ") if "Killed process" in line else line for line in text.splitlines())
    (e,) = explain_text(lost)
    assert e.kernel_victim == plain.kernel_victim and e.kernel_victim_rss_kb is None
    assert any("the victim's sizes on its 'Killed process' line are cut or garbled" in p for p in e.problems)


# a wrap is found by a stamped line whose continuation has none (without stamps: see the test after the next)
STAMPED = [p for p in COMPLETE if re.match(r"\s*\[", _read(p))]


@pytest.mark.parametrize("mangle", [_mailed_twice, _human], ids=lambda f: f.__name__)
@pytest.mark.parametrize("path", STAMPED, ids=lambda p: p.name[:3])
def test_a_paste_wrapped_twice_or_human_stamped_reads_as_the_original(path: Path, mangle) -> None:
    text = _read(path)
    (e,) = explain_text(mangle(text))
    (plain,) = explain_text(text)
    assert e.kernel_selected.pid == _kernel_choice(text) and e.problems == plain.problems
    assert [(t.pid, t.comm, t.points) for t in e.ranking] == [(t.pid, t.comm, t.points) for t in plain.ranking]
    assert (e.agree, e.model_victim, e.era, e.totalpages) == (plain.agree, plain.model_victim, plain.era, plain.totalpages)
    assert (e.memory, e.memcg, e.allocation, e.cause) == (plain.memory, plain.memcg, plain.allocation, plain.cause)


def _unstamped(text: str) -> str:
    """As copied from a bug tracker or a web page: the dmesg stamps (monotonic or -T) gone."""
    return re.sub(r"(?m)^\s*\[[^\]]*\d[.:]\d+[^\]]*\]\s?", "", text)


def _mail_dropping_spaces(text: str, width: int) -> str:
    """A mail client's greedy wrap that drops the space it breaks at and cuts a word longer than the width (the
    oom-kill: line has no space at all)."""
    return "\n".join(piece for line in text.splitlines() for piece in textwrap.wrap(
        line, width, break_on_hyphens=False) or [""]) + "\n"  # fmt: skip


@pytest.mark.parametrize("width", [72, 76, 80])
@pytest.mark.parametrize("path", COMPLETE, ids=lambda p: p.name[:3])
def test_a_paste_without_stamps_wrapped_by_a_mail_client_reads_as_the_original(path: Path, width: int) -> None:
    """No stamp tells where a printk line begins: a line that cannot begin one, after a line cut at a mail client's
    width, is its continuation, whether the client dropped the space it broke at or kept it."""
    text = _read(path)
    (plain,) = explain_text(text)
    for wrapped in (_mail_dropping_spaces(_unstamped(text), width),
                    "\n".join(p for line in _unstamped(text).splitlines() for p in _mail_wrap(line, width)) + "\n"):
        (e,) = explain_text(wrapped)
        assert e.kernel_selected.pid == _kernel_choice(text) and e.problems == plain.problems
        assert [(t.pid, t.comm, t.points) for t in e.ranking] == [(t.pid, t.comm, t.points) for t in plain.ranking]
        assert (e.agree, e.era, e.totalpages, e.trigger) == (plain.agree, plain.era, plain.totalpages, plain.trigger)
        assert (e.memory, e.memcg, e.allocation, e.cause) == (plain.memory, plain.memcg, plain.allocation, plain.cause)


# where a mail, a forum quote or a manual cut the header line: what is left after " invoked "
_HEADER_CUTS = {"oom-": "", "oom-killer": "", "oom:": ", order", "oom-killer:": ", gfp_mask, order"}


@pytest.mark.parametrize("cut", _HEADER_CUTS)
@pytest.mark.parametrize("path", COMPLETE, ids=lambda p: p.name[:3])
def test_a_header_cut_short_still_begins_the_report_and_names_its_trigger(path: Path, cut: str) -> None:
    """The header cut after 'oom-', 'oom-killer', or before the adj ('oom: ... order=0', the manual's cut of
    5.10-hce-manual-zh-...md; 'oom-killer: gfp_mask=..., order=0'): the report begins there, its trigger is the
    header's comm, and what the cut kept of gfp_mask and order is read, nothing more."""
    text = _read(path)
    (plain,) = explain_text(text)
    header = re.search(r"(?m) invoked oom-killer: (gfp_mask=\S+), (?:nodemask=\S+, )?(order=-?\d+)[^\n]*", text)
    kept = {"oom-": " invoked oom-", "oom-killer": " invoked oom-killer", "oom:": f" invoked oom: {header[2]}",
            "oom-killer:": f" invoked oom-killer: {header[1]}, {header[2]}"}[cut]
    (e,) = explain_text(text.replace(header[0], kept, 1))
    assert e.kernel_selected.pid == _kernel_choice(text) and e.trigger.comm == plain.trigger.comm
    assert e.problems[0].endswith(f"only its comm{_HEADER_CUTS[cut]} read: {plain.trigger.comm + kept!r}")
    assert (e.allocation.gfp_mask if e.allocation else None) == (plain.allocation.gfp_mask if cut == "oom-killer:"
                                                                 else None)
    assert (e.allocation.order if e.allocation else None) == (plain.allocation.order if _HEADER_CUTS[cut] else None)
    assert "the report has no 'invoked oom-killer' line" not in " ".join(e.problems)


def test_prose_that_says_invoked_oom_begins_no_report() -> None:
    """'the cpuset that invoked oom. This will prevent' (the cpuset patch's mail) is a sentence, not a header."""
    text = _read(SHARED / "oomanalyser" / "001-archlinux-6.1.1-global-doxygen-reaper.log")
    (e,) = explain_text("mems_allowed as the cpuset that invoked oom. This will prevent\n" + text)
    assert e.lines == [n + 1 for n in explain_text(text)[0].lines] and e.trigger.comm == "doxygen"


def _rows_cut_at_gap(text: str, k: int, header: bool) -> str:
    """Every task row wrapped at its k-th run of spaces after the pid (the spaces dropped, as a client that trims
    what it breaks does: a padded column leaves no trace), with or without the dump's header line."""
    out = []
    for line in text.splitlines():
        if re.search(r"\[\s*pid\s*\]", line) and not header:
            continue
        row = re.search(r"\[\s*\d+\]", line) if re.search(r"\[\s*\d+\]\s+-?\d+\s+\d+\s", line) else None
        gaps = list(re.finditer(r" +", line[row.end() :])) if row else []
        if k < len(gaps):
            out += [line[: row.end() + gaps[k].start()], line[row.end() + gaps[k].end() :]]
        else:
            out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("header", [True, False], ids=["header", "headless"])
@pytest.mark.parametrize("k", [0, 2, 6])
@pytest.mark.parametrize("path", COMPLETE, ids=lambda p: p.name[:3])
def test_task_rows_wrapped_where_several_spaces_were_are_rejoined(path: Path, k: int, header: bool) -> None:
    """A row cut after its pid ('[ 2687]' alone), inside its numbers or before its name, with the padding dropped:
    with the header, the row's columns say how many numbers it needs; without it, the pieces are joined only when
    they add up to one row of a known width."""
    text = _read(path)
    if not header:
        text = "".join(line + "\n" for line in text.splitlines() if not re.search(r"\[\s*pid\s*\]", line))
    (plain,) = explain_text(text)
    (e,) = explain_text(_rows_cut_at_gap(text, k, header))
    assert plain.ranking and e.kernel_selected.pid == _kernel_choice(text)
    assert [(t.pid, t.comm, t.points) for t in e.ranking] == [(t.pid, t.comm, t.points) for t in plain.ranking]
    assert (e.era, e.totalpages, e.problems) == (plain.era, plain.totalpages, plain.problems)


def test_a_headless_row_is_not_joined_to_what_could_not_complete_it() -> None:
    """Numbers that would make more than one row of any known width, or a line that is a row itself, are not taken:
    the cut row stays unread and says so, the next row is read."""
    rows = ("[  111]     0   111      431\n"  # 6.11's row cut after total_vm: 3 numbers, no name
            "289 32 257 0 49152 0 0 1 2 stress-ng\n"  # 3 + 10 numbers: no format has 13
            "[  112]     0   112      431      289       32      257         0    49152        0         0 sh\n")
    (r,) = parse_reports(rows)
    assert [t.pid for t in r.tasks] == [112]
    assert "line 1: 1 task row(s) cut short (no name): not read" in r.problems
    (r,) = parse_reports(rows.replace("289 32 257 0 49152 0 0 1 2 stress-ng\n", ""))  # the next line is a row
    assert [t.pid for t in r.tasks] == [112]


def test_coloured_and_wrapped_and_from_the_middle_at_once() -> None:
    text = _read(SHARED / "oomanalyser" / "001-archlinux-6.1.1-global-doxygen-reaper.log")
    (e,) = explain_text(_colour(_wrap_with_marks(_from(text, "meminfo"))))
    assert e.kernel_victim.pid == 473206 and e.agree


# --- the victim when the verdict is missing ------------------------------------------------------------------


def _drop(text: str, *needles: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not any(n in line for n in needles))


@pytest.mark.parametrize("path", [p for p in COMPLETE if "oom-kill:" in _read(p)], ids=lambda p: p.name[:3])
def test_victim_from_the_oom_kill_line_without_a_verdict(path: Path) -> None:
    text = _read(path)
    (e,) = explain_text(_drop(text, "Killed process", "oom_reaper"))
    assert (e.kernel_victim.pid, e.kernel_victim_source) == (_victim_pid(text), "oom-kill:")
    assert e.agree


@pytest.mark.parametrize("path", [p for p in COMPLETE if "oom_reaper: reaped" in _read(p)], ids=lambda p: p.name[:3])
def test_victim_from_the_reaper_line_alone(path: Path) -> None:
    text = _read(path)
    (e,) = explain_text(_drop(text, "Killed process", "Kill process", "oom-kill:"))
    assert (e.kernel_victim.pid, e.kernel_victim_source) == (_victim_pid(text), "oom_reaper")
    only_tail = "".join(line for line in text.splitlines(keepends=True) if "oom-kill:" in line or "oom_reaper" in line)
    (e,) = explain_text(only_tail)  # just the summary and reaper lines: still a report, with its victim
    assert e.kernel_victim.pid == _victim_pid(text)


def test_verdict_lines_never_open_a_report_of_their_own() -> None:
    """5.0+: oom-kill: before the verdict and the reaper after it all belong to the report being read."""
    text = _read(SHARED / "dmesg" / "008-lkml-5.2-rc7-memcg-leaker-reaper.log")
    (r,) = parse_reports(text)
    assert r.constraint == "CONSTRAINT_MEMCG" and r.killed.pid == r.oom_kill_pid == r.reaper[0].pid == 23793
    assert r.last_line == len(text.splitlines())  # ends with its reaper line


_TUNED = "Killed process 1065 (tuned) total-vm:562324kB, anon-rss:10760kB, file-rss:5888kB, shmem-rss:0kB"


@pytest.mark.parametrize(("verdict", "comm"), [
    ("Killed process 1065 (tu(ned", "tuned"),  # cut inside a garbled comm: the dump's row names pid 1065
    ("Killed process 1065 (tuned", "tuned"),  # cut inside the comm
    ("Killed process 1065 (tu)ned", "tu"),  # garbled after a ')': as printed, who but not sizes
    ("Killed process 1065 (tuned) total-vm:562324kB, anon-", "tuned"),  # cut inside its fields
    ("Killed process 1065 (tu(ned) total-vm:562324kB, anon-rss:10760kB, file-rss:5888kB, shmem-rss:0kB", "tu(ned"),
    ("Killed process 1065 (tu\nned) total-vm:562324kB, anon-rss:10760kB, file-rss:5888kB, shmem-rss:0kB", "tu ned"),
    ("Killed process 1065 (tuned)\ntotal-vm:562324kB, anon-rss:10760kB, file-rss:5888kB, shmem-rss:0kB", "tuned"),
])  # fmt: skip
def test_a_verdict_with_a_cut_or_unbalanced_comm_takes_no_line_that_is_not_its_own(verdict: str, comm: str) -> None:
    """The Chinese blog's sysrq-f report (3.10-el7-blog-zh-...md), its verdict cut or garbled around the comm's
    parentheses: the Markdown fence and prose after it are not joined to it (they were, up to the next report's first
    line, and the victim was lost); a wrap inside the comm or before the fields still is."""
    text = (SHARED / "public" / "3.10-el7-blog-zh-sysrq-f-then-docker-memcg-swap-score750-three-reports.md").read_text(
        encoding="utf-8")
    assert text.count(_TUNED) == 1
    plain = explain_text(text)
    es = explain_text(text.replace(_TUNED, verdict))
    wrapped = verdict.count("\n")  # the lines after it move down
    assert (es[0].kernel_victim.pid, es[0].kernel_victim.comm, es[0].lines) == (1065, comm, [11, 116 + wrapped])
    assert [(e.kernel_victim.pid, [n - wrapped for n in e.lines]) for e in es[1:]] == [
        (e.kernel_victim.pid, e.lines) for e in plain[1:]]
    assert not any("could not read" in p for p in es[0].problems)


# --- reports run together ---------------------------------------------------------------------------------


def test_a_cut_report_and_the_next_one_from_the_middle_are_not_merged() -> None:
    a = _read(SHARED / "oomanalyser" / "001-archlinux-6.1.1-global-doxygen-reaper.log")
    b = _read(SHARED / "dmesg" / "019-lkml-4.19.69-gentoo-global-firefox-biggest-not-victim-adj300.log")
    a_cut = a[: a.index("oom-kill:")]  # a's verdict lost
    b_mid = _from(b, "meminfo")  # b's beginning lost
    ra, rb = parse_reports(a_cut + b_mid)
    assert len(ra.tasks) == a.count("\n[") - 1 and ra.victim() is None  # rows of a only ("[  pid  ]" header aside)
    assert len(rb.tasks) == len(parse_reports(b)[0].tasks) and rb.killed.pid == _victim_pid(b)
    ea, eb = explain_text(a_cut + b_mid)
    assert eb.agree and ea.kernel_victim is None and not ea.compared


def test_a_reaper_line_after_the_next_report_began_goes_to_its_victims_report() -> None:
    a = _read(SHARED / "dmesg" / "008-lkml-5.2-rc7-memcg-leaker-reaper.log")
    b = _read(SHARED / "dmesg" / "003-qemu-6.11-stress-ng-adj1000-global.log")
    reaper = next(line for line in a.splitlines(keepends=True) if "oom_reaper" in line)
    b_lines = b.splitlines(keepends=True)
    # as one boot would print it: the reaper line stamped between b's first two lines (a's own stamp would be a
    # dmesg clock running back, another boot: no report spans that)
    reaper = re.sub(r"^\[[^\]]*\]", re.match(r"\[[^\]]*\]", b_lines[1])[0], reaper)
    text = _drop(a, "oom_reaper") + b_lines[0] + reaper + "".join(b_lines[1:])
    ra, rb = parse_reports(text)
    assert [p.pid for p in ra.reaper] == [23793] and all(p.pid != 23793 for p in rb.reaper)
    assert rb.killed.pid == _victim_pid(b)


def test_two_dumps_in_a_row_are_two_reports() -> None:
    """A report whose verdict was lost, then another report's dump: the second dump starts a second report."""
    a = _read(SHARED / "dmesg" / "003-qemu-6.11-stress-ng-adj1000-global.log")
    head, tail = a[: a.index("oom-kill:")], _from(a, "dump")
    ra, rb = parse_reports(head + tail)
    assert len(ra.tasks) == len(rb.tasks) > 0 and rb.killed and ra.victim() is None


# --- numbers, trigger, kinship -------------------------------------------------------------------------------


def test_a_number_too_big_for_the_kernel_is_a_problem_not_a_crash() -> None:
    text = _read(SHARED / "dmesg" / "009-lkml-3.2-rc3-xfs019-xfs_db-oom_adj.log")
    huge = text.replace(" 981936 ", " " + "9" * 300 + " ")
    (e,) = explain_text(huge)
    assert any("task row not understood" in p for p in e.problems)
    (e,) = explain_text(text.replace("pages RAM", "pages RAM").replace("1048560 pages RAM", "9" * 5000 + " pages RAM"))
    assert e.kernel_victim.pid == 11341  # the line is not read, nothing raises


def test_the_trigger_comes_only_from_the_invoked_and_cpu_lines() -> None:
    text = _read(SHARED / "dmesg" / "008-lkml-5.2-rc7-memcg-leaker-reaper.log")
    (e,) = explain_text(_drop(text, "invoked oom-killer", "CPU: "))
    assert e.trigger is None  # not the oom-kill: line's task, which is the victim
    (e,) = explain_text(_drop(text, "invoked oom-killer"))
    assert (e.trigger.pid, e.trigger.comm) == (23793, "leaker")


def test_a_thread_of_the_chosen_process_is_the_chosen_process() -> None:
    """Before 5.1 the verdict prints the thread that holds the mm; the dump prints the same thread."""
    text = _read(SHARED / "oomanalyser" / "003-rhel7-3.10.0-514-global-numa-mysqld-rsyslog012.log")
    row = re.search(r"\[ 6576\]( +\d+) +6576 ", text)
    threaded = text.replace(row[0], f"[ 6590]{row[1]}  6576 ").replace("Killed process 6576", "Killed process 6590")
    (e,) = explain_text(threaded)
    assert e.kernel_selected.pid == 6576 and e.kernel_victim.pid == 6590 and e.kernel_victim_is == "thread"
    assert e.agree and not any("child" in n for n in e.notes)
    assert any("a thread of the same process" in n for n in e.notes)


@pytest.mark.parametrize(("path", "part"), [(p, part) for p, part in CASES if part in ("dump", "rows")],
                         ids=lambda v: v.name[:3] if isinstance(v, Path) else v)  # fmt: skip
def test_import_replays_a_paste_without_mem_info(path: Path, part: str) -> None:
    """import handles what explain reads: without Mem-Info the machine's size is a guess, said in the notes."""
    text = _read(path)
    imported = import_report(_from(text, part), "paste.log")
    assert imported.victim_pid is not None and any("a guess" in n or "is a guess" in n or "plus 25 %" in n
                                                    for n in imported.notes)  # fmt: skip
    replay = replay_victim(imported.text, "paste.toml")
    assert replay is not None and replay[0] == imported.victim_pid


# --- public pastes the hard ways (tests/data/fixtures/public/SOURCES.md) -----------------------------------------

PUBLIC = SHARED / "public"


def test_a_quoted_printable_mail_rewrapped_by_a_reply_reads_both_reports() -> None:
    """=3D for every '=', soft breaks, and a quoted verdict wrapped again at 'total-' / 'vm:' and 'pgtables:'."""
    text = _read(PUBLIC / "6.3-rc1-linux-fsdevel-quoted-printable-rewrapped.eml")
    first, second = explain_text(text)
    assert first.kernel_victim.pid == 1669 and first.kernel_victim.comm == "xdg-desktop-por"
    killed = parse_reports(text)[0].killed
    assert (killed.total_vm_kb, killed.anon_rss_kb, killed.uid, killed.pgtables_kb, killed.oom_score_adj) == (
        105068, 9792, 1000, 136, 200)  # fmt: skip
    assert second.trigger.pid == 1413 and second.era == "6.3"
    assert not any("could not read" in p for e in (first, second) for p in e.problems)
    # the same bytes, not decoded, would be unreadable: the decoding is what reads them
    assert "=3D" in text and "could not read" in " ".join(explain_text(text.replace("quoted-printable", "x")
                                                                         .replace("=3D", "=3E"))[1].problems)


def test_a_quoted_printable_soft_break_keeps_the_line_numbers_after_it() -> None:
    text = "Content-Transfer-Encoding: quoted-printable\n\n" + "\n".join([
        "[ 10.000000] a invoked oom-killer: gfp_mask=3D0xcc0(GFP_KERNEL), order=3D0, oom_score_adj=3D0",
        "[ 10.000001] oom-kill:constraint=3DCONSTRAINT_NONE,nodemask=3D(null),cpuset=3D/,mems_allowed=3D0,glo=",
        "bal_oom,task_memcg=3D/,task=3Da,pid=3D7,uid=3D0",
        "[ 10.000002] Out of memory: Killed process 7 (a) total-vm:4kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB, =",
        "UID:0 pgtables:4kB oom_score_adj:0",
    ])  # fmt: skip
    (r,) = parse_reports(text)
    assert r.killed.pid == 7 and r.killed.line == 7 and r.constraint == "CONSTRAINT_NONE"
    assert (r.first_line, r.last_line) == (3, 7)


def test_a_report_kept_by_grep_from_a_localised_dmesg_t_in_notes() -> None:
    """French `dmesg -T` stamps, only the rows grep kept, inside Markdown: the victim, and honest about totalpages."""
    (e,) = explain_text(_read(PUBLIC / "6.8-dmesg-T-french-grep-filtered-notes.md"))
    assert e.kernel_victim.pid == e.model_victim.pid == 43056 and e.agree and e.era == "6.8"
    assert e.totalpages is None and e.model_score is None
    # the adj term is a bound when totalpages is unknown, never "0 pages"
    assert "its adj +200 adds at least 784200 pages" in e.why
    assert any("at least" in w and w.startswith("next is systemd-oomd") for w in e.why)


def test_a_dump_quoted_from_its_middle_without_the_victims_row_is_not_compared() -> None:
    """Only the dump's last rows were quoted: a bigger process among them is no disagreement with the kernel."""
    (e,) = explain_text(_read(PUBLIC / "5.8-rc1-intel-gfx-quoted-dump-tail-only.mail"))
    assert e.kernel_victim.pid == 27368 and e.model_victim.comm == "unison"
    assert not e.compared and not e.agree
    assert any("begins in the middle" in p and "chromium (27368)" in p for p in e.problems)
    # the same rows with their header printed: the dump is whole, the victim absent is a real problem
    header = "[133747.719700] [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\n"
    text = _read(PUBLIC / "5.8-rc1-intel-gfx-quoted-dump-tail-only.mail").replace("> [133747.719711]", header
                                                                                   + "> [133747.719711]", 1)
    (whole,) = explain_text(text)
    assert whole.compared and any("is not among the eligible rows" in p for p in whole.problems)


def test_a_memcg_report_without_its_memcg_lines_says_so_in_words() -> None:
    """journalctl output from the dump's header on: no cgroup path, limit or usage to quote, and no '?' for them."""
    (e,) = explain_text(_read(PUBLIC / "4.x-journalctl-blank-lines-memcg-from-dump-header.md"))
    assert e.kernel_victim.pid == e.model_victim.pid == 16883 and e.agree
    assert e.constraint == "CONSTRAINT_MEMCG" and e.totalpages is None
    assert e.cause.kind == "memcg_limit" and e.cause.text.startswith("A memory cgroup (the report does not name it)")
    assert "?" not in e.cause.text and "no limit" not in e.cause.text
    # both have adj 0: the gap does not depend on the unknown totalpages, so it is exact
    assert "next is mesos-executor (16866) with 12300 points, 2514 pages (9.8 MiB) behind" in e.why


def test_a_v1_memcg_report_sums_its_childrens_stats_and_container_root_has_no_bonus() -> None:
    (e,) = explain_text(_read(PUBLIC / "4.15-k8s-pod-memcg-v1-dmesg-T-from-call-trace.log"))
    assert e.kernel_victim.pid == e.model_victim.pid == 32308 and e.agree and e.totalpages == 31488
    # the pod's own line says rss:0KB; its two containers hold 48 KB and 123552 KB (v1 prints local counters)
    assert e.memcg.stats_kb["rss"] == 48 + 123552 and "It held rss 120 MiB." in e.cause.text
    # every task is uid 0, yet 1718 reproduces only if none held CAP_SYS_ADMIN (a pod's root lacks it)
    assert (e.score_check.printed, e.score_check.agree) == (1718, True)
    assert e.cap_sys_admin == "no task holds CAP_SYS_ADMIN"


def test_a_dmesg_clock_running_back_parts_two_pastes_that_would_fit_together() -> None:
    """A support wiki's two `dmesg | grep -i mdsd` blocks: each keeps a row, the oom-kill: line and the verdict of
    one OOM, then the invoked and CPU lines of the next. The first block ends with an invoked line at 662381.2 s, the
    second begins with a row at 580660.4 s: another boot (6.8 there, 5.15 here), though a header, a CPU line and then
    rows, an oom-kill: line and a verdict would make one report."""
    text = (SHARED / "public" / "6.8-5.15-azure-wiki-grep-mdsd-row-verdict-then-next-invoked.md").read_text("utf-8")
    a, b, c, d = explain_text(text)
    assert (a.kernel_victim.pid, a.constraint, a.era, a.era_range) == (1975949, "CONSTRAINT_NONE", "6.8", "6.8 or later")
    assert a.ranking[0].points == 762501 + 6586368 // 4096 and a.agree
    assert (b.trigger.pid, b.era, b.kernel_victim) == (1977413, "6.8", None)
    # by hand: rss 2620316 + pgtables 21450752 / 4096 = 5237 pages; the Killed line's UID and pgtables: 5.4 on
    assert (c.kernel_victim.pid, c.constraint, c.trigger, c.era, c.era_range) == (
        2002099, "CONSTRAINT_MEMCG", None, "5.4", "5.4 to 6.7")  # fmt: skip
    assert c.ranking[0].points == 2625553 and c.memcg.path == "/system.slice/azuremonitoragent.service"
    assert (d.trigger.pid, d.era, d.kernel_victim) == (2005834, "5.15", None)


@pytest.mark.parametrize("width", [72, 76, 80])
def test_a_stamped_paste_whose_wrap_dropped_the_spaces_reads_as_the_original(width: int) -> None:
    """A mail client that trims the lines it breaks (as Python's textwrap, at spaces only): nothing is left of the
    space, and every row of the 4.19 firefox report's dump is broken. Rejoined with a space where the next word
    would not have fitted, the report reads as it was: its dump, score 303, Mem-Info and zones."""
    text = _read(SHARED / "dmesg" / "019-lkml-4.19.69-gentoo-global-firefox-biggest-not-victim-adj300.log")
    wrapped = "\n".join(piece for line in text.splitlines()
                        for piece in textwrap.wrap(line, width, break_on_hyphens=False) or [""])  # fmt: skip
    assert max(map(len, wrapped.splitlines())) <= width and len(wrapped.splitlines()) > len(text.splitlines()) + 100
    (e,) = explain_text(wrapped)
    (plain,) = explain_text(text)
    assert (e.kernel_victim.pid, e.model_victim.pid) == (23437, 23437)
    assert (e.score_check.printed, e.score_check.model) == (303, 303)
    assert [(t.pid, t.comm, t.points) for t in e.tasks] == [(t.pid, t.comm, t.points) for t in plain.tasks]
    assert (e.memory, e.allocation, e.cause, e.platform, e.problems) == (
        plain.memory, plain.allocation, plain.cause, plain.platform, plain.problems)  # fmt: skip


def _structured(text: str, style: str) -> str:
    """The lines as a structured log writes them: journalctl -o json (one message not UTF-8, kept as its bytes, as
    journald does), Docker's json-file, Loki's logcli --output=jsonl."""
    import json

    out = []
    for i, line in enumerate(text.splitlines()):
        if style == "journal":
            message = list(line.encode()) if i == 3 else line
            out.append(json.dumps({"__CURSOR": f"s=1;i={i:x}", "_TRANSPORT": "kernel", "PRIORITY": "4",
                                   "SYSLOG_IDENTIFIER": "kernel", "MESSAGE": message}))
        elif style == "docker":
            out.append(json.dumps({"log": line + "\n", "stream": "stdout", "time": "2025-01-01T10:00:00.0Z"}))
        else:
            out.append(json.dumps({"labels": {"job": "kmsg"}, "line": line, "timestamp": "2025-01-01T10:00:00Z"}))
    return "\n".join(out) + "\n"


def _explain_json(f: Path, capsys) -> tuple[list, list]:
    """`oomtui explain --json` of a file, and of the same bytes on stdin: their reports."""
    import io
    import json
    import sys

    from oomtui.cli import main

    assert main(["explain", "--json", str(f)]) == 0
    from_file = json.loads(capsys.readouterr().out)["reports"]
    stdin = sys.stdin
    try:
        sys.stdin = io.TextIOWrapper(io.BytesIO(f.read_bytes()))
        assert main(["explain", "--json", "-"]) == 0
    finally:
        sys.stdin = stdin
    return from_file, json.loads(capsys.readouterr().out)["reports"]


@pytest.mark.parametrize("style", ["journal", "docker", "loki"])
def test_a_structured_log_of_json_lines_is_read_as_its_messages(style: str, tmp_path: Path, capsys) -> None:
    """`journalctl -k -o json`, a container's json-file log, a Loki export: each line's message is the kernel's
    line, at the same line number, read from a file, from stdin and by import alike."""
    from oomtui.importers.report import read_input
    from oomtui.scene.load import load_playable

    for path in COMPLETE[:3]:
        text = _read(path)
        f = tmp_path / "log.json"
        f.write_text(_structured(text, style), encoding="utf-8")
        plain = [(e.kernel_victim, e.model_victim, e.agree, e.totalpages, e.problems) for e in explain_text(text)]
        assert [(e.kernel_victim, e.model_victim, e.agree, e.totalpages, e.problems)
                for e in explain_text(read_input(str(f)))] == plain
        from_file, from_stdin = _explain_json(f, capsys)
        first = [r.first_line for r in parse_reports(text)]
        for got in (from_file, from_stdin):
            assert [r["lines"][0] for r in got] == first
            assert [(r["kernel_victim"], r["agree"], r["totalpages"]) for r in got] == \
                [(r["kernel_victim"], r["agree"], r["totalpages"]) for r in from_file]
            assert got[0]["kernel_victim"]["pid"] == plain[0][0].pid
        # play and run replay it as its messages too (a scene file's text is read by scene.load)
        scene, plain_scene = load_playable(str(f)).scene, load_playable(str(path)).scene
        assert [(p.pid, p.comm) for p in scene.processes] == [(p.pid, p.comm) for p in plain_scene.processes]
        assert (scene.ram, scene.swap, scene.cgroups) == (plain_scene.ram, plain_scene.swap, plain_scene.cgroups)


def _pretty(text: str, style: str) -> str:
    """The lines as a log of a field a line writes them: util-linux's `dmesg --json` (its test suite's layout: the
    stamp in "time", the rest in "msg"), `journalctl -o json-pretty`, `-o verbose` and `-o export`."""
    import json

    entries = []
    for i, line in enumerate(text.splitlines()):
        m = re.match(r"\[\s*(\d+\.\d+)\] ?(.*)", line)
        time, msg = (float(m[1]), m[2]) if m else (0.0, line)
        if style == "dmesg":
            entries.append(f'         "pri": 4,\n         "time": {time:12.6f},\n         "msg": {json.dumps(msg)}')
        elif style == "verbose":
            entries.append(f"Mon 2024-12-02 10:00:00.123456 UTC [s=1;i={i:x};b=2;m={int(time * 1e6):x};t=3;x=4]\n"
                           f"    _SOURCE_MONOTONIC_TIMESTAMP={int(time * 1e6)}\n    _TRANSPORT=kernel\n    PRIORITY=4\n"
                           f"    SYSLOG_IDENTIFIER=kernel\n    MESSAGE={line}\n    _BOOT_ID=5\n    _HOSTNAME=vm")
        elif style == "export":
            entries.append(f"__CURSOR=s=1;i={i:x}\n__REALTIME_TIMESTAMP=1733133600123456\n_TRANSPORT=kernel\n"
                           f"PRIORITY=4\nMESSAGE={line}\n_HOSTNAME=vm\n")
        else:
            entries.append(f'{{\n\t"__CURSOR" : "s=1;i={i:x}",\n\t"PRIORITY" : "4",\n\t"_TRANSPORT" : "kernel",\n'
                           f'\t"MESSAGE" : {json.dumps(line)},\n\t"_HOSTNAME" : "vm"\n}}')
    if style == "dmesg":
        return '{\n   "dmesg": [\n      {\n' + "\n      },{\n".join(entries) + "\n      }\n   ]\n}\n"
    return "\n".join(entries) + "\n"


@pytest.mark.parametrize("style", ["dmesg", "journal", "verbose", "export"])
def test_a_log_of_a_field_a_line_is_read_as_its_messages(style: str, tmp_path: Path, capsys) -> None:
    """`dmesg --json`, `journalctl -o json-pretty`, `-o verbose`, `-o export`: each message field is the kernel's
    line, at its own line number; 4.19's pr_cont pieces, an entry each, are joined again, and the other fields
    are nothing between lines (show_free_areas' line after the last buddy line). From a file and stdin alike."""
    from oomtui.importers.report import read_input

    for path in COMPLETE:
        text = _read(path)
        f = tmp_path / "log.json"
        f.write_text(pretty := _pretty(text, style), encoding="utf-8")
        plain = [(e.kernel_victim, e.model_victim, e.agree, e.totalpages, e.memory, e.allocation, e.problems,
                  [(t.pid, t.points) for t in e.tasks]) for e in explain_text(text)]  # fmt: skip
        from_file, from_stdin = _explain_json(f, capsys)
        assert from_stdin == from_file
        got = explain_text(read_input(str(f)))  # as import reads it
        assert [(e.kernel_victim, e.model_victim, e.agree, e.totalpages, e.memory, e.allocation, e.problems,
                 [(t.pid, t.points) for t in e.tasks]) for e in got] == plain, path.name  # fmt: skip
        assert all('"msg": ' in line or '"MESSAGE" : ' in line or "MESSAGE=" in line for e in got
                   for line in (pretty.splitlines()[e.lines[0] - 1], pretty.splitlines()[e.lines[1] - 1]))


def test_json_that_is_not_a_log_line_is_left_as_it_is(tmp_path: Path) -> None:
    """A JSON line without a message (a config pasted beside the log) and a broken one stay as they are."""
    from oomtui.importers.report import read_input

    lines = ['{"a": 1}', '{"MESSAGE": 3}', '{"log": "x"', "[1, 2]", '{"MESSAGE": [300]}', '{"MESSAGE": [true]}',
             '{"msg": "ok\\nmore"}', '{"log": null, "msg": "m"}']
    (tmp_path / "f").write_text("\n".join(lines) + "\n")
    assert read_input(str(tmp_path / "f")).splitlines() == lines[:6] + ["ok more", "m"]


def test_dmesg_time_format_iso_reads_as_plain() -> None:
    """`dmesg --time-format iso` stamps every line with a date and no host: every complete report reads as it does
    without the stamps (its CPU, Pid, memcg counter and buddy lines' first words are no host names, nor are other
    drivers' "docker0: ", "Tainted: ", "audit: " between its lines)."""
    def facts(text: str) -> list:
        return [(e.kernel_victim, e.model_victim, e.agree, e.totalpages, e.trigger, e.platform, e.memory, e.allocation,
                 e.memcg, e.problems, [(t.pid, t.points) for t in e.tasks]) for e in explain_text(text)]  # fmt: skip

    # and lines of other drivers whose first word ends in ':', as dmesg has them between a report's lines
    others = ["docker0: port 1(vethd2f3a1c) entered disabled state", "Tainted: [P]=PROPRIETARY_MODULE",
              "audit: type=1400 audit(1714395341.1:52): apparmor=\"DENIED\" operation=\"open\""]
    for path in COMPLETE:
        plain = [re.sub(r"^\[\s*\d+\.\d+\] ", "", line) for line in _read(path).splitlines()]
        plain[5:5], plain[12:12], plain[30:30] = others[:1], others[1:2], others[2:]
        iso = [f"2024-04-29T14:55:{41 + i // 100:02d},{i:06d}+02:00 {line}" for i, line in enumerate(plain)]
        assert facts("\n".join(iso)) == facts("\n".join(plain)), path.name


def test_a_verdict_without_the_uid_5_4_added_dates_the_report_before_it() -> None:
    """5.4 added "UID:%u pgtables:%lukB oom_score_adj:%hd" after shmem-rss: a whole 5.1+ verdict without them is
    5.1 to 5.3; with them, 5.4 on."""
    head = "Out of memory: Killed process 4242 (stress) total-vm:8000kB, anon-rss:4000kB, file-rss:0kB, shmem-rss:0kB"
    (old,) = explain_text(head + "\n")
    (new,) = explain_text(head + ", UID:0 pgtables:40kB oom_score_adj:0\n")
    assert (old.era_range, new.era_range) == ("5.1 to 5.3", "5.4 or later")


def test_a_release_on_the_line_after_dates_a_report_of_the_same_host_that_lacks_one() -> None:
    """A report without its CPU line takes the release of the report on the line after it where both are one
    syslog host's and its own formats agree (rss_anon columns: 6.8 on). Not a 5.15 release (another machine's, or
    a paste's joint), and not between lines that name no host (two pastes side by side look the same)."""
    head = ("[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name\n"
            "[    300]  1000   300    20000     9000     8990       10         0          81920        0             0 big\n"
            "[    301]  1000   301    20000     1000      990       10         0          81920        0             0 small\n"
            "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,"
            "task=big,pid=300,uid=1000\n"
            "Out of memory: Killed process 300 (big) total-vm:80000kB, anon-rss:35960kB, file-rss:40kB, shmem-rss:0kB, "
            "UID:1000 pgtables:80kB oom_score_adj:0\n"
            "x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n")  # fmt: skip

    def eras(release: str, host: str | None) -> tuple[str, str, bool]:
        text = head + f"CPU: 0 PID: 1234 Comm: x Not tainted {release} #101-Ubuntu\n"
        if host:
            text = "".join(f"Dec  1 10:00:00 {host} kernel: {line}\n" for line in text.splitlines())
        first, second = explain_text(text)
        return first.era, second.era, "report 2's, of the same boot" in first.era_source

    assert eras("6.8.0-31-generic", "web-1") == ("6.8", "6.8", True)
    assert eras("5.15.0-91-generic", "web-1") == ("6.8", "5.15", False)
    assert eras("6.8.0-31-generic", None) == ("6.8", "6.8", False)


def test_garbled_numbers_in_headerless_rows_and_the_gfp_mask_are_said_not_crashed_on() -> None:
    """A fuzzed paste: a headerless row with "--1000" for a number (not one int() reads), and a header whose
    gfp_mask names a zone the machine has not: read as far as they go, no internal error."""
    rows = _read(SHARED / "public" / "3.10-syslog-cortx-github-issue-headerless-nr_ptes-rows.md")
    (e,) = explain_text(rows.replace("  695451    13470", "  --1000    13470"))
    assert any("task rows without the dump's header, in a format not known" in p for p in e.problems)
    highmem = _read(SHARED / "dmesg" / "020-lkml-4.9-i686-highmem-lowmem-oom-firefox-reaper.log")
    (e,) = explain_text(highmem.replace("gfp_mask=0x27000c0(", "gfp_mask=0x27000c65536("))
    assert e.kernel_victim.pid == 2935 and e.allocation is not None
