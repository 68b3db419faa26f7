"""Read kernel OOM reports as people have them: lines -> a stream of OomReport (iter_reports).

Accepted wrappers, removed line by line before the kernel text is read: dmesg stamps (`[  30.74]`,
`dmesg -T` in any locale, `dmesg -x` facility:level, `<4>`), journalctl -k / syslog / /var/log/messages
prefixes (`Mon DD HH:MM:SS host [<prio>] kernel: `, ISO stamps), rsyslog's `#012` line joins, /dev/kmsg
records (`6,1234,5678,-;msg`), mail quoting (`> `, nested `> > `), a quoted-printable mail body (`=3D`, `=`
soft breaks), a mail client's hard wrap of stamped lines (at words, over a fold inside words: a reply to a reply)
and of lines without stamps (at 72, 76, 78 or 80 columns, before a line that cannot begin a printk line),
SGR colours, `↪` wrap marks, a forum's BBCode, junk bytes at a line's end, indentation and blank lines, syslog
records run together on one line; a prefix of any other kind is learned from the lines that always
begin a printk line. Lines that a mail client wrapped (or printk split into pr_cont pieces) are rejoined for
the lines this module reads.

A paste may begin at any part of a report and two reports may run together: see iter_reports. The formats are
those of kernel-model.md 2.5, from 2.6.3x/3.x to 6.x. Nothing here knows about victim selection: that is
oomtui.importers.explain, on top of oomtui.kernel.oom_badness.
"""

from __future__ import annotations

import array
import contextlib
import functools
import io
import itertools
import operator
import os
import quopri
import re
import stat
import struct
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter

import msgspec

from ..errors import UserError

# --- line prefixes -------------------------------------------------------------

MONTH_DAY_TIME = r"[^\W\d_]{3,5}\.?\s+\d{1,2},?\s+\d{1,2}:\d\d:\d\d(?:\.\d+)?"  # any locale: Aug, Mär, août.
ISO_TIME = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
# "[ 1146.798696]"; dmesg -H and -d print the time since the line before: "[  +0.000005]"
_MONOTONIC = r"\[\s*\+?\d+\.\d+\]"
_ANY_TIME = f"(?:{MONTH_DAY_TIME}|{ISO_TIME}|{_MONOTONIC})"
_DMESG_T = r"\[[^\]]*\d{1,2}:\d\d(?::\d\d)?[^\]]*\]"  # dmesg -T, any locale: "[Di Aug 12 03:54:03 2025]"

# A kernel line's first word and colon, which no host name in front of a message is: "oom_reaper: ", "warn_alloc: "
# (host names have no '_'), dump_stack()'s "CPU: " ("Pid: " before 3.x), a register dump's "RIP: ", "CR2: ", "x29: "
# (arm64), "Code: ", "Workqueue: ", a buddy line's "DMA32: ", a memcg counter's "memory: ", arm's "Backtrace: "
_KERNEL_WORD = (r"(?![\w.-]*_[\w.-]*:|[A-Z0-9]+:|x\d+:|(?:Backtrace|Code|Workqueue|Normal|HighMem|Movable|Device|Stack|"
                r"Pid|memory|swap|kmem):)")

_PREFIXES = [
    r"(?:>\s?)+",  # mail quoting, nested
    r"\d+,\d+,\d+,[^;]*;",  # /dev/kmsg: prio,seq,usec,flags;msg
    # syslog / journalctl / messages: "Aug 12 03:54:03 host [<kern.warning>] kernel: "
    rf"{_ANY_TIME}\s+\S+\s+(?:<[^>]*>\s+)?kernel:\s?",
    # "Apr 01 14:13:32 mysrv: ", a host name: not a kernel line's first word after dmesg --time-format iso's stamp
    # (_KERNEL_WORD)
    rf"(?:{MONTH_DAY_TIME}|{ISO_TIME})\s+{_KERNEL_WORD}[\w.-]+:\s",
    r"kernel:\s?",
    # dmesg -x: "kern  :info  : ", syslog facilities only (a program's own "stress: info: " is no prefix)
    r"(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])\s*:"
    r"\s*(?:emerg|alert|crit|err|warn|notice|info|debug)\s*:\s?",
    r"<\d>",  # raw printk level
    # an rsyslog template "%syslogseverity-text%|%programname%[%procid%]|%msg%": "warning|kernel[-]|"
    r"(?:emerg|alert|crit|err|warning|notice|info|debug)\|kernel\[[^\]|]*\]\|",
    # dmesg -T, any locale: "[Di Aug 12 03:54:03 2025]"; dmesg -H's minute stamp: "[Dec 8 17:51]"
    rf"{_DMESG_T}\s?",
    rf"{_MONOTONIC}\s?",  # "[ 1146.798696] "
    rf"{ISO_TIME}\s",  # dmesg --time-format iso
]
# Every prefix layer in one match (a line has a few: "> > Apr 01 ... kernel: [ 12.3] ").
_PREFIX = re.compile("(?:(?:" + "|".join(_PREFIXES) + r")\s*)+")
# Coloured dmesg / journalctl / less -R: SGR colour sequences only. Any other escape sequence is left as it is
# (a comm may hold one, and it is shown escaped).
_ANSI = re.compile(r"\x1b\[[0-9;:]*m")
_BBCODE = re.compile(r"\[/?(?:FONT|INDENT|CODE|QUOTE|SIZE|COLOR|B|I|U)(?:=[^\]]*)?\]")
_BBCODE_MARKS = ("[/", "[FONT", "[INDENT")  # a line with BBCode has one of these
WRAP_MARKS = "\u21aa"  # "↪": a mail client's or a pager's mark on a wrapped continuation
# Garbage at a line's end (an undecodable byte, a stray control character) defeats `$`-anchored patterns.
_TAIL_JUNK = "\ufffd\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"


def strip_prefixes(line: str) -> str:
    """The kernel's text of one log line, without stamps, syslog fields, quoting, colours, wrap marks or
    indentation. _clean_batch takes only strip(), a glued fence's and Markdown bold's strip and _PREFIX of it for a
    batch with none of _DIRTY and _BBCODE_MARKS: a step added here needs its mark there, or its step there."""
    s = _unmarked(line)
    return s[_prefix_end(s) :]


def _unmarked(line: str) -> str:
    """A log line without colours, wrap marks, BBCode, a glued fence or junk at its end: its prefixes and kernel
    text (strip_prefixes)."""
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if WRAP_MARKS in line:  # mid-line, after a space, a mark stands for nothing; at a line's start, for a space
        line = line.replace(" " + WRAP_MARKS, " ").replace(WRAP_MARKS, " ")
    if "\xa0" in line or "\t" in line:
        line = line.replace("\xa0", " ").replace("\t", " ")
    s = line.strip()
    if "[/" in s or "[FONT" in s or "[INDENT" in s:  # a forum's BBCode wrapped around the paste (_BBCODE_MARKS)
        s = _BBCODE.sub("", s).strip()
    if "```" in s:  # a Markdown fence glued to the paste's first or last line ("```[Sun Mar 30 ...", "...:0```")
        s = s.strip("`").strip()
    if "**" in s and (s[:2] == "**" or s[-2:] == "**"):  # Markdown's bold around lines ("**Fri Aug 7 ...", "...:0**")
        s = s.strip("*").strip()
    if s and s[-1] in _TAIL_JUNK:
        s = s.rstrip(_TAIL_JUNK).rstrip()
    return s


# Lines whose kernel text always starts a printk line: text in front of one of them that strip_prefixes left is
# a prefix of a kind it does not know ("node7 | ", "2019-01-01 12:00:00,123 INFO "); it is learned and stripped
# from every line that has the same shape. Each with a word that every line holding it holds: most lines hold none,
# and a batch's lines that do are found by the words (a str.find in the batch's text, in C), not a test a line.
_ANCHORS = {
    r"Mem-Info:": "Mem-Info:",
    r"Call Trace:": "Call Trace:",
    r"Hardware name: ": "Hardware name: ",
    r"Tasks state \(memory values in pages\)": "Tasks state (",
    r"oom-kill:constraint=": "oom-kill:constraint=",
    r"oom_reaper: ": "oom_reaper: ",
    r"CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: ": "Comm: ",
    r"\[\s*pid\s*\]\s+uid\s": "pid",
    r"Mem-info:": "Mem-info:",  # 2.6.2x: show_mem()'s spelling
    r"Pid: \d+, comm: ": ", comm: ",  # 2.6.2x: dump_stack()'s "Pid: %d, comm: %.20s"
}
_ANCHOR = re.compile("|".join(_ANCHORS))
_MAX_LEARNED = 8
# Characters before an anchor that can be a log's prefix: most are a few dozen ("node7 | <ISO stamp> | [stamp] "),
# Loki's logcli puts a pod's whole label set there (300 and more). Text longer than this in front of one is the
# line's own (a garbled or junk line that holds an anchor's words), never learned: and _unknown_part, a
# strip_prefixes of each tail, stays bounded. (A sentence that names an anchor is learned like a prefix, and eight
# of them fill the _MAX_LEARNED places: each rule tried against that lost real logs, a Loki query's lines of two
# pods interleaved or a report's lines one a batch.)
_MAX_PREFIX = 1024
# lines with an anchor's word remembered to hold no unknown prefix: as many, of up to as many characters (2 MB at most)
_KNOWN_LINES, _KNOWN_LINE_MAX = 4096, 512
_LOOKAHEAD = 256  # lines: a report's anchors (CPU, Call Trace, Mem-Info) come this soon after its first line


def _shape(prefix: str) -> re.Pattern:
    """A prefix as a pattern of its shape: digits vary (stamps, counters), spaces may differ in number."""
    parts = re.split(r"(\d+|\s+)", prefix)
    rx = "".join(r"\d+" if p.isdigit() else r"\s+" if p.isspace() else re.escape(p) for p in parts if p)
    return re.compile(rx + r"\s*")


# where a known prefix can begin: after a space or a separator, at a stamp's '[' or a level's '<', or after any
# other mark before a word ('"web-3","Jan 31 ...', 'n7/Jan 31 ...')
_PREFIX_CUT = re.compile(r"[\s|\]>:;,)]+|(?=[\[<])|(?<=[^\w\s])(?=[\w>])")


def _unknown_part(prefix: str) -> str:
    """The head of a prefix that strip_prefixes does not know: what comes before the stamps it does know
    ("node7 | 2019-11-01 12:00:00,123 | [  12.345] " -> "node7 | 2019-11-01 12:00:00,123 | "). Tried only where a
    known prefix can begin (a strip_prefixes of every tail of a long line took seconds)."""
    cuts = itertools.chain((0,), (m.end() for m in _PREFIX_CUT.finditer(prefix)), (len(prefix),))
    return next(prefix[:p] for p in cuts if not strip_prefixes(prefix[p:]))


def _unknown_prefixes(texts: list[str], known: set[str] | None = None,
                      learned: Iterable[re.Pattern] = ()) -> Iterator[re.Pattern]:
    """The shapes of the unknown prefixes in front of the anchors of `texts` (lines, in order): of each line that
    holds an anchor (and ':' or "pid", as an anchor's whole line does) but does not begin with one. `known`: lines
    seen to hold no unknown prefix, not looked at again (a log repeats its CPU lines, dump headers, ...); a line
    whose prefix a `learned` shape already strips to its anchor is not looked at either (each is a strip_prefixes
    of many tails: 50 000 of them took 13 s)."""
    joined = "\n".join(texts)
    spans = set()
    for word in dict.fromkeys(_ANCHORS.values()):
        at = joined.find(word)
        while at >= 0:
            start, end = joined.rfind("\n", 0, at) + 1, joined.find("\n", at)
            spans.add((start, end := len(joined) if end < 0 else end))
            at = joined.find(word, end)
    if known is not None and len(known) > _KNOWN_LINES:
        known.clear()
    for start, end in sorted(spans):
        s = joined[start:end]
        if known is not None and s in known:
            continue
        if (":" in s or "pid" in s) and not _ANCHOR.match(s) and (m := _ANCHOR.search(s)) \
                and m.start() <= _MAX_PREFIX:
            if any((lm := rx.match(s)) and _ANCHOR.match(strip_prefixes(s[lm.end() :])) for rx in learned):
                continue
            yield _shape(_unknown_part(s[: m.start()]))
        elif known is not None and len(s) <= _KNOWN_LINE_MAX:
            known.add(s)


# A mail body sent quoted-printable (RFC 2045 6.7), as mailing-list archives keep it: every '=' of an OOM report's
# "gfp_mask=" and "order=" is written "=3D", which no kernel line holds; or the header that says so.
_QP_HEAD_LINES = 400  # a report's invoked line (which has '=') or the mail's headers come this soon


def _looks_quoted_printable(head: list[str]) -> bool:
    return any("=3D" in line or "quoted-printable" in line.lower() for line in head)


def _unquote_printable(lines: Iterable[str]) -> Iterator[str]:
    """Lines of a quoted-printable body as they were written: a line ending in '=' (a soft break) runs on into the
    next, `=XX` is a byte (UTF-8, else Latin-1), and an encoded newline (`=0A`, as some mail clients write every
    line break: "...=0A=") ends a line. The lines a soft break joined become blank lines, so the joined line keeps
    the number of its last piece and every later line its own (a line holding more encoded newlines than the raw
    lines it took shifts the lines after it)."""
    pending: list[str] = []
    for line in lines:
        if line.endswith("="):
            pending.append(line[:-1])
            continue
        yield from _decoded(pending, line)
        pending.clear()
    if pending:
        yield from _decoded(pending[:-1], pending[-1])


def _decoded(pending: list[str], line: str) -> Iterator[str]:
    """The written lines of `line` with the soft-broken pieces before it (see _unquote_printable)."""
    line = "".join(pending) + line
    if "=" in line:
        b = quopri.decodestring(line.encode("utf-8", "surrogateescape"))
        try:
            line = b.decode("utf-8")
        except UnicodeDecodeError:
            line = b.decode("latin-1")
    parts = line.split("\n") if "\n" in line else [line]
    yield from itertools.repeat("", len(pending) + 1 - len(parts))
    yield from parts


def unquote_if_printable(raw: Iterable[str]) -> Iterable[str]:
    """`raw`, decoded if its first lines show a quoted-printable mail body; otherwise untouched, at no cost per line."""
    it = iter(raw)
    head = list(itertools.islice(it, _QP_HEAD_LINES))
    if _looks_quoted_printable(head):
        return _unquote_printable(itertools.chain(head, it))
    return itertools.chain(head, it)


# A mail client's hard wrap, seen on printk lines: a stamped line ("[  56.4] ...", "Aug 12 ... kernel: ") whose
# continuation has no stamp. Two kinds, and a reply may have applied both (the inner first):
# - a word wrap at width V that keeps the space it broke at: the line ends in whitespace and the next word did not
#   fit ("... calling " / "mem_cgroup_oom"), or a word longer than V was cut at exactly V;
# - a fold at width W, inside words ("oom_score_ad" / "j name", "stre" / "ss"): the line is exactly W long.
# Each is undone by joining with nothing added (a word wrap kept its space): the wrap the reply applied last first,
# then the one under it, found again on the result.
_UNWRAP_MIN = 3  # wrapped stamped lines in the head: fewer could be chance (a Markdown line break, one long line)
_QUOTE = re.compile(r"(?:>[ \t]?)*")


def _stamped(line: str) -> bool:
    """Whether a line begins with a printk line's stamp or syslog fields (behind any mail quoting)."""
    s = line.strip()
    s = s[_QUOTE.match(s).end() :].lstrip()
    return _prefix_end(s) > 0  # _PREFIX matches where its match ends past 0 (its cheaper _COMMON_PREFIX first)


# Each rule gives what joins `line` to `nxt` when it says a wrap broke them ("" or " "), else None.
def _word_wrapped(line: str, nxt: str, width: int) -> str | None:
    """A greedy word wrap at `width` broke `line` before `nxt` (see above)."""
    if len(line) == width:
        return ""
    # broken after a space it kept (RFC 3676's flowed lines do too), and the next word did not fit (">=": a
    # wrapper may keep a column free)
    return "" if line[-1:].isspace() and len(line) + len(nxt.split(None, 1)[0]) >= width else None


def _space_dropped(line: str, nxt: str, width: int) -> str | None:
    """A greedy word wrap at `width` that dropped the space it broke at (a client that trims the lines it breaks,
    as Python's textwrap does): the continuation starts at the margin (not behind a wrap mark, which says so
    itself) and not as a printk line does, and its first word would not have fitted after one space. A line the
    width long was filled exactly by its last word, unless that and the next are one word longer than the width,
    cut. A word broken after its hyphen ("total-" / "vm:") joins as it was."""
    body = nxt.lstrip()
    body = body[_QUOTE.match(body).end() :]
    if not body.strip() or nxt[:1].isspace() or body[:1] == WRAP_MARKS or _printk_start(body):
        return None
    word = len(body.split(None, 1)[0])
    if len(line) == width:
        return "" if line[-1:] == "-" or len(line.rsplit(None, 1)[-1]) + word > width else " "
    if line[-1:].isspace() or len(line) + 1 + word <= width:
        return None
    return "" if line[-1:] == "-" and line[-2:-1].isalnum() else " "


def _folded(line: str, nxt: str, width: int) -> str | None:
    """A fold at `width` (inside words, keeping nothing) cut `line` before `nxt`."""
    return "" if len(line) == width else None


# A paste without stamps (copied from a bug tracker, a web page, a mail) that a mail client wrapped: nothing marks
# where a printk line begins, so a line is a continuation only if it cannot begin one (_PRINTK_START) and the line
# before it was cut at one of the widths mail clients and terminals wrap at (every line of the head with a space
# fits in it: a paste with a longer one was not wrapped). The client may have kept the space it broke at, dropped it (the
# join puts it back), or cut a word longer than the width (a oom-kill: line has no space: joined with nothing).
_WRAP_WIDTHS = (72, 76, 78, 80)  # RFC 3676's 72 (mutt, Thunderbird), RFC 2045's 76, RFC 5322's 78, a terminal's 80
_PRINTK_START = re.compile(
    r"CPU:? |Pid: |Hardware name:|Call [Tt]race:|</?TASK>|Backtrace:|Exception stack|Mem-Info:|Node \d|"
    r"\d+ (?:total pagecache|pages)|Free swap|Total swap|Swap cache|lowmem_reserve\[\]:|\w+ per-cpu:|"
    r"(?:DMA|DMA32|Normal|HighMem|Movable):? |\[\s*pid\s*\]|\[\s*\d+\]|Tasks state|Out of memory|Memory cgroup|"
    r"Killed process|oom_reaper:|oom-kill:|Task in |memory(?:\+swap)?: |kmem: |swap: |sysrq|SysRq|R[A-Z0-9]{1,2}: |"
    r"Code: |r\d+:|[0-9a-f]{4}: |\? |\[<[0-9a-f]+>\]|[\w.]+\+0x[0-9a-f]+/0x[0-9a-f]+|\S+ from \S+\+0x|"
    r"(?:in)?active_\w+:\d|isolated_\w+:\d|unevictable:\d|slab_\w+:\d|mapped:\d|free(?:_\w+)?:\d|\w+ hugepages_"
)


def _printk_start(line: str) -> bool:
    s = line.strip()
    s = s[_QUOTE.match(s).end() :].lstrip()
    return _PRINTK_START.match(s) is not None or " invoked oom-killer:" in s or " cpuset=" in s


def _unstamped(width: int):
    """The rule of a wrap at `width` of a paste without stamps (see above)."""

    def rule(line: str, nxt: str, _: int) -> str | None:
        if len(line) > width or _printk_start(nxt):
            return None
        if line[-1:].isspace():  # the space kept: the next word did not fit after it
            return "" if len(line) + len(nxt.split(None, 1)[0]) >= width else None
        if len(line) == width and " " not in line.strip():  # one word longer than the width, cut
            return ""
        return " " if len(line) + 1 + len(nxt.split(None, 1)[0]) > width else None  # the space dropped

    return rule


def _unwrap_rule(head: list[str]):
    """How the head was wrapped: (rule, width) for its words, else for its folds, else None. The width is that of
    its longest printk line (a mail's headers and prose may be longer). Without stamps, the narrowest mail width
    its printk lines fit in, if lines reach it."""
    stamped = list(map(_stamped, head))  # once a line, not once a rule
    width = max(itertools.compress(map(len, head), stamped), default=0)
    for rule in (_space_dropped, _word_wrapped, _folded):
        pairs = [(a, b) for (a, a_stamped), (b, b_stamped) in itertools.pairwise(zip(head, stamped))
                 if b.strip() and not b_stamped and a_stamped and rule(a, b, width) is not None]  # fmt: skip
        # a dropped space shows on lines short of the width (at the width, a fold or a kept space looks the same)
        if len([a for a, _ in pairs if len(a) < width] if rule is _space_dropped else pairs) >= _UNWRAP_MIN:
            return rule, width
        # two folds of the longest lines, each cut inside a word before a piece no printk line begins with: a
        # terminal's or tracker's fixed width ("... limit of /kubepo" / "ds/pod95...", "rss:44" / "8KB rss_huge")
        if rule is _folded and len(pairs) == 2 and all(
            a.rstrip()[-1:].isalnum() and b[:1].isalnum() and not _printk_start(b) for a, b in pairs
        ):
            return rule, width
    if width or not any(" invoked oom-killer:" in line or "Killed process" in line for line in head):
        return None  # stamped, or no report in the head
    longest = max((len(line.rstrip()) for line in head if " " in line.strip()), default=0)  # a URL is not wrapped
    width = next((w for w in _WRAP_WIDTHS if longest <= w), None)
    if width is None:
        return None
    rule = _unstamped(width)
    wraps = sum(1 for a, b in itertools.pairwise(head) if b.strip() and a.strip() and rule(a, b, width) is not None)
    return (rule, width) if wraps >= _UNWRAP_MIN else None


def _unwrap(lines: Iterable[tuple[int, str]], rule, width: int) -> Iterator[tuple[int, str]]:
    """(how many input lines, line) rejoined where `rule` says a line was wrapped before the next."""
    it = iter(lines)
    cur = next(it, None)
    while cur is not None:
        n, line = cur
        piece = line  # the rule looks at the last piece: each was one line of the wrapped text
        while (nxt := next(it, None)) is not None and (s := nxt[1]).strip() and not _stamped(s) \
                and (joint := rule(piece, s, width)) is not None:
            quote = _QUOTE.match(line.lstrip())[0].rstrip()  # a quoted line's continuation is quoted too
            piece = s.lstrip()[len(quote) :] if quote and s.lstrip().startswith(quote) else s
            n, line = n + nxt[0], line + joint + (piece.lstrip() if joint else piece)
        yield n, line
        cur = nxt


def _expand(pairs: Iterable[tuple[int, str]]) -> Iterator[str]:
    """As in _unquote_printable, the lines a join took become blank lines before it: the joined line keeps the
    number of its last piece and every later line its own."""
    for n, line in pairs:
        if n > 1:
            yield from itertools.repeat("", n - 1)
        yield line


def unwrap_if_hard_wrapped(raw: Iterable[str]) -> Iterable[str]:
    """`raw` with a mail client's wraps of its printk lines undone (one level, then a second); untouched, at no
    cost per line, when its first lines show none."""
    it = iter(raw)
    head = list(itertools.islice(it, _QP_HEAD_LINES))
    if (outer := _unwrap_rule(head)) is None:
        return itertools.chain(head, it)
    pairs = _unwrap(zip(itertools.repeat(1), itertools.chain(head, it)), *outer)
    if (inner := _unwrap_rule([line for _, line in _unwrap(zip(itertools.repeat(1), head), *outer)])) is not None:
        pairs = _unwrap(pairs, *inner)
    return _expand(pairs)


_BATCH = 2048  # input lines cleaned at a time


# A syslog record that begins inside a line: the newlines between records were lost (a web page dropped them),
# "... #1Oct 14 10:22:40 localhost kernel: ..."
_RUN_TOGETHER = re.compile(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: ")


def _records(line: str) -> list[str]:
    """A line split where rsyslog's `#012` escaped a newline and where another syslog record begins."""
    parts = line.split("#012")
    if line.count(" kernel: ") > 1:
        parts = [p for part in parts for p in _split_at(part, [m.start() for m in _RUN_TOGETHER.finditer(part)])]
    return parts


def _split_records(lines: list[str], first: int) -> tuple[Sequence[int], list[str]]:
    """(line numbers, lines) of a batch numbered from `first`, with the lines that _records splits split: found
    by C-level passes over the batch (a journal has " kernel: " on every line, a record run into another on few),
    and only those split, the rest kept as they are."""
    escaped = map(operator.contains, lines, itertools.repeat("#012"))
    run_together = map((1).__lt__, map(str.count, lines, itertools.repeat(" kernel: ")))
    split = list(itertools.compress(range(len(lines)), map(operator.or_, escaped, run_together)))
    if not split:
        return range(first, first + len(lines)), lines
    numbers, out, at = [], [], 0
    for i in split:
        parts = _records(lines[i])
        numbers += range(first + at, first + i)
        numbers += itertools.repeat(first + i, len(parts))
        out += lines[at:i]
        out += parts
        at = i + 1
    numbers += range(first + at, first + len(lines))
    out += lines[at:]
    return numbers, out


def _split_at(s: str, cuts: list[int]) -> list[str]:
    bounds = [0, *(c for c in cuts if c > 0), len(s)]
    return [s[a:b] for a, b in itertools.pairwise(bounds)]


# What strip_prefixes strips from a task row behind a dmesg stamp, a syslog "MMM DD HH:MM:SS host kernel:", or both
# (or nothing): the same as _PREFIX, without trying its dozen alternatives. The same because _PREFIX takes, layer by
# layer, the first alternative that matches (and keeps it, as the atomic group does): at a letter that is the syslog
# one (those before it need '>' or a digit); at '[' the stamp (the "[... HH:MM:SS ...]" one needs a ':', and the
# syslog one with a stamp for its time needs "kernel:" where the row has a number); at the row's "[  pid]" none
# (it has neither '.' nor ':').
_ROW_PREFIX = re.compile(rf"(?:(?>{MONTH_DAY_TIME}\s+(?P<host>\S+)\s+(?:<[^>]*>\s+)?kernel:\s?)\s*)?(?:{_MONOTONIC}\s*)?"
                         r"(?=\[\s*\d+\]\s+[-\d])")
# What _PREFIX strips from most lines, for a half to a third of its cost (it tries a dozen alternatives, layer
# after layer, in Unicode classes): a syslog "MMM DD HH:MM:SS host kernel: " (the one alternative at a letter, as
# above), then a dmesg stamp in ASCII digits unless the syslog one with a stamp for its time would take it (no
# alternative before that one begins with '['; "[... HH:MM:SS ...]" needs a ':'), then a place where no alternative
# can begin (_NO_LAYER: what each of them needs there). None (other layers, or layers elsewhere): _PREFIX's way.
# Possessive where giving back a character cannot help (what follows cannot begin with it): the same matches, without
# the tries.
_NO_LAYER = (r"(?!>|<|\d++,\d++,\d++,|\d{4}-|[^\W\d_]{3,5}+\.?+\s++\d{1,2}+,?+\s++\d{1,2}+:|kernel:|"
             r"[a-z]{3,7}+\|kernel\[|(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])"
             r"\s*+:|\[[^\]:.]*+[:.])")
# MONTH_DAY_TIME in ASCII: where it matches, each part is followed by what the next one begins with (no letter after
# the month, no digit after a number), so the Unicode classes take the same characters
_ASCII_MONTH_DAY_TIME = r"[A-Za-z]{3,5}+\.?+ ++[0-9]{1,2}+,?+ ++[0-9]{1,2}+:[0-9][0-9]:[0-9][0-9](?:\.[0-9]++)?+"
_SYSLOG_HOST = r"\s++\S++\s++(?:<[^>]*+>\s++)?kernel:"  # " host [<prio>] kernel:"
# the same without a '[' (a line with one there is left to _PREFIX): the only '[' of a _COMMON_PREFIX match is its
# stamp's
_SYSLOG_HOST_NO_BRACKET = r"\s++(?P<host>[^\s\[]++)\s++(?:<[^>\[]*+>\s++)?kernel:"
# (stamp: the stamp's time as _STAMP reads it, not "+0.000005"; then dmesg -T's stamp, which _PREFIX tries first: no
# stamp is both, and most are the other)
_COMMON_PREFIX = re.compile(rf"(?>(?:{_ASCII_MONTH_DAY_TIME}{_SYSLOG_HOST_NO_BRACKET}\s*)?"
                            rf"(?:\[\s*+(?:\+[0-9]++\.[0-9]++|(?P<stamp>[0-9]++\.[0-9]++))\](?!{_SYSLOG_HOST})\s*"
                            rf"|{_DMESG_T}\s*)?){_NO_LAYER}")


def _prefix_end(s: str) -> int:
    """Where _PREFIX's match ends (0: none)."""
    m = _COMMON_PREFIX.match(s) or _PREFIX.match(s)
    return m.end() if m else 0


# A batch without these (nor _BBCODE_MARKS) is clean but for its prefixes: strip_prefixes is then _PREFIX on the
# stripped line.
_DIRTY = "".join(dict.fromkeys("\x1b" + WRAP_MARKS + "\xa0\t" + _TAIL_JUNK))


# dmesg's clock never runs back within a boot: a line stamped more than a second before the line before it comes
# from another boot or another paste (two Markdown blocks, two attachments), and no report spans it. The
# iter_kernel_batches line BOUNDARY stands there. (Lines of different CPUs may be a little out of order.) Nor does
# a report span minutes: printk stamps its lines as out_of_memory() prints them, under oom_lock, so a jump ahead of
# _CLOCK_JUMP seconds is a cut between two OOMs ("(...)" in a paste of a long log).
_STAMP = re.compile(r"\[\s*(\d+\.\d+)\]")
BOUNDARY = "\x00"
_CLOCK_JUMP = 60.0


# A log of many machines (a central syslog server's, `journalctl -m`) may interleave their lines, one by one when
# two OOM at once: each line's syslog host says whose it is. The cleaner marks where the host changes (a _Host in
# the line stream, never a line) and keeps a dmesg clock for each host; iter_reports keeps an open report for each.
# The syslog form "<time> host [<prio>] kernel: " (not "<time> word: ", which after dmesg --time-format iso's stamp
# is as often a kernel line's own first word: "Tainted: ", "docker0: ", "audit: "). A facility.level where the host
# would be ("Dec  1 10:00:01 kern.info kernel: ", busybox and OpenWrt) is no host.
_HOST_FIELD = re.compile(rf"{_ANY_TIME}\s+(\S+)\s+(?:<[^>]*>\s+)?kernel:")
_FACILITY_LEVEL = re.compile(r"(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])\.\w+")


class _Host(str):
    """The cleaner's mark that the lines after it are of syslog host `name` (see _HOST_FIELD)."""

    __slots__ = ()

    def __new__(cls, name: str):
        return super().__new__(cls, "\x01" + name)  # no pattern of a kernel line matches it

    @property
    def name(self) -> str:
        return self[1:]


def _host_span(prefix: str) -> tuple[int, int] | None:
    """Where a line's prefix (what _PREFIX strips) names its syslog host, or None."""
    if "kernel:" in prefix and (m := _HOST_FIELD.search(prefix)) and not _FACILITY_LEVEL.fullmatch(m[1]):
        return m.span(1)
    return None


class _Clock:
    """The last dmesg stamp read (see _stamp_breaks), kept for each syslog host: interleaved machines' lines each
    run on their own machine's clock."""

    __slots__ = ("now", "host", "others")

    def __init__(self):
        self.now, self.host, self.others = 0.0, None, {}

    def to_host(self, host: str, no: int, out: list) -> None:
        """The lines from input line `no` on are `host`'s: its clock, and a _Host mark in `out` (a facility.level
        in the host's place names none)."""
        if _FACILITY_LEVEL.fullmatch(host):
            return
        self.others[self.host] = self.now
        self.host, self.now = host, self.others.pop(host, 0.0)
        out.append((no, _Host(host)))


def _stamp_breaks(clock: _Clock, prefix: str | re.Match) -> bool:
    """Whether a line whose prefix is `prefix` (or _PREFIX's or _COMMON_PREFIX's match of it) cannot be of the same
    report as the line stamped clock.now (see above); the clock moves on to the prefix's dmesg stamp. A prefix
    without one breaks nothing."""
    if type(prefix) is not str and prefix.re is _COMMON_PREFIX:  # it read the stamp
        if (stamp := prefix["stamp"]) is None:
            return False
    else:
        text = prefix if type(prefix) is str else prefix[0]
        if "[" not in text or (m := _STAMP.search(text)) is None:
            return False
        stamp = m[1]
    now = float(stamp)
    last, clock.now = clock.now, now
    return now < last - 1.0 or now > last + _CLOCK_JUMP and last > 0


def _read_host(clock: _Clock, prefix: str, no: int, out: list) -> None:
    """A line whose prefix is `prefix` that names another syslog host than the line before: see _Clock.to_host."""
    if (span := _host_span(prefix)) and (host := prefix[span[0] : span[1]]) != clock.host:
        clock.to_host(host, no, out)


@functools.lru_cache(maxsize=64)  # most dumps of a file have their header's prefix, or one of its shape
def _dump_shape(prefix: str) -> str:
    """The pattern of a dump header's prefix for the dump's rows: the same text, but for each run of digits (a
    stamp's), which may be any digits of that length; a run after a letter ("local7", a host's "node7") stays as it
    is, and so does the syslog host (another machine's rows are not this dump's, "10.0.0.5" or "10.0.0.6").
    _PREFIX reads a line by its characters' kinds (digit, letter, space, the rest), never by a digit's value: on a
    row whose prefix has this shape it strips this prefix, as on the header."""
    if span := _host_span(prefix):
        a, b = span
        return _dump_shape(prefix[:a]) + re.escape(prefix[a:b]) + _dump_shape(prefix[b:])
    parts = re.split(r"(\d+)", prefix)
    return "".join(rf"\d{{{len(p)}}}" if i % 2 and not parts[i - 1][-1:].isalpha() else re.escape(p)
                   for i, p in enumerate(parts))  # fmt: skip


class _Dump:
    """What the cleaner knows of the task dump it is in: the rows' pattern, prefix and all (learned from the
    dump's header, see learn), and whether the line before was the header or a row."""

    __slots__ = ("rx", "cols", "fields", "pick", "on", "host")

    def __init__(self):
        self.rx: re.Pattern | None = None
        self.on = False

    def learn(self, line: str, s: str) -> None:
        """The header `s`, read from the stripped input `line` (its prefix before it): the pattern of a plain row
        behind the same prefix; none (rx None) for a header whose rows _read_run does not read (a wrapped or
        unknown one)."""
        if (read := _header_rows(s)) is None:
            self.rx = None
            return
        self.cols, (_, self.fields, self.pick) = read
        self.behind(line[: len(line) - len(s)])

    def behind(self, prefix: str) -> None:
        """The rows from here on have this prefix (the header's, or a row's where it changed: a stamp a digit wider,
        another minute, another machine's)."""
        self.rx = _fused_row(_dump_shape(prefix), self.cols)
        self.host = prefix[span[0] : span[1]] if (span := _host_span(prefix)) else None


@functools.lru_cache(maxsize=64)  # a file's dumps have a header or two: each read once
def _header_rows(s: str) -> tuple[tuple[str, ...], tuple] | None:
    """The columns of a dump header's text and their _fast_row, or None (a wrapped or unknown header)."""
    m = _TASK_HEADER.match(s)
    cols = tuple(m["cols"].split()) if m else ()
    fast = _fast_row(cols) if set(cols) <= _NUMERIC_COLUMNS else None
    return None if fast is None else (cols, fast)


@functools.lru_cache(maxsize=64)
def _fused_row(shape: str, cols: tuple[str, ...]) -> re.Pattern:
    return re.compile(shape + _fast_row(cols)[0].pattern)


class _Rows:
    """A run of plain task rows (_fast_row's) as the cleaner found them: one match a row, its prefix and all. Their
    columns as TaskTable.extend takes them; their lines (`lines()`) for a reader that cannot take them so."""

    __slots__ = ("cols", "n", "columns", "texts")

    def __init__(self, dump: _Dump, ms: list[re.Match], numbers: Sequence[int], texts: list[str]):
        self.cols, self.n, self.texts = dump.cols, len(ms), texts
        self.columns = _row_columns(ms, dump.fields, dump.pick)
        self.columns["line"] = list(numbers)

    @property
    def last_line(self) -> int:
        return self.columns["line"][-1]

    def lines(self) -> list[tuple[int, str]]:
        """(line number, strip_prefixes) of each row, as _clean_batch gives a line that is no run."""
        return list(zip(self.columns["line"], map(strip_prefixes, self.texts)))

    def anchored(self) -> list[str]:
        """The rows that may hold an _ANCHOR, as lines: those with ':' or "pid" in their name (a row's numbers have
        neither)."""
        comms = self.columns["comm"]
        if ":" not in (joined := "\0".join(comms)) and "pid" not in joined:
            return []
        return [strip_prefixes(t) for c, t in zip(comms, self.texts) if ":" in c or "pid" in c]


def _unfold(entries: Iterable[tuple[int, str | _Rows]]) -> Iterator[tuple[int, str]]:
    """Kernel lines, a run of rows as its lines."""
    for no, s in entries:
        if type(s) is _Rows:
            yield from s.lines()
        else:
            yield no, s


def _run_matches(rx: re.Pattern, texts: list[str], i: int) -> list[re.Match]:
    """rx's matches of texts[i], texts[i + 1], ... up to the first text it does not match, a window at a time: a
    memcg's dump may have a few rows, a global one thousands."""
    out, n = [], 8
    while i < len(texts):
        ms = list(map(rx.match, texts[i : i + n]))
        if None in ms:
            return out + ms[: ms.index(None)]
        out += ms
        i += n
        n = min(2 * n, _BATCH)
    return out


def _clean_batch(lines: list[str], first: int, dump: _Dump, clock: _Clock,
                 ) -> tuple[list[tuple[int, str | _Rows]], int]:  # fmt: skip
    """(line number, strip_prefixes) of the non-blank lines of a batch of input lines numbered from `first`, and
    how many; rsyslog's `#012`, and a syslog record run into the one before, split a line in parts that keep its
    number. In a batch that is clean but for its prefixes, a run of plain rows of a task dump whose header was
    learned (see _Dump) is one (line number of its first, _Rows): each row matched once, never cleaned.
    `clock`: the last dmesg stamp seen (read on lines that are not rows of a run), kept across batches: a stamp that
    runs back puts a BOUNDARY line before its line. A line of another syslog host than the line before has a _Host
    mark before it (and its host's clock is read)."""
    joined = "".join(lines)
    numbers: Sequence[int] = range(first, first + len(lines))
    # Each mark's rare character is looked for first: `in` finds one character as fast as memchr, a longer string
    # (in a task dump's rows, "[/" behind every "[") some fifty times slower.
    if "#" in joined and "#012" in joined or ":" in joined and " kernel: " in joined:
        numbers, lines = _split_records(lines, first)
    if any(c in joined for c in _DIRTY) or any(b[1] in joined and b in joined for b in _BBCODE_MARKS):
        dump.on = False
        out = []
        for no, t in zip(numbers, map(_unmarked, lines)):  # strip_prefixes, reading the clock as below does
            if end := _prefix_end(t):
                _read_host(clock, t[:end], no, out)
                if _stamp_breaks(clock, t[:end]):  # a coloured dmesg's clock too ('\x1b[32m[  5.1]\x1b[0m')
                    out.append((no, BOUNDARY))
                t = t[end:]
            if t:
                out.append((no, t))
        return out, len(out)
    out: list[tuple[int, str | _Rows]] = []
    texts = list(map(str.strip, lines))
    if "`" in joined and "```" in joined:  # as strip_prefixes does (a clean batch keeps its clock this way)
        texts = [t.strip("`").strip() if "```" in t else t for t in texts]
    if "*" in joined and "**" in joined:  # likewise Markdown's bold (not the slow way: a log's "*****" banner)
        texts = [t.strip("*").strip() if "**" in t and (t[:2] == "**" or t[-2:] == "**") else t for t in texts]
    row, full, fast = dump.on, _PREFIX.match, _ROW_PREFIX.match  # row: the line before was a task row or header
    common, append = _COMMON_PREFIX.match, out.append
    i, n, in_runs = 0, len(texts), 0  # in_runs: the lines of the _Rows entries, less one each
    while i < n:
        t = texts[i]
        if row:
            if i == 0 and (m := full(t)):  # a batch's first line reads the clock, a row too
                _read_host(clock, m[0], numbers[i], out)
                if _stamp_breaks(clock, m):
                    append((numbers[i], BOUNDARY))
            if dump.rx is not None and (m := dump.rx.match(t)):
                ms = [m, *_run_matches(dump.rx, texts, i + 1)]
                k = len(ms)
                if dump.host is not None and dump.host != clock.host:  # (the rows have the prefix that names it)
                    clock.to_host(dump.host, numbers[i], out)
                append((numbers[i], _Rows(dump, ms, numbers[i : i + k], texts[i : i + k])))
                i += k
                in_runs += k - 1
                continue
            if m := fast(t):  # a row of another shape, or behind another prefix
                if (host := m["host"]) is not None and host != clock.host:
                    clock.to_host(host, numbers[i], out)
                if s := t[m.end() :]:
                    append((numbers[i], s))
                if dump.rx is not None:
                    dump.behind(t[: m.end()])
                i += 1
                continue
        if (m := common(t)) is not None:
            if (host := m["host"]) is not None and host != clock.host:
                clock.to_host(host, numbers[i], out)
            if (stamp := m["stamp"]) is not None:  # _stamp_breaks of a _COMMON_PREFIX match, inline: most lines have one
                now, last = float(stamp), clock.now
                clock.now = now
                if now < last - 1.0 or now > last + _CLOCK_JUMP and last > 0:
                    append((numbers[i], BOUNDARY))
            s = t[m.end() :]
        elif m := full(t):
            _read_host(clock, m[0], numbers[i], out)
            if _stamp_breaks(clock, m):
                append((numbers[i], BOUNDARY))
            s = t[m.end() :]
        else:
            s = t
        if s:
            append((numbers[i], s))
            if row := s[:1] == "[":
                if "pid" in s and _TASK_HEADER_START.match(s):
                    dump.learn(t, s)
        else:
            row = False
        i += 1
    dump.on = row
    return out, len(out) + in_runs


def iter_kernel_batches(raw: Iterable[str]) -> Iterator[list[tuple[int, str | _Rows]]]:
    """(1-based line number in the input, kernel text) for every non-blank line of `raw` (lines, as a file
    gives them), in batches, as a stream: the input is never held whole. A run of a task dump's plain rows may be
    one (line number, _Rows) (see _clean_batch; iter_kernel_lines gives their lines).

    rsyslog's `#012` (an escaped newline inside one syslog record) splits a record back into its lines. A
    prefix of a kind strip_prefixes does not know is learned from the lines ahead (at least _LOOKAHEAD of them
    are held back, so the first lines of a report lose it too) and stripped from every line of the same shape."""
    ahead: list[tuple[int, str | _Rows]] = []  # released in chunks, so that every line has _LOOKAHEAD lines after it
    held = 0  # lines in ahead
    learned: dict[str, re.Pattern] = {}
    known: set[str] = set()  # see _unknown_prefixes

    clock = _Clock()  # of the stamps behind a learned prefix, as _clean_batch keeps one of the others

    def release(lines: list[tuple[int, str | _Rows]]) -> list[tuple[int, str | _Rows]]:
        if not learned:
            return lines
        out = []
        for no, s in _unfold(lines):
            if type(s) is _Host:
                out.append((no, s))
                continue
            for rx in learned.values():
                if m := rx.match(s):
                    rest = s[m.end() :]
                    s = strip_prefixes(rest)  # the known stamps after the unknown prefix
                    if _stamp_breaks(clock, rest[: len(rest) - len(s)]):
                        out.append((no, BOUNDARY))
                    break
            if s:
                out.append((no, s))
        return out

    it, first, dump = iter(unwrap_if_hard_wrapped(unquote_if_printable(raw))), 1, _Dump()
    batch_clock = _Clock()
    while batch := list(itertools.islice(it, _BATCH)):
        cleaned, count = _clean_batch(batch, first, dump, batch_clock)
        first += len(batch)
        if len(learned) < _MAX_LEARNED:
            for shape in _unknown_prefixes([s if type(s) is not _Rows else "\n".join(s.anchored()) for _, s in cleaned
                                            if type(s) is not _Host],
                                           known, learned.values()):
                learned.setdefault(shape.pattern, shape)
                if len(learned) == _MAX_LEARNED:
                    break
        ahead += cleaned
        held += count
        if held >= 2 * _LOOKAHEAD:
            keep, j = 0, len(ahead)  # the last entries that hold _LOOKAHEAD lines stay
            while keep < _LOOKAHEAD:
                j -= 1
                keep += s.n if type(s := ahead[j][1]) is _Rows else 1
            done, ahead, held = ahead[:j], ahead[j:], keep
            yield release(done)
    yield release(ahead)


def iter_kernel_lines(raw: Iterable[str]) -> Iterator[tuple[int, str]]:
    """iter_kernel_batches, line by line, without its BOUNDARY lines and _Host marks."""
    return (line for line in _unfold(itertools.chain.from_iterable(iter_kernel_batches(raw)))
            if line[1] != BOUNDARY and type(line[1]) is not _Host)


def kernel_lines(text: str) -> list[tuple[int, str]]:
    """iter_kernel_lines of a whole text."""
    return list(iter_kernel_lines(text.splitlines()))


# --- kills that are not the kernel's OOM killer ------------------------------------------

# User-space killers act before the kernel runs out, on their own measures, and print none of an OOM report:
# systemd-oomd (memory pressure or swap use of a cgroup, PSI), earlyoom (MemAvailable and SwapFree below a
# percentage), Android's lmkd (PSI and watermarks, by oom_score_adj). Android's in-kernel lowmemorykiller (the
# staging driver, removed in 4.12) is a shrinker of its own, not out_of_memory().
_USER_SPACE_KILLS = (
    ("systemd-oomd", re.compile(r"systemd-oomd\[\d+\]: (?:Killed (?P<what>\S+)|oomd attempting to kill (?P<pid>\d+))")),
    ("earlyoom", re.compile(r"(?:sending SIG\w+ to|[Kk]illing) process (?:'(?P<comm>[^']*)' with signal \d+, pid: "
                            r"(?P<pid2>\d+)|(?P<pid>\d+) (?:uid \d+ )?\"(?P<what>[^\"]*)\")")),
    ("Android's lmkd", re.compile(r"\blmkd\s*: (?:Kill|Reclaim) '(?P<what>[^']*)' \((?P<pid>\d+)\)")),
    ("Android's lowmemorykiller", re.compile(r"lowmemorykiller: [Kk]ill(?:ing)? '(?P<what>[^']*)' \((?P<pid>\d+)\)")),
)


# warn_alloc() (warn_alloc_failed() before 4.9): an allocation that failed, not an OOM. __alloc_pages_may_oom()
# never runs the OOM killer for an order above PAGE_ALLOC_COSTLY_ORDER (3), nor for a request that may not
# (__GFP_NORETRY, no __GFP_DIRECT_RECLAIM, __GFP_THISNODE); vmalloc's failures are its own.
_ALLOC_FAILURE = re.compile(r"(?P<comm>[^\s:][^:]*): (?:page allocation failure: order:(?P<order>\d{1,20})|"
                            r"(?P<vmalloc>vmalloc): allocation failure)")
_COSTLY_ORDER = 3
_ORDER_READ_MAX = 63  # a request is below MAX_PAGE_ORDER (11 on x86): an order above this is a garbled line's


def _allocation_failure(m: re.Match) -> str:
    if m["vmalloc"]:
        return (f"{m['comm']}'s vmalloc failed (warn_alloc): the caller got NULL; vmalloc never runs the OOM killer "
                "(a page it needed, its address space or a cgroup's kernel-memory limit ran out)")
    order = int(m["order"])
    if order > _ORDER_READ_MAX:  # garbled: 1 << order would never be computed
        return f"{m['comm']}'s page allocation failure (warn_alloc) of a garbled order ({order}): the caller got NULL"
    why = (f"the OOM killer never runs for an order above {_COSTLY_ORDER} (PAGE_ALLOC_COSTLY_ORDER): "
           f"{1 << order} contiguous pages ({4 << order} kB with 4 KiB pages) were not to be had (fragmentation), and "
           "killing would not make them"
           if order > _COSTLY_ORDER else
           "the request was not allowed to run the OOM killer (atomic, __GFP_NORETRY or __GFP_THISNODE) and failed")
    return f"{m['comm']}'s page allocation failure of order {order} (warn_alloc): the caller got NULL; {why}"


def not_an_oom(lines: Iterable[str]) -> str | None:
    """What `lines` hold instead of an OOM report, in words: a user-space killer's kills ("systemd-oomd killed
    /user.slice/..."), else the first allocation failure; None if neither."""
    found: dict[str, list[str]] = {}
    failure = None
    zones = []  # line numbers of show_free_areas()'s zone and buddy lines
    for no, line in enumerate(lines, 1):
        if (" free:" in line or "kB " in line) and (_ZONE_LINE.match(z := strip_prefixes(line)) or _BUDDY.match(z)):
            zones.append(no)
        for who, rx in _USER_SPACE_KILLS:
            if m := rx.search(line):
                d = m.groupdict()
                what, pid = d.get("what") or d.get("comm"), d.get("pid") or d.get("pid2")
                found.setdefault(who, []).append(f"{what} ({pid})" if what and pid else what or f"pid {pid}")
        if failure is None and "allocation failure" in line and (m := _ALLOC_FAILURE.search(strip_prefixes(line))):
            failure = _allocation_failure(m)
    if found:
        kills = "; ".join(f"{who} killed {', '.join(dict.fromkeys(names))}" for who, names in found.items())
        return (f"{kills}, a user-space killer acting before the kernel ran out of memory; the kernel's OOM killer "
                "did not run, so there is no selection to explain")
    if failure is None and zones:
        where = f"line {zones[0]} is" if len(zones) == 1 else f"lines {zones[0]}-{zones[-1]} are"
        return (f"{where} a memory summary (show_free_areas(): each zone's free memory, "
                "watermarks and free blocks), which an OOM report, a page allocation failure and SysRq-m all print, "
                "without the lines that say which: paste from the 'invoked oom-killer' (or 'page allocation "
                "failure') line above them to the 'Killed process' line below")
    return failure


# --- the input -------------------------------------------------------------------


def read_input(file: str) -> str:
    """The whole text of a file, or of stdin for "-". Undecodable bytes become U+FFFD: a report may hold any
    byte (a comm, a garbled line) and loses no line for it."""
    if file == "-":
        return unjson_text(sys.stdin.buffer.read().decode("utf-8", "replace"))
    try:
        with open(file, encoding="utf-8", errors="replace") as f:
            if kind := _device_kind(f):  # /dev/zero would be read for ever
                raise UserError(f"{file}: is a {kind}, expected an OOM report (a file, or - for stdin)")
            return unjson_text(f.read())
    except FileNotFoundError:
        raise UserError(f"{file}: no such file") from None
    except OSError as e:
        raise UserError(f"{file}: cannot read: {e.strerror or e}") from None


_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on
# a kernel line is at most LOG_LINE_MAX (1024 - 32) bytes, and rsyslog's #012-joined lines hold one message: of a
# line longer than 64 Ki characters only its first 64 Ki are kept (it is no report's), so that input with no line
# break (/dev/zero through a pipe) keeps memory bounded, and every line still counts as one
_MAX_LINE = 1 << 16
_CHUNK = 1 << 16  # characters read at a time (a megabyte holds more for no speed: 7 MB more peak on an archive)


def _chunk_lines(f: io.TextIOBase) -> Iterator[list[str]]:
    """The lines of a text file as str.splitlines() splits its whole text, read a chunk at a time: one splitlines()
    a chunk, not a Python step a line, and the chunk's lines given as one list. A line that runs across chunks is
    joined once it ends, cut at _MAX_LINE characters."""
    pending: list[str] = []
    room = _MAX_LINE  # characters the line in pending may still take
    structured = None  # a structured log (_structured of the first chunk: as unjson_text decides)
    while chunk := f.read(_CHUNK):
        if structured is None:
            structured = _structured(chunk)
        parts = chunk.splitlines()
        tail = parts.pop() if chunk[-1] not in _LINE_BREAKS else None
        if parts and pending:
            parts[0] = "".join(pending) + parts[0][:room]
            pending.clear()
            room = _MAX_LINE
        if parts and structured:
            parts = _unjson(parts)
        if tail is not None and room > 0:
            pending.append(tail[:room])
            room -= len(pending[-1])
        yield parts
    if pending:
        yield _unjson(["".join(pending)]) if structured else ["".join(pending)]


def unjson_text(text: str) -> str:
    """A whole text with its structured log lines replaced by their messages (_unjson)."""
    if not _structured(text[:_CHUNK]):
        return text
    lines = text.splitlines()
    out = _unjson(lines)
    return text if out is lines else "\n".join(out) + "\n"


# the message of a structured log line: journalctl -o json ("MESSAGE"), Docker's json-file ("log"), Loki's logcli
# --output=jsonl ("line"), and the common "message" / "msg"
_JSON_MESSAGE_KEYS = ("MESSAGE", "log", "message", "msg", "line")


# A pretty-printed JSON log, a field a line: `dmesg --json` (util-linux 2.38+: {"dmesg": [{"pri": 6, "time": 0.0,
# "msg": "..."}, ...]}) and `journalctl -o json-pretty` ("MESSAGE" : "..."). The message field's line is read as
# its message, every other field's line and a line of brackets alone as a blank line: a printk line split in pr_cont
# pieces (each an entry of its own) is then joined again.
_PRETTY_FIELD = re.compile(r'\s*"([^"\\]*)"\s*:\s*(.*?)\s*,?\s*')
_PRETTY_BRACKETS = re.compile(r"[\s\[\]{},]+")
# `journalctl -o export` and `-o verbose`: a field a line ("MESSAGE=...", indented in verbose), an entry's header line
# in verbose ("Mon 2024-12-02 10:00:00.123456 UTC [s=...;i=...]"); likewise
_JOURNAL_FIELD = re.compile(r"\s*(_{0,2}[A-Z0-9_]+)=(.*)")
_JOURNAL_ENTRY = re.compile(r"\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[s=[^\]]*\]\s*")


def _structured(head: str) -> bool:
    """Whether an input whose first _CHUNK characters are `head` is a structured log (_unjson reads its lines): C
    searches. Decided once for the whole input, so that a line reads the same wherever a chunk ends."""
    return '{"' in head or head[:1] == "{" or '": ' in head or '" : ' in head or "MESSAGE=" in head


def _journal_syslog(record: dict, host: str) -> str:
    """What `journalctl -o short` prints before a journal record's message ("Dec 02 10:00:00 host kernel: "), and
    the kernel's own stamp where the record keeps it: its host (`journalctl -m` merges machines) and its dmesg clock
    are then read as a syslog line's (_HOST_FIELD, _stamp_breaks). The time is UTC."""
    try:
        when = time.strftime("%b %d %H:%M:%S ", time.gmtime(int(record["__REALTIME_TIMESTAMP"]) / 1e6))
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        when = "Jan 01 00:00:00 "
    try:
        stamp = f"[{int(record['_SOURCE_MONOTONIC_TIMESTAMP']) / 1e6:12.6f}] "
    except (KeyError, ValueError, TypeError, OverflowError):
        stamp = ""
    return f"{when}{host.split()[0] if host.split() else '-'} kernel: {stamp}"


def _json_message(msg: object) -> str | None:
    """A JSON message value as text: journald keeps a message that is not UTF-8 as an array of its bytes; a message
    of several lines (no kernel line's) is kept on one."""
    if isinstance(msg, list) and msg and all(type(b) is int and 0 <= b < 256 for b in msg):
        msg = bytes(msg).decode("utf-8", "replace")
    return " ".join(msg.splitlines()) if isinstance(msg, str) else None


def _unjson(lines: list[str]) -> list[str]:
    """Each line that is a JSON object with a message replaced by its message, one line for one (line numbers stay
    the file's): a kernel line never starts with '{'. Likewise a pretty-printed one's lines (_PRETTY_FIELD): a
    kernel line never starts with '"' either; and a journal export's or verbose entry's (_JOURNAL_FIELD): nor with
    an upper-case word and '='."""
    out = lines
    for i, line in enumerate(lines):
        text = None
        if line[:1] == "{" and line.rstrip().endswith("}"):
            try:
                obj = msgspec.json.decode(line)
            except (msgspec.DecodeError, RecursionError):
                continue
            if isinstance(obj, dict):
                text = next((t for key in _JSON_MESSAGE_KEYS if (t := _json_message(obj.get(key))) is not None), None)
                if text is not None and type(host := obj.get("_HOSTNAME")) is str:
                    text = _journal_syslog(obj, host) + text
        elif (c := line.lstrip()[:1]) == '"' and (m := _PRETTY_FIELD.fullmatch(line)):
            text = ""
            if m[1] in _JSON_MESSAGE_KEYS:
                try:
                    text = _json_message(msgspec.json.decode(m[2])) or ""
                except (msgspec.DecodeError, RecursionError):
                    text = None  # not a JSON value: a line of its own
        elif c in ("{", "}", "[", "]") and _PRETTY_BRACKETS.fullmatch(line):
            text = ""
        elif "=" in line and (m := _JOURNAL_FIELD.fullmatch(line)):
            text = m[2] if m[1] == "MESSAGE" else ""
        elif c.isupper() and _JOURNAL_ENTRY.fullmatch(line):
            text = ""
        if text is not None:
            if out is lines:
                out = list(lines)
            out[i] = text
    return out


_STDIN_KEPT = 10_000  # lines of stdin kept to say what it held when it held no report (it cannot be read again)


@contextlib.contextmanager
def input_lines(file: str, kept: list[str] | None = None) -> Iterator[Iterator[str]]:
    """The lines of a file (or stdin for "-"), read as they are needed: a 50 MB archive is never held whole.
    Decoded as read_input decodes; lines split as str.splitlines() splits them, so line numbers are those of
    the whole text. `kept` gets stdin's first lines, for no_report_error."""
    try:
        f = (io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace") if file == "-"
             else open(file, encoding="utf-8", errors="replace"))  # fmt: skip
    except FileNotFoundError:
        raise UserError(f"{file}: no such file") from None
    except OSError as e:
        raise UserError(f"{file}: cannot read: {e.strerror or e}") from None
    if file != "-" and (kind := _device_kind(f)):  # /dev/zero or /dev/full would be read for ever
        f.close()
        raise UserError(f"{file}: is a {kind}, expected an OOM report (a file, or - for stdin)")

    def pieces() -> Iterator[list[str]]:
        try:
            if file != "-":
                yield from _chunk_lines(f)
                return
            rest_of_long_line = False
            head: list[str] = []  # lines up to _CHUNK characters: whether the input is a structured log
            size = 0
            while size < _CHUNK and (line := f.readline(_MAX_LINE)):
                head.append(line)
                size += len(line)
            structured = _structured("".join(head)[:_CHUNK])
            for line in itertools.chain(head, iter(lambda: f.readline(_MAX_LINE), "")):  # then as each comes
                if rest_of_long_line:  # dropped, as _chunk_lines drops it
                    rest_of_long_line = not line.endswith("\n")
                    continue
                rest_of_long_line = len(line) == _MAX_LINE and not line.endswith("\n")
                piece = line.splitlines() or [""]
                if structured:
                    piece = _unjson(piece)
                if kept is not None and len(kept) < _STDIN_KEPT:
                    kept.extend(line[:4096] for line in piece)  # enough of a line to tell what wrote it
                yield piece
        except OSError as e:  # only reading: a closed stdout (BrokenPipeError) is the caller's
            raise UserError(f"{file}: cannot read: {e.strerror or e}") from None

    try:
        yield itertools.chain.from_iterable(pieces())  # the lines of each piece in C, a Python step a piece
    finally:
        if file != "-":
            f.close()


def _device_kind(f: io.TextIOBase) -> str | None:
    """What a file opened for reading is when it is a device (a pipe, as <(dmesg) gives, is read as a file)."""
    mode = os.fstat(f.fileno()).st_mode
    return "character device" if stat.S_ISCHR(mode) else "block device" if stat.S_ISBLK(mode) else None


def no_report_error(file: str, lines: Iterable[str] | None = None) -> UserError:
    """The error for a file without an OOM report; it says what the file holds instead (not_an_oom; a
    file's lines are read again for that: only on this path; stdin cannot be, so its kept lines are given)."""
    if lines is None and file != "-":
        with input_lines(file) as again:
            instead = not_an_oom(again)
    else:
        lines = list(lines or ())
        if file == "-" and not any(line.strip() for line in lines):
            return UserError("stdin: nothing came in (give a file, or pipe a log in: dmesg | oomtui explain -)")
        instead = not_an_oom(lines)
    name = "stdin" if file == "-" else file
    if instead:
        return UserError(f"{name}: no kernel OOM report: {instead}")
    return UserError(f"{name}: no OOM report found (looked for 'invoked oom-killer', 'Kill process', 'Killed process')")


# --- the structs -----------------------------------------------------------------


class TaskRow(msgspec.Struct, gc=False):
    """One row of dump_tasks(). Memory values in pages except pgtables_bytes; None = column not printed.
    Positional arguments in field order too: _read_run builds a dump's rows with one map()."""

    line: int
    pid: int
    uid: int
    tgid: int
    total_vm: int
    rss: int
    oom_score_adj: int
    comm: str
    swapents: int | None = None  # None: the 2.6.3x/3.2 dump ("cpu oom_adj") has no swapents column
    pgtables_bytes: int | None = None  # 4.15+
    nr_ptes: int | None = None  # pre-4.15, pages
    nr_pmds: int | None = None  # 4.0-4.14, pages
    nr_puds: int | None = None  # linux-next before 4.15 (autumn 2017), pages
    rss_anon: int | None = None  # 6.8+
    rss_file: int | None = None
    rss_shmem: int | None = None


_ROW_FIELDS = TaskRow.__struct_fields__


COMPACT_ROWS = 512  # below, a column stays a list: an array costs more to build than it saves


def int_column(values: list, min_rows: int = COMPACT_ROWS) -> array.array | list:
    """`values` as an array of machine integers, 32 bits where they fit (a list holds an 8-byte pointer and a
    28-byte int object for each), else 64; the list itself where one does not fit 64 bits or is None, or where
    there are fewer than `min_rows`."""
    if isinstance(values, array.array) or len(values) < min_rows:
        return values
    for typecode in "iq":
        # packed by struct, as array(typecode, values) would store them, in half its time (it parses each value as
        # a call's argument); a value too big or not an int is struct.error
        column = array.array(typecode)
        try:
            column.frombytes(struct.pack(f"{len(values)}{typecode}", *values))
        except struct.error:
            continue
        return column
    return values


def column_positions(column: Sequence[int | None], value: int, start: int = 0) -> Iterator[int]:
    """Where value is in column from start on, in order; on an array (int_column's), found by a byte search of its
    machine integers in C, where array.index and `==` make an int object of each element they pass."""
    if not isinstance(column, array.array):  # list.index compares in C, and only up to the match asked for
        while True:
            try:
                start = column.index(value, start)
            except ValueError:
                return
            yield start
            start += 1
    try:
        key = struct.pack(column.typecode, value)
    except struct.error:  # too big for the column's machine integers: not in it
        return
    raw, size = column.tobytes(), column.itemsize
    at = start * size
    while (at := raw.find(key, at)) >= 0:
        if at % size:  # the bytes of two neighbours run together: on from the next element
            at += size - at % size
            continue
        yield at // size
        at += size


def column_index(column: Sequence[int | None], value: int, start: int = 0) -> int:
    """column.index(value, start) (see column_positions): ValueError where it is not there."""
    if not isinstance(column, array.array):
        return column.index(value, start)
    if (i := next(column_positions(column, value, start), None)) is None:
        raise ValueError(value)
    return i


def column_has(column: Sequence[int | None], value: int) -> bool:
    """value in column (see column_positions)."""
    if not isinstance(column, array.array):
        return value in column
    return next(column_positions(column, value), None) is not None


class TaskTable:
    """The rows of one dump_tasks(), a column per TaskRow field: a global dump may have 100 000 rows, and a column
    of machine integers (see int_column) takes a tenth of the memory of a TaskRow per row with its own int objects.
    Reads as a sequence of TaskRow, each built when it is asked for; the code that weighs every row (selection,
    sums) reads the columns. A column is None where the dump does not print it (TaskRow's None), a list where a
    value does not fit 64 bits or is None on some rows only."""

    __slots__ = ("_n", "_cols", "_asked", "_lists", "_found")

    def __init__(self, rows: Iterable[TaskRow] = ()):
        self._n = 0
        self._cols: dict[str, array.array | list | None] = dict.fromkeys(_ROW_FIELDS)
        self._asked: dict[int, TaskRow] = {}  # the rows built by index: a report asks for a few, some many times
        self._lists = {"comm"}  # the columns that stay lists
        self._found: dict[int, int | None] = {}  # row_of's answers: a report asks for a few pids' rows many times
        for row in rows:
            self.append(row)

    def extend(self, n: int, columns: dict[str, list]) -> None:
        """n rows given column by column (lists the table keeps); a field not in `columns` is None on these rows."""
        cols = self._cols
        self._found.clear()  # a pid not found may be in these rows
        if not self._n:  # the first rows (all of a small dump's): each column as given
            cols.update(columns)
        else:
            for f, cur in cols.items():
                new = columns.get(f)
                if cur is None and new is None:
                    continue
                if cur is None:
                    cur = cols[f] = [None] * self._n
                if new is None:
                    new = [None] * n
                if type(cur) is list:
                    cur.extend(new)
                elif getattr(new := int_column(new, 0), "typecode", None) == cur.typecode:
                    cur.extend(new)
                else:  # the wider kind of both
                    cols[f] = self._compact(f, list(cur) + list(new), 0)
        self._n += n
        if self._n >= COMPACT_ROWS:
            for f, cur in cols.items():
                if type(cur) is list and f not in self._lists:
                    cols[f] = self._compact(f, cur)

    def _compact(self, field: str, values: list, min_rows: int = COMPACT_ROWS) -> array.array | list:
        """int_column of a column; one that stays a list past COMPACT_ROWS (a value past 64 bits, or None on some
        rows) is not tried again."""
        if field in self._lists:
            return values
        out = int_column(values, min_rows)
        if isinstance(out, list) and len(out) >= COMPACT_ROWS:
            self._lists.add(field)
        return out

    def append(self, row: TaskRow) -> None:
        self.extend(1, {f: [v] for f in _ROW_FIELDS if (v := getattr(row, f)) is not None})

    def row_of(self, pid: int) -> int | None:
        """The index of the first row whose pid, else whose tgid, is pid (dump_tasks() prints the thread that holds
        the mm, so a process's row may carry another thread's pid)."""
        found = self._found
        if pid not in found:
            found[pid] = next((i for field in ("pid", "tgid") if (column := self._cols[field]) is not None
                               for i in column_positions(column, pid)), None)  # fmt: skip
        return found[pid]

    def column(self, field: str) -> array.array | list | None:
        """The values of one TaskRow field in row order (do not change them); None: not printed."""
        return self._cols[field]

    def _columns(self) -> list:
        return [itertools.repeat(None, self._n) if c is None else c for c in self._cols.values()]

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[TaskRow]:
        return map(TaskRow, *self._columns())

    def __getitem__(self, i: int | slice) -> TaskRow | list[TaskRow]:
        if isinstance(i, slice):
            return list(itertools.islice(self, *i.indices(self._n))) if (i.step or 1) > 0 else list(self)[i]
        if (row := self._asked.get(i)) is not None:
            return row
        if i < 0:
            return self[i + self._n] if i >= -self._n else self[self._n]
        if i >= self._n:
            raise IndexError("task row index out of range")
        row = self._asked[i] = TaskRow(*[None if c is None else c[i] for c in self._cols.values()])
        return row

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TaskTable | list):
            return len(self) == len(other) and all(map(operator.eq, self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"TaskTable({list(self)!r})"


class Selected(msgspec.Struct, kw_only=True):
    """Pre-5.1 "%s: Kill process %d (%s) score %u or sacrifice child"."""

    line: int
    pid: int
    comm: str
    score: int
    message: str  # "Out of memory", "Memory cgroup out of memory", ...


class Killed(msgspec.Struct, kw_only=True):
    """The "Killed process" line in any of its forms; kB values as printed."""

    line: int
    pid: int
    comm: str
    message: str | None = None  # the 5.1+ "%s: " prefix
    uid: int | None = None  # 5.4+ "UID:%u", RHEL6 "UID %d,"
    total_vm_kb: int | None = None
    anon_rss_kb: int | None = None
    file_rss_kb: int | None = None
    shmem_rss_kb: int | None = None
    pgtables_kb: int | None = None
    oom_score_adj: int | None = None
    rhel6: bool = False
    comm_cut: bool = False  # the line ends inside "(%s)": comm is what is left of it


class Reaped(msgspec.Struct, kw_only=True):
    line: int
    pid: int
    comm: str
    reaped: bool  # False: "oom_reaper: unable to reap pid:%d (%s)"


class CgroupCounter(msgspec.Struct, kw_only=True):
    """memcg "memory:", "memory+swap:", "swap:" or "kmem:" line (kB)."""

    limit_kb: int
    usage_kb: int | None = None
    failcnt: int | None = None


class Zone(msgspec.Struct, kw_only=True):
    """A show_free_areas() zone line ("Node 0 Normal free:...kB min:... low:... high:...") and its
    lowmem_reserve[] (pages, indexed by the requesting zone) and buddy counts (free blocks per order)."""

    node: int
    name: str
    free_kb: int
    min_kb: int | None = None
    low_kb: int | None = None
    high_kb: int | None = None
    present_kb: int | None = None
    managed_kb: int | None = None
    lowmem_reserve: list[int] | None = None
    free_blocks: list[int] | None = None  # buddy line: count of free blocks of order 0, 1, ...
    block_types: list[str] | None = None  # buddy line: the migrate types of each order's blocks ("UMEC"; 3.x+)
    free_cma_kb: int | None = None  # "free_cma:%lukB": free pages in CMA pageblocks
    reserved_highatomic_kb: int | None = None  # "reserved_highatomic:%luKB" (pageblocks kept for atomic high orders)
    # "free_highatomic:%luKB": the free part of it ("mm: add nr_free_highatomic in show_free_areas", 2025)
    free_highatomic_kb: int | None = None
    # "zspages:%lukB" (6.18+, "mm: show_mem: show number of zspages in show_free_areas"): pages zsmalloc took from
    # the page allocator for compressed data (NR_ZSPAGES, alloc_zspage()): zram devices (swap or RAM disk), zswap
    zspages_kb: int | None = None


class OomReport(msgspec.Struct, kw_only=True):
    index: int  # 1-based position in the input
    first_line: int
    last_line: int
    boot: int = 0  # the BOUNDARY lines before it: reports with more between them are not of one boot and one paste
    host: str | None = None  # the syslog host its lines name (a log of many machines: see _HOST_FIELD)
    trigger_comm: str | None = None  # the "invoked oom-killer" line, else the CPU line's Comm
    trigger_pid: int | None = None  # the CPU (or 3.x "Pid:") line
    invoked_line: int | None = None  # the report has its "invoked oom-killer" line
    oom_kill_pid: int | None = None  # 5.0+ "oom-kill:...,task=%s,pid=%d": the victim, before the verdict
    oom_kill_comm: str | None = None
    gfp_mask: str | None = None
    order: int | None = None  # -1: sysrq-f (moom_callback)
    header_has_nodemask: bool = False  # 4.x "invoked oom-killer: ..., nodemask=..., order="
    header_order_first: bool = False  # 4.4-rc-next "invoked oom-killer: order=..., oom_score_adj=..., gfp_mask=..."
    header_oom_adj: bool = False  # "order=%d, oom_adj=%d, oom_score_adj=%d": dump_header() of 2.6.36-3.6
    kernel_release: str | None = None  # from "CPU: ... Comm: ... <release> #n" or "Pid: ..., comm: ..."
    kernel_build: str | None = None  # what follows the release ("#19-Ubuntu", "#1 Debian 5.10.209-2")
    taint: str | None = None  # the letters of print_tainted() on the CPU line ("P", "GO"; "" when "Not tainted")
    hardware: str | None = None  # "Hardware name: ..."
    constraint: str | None = None  # oom-kill: line (5.0+)
    nodemask: str | None = None
    mems_allowed: str | None = None
    cpuset: str | None = None  # the trigger's cpuset (cpuset_print_current_mems_allowed(); the oom-kill: line)
    oom_memcg: str | None = None
    task_memcg: str | None = None
    memcg_task_line: bool = False  # 4.x "Task in /a killed as a result of limit of /b"
    ram_pages: int | None = None
    reserved_pages: int | None = None
    reserved_printed: int | None = None  # a "pages reserved" that is a negative count printed unsigned, as printed
    total_swap_kb: int | None = None
    free_swap_kb: int | None = None
    highmem: bool = False  # a HighMem zone: a 32-bit kernel with more RAM than it maps (lowmem/highmem split)
    zone_present_kb: dict[int, int] = {}  # node -> sum of "present:" over its zones
    buddy_page_kb: int | None = None  # smallest block of the buddy lists ("Node 0 DMA: 0*4kB ...")
    hugetlb_kb: int | None = None  # the hugetlb pools, from the "Node N hugepages_total=..." lines (None: none)
    hugetlb_free_kb: int | None = None  # the pools' pages no mapping holds (hugepages_free=; None: not printed)
    hugepage_sizes_kb: frozenset[int] = frozenset()  # the hstates those lines name (hugepages_size=)
    buddy_line: int | None = None  # the input line the last buddy line ends on
    node_lru_kb: dict[int, dict[str, int]] = {}  # 4.8+ "Node N active_anon:...kB" lines: node -> LRU list -> kB
    memory: CgroupCounter | None = None
    memsw: CgroupCounter | None = None
    swap: CgroupCounter | None = None
    kmem: CgroupCounter | None = None
    memcg_stats: dict[str, int] = {}  # memory.stat of the OOM memcg, in bytes (v1 "rss:...KB" converted)
    memcg_stats_of: str | None = None
    meminfo: dict[str, int] = {}  # Mem-Info summary ("active_anon:... free:... slab_unreclaimable:..."), pages
    pagecache_pages: int | None = None  # "%lu total pagecache pages"
    swapcache_pages: int | None = None  # "%lu pages in swap cache"
    zones: list[Zone] = []
    arch: str | None = None  # from the release string or the register dump (see _ARCH_*)
    arch_source: str | None = None
    task_columns: list[str] | None = None  # header of the task dump, without "pid" and "name"
    task_header_line: int | None = None
    task_columns_guessed: bool = False  # the paste has rows but no header: columns guessed (see _guess_columns)
    task_columns_sure: bool = False  # guessed from what only that format prints (an era clue, as a header is)
    headless_rows: list[tuple[int, int, str, int]] = []  # (line, pid, rest, the pid field's width) of rows before any header
    tasks_state_line: bool = False  # 4.19+ "Tasks state (memory values in pages):" before the header
    task_pid_wide: bool = False  # 4.19+ "[  pid  ]" (c3b78b11efbb "larger PID pad") instead of "[ pid ]"
    task_pid_narrow: bool = False  # headerless rows whose pid field is narrower than 4.19's "[%7d]"
    tasks: TaskTable = msgspec.field(default_factory=TaskTable)
    selected: Selected | None = None
    killed: Killed | None = None
    group_kills: list[Killed] = []  # memory.oom.group: further "Killed process" lines
    oom_group_memcg: str | None = None
    reaper: list[Reaped] = []
    no_killable: bool = False  # "Out of memory and no killable processes..."
    panic_on_oom: str | None = None  # "system-wide" or "compulsory": the kernel panicked instead of killing
    old_badness: bool = False  # before 2.6.36 ("or a child", oomkilladj= / oom_adj= alone, a "cpu oom_adj" dump)
    old_formats: list[str] = []  # which of those formats the report prints
    sysrq: bool = False  # moom_callback in the trace ("Workqueue: events moom_callback"): sysrq-f before order=-1
    memcg_trace: bool = False  # mem_cgroup_out_of_memory (or 3.x-4.x mem_cgroup_oom_synchronize) in the trace
    oom_trace: bool = False  # out_of_memory(), oom_kill_process() (or a caller named for them) in the call trace
    already_exiting: bool = False  # "OOM victim %d (%s) is already exiting. Skip killing the task"
    problems: list[str] = []  # what the parser could not read
    unread_choice: int | None = None  # the line of the first 'Kill process', 'Killed process' or oom-kill: line not read

    def victim(self) -> tuple[int, str, str] | None:
        """The kernel's victim (pid, comm, the line that names it): the verdict, else the 5.0+ oom-kill: line,
        else the OOM reaper (a verdict cut off or lost)."""
        if self.killed is not None:
            return self.killed.pid, self.killed.comm, "Killed process"
        if self.oom_kill_pid is not None:
            return self.oom_kill_pid, self.oom_kill_comm or "?", "oom-kill:"
        if self.reaper:
            return self.reaper[0].pid, self.reaper[0].comm, "oom_reaper"
        return None


# --- the kernel's lines ------------------------------------------------------------

_INVOKED = re.compile(
    r"^(?P<comm>.*?) invoked oom-killer: gfp_mask=(?P<gfp>0x[0-9a-fA-F]+(?:\([^)]*\))?)"
    # the adj: oom_score_adj (2.6.36 on, oom_adj before it until 3.6), oom_adj alone (2.6.26-2.6.35), oomkilladj
    # (2.6.24-2.6.25)
    r"(?P<nm>, nodemask=[^,]*?)?,\s+order=(?P<order>-?\d{1,20})(?P<oom_adj>, oom_adj=-?\d+)?"
    r", (?P<adj_name>oom_score_adj|oom_adj|oomkilladj)=(?P<adj>-?\d{1,20})"
)
# linux-next of December 2015 - January 2016 (4.4-rc-next) printed the order first: "order=%d, oom_score_adj=%hd,
# gfp_mask=%#x(%pGg)"
_INVOKED_ORDER_FIRST = re.compile(
    r"^(?P<comm>.*?) invoked oom-killer: order=(?P<order>-?\d{1,20}), (?P<adj_name>oom_score_adj)=(?P<adj>-?\d{1,20})"
    r", gfp_mask=(?P<gfp>0x[0-9a-fA-F]+(?:\([^)]*\))?)(?P<nm>)"
)


def _invoked(s: str) -> re.Match | None:
    return _INVOKED.match(s) or _INVOKED_ORDER_FIRST.match(s)


_INVOKED_START = re.compile(r" invoked oom-killer:")
# the header cut short where a mail, a forum quote or a manual cut it: "x invoked oom-killer", "x invoked oom-",
# "x invoked oom: gfp_mask=0x100dca(...), order=0" (the rest of the line lost, or "-killer" itself); not prose's
# "the task that invoked oom."
_INVOKED_CUT = re.compile(r"^(?P<comm>.*?) invoked oom(?:-(?:k(?:i(?:l(?:l(?:er?)?)?)?)?)?)?"
                          r"(?::?$|: (?=gfp_mask=0x|order=-?\d))")


def _cut_header(s: str, nxt: str | None) -> bool:
    """A header cut short (_INVOKED_CUT): it kept a field ("gfp_mask=", "order="), or it is a task's comm (at most
    TASK_COMM_LEN - 1 characters) before the next printk line of a report, or before a mark where the author cut
    lines ("...") if the comm is one word. Not a mail's Subject ("Re: java invoked oom-killer"), a title or a
    sentence that says "... invoked oom-killer" above the paste."""
    if (m := _INVOKED_CUT.match(s)) is None:
        return False
    if "=" in s:
        return True
    comm = _cut_comm(m["comm"])
    if nxt is None or len(comm) > 15 or _REPLY.match(comm) or " invoked oom" in nxt:
        return False
    return _printk_start(nxt) or _cut_mark(nxt) and not any(c.isspace() for c in comm.strip())


# a mail's subject: "Subject: ", or its reply or forward marks "Re: ", "Fwd: ", "AW: ", "Re[2]: "
_REPLY = re.compile(r"(?i)\s*(?:subject:|(?:re|fwd?|aw|sv|wg)(?:\[\d+\])?:\s)")


def _cut_mark(s: str) -> bool:
    """A mark where the author cut lines: "...", "(...)", "[...]", "<snip>"."""
    return s.strip("()[]<> ") in ("...", "…", "snip", "cut")


def _cut_comm(comm: str) -> str:
    """A header's comm, without what is left of a stamp whose '[' a paste selected from one character too far
    lost (" Thu Apr 17 22:43:41 2025] x invoked"), or a whole stamp and what was glued before it (a console's
    "login: [3262904.705096] yum invoked": no comm of TASK_COMM_LEN holds a stamp)."""
    return comm if "] " not in comm else _GLUED_STAMP.sub("", _CUT_STAMP.sub("", comm))


_INVOKED_CUT_GFP = re.compile(r"\bgfp_mask=(0x[0-9a-fA-F]+(?:\([^)]*\))?)")
_INVOKED_CUT_ORDER = re.compile(r"\border=(-?\d{1,20})\b")
# (a CPU line may be cut after its comm: "CPU: 14 PID: 26868 Comm: node")
_CPU = re.compile(r"^CPU: \d+ (?:UID: \d+ )?PID: (?P<pid>\d{1,20}) Comm: (?P<comm>.+?)(?: (?:Not tainted|Tainted:)(?P<rest>.*))?$")
_PID_OLD = re.compile(r"^Pid: (?P<pid>\d{1,20}), comm: (?P<comm>.+?) (?:Not tainted|Tainted:)(?P<rest>.*)$")  # <= 3.x
_CPU_START = re.compile(r"^(?:CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: |Pid: \d+, comm: )")
_RELEASE = re.compile(r"(?:^|\s)(\d+\.\d+(?:\.\d+)?(?:[-+.~_][\w.+~-]*)?)\s+#")
_RELEASE_CUT = re.compile(_RELEASE.pattern.removesuffix(r"\s+#") + "$")  # a CPU line cut inside its release
_KDUMP = re.compile(r" Kdump: (?:not )?loaded$")  # RHEL's dump_stack() prints it after the comm
_OOM_KILL = re.compile(r"^oom-kill:constraint=(?P<constraint>CONSTRAINT_(?:NONE|CPUSET|MEMORY_POLICY|MEMCG))\b")
_OOM_KILL_TASK = re.compile(r",task=(?P<comm>.*),pid=(?P<pid>\d{1,20}),uid=\d+$")
# its fields by the anchors that follow them (node lists and paths may hold commas)
_OOM_KILL_NODEMASK = re.compile(r",nodemask=(\(null\)|[\d,-]+?)(?=,cpuset=|,mems_allowed=|,global_oom|,oom_memcg=)")
_OOM_KILL_MEMS = re.compile(r",mems_allowed=([\d,-]*?)(?=,global_oom|,oom_memcg=|,task_memcg=|$)")
_OOM_KILL_CPUSET = re.compile(r",cpuset=(.*?),mems_allowed=")
_OOM_KILL_OOM_MEMCG = re.compile(r",oom_memcg=(.*?),task_memcg=")
_OOM_KILL_TASK_MEMCG = re.compile(r",task_memcg=(.*?),task=")
# The "%s: " before a verdict is a message ("Out of memory", "Memory cgroup out of memory"), never a verdict itself:
# a message that may run over one lets a line that repeats one ("Killed process 1 (a: Killed process 1 (a: ...") be
# tried from each of them, a scan of the rest of the line each (quadratic: seconds on a 64 KiB line)
# (each ':' before the first verdict tried, the nearest first; the text between two of them taken at once, possessive)
_KILL_MSG = r"^(?:(?P<msg>(?:[^:Kk]++|[Kk](?!ill process))*+(?::(?:[^:Kk]++|[Kk](?!ill process))*+)*?):\s*)?"
_KILLED_MSG = r"^(?:(?P<msg>(?:[^:K]++|K(?!illed process))*+(?::(?:[^:K]++|K(?!illed process))*+)*?):\s*)?"
_KILL = re.compile(
    _KILL_MSG + r"[Kk]ill process (?P<pid>\d{1,20}) \((?P<comm>.*)\) score (?P<score>\d{1,20}) "
    r"or (?P<child>sacrifice|a) child"  # "or a child": before 2.6.36, with badness()'s unscaled points
)
_KILL_START = re.compile(r"\b[Kk]ill process \d+")
_KILLED_START = re.compile(_KILLED_MSG + r"Killed process (?P<pid>\d{1,20})\b")
# "(?P<rhel6>, UID %d,)": RHEL 6 "Killed process %d, UID %d, (%s) ..."
_KILLED_HEAD = _KILLED_MSG + r"Killed process (?P<pid>\d{1,20})(?P<rhel6>, UID (?P<rhel6_uid>\d{1,20}),)? \((?P<comm>.*)\)"
# RHEL 7's 3.10 prints the uid after the comm: "Killed process 918 (mysqld), UID 27, total-vm:2184052kB, ..."
_KILLED = re.compile(
    _KILLED_HEAD + r"(?:, UID (?P<rhel7_uid>\d{1,20}),)? (?:total-vm|vsz):(?P<vm>\d{1,20})kB, anon-rss:(?P<anon>\d{1,20})kB, file-rss:(?P<file>\d{1,20})kB"
    r"(?:, shmem-rss:(?P<shmem>\d{1,20})kB)?(?:,? UID:(?P<uid>\d{1,20}))?(?: pgtables:(?P<pgt>\d{1,20})kB)?"
    r"(?: oom_score_adj:(?P<adj>-?\d{1,20}))?"
)
# The same where the comm can end at one place only (the line has one ") "): found from its start, not by going back
# from the line's end, a character at a time
_KILLED_ONE_END = re.compile(_KILLED.pattern.replace(r"\((?P<comm>.*)\)", r"\((?P<comm>.*?)\)"))
_GROUPED = re.compile(r"(?<=\d),(?=\d)")  # a comma between digits
_KILLED_BARE = re.compile(_KILLED_HEAD + r"\s*$")  # 2.6.3x: "Killed process %d (%s)"
_KILLED_HEAD_RX = re.compile(_KILLED_HEAD.replace(r"\((?P<comm>.*)\)", r"\((?P<comm>[^)]*)\)"))
_KILLED_COMM_CUT = re.compile(_KILLED_HEAD.replace(r"\((?P<comm>.*)\)", r"\((?P<comm>[^)]*)$"))  # "Killed process 62769 ("
_KILLED_FIELD = re.compile(r"^(?:total-vm|anon-rss|file-rss|shmem-rss|UID|pgtables|oom_score_adj)\b|^\d{1,20}kB\b")
_KILLED_VALUE_CUT = re.compile(r"\b(total-vm|anon-rss|file-rss|shmem-rss|pgtables|UID): +(?=\d)")
_KILLED_CUT_MARKS = ("total-vm: ", "anon-rss: ", "file-rss: ", "shmem-rss: ", "pgtables: ", "UID: ")  # of that cut


def _killed_done(line: str) -> bool:
    """Whether a 'Killed process' line has its memory fields and was not cut after a comma or a field's name, or
    is the bare form of 2.6.2x/2.6.3x ("Killed process %d (%s)": more only if the next line is a field)."""
    return (("total-vm:" in line or "vsz:" in line) and not line.endswith((",", ":"))
            and not line.endswith("total-vm:")) or bool(_KILLED_BARE.match(line))  # fmt: skip


def _killed_more(nxt: str) -> bool:
    """Whether the next line is more of a cut 'Killed process' line: a field, or a value cut from its name."""
    return bool(_KILLED_FIELD.match(nxt))


def _killed_ends(line: str, nxt: str | None) -> bool:
    """_killed_done, or the line ends where the paste cut or garbled it ("Killed process 1 (foo(bar", "(tu)ned"): the
    next line holds neither a field nor the comm's end with the fields (a wrap inside the comm), so it is not joined:
    it is a line of its own (prose, a Markdown fence, the next program's log)."""
    return _killed_done(line) or nxt is None or not (_killed_more(nxt) or ")" in nxt and _killed_done(f"{line} {nxt}")
                                                     or line[-1:] == "-" and _killed_done(line + nxt))  # "total-" / "vm:"


# a call-trace frame of the OOM killer: x86's "out_of_memory+0x1e0/0x4f0", arm's "oom_kill_process from out_of_memory"
_OOM_FRAME = re.compile(r"\b(?:\w*out_of_memory|oom_kill_process)(?:\.\w+)*(?:\+0x|\s+from\s)")
_REAPED = re.compile(r"^oom_reaper: reaped process (?P<pid>\d{1,20}) \((?P<comm>.*?)\)(?:, now\b|,?$)")
_UNABLE = re.compile(r"^oom_reaper: unable to reap pid:(?P<pid>\d{1,20}) \((?P<comm>.*)\)")
_CGROUP = re.compile(r"^(?P<what>memory|memory\+swap|swap|kmem): usage (?P<u>\d{1,20})kB, limit (?P<l>\d{1,20})kB(?:, failcnt (?P<f>\d{1,20}))?")
_CGROUP_FIELDS = {"memory": "memory", "memory+swap": "memsw", "swap": "swap", "kmem": "kmem"}  # OomReport's, by line
_MEMCG_TASK = re.compile(r"^Task in (?P<task>\S+) killed as a result of limit of (?P<memcg>\S+)")  # 4.x memcg
_OOM_GROUP = re.compile(r"^Tasks in (?P<memcg>.*) are going to be killed due to memory\.oom\.group set")
# show_mem(): "%lu pages RAM", "%lu pages reserved"; before 2.6.3x "%d pages of RAM", "%d reserved pages"
_PAGES = re.compile(r"^(?P<n>\d{1,20}) (?:pages (?:of )?(?P<what>RAM|reserved)|(?P<old>reserved) pages)$")
_SWAP = re.compile(r"^(?P<what>Total|Free) swap\s*=\s*(?P<kb>\d{1,20})kB")
_BUDDY = re.compile(r"^(?:Node (?P<node>\d+) )?(?P<zone>DMA32|DMA|Normal|HighMem|Movable): \d+\*(?P<kb>\d+)kB")
# hugetlb_show_meminfo_node(): the pages of a hugetlb pool are taken from the buddy allocator and counted nowhere else
# ("Node %d hugepages_total=%u hugepages_free=%u hugepages_surp=%u hugepages_size=%lukB", per node and hstate)
_HUGEPAGES = re.compile(r"^Node \d+ hugepages_total=(\d{1,20}) (?:hugepages_free=(\d{1,20}) )?.*"
                        r"hugepages_size=(\d{1,20})kB")
_BUDDY_BLOCK = re.compile(r"(\d{1,20})\*(\d{1,20})kB")
# 4.8+ show_free_areas() prints each node's LRU lists in kB ("Node %d active_anon:%lukB ... isolated(file):%lukB"),
# the same counters as the Mem-Info summary's first lines (in pages) when every node is printed
_NODE_LRU_LINE = re.compile(r"^Node (\d+) active_anon:\d")
_NODE_LRU = re.compile(r"\b(active_anon|inactive_anon|active_file|inactive_file|unevictable|isolated\((?:anon|file)\))"
                      r":(\d{1,20})kB")
_ZONE_LINE = re.compile(r"^(?:Node (?P<node>\d+) )?(?P<zone>DMA32|DMA|Normal|HighMem|Movable|Device) free:(?P<free>\d{1,20})kB")
_ZONE_FIELD = re.compile(
    r"\b(min|low|high|present|managed|reserved_highatomic|free_highatomic|free_cma|zspages):(\d{1,20})[kK]B")
# show_migration_types(): the letters after a block count, one per migrate type that has blocks of that order
_BUDDY_TYPES = re.compile(r"\d{1,20}\*\d{1,20}kB(?:\s+\(([A-Z]+)\))?")
_RESERVE = re.compile(r"lowmem_reserve\[\]:((?:\s+\d{1,20})+)")
_MEMINFO_PAIR = re.compile(r"([a-z_]+):(\d{1,20})(?=\s|$)")
_MEMINFO_LINE = re.compile(r"^[a-z_]+:\d")
_MEMCG_STATS = re.compile(r"^Memory cgroup stats for (?P<memcg>[^:]*):(?P<rest>.*)$")
_MEMCG_V1_STAT = re.compile(r"([a-z_]+):(\d{1,20})KB")
_MEMCG_V2_STAT = re.compile(r"^([a-z_]+) (\d{1,20})$")
_CPUSET = re.compile(r"\bcpuset=(?P<cpuset>\S*) mems_allowed=(?P<nodes>[\d,-]+)$")
_ZONE_STARTS = ("Node ", "DMA", "Normal", "HighMem", "Movable")
# The rest of a zone's buddy line or lowmem_reserve[] (pr_cont pieces or a wrap), and of a zone's watermark line:
# no line of its own starts like these (the Mem-Info summary, "key:pages", comes before the zone lines).
_PIECE = re.compile(r"^(?:\d{1,20}(?:\s+\d{1,20})*$|\d{1,20}\*\d{1,20}kB|\([A-Z]+\)|= \d{1,20}kB)")
_MEMCG_V1_PIECE = re.compile(r"^[a-z_]+:\d{1,20}KB")
_ZONE_PIECE = re.compile(r"^(?!lowmem_reserve)[a-z_()]+(?::|\?)")
_PAGECACHE = re.compile(r"^(?P<n>\d{1,20}) (?:pages in )?(?P<what>total pagecache|swap cache)(?: pages)?$")
_TASK_HEADER = re.compile(r"^\[(?P<pad>\s*)pid\s*\]\s+(?P<cols>.*\S)\s+name$")
_TASK_HEADER_START = re.compile(r"^\[\s*pid\s*\]")
_TASK_ROW = re.compile(r"^\[\s*(?P<pid>\d{1,20})\](?:\s+|$)(?P<rest>.*)$")  # "[ 2687]" alone: a row wrapped after it
_CUT_PHRASE = re.compile(r"(?:\binvoked|\binvoked oom-killer:|\b[Kk]ill(?:ed)?|\b[Kk]ill(?:ed)? process)$")
_CUT_ENDS = ("invoked", "oom-killer:", "Kill", "kill", "Killed", "killed", "process")  # cheap test before _CUT_PHRASE
_CUT_LAST = frozenset("dls:,-")  # the last characters of _CUT_ENDS, of a line cut after a comma, of " invoked oom-"
_MEM_INFO = "Mem-Info:"
_NO_KILLABLE = "Out of memory and no killable processes"
# check_panic_on_oom(): vm.panic_on_oom=2 ("compulsory"), or 1 ("system-wide") for an OOM not confined to a cpuset,
# memory policy or memcg, panics before any task is selected
_PANIC_ON_OOM = re.compile(r"^Kernel panic - not syncing: Out of memory: (system-wide|compulsory) panic_on_oom")
_ALREADY_EXITING = re.compile(r"OOM victim \d+ \(.*\) is already exiting")

# The architecture: a distribution's release suffix, else the register dump of the stack trace (show_regs()).
_ARCH_RELEASE = re.compile(
    r"[.-](x86_64|amd64|i[3-6]86|686(?:-pae)?|aarch64|arm64|ppc64le|powerpc64le|ppc64|s390x|loongarch64|loong64"
    r"|riscv64|armv7hl|armhf|armmp|sparc64|mips64el|ia64"
    r"|v7l?(?=\+$)|v8(?=\+$))\b"  # Raspberry Pi OS: 4.19.57-v7l+ (ARMv7 with LPAE), 5.10.63-v7+, arm64 -v8+
)
_ARCH_NAMES = {"amd64": "x86_64", "686": "i686", "686-pae": "i686", "arm64": "aarch64", "powerpc64le": "ppc64le",
               "loong64": "loongarch64", "armhf": "arm", "armv7hl": "arm", "armmp": "arm", "v7": "arm",
               "v7l": "arm", "v8": "aarch64"}  # fmt: skip
_ARCH_REGS = {"RIP: ": "x86_64", "EIP: ": "i686", "NIP: ": "powerpc", "NIP [": "powerpc", "pc : ": "aarch64",
              "PC is at ": "arm", "ERA: ": "loongarch64", "Krnl PSW : ": "s390x"}  # fmt: skip
_ARCH_REG_STARTS = tuple(_ARCH_REGS)
# mips's show_stacktrace() (arch/mips/kernel/traps.c), which dump_stack() runs, prints "Stack :" and the raw stack
# words, each " %0*lx" of 2 * sizeof(long) digits: 8 on a 32-bit kernel, 16 on a 64-bit one
_MIPS_STACK = re.compile(r"Stack : ([0-9a-f]{8}(?:[0-9a-f]{8})?)\b")
# Else a call-trace frame of the syscall or exception entry, which each architecture names its own way (arm's
# unwinder prints "[<c020f480>] (ret_fast_syscall+0x0/0x4c)"); where a name is shared by a 32- and a 64-bit
# kernel, the width of the frame's address ("[<ffffffff81...>]") tells: name -> (64-bit address or none, 32-bit).
_ARCH_FRAMES = {
    "ret_fast_syscall": ("arm", "arm"), "vector_swi": ("arm", "arm"), "__sys_trace_return": ("arm", "arm"),
    "do_DataAbort": ("arm", "arm"), "do_PrefetchAbort": ("arm", "arm"),  # arch/arm/mm/fault.c's abort handlers
    "do_syscall_64": ("x86_64", None), "system_call_fastpath": ("x86_64", None), "entry_SYSENTER_32": ("i686", "i686"),
    "entry_INT80_32": ("i686", "i686"), "sysenter_past_esp": ("i686", "i686"), "__do_syscall": ("s390x", None),
    "do_trap_ecall_u": ("riscv64", None), "handle_syscall": ("loongarch64", None),
    # need an address to tell
    "async_page_fault": ("x86_64", "i686"), "page_fault": ("x86_64", "i686"), "ret_from_exception": ("riscv64", None),
}  # fmt: skip
_AMBIGUOUS_FRAMES = frozenset({"async_page_fault", "page_fault", "ret_from_exception"})
_ARCH_FRAME_PREFIXES = {"el0_": "aarch64", "el0t_": "aarch64", "__arm64_sys_": "aarch64", "entry_SYSCALL_64": "x86_64",
                        "__x64_sys_": "x86_64", "__s390x_sys_": "s390x", "__riscv_sys_": "riscv64"}  # fmt: skip
_ARCH_FRAME_STARTS = tuple(_ARCH_FRAME_PREFIXES)
_FRAME_ADDRESS = re.compile(r"\[<?([0-9a-f]{8}|[0-9a-f]{16})>?\]")
# powerpc's show_stack() prints "[stack pointer] [return address] function": its frames name it by their form
_PPC_FRAME = re.compile(r"^\[(?P<sp>[0-9a-f]{8}|[0-9a-f]{16})\] \[[0-9a-f]{8,16}\] \.?\w")

_NUMERIC_COLUMNS = {
    "uid", "tgid", "total_vm", "rss", "rss_anon", "rss_file", "rss_shmem", "pgtables_bytes",
    "nr_ptes", "nr_pmds", "nr_puds", "swapents", "oom_score_adj", "cpu", "oom_adj",
}  # fmt: skip
_MAX_JOINS = 6  # a mail client wraps one kernel line into a few pieces (a reply to a reply: more)
_HOST_SCAN = 64  # entries looked through for a line's continuation past other machines' lines


class _Lines:
    """The kernel lines of the input as a stream with a cursor on the current line (`current`, None at the end);
    `join_next` re-attaches a wrapped continuation: the next line of the same machine (`host`, set by the reader
    at each _Host mark), past other machines' lines. Only a batch or two of lines is held."""

    def __init__(self, batches: Iterator[list[tuple[int, str | _Rows]]]):
        self._batches = batches
        self._buf: list[tuple[int, str | _Rows]] = []  # the current line is _buf[_i]
        self._i = -1
        self.current: tuple[int, str] | None = None
        self.host: str | None = None
        self.last_no = 0  # the input line the current line ends on (after joins)
        self.found = None  # done() of the line join_while() returned last: its match, not searched for again
        self.advance()

    def _fill(self, n: int) -> bool:
        """At least n lines from the current one on are in the buffer (False: the input ends before)."""
        while len(self._buf) - self._i < n:
            if (nxt := next(self._batches, None)) is None:
                return False
            self._buf, self._i = self._buf[self._i :] + nxt, 0
        return True

    def advance(self) -> None:
        self._i += 1
        if self._i < len(self._buf) or self._fill(1):  # the next line at hand: no call (a step of every line)
            self.current = self._buf[self._i]
            self.last_no = self.current[0]
        else:
            self.current = None

    def ahead(self, n: int) -> list[tuple[int, str]]:
        """Up to n lines from the current one on, up to a run of rows (_Rows): no batch past one is read (a batch
        may be a run of thousands of rows)."""
        while True:
            window = self._buf[self._i : self._i + n]
            if _Rows in (kinds := list(map(type, map(itemgetter(1), window)))):
                return window[: kinds.index(_Rows)]
            if len(window) == n or not self._fill(len(window) + 1):
                return window

    def unfold(self, j: int | None = None) -> None:
        """The run of rows at _buf[j] (the current line's by default) as its lines."""
        i = self._i if j is None else j
        self._buf[i : i + 1] = self._buf[i][1].lines()
        if j is None:
            self.current = self._buf[self._i]
            self.last_no = self.current[0]

    def _next_line(self) -> int | None:
        """Where the next line of the current line's host is in the buffer, as a line; None: the input ends first,
        or other machines' lines go on for more than _HOST_SCAN entries."""
        d, mine = 1, True
        while d <= _HOST_SCAN and self._fill(d + 1):
            s = self._buf[j := self._i + d][1]
            if type(s) is _Host:
                mine = s.name == self.host
            elif mine:
                if type(s) is _Rows:  # a wrapped line is joined to text, not to a run
                    self.unfold(j)
                return j
            d += 1
        return None

    def skip(self, n: int) -> None:
        """Advance n lines (n >= 1, all of them in the buffer: see ahead)."""
        self._i += n - 1
        self.advance()

    def peek(self) -> str | None:
        return None if (j := self._next_line()) is None else self._buf[j][1]

    def join_next(self) -> str:
        """Append the next line (see peek) to the current one (a mail client wrapped it, or printk's pr_cont
        pieces were logged apart) and return the result."""
        j = self._next_line()
        (no, cur), (self.last_no, nxt) = self._buf[self._i], self._buf[j]
        # a client that wrapped at a word's hyphen ("total-" / "vm:") put no space there; no kernel line has "x- "
        joined = f"{cur}{nxt}" if cur[-1:] == "-" and cur[-2:-1].isalnum() else f"{cur} {nxt}"
        if j == self._i + 1:
            self._i = j
        else:  # from among other machines' lines
            del self._buf[j]
        self.current = self._buf[self._i] = (no, joined)
        return joined

    def join_pieces(self, piece: re.Pattern) -> str:
        """Append every following line that is a piece of this one (printk continuations split apart)."""
        while (nxt := self.peek()) is not None and piece.match(nxt):
            self.join_next()
        return self.current[1]

    def join_while(self, line: str, done, more=None) -> str:
        """Join the following lines to `line` until done(line), or while more(next line) says the next line
        continues it; never a line that starts something of its own (_starts_report_line)."""
        for _ in range(_MAX_JOINS):
            finished = done(line)
            if finished and more is None:
                break
            nxt = self.peek()
            if nxt is None or finished and not more(nxt) or _starts_report_line(nxt):
                break
            line = self.join_next()
        else:  # the last join was not tested yet
            finished = done(line)
        self.found = finished
        return line


def _starts_report_line(s: str) -> bool:
    """A line a wrapped line must not be joined with: it starts something of its own, or is another paste's
    BOUNDARY, or a mark where the author cut lines ("(...)", "[...]", "...")."""
    return bool(
        _INVOKED_START.search(s) or _KILL_START.search(s) or _KILLED_START.match(s) or _TASK_ROW.match(s)
        or _CPU_START.match(s) or s.startswith((_MEM_INFO, "oom-kill:", "oom_reaper:", "Task in ", "Tasks state",
                                                "Memory cgroup stats for ", BOUNDARY))
        or _TASK_HEADER_START.match(s) or _CGROUP.match(s) or _cut_mark(s)
    )  # fmt: skip


def _row_fields(rest: str, ncols: int) -> tuple[list[int], str] | None:
    """Split "uid tgid ... adj name" into ncols integers and the name (which may hold spaces)."""
    parts = rest.split(None, ncols)
    if len(parts) <= ncols:
        return None
    if len(rest) > 160 and max(map(len, parts[:ncols])) > 20:  # no counter the kernel prints is that long
        return None  # (%lu: 20 digits); a normal row is far shorter than 160 characters
    try:
        nums = list(map(int, parts[:ncols]))
    except ValueError:
        return None
    return nums, parts[ncols].strip()


_ROW_REQUIRED = frozenset({"uid", "tgid", "total_vm", "rss", "oom_score_adj"})


def _wrapped_word(n: int, ram: int | None) -> int | None:
    """The bits of the unsigned long a page count went below 0 in (32 or 64), or None: above half the word and
    above the RAM, no count of pages is real."""
    for word in (32, 64):
        if 1 << (word - 1) <= n < 1 << word and (ram is None or n > ram):
            return word
    return None


def _task_row(no: int, pid: int, cols: list[str], nums: list[int], comm: str) -> TaskRow:
    v = dict(zip(cols, nums))
    return TaskRow(
        line=no, pid=pid, uid=v.get("uid", 0), tgid=v.get("tgid", pid), total_vm=v.get("total_vm", 0),
        rss=v.get("rss", 0), swapents=v.get("swapents"), oom_score_adj=v.get("oom_score_adj", 0), comm=comm,
        pgtables_bytes=v.get("pgtables_bytes"), nr_ptes=v.get("nr_ptes"), nr_pmds=v.get("nr_pmds"),
        nr_puds=v.get("nr_puds"), rss_anon=v.get("rss_anon"), rss_file=v.get("rss_file"),
        rss_shmem=v.get("rss_shmem"),
    )  # fmt: skip


def _num(text: str | None) -> int | None:
    return None if text is None else int(text)


def _killed(no: int, line: str) -> Killed | None:
    # a mail client's wrap between a field's name and its value ("pgtables:" / "136kB"), rejoined; looked for by
    # substring first (every verdict has a ": ", and the pattern's scan of the line costs more than the rest)
    if any(map(line.__contains__, _KILLED_CUT_MARKS)):
        line = _KILLED_VALUE_CUT.sub(r"\1:", line)

    if m := (_KILLED_ONE_END if line.count(") ") <= 1 else _KILLED).match(line):
        msg, pid, comm, rhel6, uid, rhel_uid, vm, anon, file, shmem, pgt, adj = m.group(
            "msg", "pid", "comm", "rhel6", "uid", "rhel6_uid", "vm", "anon", "file", "shmem", "pgt", "adj")
        rhel_uid = rhel_uid or m["rhel7_uid"]
        return Killed(
            line=no, pid=int(pid), comm=comm, message=msg or None, rhel6=bool(rhel6),
            uid=_num(uid) if uid is not None else _num(rhel_uid), total_vm_kb=int(vm), anon_rss_kb=int(anon),
            file_rss_kb=int(file), shmem_rss_kb=_num(shmem), pgtables_kb=_num(pgt), oom_score_adj=_num(adj),
        )  # fmt: skip
    # sizes grouped by a log viewer or a locale ("total-vm:26,184,840kB"; the kernel prints %lukB): read ungrouped
    if (at := line.find(" total-vm:")) > 0 and _GROUPED.search(line, at):
        return _killed(no, line[:at] + _GROUPED.sub("", line[at:]))
    # the bare 2.6.3x form, or a line cut at a terminal's width ("... total-vm:293428kB, anon-..."), or elsewhere in
    # its fields, or garbled after its comm: who, not sizes
    if (m := _KILLED_BARE.match(line)) or (m := _KILLED_HEAD_RX.match(line)):
        return Killed(
            line=no, pid=int(m["pid"]), comm=m["comm"], message=m["msg"] or None, rhel6=bool(m["rhel6"]),
            uid=_num(m["rhel6_uid"]),
        )
    # cut inside its comm where the paste ends: who, named by the dump's row of that pid if it has one (comm_cut)
    if m := _KILLED_COMM_CUT.match(line):
        return Killed(
            line=no, pid=int(m["pid"]), comm=m["comm"], message=m["msg"] or None, rhel6=bool(m["rhel6"]),
            uid=_num(m["rhel6_uid"]), comm_cut=True,
        )
    return None


def node_list(text: str | None) -> list[int] | None:
    """Kernel %*pbl node list ("0-1,3") -> [0, 1, 3]; None for "(null)" or nothing."""
    if not text or not re.fullmatch(r"\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*", text):
        return None
    nodes: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        nodes.extend(range(int(a), int(b or a) + 1))
    return nodes


# The parts of a report in the order the kernel prints them (dump_header(), then oom_kill_process()); a paste
# may begin at any of them. A part that a report has already passed, or holds already, begins the next report.
_PHASE_INVOKED, _PHASE_CPU, _PHASE_MEMINFO, _PHASE_DUMP, _PHASE_SUMMARY, _PHASE_VERDICT = range(6)


class _Open(msgspec.Struct):
    """A report being read: how far it got and which one-off parts it holds."""

    report: OomReport
    phase: int = -1
    seen: set[str] = set()

    @property
    def closed(self) -> bool:  # its "Killed process" line is read: only reaper and group-kill lines follow
        return self.report.killed is not None


_OPENER_FIRST = frozenset("[MNDHTFOCPmks")  # the first characters of the parts below, but for digits


def _opener(s: str) -> tuple[str, int] | tuple[str, int, re.Match] | None:
    """(part, phase) of a line that begins a part of dump_header(), or None; with the memcg counter's _CGROUP match
    (read, not matched again)."""
    c = s[:1]
    if c not in _OPENER_FIRST and not c.isdigit():  # most lines of a report (a call trace's)
        return None
    if c == "[":
        if _TASK_HEADER_START.match(s):
            return "dump", _PHASE_DUMP
        return None
    if c == "M" and s.startswith(_MEM_INFO):
        return "meminfo", _PHASE_MEMINFO
    if c == "M" and s.startswith("Memory cgroup stats for "):  # v1 prints a line for each memcg of the subtree
        return "~memcg_stats", _PHASE_MEMINFO
    # Parts of many lines ("~"): they open a report where none is open, and never the next one
    if c in "NDH" and (_ZONE_LINE.match(s) or _BUDDY.match(s) or _HUGEPAGES.match(s)):  # show_free_areas() on
        return "~zones", _PHASE_MEMINFO
    if (c in "TF" and _SWAP.match(s)) or (c.isdigit() and (_PAGES.match(s) or _PAGECACHE.match(s))):
        return "~show_mem", _PHASE_MEMINFO  # show_mem()'s totals, from the page cache count on
    if c == "O" and s.startswith(_NO_KILLABLE):
        return "~no_killable", _PHASE_VERDICT
    if c == "T":
        if s.startswith("Tasks state"):
            return "tasks_state", _PHASE_DUMP
        if _MEMCG_TASK.match(s):
            return "task_in", _PHASE_MEMINFO
        return None
    if c in "CP" and _CPU_START.match(s):
        return "cpu", _PHASE_CPU
    if c in "mks" and (m := _CGROUP.match(s)):
        return "memcg:" + m["what"], _PHASE_MEMINFO, m
    return None


def parse_reports(text: str) -> list[OomReport]:
    """Every OOM report in `text`, in order (see iter_reports)."""
    return list(iter_reports(text.splitlines()))


_TRACE_AHEAD = 256  # lines: dump_header()'s call trace comes this soon before the Mem-Info it prints
_WINDOW = 8  # reports kept open for a late reaper line (the reaper runs after the kill, maybe after the next OOM)


def iter_reports(raw: Iterable[str]) -> Iterator[OomReport]:
    """Every OOM report in the lines of `raw`, in order, as a stream: a report is given once no later line can
    belong to it, and only the last few are held.

    A report begins at "invoked oom-killer" or at whichever of its later parts a paste starts with (the CPU line,
    Mem-Info, the memcg lines, "Task in ...", the task dump). Its oom-kill: summary, verdict and reaper lines belong
    to the report being read (5.0+ prints oom-kill: before the verdict, the reaper after it); only when no report
    can take them do they stand alone, as a report whose beginning is missing. Two reports' lines are never
    merged: a part a report already holds, or has passed, begins the next one, and a line of another syslog host
    goes to that host's open report (machines' lines interleaved in one log)."""
    lines = _Lines(iter_kernel_batches(raw))
    reports: list[OomReport] = []  # the recent ones, in the order of their first lines
    cur: _Open | None = None  # the open report of the current host
    host: str | None = None  # the syslog host of the lines being read (None: they name none)
    elsewhere: dict[str | None, _Open] = {}  # the open reports of the other hosts
    given = 0
    boot = 0  # BOUNDARY lines so far
    oom_frame = -_TRACE_AHEAD  # the line of the last frame through out_of_memory() read with no report open

    def done(r: OomReport) -> bool:
        # a report that holds nothing of an OOM (a CPU line or Mem-Info of another splat: a WARN, sysrq-m, a page
        # allocation failure) is no report
        nonlocal given
        if r.headless_rows and r.task_columns is None:
            _read_headless_rows(r)
        elif r.headless_rows:
            r.problems.append(f"line {r.headless_rows[0][0]}: {len(r.headless_rows)} task rows before the dump's "
                              "header were not read")
        r.headless_rows = []  # read into tasks, or said to be unread
        if (k := r.killed) is not None and k.comm_cut and r.tasks:
            # the verdict cut inside its comm: the dump names that pid
            if (i := next(column_positions(r.tasks.column("pid"), k.pid), None)) is not None:
                k.comm = r.tasks[i].comm
        if _is_oom(r):
            given += 1
            r.index = given
            return True
        return False

    def new_report(no: int) -> _Open:
        r = OomReport(index=0, first_line=no, last_line=no, boot=boot, host=host, oom_trace=no - oom_frame < _TRACE_AHEAD)
        reports.append(r)
        return _Open(r, seen=set())

    def standalone(no: int) -> OomReport:
        """A report for a verdict or reaper line that no open report can take; the open one stays open."""
        r = OomReport(index=0, first_line=no, last_line=no, boot=boot, host=host)
        reports.append(r)
        return r

    while (line := lines.current) is not None:
        no, s = line
        if type(s) is _Rows:  # plain rows, read by the cleaner
            if cur is not None and not cur.closed and cur.report.task_columns is not None:
                _read_rows(lines, cur.report)
            else:  # rows of no open dump: read as lines, below
                lines.unfold()
            continue
        if s == BOUNDARY:  # another boot or another paste begins: the open report takes nothing after it
            cur = None
            boot += 1
            lines.advance()
            continue
        if type(s) is _Host:  # the lines from here on are another machine's: its open report takes them
            if cur is not None:
                elsewhere[host] = cur
            host = lines.host = s.name
            cur = elsewhere.pop(host, None)
            lines.advance()
            continue
        if s[:1] == "[" and (m := _TASK_ROW.match(s)):
            if cur is not None and not cur.closed and cur.report.task_columns is not None:
                _read_rows(lines, cur.report)  # most lines of a big report: the shortest path
                continue
            if (joined := _rejoin_headless_row(lines, s)) is not s:
                s, m = joined, _TASK_ROW.match(joined)
            if m["rest"]:  # a paste that starts inside the task dump, or whose header was lost: columns come later
                if cur is None or cur.closed or cur.phase > _PHASE_DUMP:
                    cur = new_report(no)
                cur.phase = _PHASE_DUMP
                # (4.19's "[%7d]" pads a short pid to 7 columns: the wide header's era)
                cur.report.headless_rows.append((no, int(m["pid"]), m["rest"], s.index("]") - 1))
                cur.report.last_line = lines.last_no
                lines.advance()
                continue
            # "[1]" alone outside a dump, and no row after it: a footnote's mark
        if s[-1] in _CUT_LAST:  # most lines end otherwise: none of these three
            if s.endswith(_CUT_ENDS) and _CUT_PHRASE.search(s):  # "... Killed" / "process 123 (x) ...": a cut
                s = lines.join_while(s, lambda c: not _CUT_PHRASE.search(c))
            if s.endswith(","):  # no kernel line ends with a comma: a mail client or pager wrapped it
                s = lines.join_while(s, lambda c: not c.endswith(","))
            if s.endswith(" invoked oom-") and (lines.peek() or "").startswith("killer:"):
                s = lines.join_next()  # a mail client wrapped the header at its hyphen (joined without a space)
        took: OomReport | None = None

        if " invoked oom" in s and (" invoked oom-killer:" in s or _cut_header(s, lines.peek())):
            # a wrapped header is joined; one cut short (_INVOKED_CUT) before a line that begins a printk line is not
            m = _invoked(s)
            if m is None and " invoked oom-killer:" in s and not (_INVOKED_CUT.match(s)
                                                                  and _printk_start(lines.peek() or "")):
                s = lines.join_while(s, _invoked)
                m = lines.found  # _invoked of the joined line
            cur = new_report(no)
            cur.phase = _PHASE_INVOKED
            took = _read_invoked(cur.report, no, s, m)
        elif ((c := s[:1]) in _OPENER_FIRST or c.isdigit()) and (part := _opener(s)) is not None:
            name, phase = part[:2]
            if cur is None or cur.closed or (name in cur.seen or cur.phase > phase) and name[0] != "~" \
                    and not (name == "cpu" and cur.report.panic_on_oom) \
                    or name == "~zones" and "~show_mem" in cur.seen:  # zones come before the totals: the next OOM
                cur = new_report(no)  # (but panic()'s own dump_stack() after a panic_on_oom line is that OOM's)
            cur.seen.add(name)
            cur.phase = max(cur.phase, phase)
            took = cur.report
            _read_body_line(lines, cur.report, no, s, part)
        elif "ill process " in s and _KILL_START.search(s):
            s = lines.join_while(s, _KILL.match)
            # the verdict comes before the reaper's line: after one, it is the next OOM's
            if cur is None or cur.closed or cur.report.selected is not None or cur.report.reaper:
                cur = new_report(no)
            cur.phase = _PHASE_VERDICT
            took = cur.report
            if m := lines.found:
                took.selected = Selected(
                    line=no, pid=int(m["pid"]), comm=m["comm"], score=int(m["score"]), message=m["msg"] or ""
                )
                if m["child"] == "a":
                    took.old_badness = True
                    took.old_formats = [*took.old_formats, "'or a child'"]
            else:
                took.problems.append(f"line {no}: could not read the 'Kill process' line: {s!r}")
                took.unread_choice = took.unread_choice or no
        elif "Killed process" in s and _KILLED_START.match(s):
            # no memory fields yet, a trailing comma, or a field on the next line: a mail client cut it
            s = lines.join_while(s, lambda c: _killed_ends(c, lines.peek()), _killed_more)
            k = _killed(no, s)
            if cur is not None and cur.closed and cur.report.oom_group_memcg is not None and k is not None:
                cur.report.group_kills.append(k)  # memory.oom.group: the rest of the group
                took = cur.report
            else:
                if cur is None or cur.closed or cur.report.reaper:
                    cur = new_report(no)
                cur.phase = _PHASE_VERDICT
                took = cur.report
                if k is None:
                    took.problems.append(f"line {no}: could not read the 'Killed process' line: {s!r}")
                    took.unread_choice = took.unread_choice or no
                else:
                    took.killed = k
                    if k.total_vm_kb is None and ("-vm:" in s or "vsz:" in s or "-rss:" in s):  # who, not sizes
                        took.problems.append(f"line {no}: the victim's sizes on its 'Killed process' line are cut "
                                             f"or garbled: not read: {s!r}")
        elif s.startswith("oom-kill:"):
            s = lines.join_while(s, _OOM_KILL_TASK.search)
            if cur is None or cur.closed or "oom-kill" in cur.seen or cur.report.selected is not None:
                cur = new_report(no)
            cur.seen.add("oom-kill")
            cur.phase = _PHASE_SUMMARY
            took = cur.report
            _read_oom_kill_line(took, no, s, lines.found)
        elif s.startswith("oom_reaper:"):
            took = _read_reaper(reports, cur, host, no, s)
            if took is None and (m := _REAPED.match(s) or _UNABLE.match(s)):
                took = standalone(no)
                took.reaper.append(Reaped(line=no, pid=int(m["pid"]), comm=m["comm"], reaped=m.re is _REAPED))
        elif cur is not None and not cur.closed:
            took = cur.report
            _read_body_line(lines, took, no, s)
        elif cur is not None and (m := _OOM_GROUP.match(s)):
            took = cur.report
            took.oom_group_memcg = m["memcg"]
        elif cur is None and ("_of_memory" in s or "oom_kill_process" in s) and _OOM_FRAME.search(s):
            oom_frame = no  # a paste that begins in dump_header()'s call trace: the part after it is an OOM's

        if took is not None and lines.last_no > took.last_line:
            took.last_line = lines.last_no
        lines.advance()
        # (another host's open report is held too, unless more than _WINDOW reports came after it)
        while len(reports) > _WINDOW + len(elsewhere) and (cur is None or reports[0] is not cur.report):
            r = reports.pop(0)
            for h in [h for h, o in elsewhere.items() if o.report is r]:
                del elsewhere[h]  # its lines from now on begin a report of their own
            if done(r):
                yield r
    for r in reports:
        if done(r):
            yield r


# Headers by the number of integer columns before the name (kernel-model.md 2.5).
_HEADERS_BY_WIDTH = {
    10: ["uid", "tgid", "total_vm", "rss", "rss_anon", "rss_file", "rss_shmem", "pgtables_bytes", "swapents",
         "oom_score_adj"],  # 6.8+
    9: ["uid", "tgid", "total_vm", "rss", "nr_ptes", "nr_pmds", "nr_puds", "swapents", "oom_score_adj"],  # next, 2017
    8: ["uid", "tgid", "total_vm", "rss", "nr_ptes", "nr_pmds", "swapents", "oom_score_adj"],  # 4.0-4.14
}  # fmt: skip
_HEADERS_7 = {
    "pgtables_bytes": ["uid", "tgid", "total_vm", "rss", "pgtables_bytes", "swapents", "oom_score_adj"],  # 4.15+
    "nr_ptes": ["uid", "tgid", "total_vm", "rss", "nr_ptes", "swapents", "oom_score_adj"],  # 3.6-3.19
    "oom_adj": ["uid", "tgid", "total_vm", "rss", "cpu", "oom_adj", "oom_score_adj"],  # 2.6.36-3.5
}


def _guess_columns(rows: list[tuple[int, int, str, int]]) -> tuple[list[str], bool] | None:
    """The header of rows whose header is missing, and whether only that format prints them so (else a best guess):
    from how many numbers precede the name (the fewest over the rows: a name may begin with digits) and, for the
    three 7-number formats, from the values and the print widths: pgtables_bytes are whole pages, and the only
    7-number format of 4.19's "[%7d]" pid field; 2.6.36-3.5 printed "%3u     %3d" for cpu and oom_adj, where 3.6-3.19
    printed "%8lu %8lu" for nr_ptes and swapents, and oom_adj is -17..15 and follows oom_score_adj (oom_adj =
    oom_score_adj * 17 / 1000)."""
    widths, values, gaps = [], [], []
    for _, _, rest, _ in rows[:200]:
        toks = rest.split()
        n = next((i for i, t in enumerate(toks) if not _integer(t) or len(t) > 20), len(toks))
        widths.append(n)
        values.append([int(t) for t in toks[: min(n, 7)]])
        ends = [m.end() for m in itertools.islice(re.finditer(r"\S+", rest), 6)]
        gaps.append(tuple(b - a for a, b in itertools.pairwise(ends[3:])))
    n = min(widths, default=0)
    if n in _HEADERS_BY_WIDTH:
        return _HEADERS_BY_WIDTH[n], True
    if n != 7:
        return None
    if all(v[4] % 4096 == 0 for v in values) and any(v[4] for v in values) or any(
            len(str(pid)) < 7 <= width for _, pid, _, width in rows):  # fmt: skip
        return _HEADERS_7["pgtables_bytes"], True
    follows = [-17 <= v[5] <= 15 and v[5] == (-17 if v[6] == -1000 else v[6] * 17 // 1000) for v in values]
    if all(follows) and (any(v[5] for v in values) or all(g == (4, 8) for g in gaps)):
        return _HEADERS_7["oom_adj"], True
    return _HEADERS_7["nr_ptes"], not all(follows) and any(v[4] % 4096 for v in values)


_ROW_WIDTHS = frozenset((7, *_HEADERS_BY_WIDTH))  # the numbers before the name, in every dump format known


def _integer(token: str) -> bool:
    """Whether int() reads a task row's token: digits, one '-' before them ("--1000" is garbled)."""
    return (token[1:] if token[:1] == "-" else token).isdecimal()


def _numbers_first(text: str) -> tuple[int, bool]:
    """How many integers a row's text begins with, and whether a name follows them."""
    toks = text.split()
    n = next((i for i, t in enumerate(toks) if not _integer(t)), len(toks))
    return n, n < len(toks)


def _rejoin_headless_row(lines: _Lines, s: str) -> str:
    """A row without the dump's header that a mail client wrapped where its columns' spaces were (and dropped them):
    the next lines joined to it while it has no name yet, and only if the pieces make one row of a known width (a
    line that could be a row or a report line of its own is never taken; _read_row does this knowing the header)."""
    n, named = _numbers_first(_TASK_ROW.match(s)["rest"])
    while not named and (nxt := lines.peek()) is not None and nxt and not _starts_report_line(nxt):
        more, named = _numbers_first(nxt)
        if (n + more not in _ROW_WIDTHS) if named else (n + more > max(_ROW_WIDTHS)):
            break
        s, n = lines.join_next(), n + more
    return s


def _read_headless_rows(r: OomReport) -> None:
    # cut at a terminal's width by a pager ('...'), or by a wrap that no line after it completed (no name, fewer
    # numbers than any format has): not read, and not let to make every row's format unknown
    for how, cut in (("'...'", [row for row in r.headless_rows if row[2].endswith("...")]),
                     ("no name", [row for row in r.headless_rows if (n := _numbers_first(row[2]))[0] < min(_ROW_WIDTHS)
                                    and not n[1]])):
        if cut:
            r.problems.append(f"line {cut[0][0]}: {len(cut)} task row(s) cut short ({how}): not read")
            r.headless_rows = [row for row in r.headless_rows if row not in cut]
        if not r.headless_rows:
            return
    guess = _guess_columns(r.headless_rows)
    if guess is None:
        r.problems.append(f"line {r.headless_rows[0][0]}: task rows without the dump's header, in a format not known")
        return
    cols, r.task_columns_sure = guess
    r.task_columns, r.task_columns_guessed = cols, True
    r.task_pid_wide = any(len(str(pid)) < 7 <= width for _, pid, _, width in r.headless_rows)
    r.task_pid_narrow = any(width < 7 for *_, width in r.headless_rows)
    for no, pid, rest, _ in r.headless_rows:
        if (fields := _row_fields(rest, len(cols))) is None:
            r.problems.append(f"line {no}: task row not understood: [{pid}] {rest!r}")
        else:
            r.tasks.append(_task_row(no, pid, cols, *fields))


def _is_oom(r: OomReport) -> bool:
    """Whether a report holds a part of an OOM report: a memcg's counters and stats are printed on its OOM only
    (mem_cgroup_print_oom_meminfo()), as is a call trace through out_of_memory()."""
    return bool(
        r.invoked_line is not None or r.tasks or r.task_columns is not None or r.victim() or r.selected
        or r.constraint or r.no_killable or r.panic_on_oom or r.already_exiting or r.memcg_task_line or r.problems
        or r.memory is not None or r.memcg_stats_of or r.memcg_trace or r.oom_trace
    )  # fmt: skip


_CUT_STAMP = re.compile(r"^[^\[\]]*(?:\d{1,2}:\d\d:\d\d|\d\.\d+)[^\[\]]*\] ")
_GLUED_STAMP = re.compile(rf"^.*{_MONOTONIC} ")


def _order(r: OomReport, no: int, text: str) -> int | None:
    """The header's order= (-1: sysrq-f's and the memcg OOM's of old; a request is below MAX_PAGE_ORDER), or None and
    a problem for a garbled one: 1 << order pages of a 20-digit order would never be computed."""
    order = int(text)
    if -1 <= order <= _ORDER_READ_MAX:
        return order
    r.problems.append(f"line {no}: order={text} is no allocation's order (a garbled header): not read")
    return None


def _read_invoked(r: OomReport, no: int, s: str, m: re.Match | None) -> OomReport:
    """The header line `s`, `m` its _invoked() match."""
    r.invoked_line = no
    if m:
        # a paste selected from one character too far lost its stamp's '[' (" Thu Apr 17 22:43:41 2025] x invoked")
        r.trigger_comm = _cut_comm(m["comm"])
        r.gfp_mask = m["gfp"]
        r.order = _order(r, no, m["order"])
        r.header_has_nodemask = bool(m["nm"])
        r.header_order_first = m.re is _INVOKED_ORDER_FIRST
        r.header_oom_adj = m.re is _INVOKED and m["oom_adj"] is not None
        if m["adj_name"] != "oom_score_adj":  # oomkilladj= (2.6.24), oom_adj= alone
            r.old_badness = True
            r.old_formats = [*r.old_formats, f"{m['adj_name']}= on the header line"]
    elif cut := _INVOKED_CUT.match(s):
        # cut short: what it still holds, nothing guessed (the adj, and gfp_mask or order where lost, unknown)
        r.trigger_comm = _cut_comm(cut["comm"])
        r.gfp_mask = g[1] if (g := _INVOKED_CUT_GFP.search(s)) else None
        r.order = _order(r, no, o[1]) if (o := _INVOKED_CUT_ORDER.search(s)) else None
        read = ", ".join(["its comm"] + [name for name, v in (("gfp_mask", r.gfp_mask), ("order", r.order))
                                         if v is not None])
        r.problems.append(f"line {no}: the 'invoked oom-killer' line is incomplete: only {read} read: {s!r}")
    else:
        r.trigger_comm = s.split(" invoked oom-killer:")[0]
        r.problems.append(f"line {no}: could not read the 'invoked oom-killer' header: {s!r}")
    return r


def _read_reaper(reports: list[OomReport], cur: _Open | None, host: str | None, no: int, s: str) -> OomReport | None:
    """The report an oom_reaper line belongs to: the latest one of the same host whose victim it names (the reaper
    runs after the kill, possibly after the next report began), else the open report if it names no victim; else
    None."""
    m = _REAPED.match(s) or _UNABLE.match(s)
    if m is None:
        return cur.report if cur is not None and not cur.closed else None
    pid = int(m["pid"])
    # the victim's, or a memory.oom.group member's (the reaper takes every killed mm)
    owner = next((r for r in reversed(reports) if r.host == host and ((v := r.victim()) and v[0] == pid
                  or any(k.pid == pid for k in r.group_kills))), None)  # fmt: skip
    if owner is None and cur is not None and not cur.closed and cur.report.victim() is None:
        owner = cur.report
    if owner is not None:
        owner.reaper.append(Reaped(line=no, pid=pid, comm=m["comm"], reaped=m.re is _REAPED))
    return owner


def _read_rows(lines: _Lines, r: OomReport) -> None:
    """The task-dump rows from the current line on, as long as there are rows: the runs the cleaner read (_Rows),
    runs of plain rows it left as lines at once (_read_run), any other row (wrapped, garbled, an unusual header) one
    at a time."""
    cols = tuple(r.task_columns)
    fast = _fast_row(cols)
    while (line := lines.current) is not None:
        no, s = line
        if type(s) is _Rows:  # rows the cleaner read, in this header's columns or another's (then read as lines)
            if s.cols == cols:
                r.tasks.extend(s.n, s.columns)
                r.last_line = s.last_line
                lines.advance()
            else:
                lines.unfold()
            continue
        if s[:1] != "[":
            return
        if fast is not None and _read_run(lines, r, *fast):  # up to a line that is not a plain row
            continue
        if (m := _TASK_ROW.match(s)) is None:
            return
        _read_row(lines, r, no, s, m)
        r.last_line = lines.last_no
        lines.advance()


@functools.lru_cache(maxsize=64)
def _fast_row(cols: tuple[str, ...]) -> tuple[re.Pattern, tuple[str, ...], itemgetter] | None:
    """A plain row of this header (ASCII numbers no longer than _row_fields takes, between spaces: it and _TASK_ROW
    read it alike; possessive, as nothing is gained by giving back digits or spaces), the TaskRow fields among its
    columns (pid, the header's, comm), and what picks them from the columns; None when a required column is missing
    (then _task_row fills defaults, row by row). Two groups: the numbers from the pid on, and the name."""
    if not _ROW_REQUIRED <= set(cols):
        return None
    rx = re.compile(r"\[ *+([0-9]{1,20}+\]" + r"(?: ++-?+[0-9]{1,19}+)" * len(cols) + r") ++(\S.*)")
    where = {c: i for i, c in enumerate(("pid", *cols, "comm")) if c in _ROW_FIELDS}  # not cpu, oom_adj
    return rx, tuple(where), itemgetter(*where.values())


_INT_LINES = msgspec.json.Decoder(int)


def _row_columns(ms: list[re.Match], fields: tuple[str, ...], pick: itemgetter) -> dict[str, list]:
    """The columns of plain rows (their matches of a _fast_row pattern), as TaskTable.extend takes them but for the
    line numbers: every number of every row parsed at once (no Python code runs per row)."""
    # "1000]  1000  1000    90000 ...": the numbers of a row from its pid on, as JSON lines, a number a line (blank
    # lines between): parsed in C, without a string for each number; int() of each if JSON will not have one (a
    # leading zero)
    text = " ".join(map(itemgetter(1), ms)).replace("]", " ").replace(" ", "\n")
    try:
        nums = _INT_LINES.decode_lines(text)
    except msgspec.DecodeError:
        nums = list(map(int, text.split()))
    width = len(nums) // len(ms)
    # a name is often shared by many rows (workers, threads of a pool): one string each
    cols = [nums[j::width] for j in range(width)] + [list(map(sys.intern, map(itemgetter(2), ms)))]
    return dict(zip(fields, pick(cols)))


def _read_run(lines: _Lines, r: OomReport, rx: re.Pattern, fields: tuple[str, ...], pick: itemgetter) -> int:
    """The plain rows from the current line on (those the cleaner left as lines), a window of lines at a time: one
    regex match a line, then a column at a time. How many rows."""
    total, n = 0, 8  # a memcg's dump may have a few rows; a global one, thousands
    while window := lines.ahead(n):
        ms = list(map(rx.match, map(itemgetter(1), window)))
        k = ms.index(None) if None in ms else len(ms)
        if k == 0:
            break
        columns = _row_columns(ms[:k], fields, pick)
        columns["line"] = list(map(itemgetter(0), window[:k]))
        r.tasks.extend(k, columns)
        r.last_line = window[k - 1][0]
        lines.skip(k)
        total += k
        if k < n:
            break
        n = min(2 * n, 2048)  # a window of rows, matched and split, is held as strings: a few MB at most
    return total


def _read_row(lines: _Lines, r: OomReport, no: int, s: str, m: re.Match) -> None:
    """One task-dump row: "[pid] uid tgid ... name", in the columns of the report's header."""
    ncols = len(r.task_columns)
    fields = _row_fields(m["rest"], ncols)
    if fields is None:  # a mail client may have wrapped the row
        s = lines.join_while(s, lambda c: _row_fields(_TASK_ROW.match(c)["rest"], ncols) is not None)
        m = _TASK_ROW.match(s)
        fields = _row_fields(m["rest"], ncols)
    if fields is None:
        r.problems.append(f"line {no}: task row not understood: {s!r}")
    else:
        r.tasks.append(_task_row(no, int(m["pid"]), r.task_columns, *fields))


def _read_body_line(lines: _Lines, r: OomReport, no: int, s: str, part: tuple | None = None) -> None:
    """Everything between the header and the verdict. Dispatched on the first character: most lines of a report
    (call trace, register dump) are none of these and should cost little. `part`: the line's _opener(), which says
    what some lines are (each the first thing tried for its first character): they are not tried again."""
    c = s[:1]
    if "moom_callback" in s:  # sysrq-f's work item: before order=-1 (4.x) its header looked like any allocation
        r.sysrq = True
    if "mem_cgroup_o" in s and not s.startswith("? ") and ("mem_cgroup_out_of_memory+" in s
                                                           or "mem_cgroup_oom_synchronize+" in s):
        r.memcg_trace = True  # called for a memcg OOM only (a "? " frame is a guess of the unwinder)
    if "_of_memory" in s or "oom_kill_process" in s:  # out_of_memory() and what it calls: an OOM's call trace
        r.oom_trace = r.oom_trace or bool(_OOM_FRAME.search(s)) and not s.startswith("? ")
    if r.arch is None and (at := s.find("+0x")) > 0:  # a call-trace frame
        _read_arch_frame(r, s, at)
    if part is not None:
        if part[0] == "cpu":
            return _read_cpu_line(lines, r, s)
        if part[0] == "tasks_state":
            r.tasks_state_line = True
            return None
        if len(part) == 3:  # a memcg counter, with its _CGROUP match
            return _read_cgroup(r, part[2])
    if c == "[":
        if part is not None or _TASK_HEADER_START.match(s):  # a '[' line's part is the dump's header
            lines.join_while(s, _TASK_HEADER.match)
            if m := lines.found:
                cols = m["cols"].split()
                unknown = [c for c in cols if c not in _NUMERIC_COLUMNS]
                if unknown:
                    r.problems.append(f"line {no}: unknown task-dump columns {unknown}: rows not read")
                else:
                    r.task_columns = cols
                    r.task_header_line = no
                    if "oom_adj" in cols and "oom_score_adj" not in cols:  # 2.6.25-2.6.35
                        r.old_badness = True
                        r.old_formats = [*r.old_formats, "a 'cpu oom_adj' dump without oom_score_adj"]
                    r.task_pid_wide = len(m["pad"]) >= 2
    elif c.isdigit():
        if m := _PAGES.match(s):  # the old "%d reserved pages" has what=None
            n = int(m["n"])
            if m["what"] != "RAM" and (word := _wrapped_word(n, r.ram_pages)):
                # show_mem() sums present - managed pages in an unsigned long: where CMA made managed the larger,
                # the sum went below 0 and printed as 2^32 - x (2^64 - x); totalram_pages = RAM - (-x) all the same
                r.reserved_printed, n = n, n - (1 << word)
            setattr(r, "ram_pages" if m["what"] == "RAM" else "reserved_pages", n)
        elif m := _PAGECACHE.match(s):
            setattr(r, "pagecache_pages" if m["what"] == "total pagecache" else "swapcache_pages", int(m["n"]))
            # show_free_areas() runs hugetlb_show_meminfo() between the last buddy line and this one; it prints a line
            # per node and hstate, pool or not, unless the kernel has no hugetlb support: none printed, no pool (a
            # node LRU line dates the report 4.8+, long after hugetlb_show_meminfo() was added)
            if m["what"] == "total pagecache" and r.hugetlb_kb is None and r.node_lru_kb and r.buddy_line == r.last_line:
                r.hugetlb_kb = 0
    elif c.islower():
        _read_lower_line(lines, r, s)
    elif not _read_upper_line(lines, r, s) and r.mems_allowed is None and " cpuset=" in s:
        if m := _CPUSET.search(s):
            r.mems_allowed, r.cpuset = m["nodes"], m["cpuset"]  # pre-5.0: "%s cpuset=%s mems_allowed=%*pbl"


def _read_lower_line(lines: _Lines, r: OomReport, s: str) -> None:
    """Mem-Info's "key:pages" summary, lowmem_reserve[], memcg counters and memory.stat, a comm's cpuset line."""
    if ":" not in s and " " not in s:  # each of them has one (a call-trace frame, "dump_stack+0x1c/0x20", neither)
        return
    if _MEMINFO_LINE.match(s):  # the Mem-Info summary: "key:pages" pairs
        r.meminfo = {**r.meminfo, **{k: int(v) for k, v in _MEMINFO_PAIR.findall(s)}}
    elif s.startswith("lowmem_reserve[]:"):
        s = lines.join_pieces(_PIECE)  # 4.19's pr_cont pieces, each printed as a line of its own, or a wrap
        if r.zones and (m := _RESERVE.match(s)):
            r.zones[-1].lowmem_reserve = [int(x) for x in m[1].split()]
    elif m := _CGROUP.match(s):
        _read_cgroup(r, m)
    elif r.memcg_stats_of is not None and r.task_columns is None and (m := _MEMCG_V2_STAT.match(s)):
        r.memcg_stats = {**r.memcg_stats, m[1]: int(m[2])}  # v2 memory.stat: one "key bytes" a line
    elif _read_arch_reg(r, s):
        pass
    elif r.mems_allowed is None and " cpuset=" in s and (m := _CPUSET.search(s)):
        r.mems_allowed, r.cpuset = m["nodes"], m["cpuset"]


# What each line _read_upper_line reads begins with, by first character: a line that begins with none of them (a
# call-trace frame, most of a register dump) is none of those lines, unless it says a victim is already exiting
_UPPER_LINE_STARTS = ("CPU: ", "Pid: ", *_ZONE_STARTS, "Total swap", "Free swap", "Tasks state", "Hardware name: ",
                      "Memory cgroup stats for ", "Task in ", "Tasks in ", _NO_KILLABLE, "Kernel panic - not syncing: ",
                      *_ARCH_REG_STARTS, "Stack : ")  # fmt: skip
_UPPER_BY_FIRST = {c: tuple(p for p in _UPPER_LINE_STARTS if p[0] == c) for c in {p[0] for p in _UPPER_LINE_STARTS}}


def _read_upper_line(lines: _Lines, r: OomReport, s: str) -> bool:
    """The lines that start with a capital: CPU/Pid, register dump, Hardware name, swap totals, zones, memcg
    'Task in' and stats, 'Tasks state', the no-victim messages. False: none of them."""
    if not s.startswith(_UPPER_BY_FIRST.get(s[:1], ())) and "is already exiting" not in s:
        return False
    if _CPU_START.match(s):
        _read_cpu_line(lines, r, s)
    elif s.startswith(_ZONE_STARTS):
        # 4.19's pr_cont pieces, each printed as a line of its own, or a mail client's wrap
        s = lines.join_pieces(_ZONE_PIECE if " free:" in s or " active_anon:" in s else _PIECE)
        if (" hugepages_total=" in s and "hugepages_size=" not in s  # an hstate line a wrap broke,
                and "hugepages_total=" not in (lines.peek() or "")):  # not one cut short before the next size's
            s = lines.join_while(s, lambda line: "hugepages_size=" in line)
        return _read_zone_line(r, s, lines.last_no)
    elif m := _SWAP.match(s):
        setattr(r, "total_swap_kb" if m["what"] == "Total" else "free_swap_kb", int(m["kb"]))
    elif s.startswith("Tasks state"):
        r.tasks_state_line = True
    elif s.startswith("Hardware name: "):
        r.hardware = s[len("Hardware name: ") :]
    elif s.startswith("Memory cgroup stats for ") and (m := _MEMCG_STATS.match(lines.join_pieces(_MEMCG_V1_PIECE))):
        # v1 mem_cgroup_print_oom_info(): for_each_mem_cgroup_tree, the OOM memcg first, each with its own
        # (local) counters: the subtree's usage is their sum
        stats = {k: int(v) * 1024 for k, v in _MEMCG_V1_STAT.findall(m["rest"])}
        if r.memcg_stats_of is None:
            r.memcg_stats_of, r.memcg_stats = m["memcg"], stats
        elif m["memcg"].startswith(r.memcg_stats_of.rstrip("/") + "/"):
            merged = dict(r.memcg_stats)
            for k, v in stats.items():
                merged[k] = merged.get(k, 0) + v
            r.memcg_stats = merged
    elif m := _MEMCG_TASK.match(s):
        r.memcg_task_line = True
        r.task_memcg, r.oom_memcg = m["task"], m["memcg"]
    elif m := _OOM_GROUP.match(s):
        r.oom_group_memcg = m["memcg"]
    elif s.startswith(_NO_KILLABLE):
        r.no_killable = True
    elif m := _PANIC_ON_OOM.match(s):
        r.panic_on_oom = m[1]
    elif "is already exiting" in s and _ALREADY_EXITING.search(s):
        r.already_exiting = True
    else:
        return _read_arch_reg(r, s)
    return True


def _read_cpu_line(lines: _Lines, r: OomReport, s: str) -> None:
    """The CPU line (dump_stack()'s "CPU: %d PID: %d Comm: %.20s %s %s %.*s"; "Pid: %d, comm: %.20s" before 3.x)."""
    s = lines.join_while(s, _RELEASE.search)  # "... <release> #<build>" may have been wrapped off
    if (read := (_cpu_line if len(s) <= _KNOWN_LINE_MAX else _cpu_line.__wrapped__)(s)) is not None:  # (junk: once)
        pid, comm, release = read
        r.trigger_pid = pid
        r.trigger_comm = r.trigger_comm or comm
        if release is not None:
            r.taint, r.kernel_release, r.kernel_build, arch = release
            if arch is not None:
                r.arch, r.arch_source = arch


@functools.lru_cache(maxsize=256)  # a log's OOMs come from a few tasks of one kernel: their CPU lines repeat
def _cpu_line(s: str) -> tuple[int, str, tuple[str, str, str, tuple[str, str] | None] | None] | None:
    """What a CPU line says: (pid, comm, (taint, release, build, (arch, its source) or None) or None), or None."""
    if m := (_CPU.match(s) or _PID_OLD.match(s)):
        comm = _KDUMP.sub("", m["comm"])
        if m["rest"] and (rel := _RELEASE.search(m["rest"]) or _RELEASE_CUT.search(m["rest"])):
            # print_tainted()'s letters only: RHEL prints "------------" between them and the release
            taint = "".join(filter(str.isalpha, m["rest"][: rel.start()])) if "Tainted:" in s else ""
            a = _ARCH_RELEASE.search(rel[1]) or _ARCH_RELEASE.search(m["rest"])
            arch = (_ARCH_NAMES.get(a[1], a[1]), f"release {rel[1]}") if a else None
            return int(m["pid"]), comm, (taint, rel[1], m["rest"][rel.end(1) :].strip(), arch)
        return int(m["pid"]), comm, None
    return None


def _read_cgroup(r: OomReport, m: re.Match) -> None:
    """A memcg counter line, `m` its _CGROUP match. kmem is part of "memory:" and not a limit of its own for the OOM
    killer: kept for the words only."""
    c = CgroupCounter(limit_kb=int(m["l"]), usage_kb=int(m["u"]), failcnt=int(m["f"]) if m["f"] else None)
    setattr(r, _CGROUP_FIELDS[m["what"]], c)


def _read_arch_frame(r: OomReport, s: str, at: int) -> None:
    """A call-trace frame ("name+0x.../0x..." at `at`) names the architecture (see _ARCH_FRAMES, _PPC_FRAME)."""
    if s[:1] == "[" and (m := _PPC_FRAME.match(s)):
        bits = 64 if len(m["sp"]) == 16 else 32
        r.arch = "ppc64" if bits == 64 else "powerpc"
        r.arch_source = f"call trace: powerpc's '[sp] [lr] function' frames, {bits}-bit addresses"
        return
    words = s[:at].rsplit(None, 1)
    name = words[-1].lstrip("(?").split(".")[0] if words else ""  # "el0_svc_common.constprop.0", "(vector_swi"
    if name.startswith(_ARCH_FRAME_STARTS):
        wide = next(a for p, a in _ARCH_FRAME_PREFIXES.items() if name.startswith(p))
        r.arch, r.arch_source = wide, f"call trace: {name} frame"
    elif entry := _ARCH_FRAMES.get(name):
        addr = _FRAME_ADDRESS.search(s)
        if addr is None and name in _AMBIGUOUS_FRAMES:
            return
        bits = "" if addr is None else f", {len(addr[1]) * 4}-bit address"
        if arch := entry[1] if bits == ", 32-bit address" else entry[0]:
            r.arch, r.arch_source = arch, f"call trace: {name} frame{bits}"


def _read_arch_reg(r: OomReport, s: str) -> bool:
    """The first register line of a stack dump names the architecture (RIP:, EIP:, NIP:, pc :, ERA:, ...), and so
    does the first line of mips's raw stack words."""
    if r.arch is not None:
        return False
    if s.startswith(_ARCH_REG_STARTS):
        reg = next(p for p in _ARCH_REG_STARTS if s.startswith(p))
        r.arch, r.arch_source = _ARCH_REGS[reg], f"register dump: '{reg.strip()}' line"
        return True
    if s.startswith("Stack : ") and (m := _MIPS_STACK.match(s)):
        bits = len(m[1]) * 4
        r.arch, r.arch_source = "mips" if bits == 32 else "mips64", f"stack dump: 'Stack :' words of {bits} bits"
        return True
    return False


def _read_zone_line(r: OomReport, s: str, no: int) -> bool:
    """A zone's watermark line (with lowmem_reserve[] appended, as some kernels print it), its buddy line, a node's
    LRU lists or hugetlb pool. `no`: the input line it ends on."""
    if m := _ZONE_LINE.match(s):
        node = int(m["node"] or 0)
        f = {k: int(v) for k, v in _ZONE_FIELD.findall(s)}
        z = Zone(node=node, name=m["zone"], free_kb=int(m["free"]), min_kb=f.get("min"), low_kb=f.get("low"),
                 high_kb=f.get("high"), present_kb=f.get("present"), managed_kb=f.get("managed"),
                 reserved_highatomic_kb=f.get("reserved_highatomic"), free_highatomic_kb=f.get("free_highatomic"),
                 free_cma_kb=f.get("free_cma"), zspages_kb=f.get("zspages"))  # fmt: skip
        if res := _RESERVE.search(s):
            z.lowmem_reserve = [int(x) for x in res[1].split()]
        r.zones = [*r.zones, z]
        r.highmem = r.highmem or z.name == "HighMem"
        if z.present_kb is not None:
            r.zone_present_kb = {**r.zone_present_kb, node: r.zone_present_kb.get(node, 0) + z.present_kb}
        return True
    if m := _BUDDY.match(s):
        r.buddy_line = no
        if r.buddy_page_kb is None:
            r.buddy_page_kb = int(m["kb"])
        node = int(m["node"] or 0)
        z = next((z for z in r.zones if z.node == node and z.name == m["zone"]), None)
        blocks = [int(n) for n, _ in _BUDDY_BLOCK.findall(s)]
        types = _BUDDY_TYPES.findall(s) if "(" in s else None
        if z is not None:
            z.free_blocks, z.block_types = blocks, types
        else:  # its watermark line was cut: the zone as the buddy line has it (no marks)
            free = sum(int(n) * int(kb) for n, kb in _BUDDY_BLOCK.findall(s))
            r.zones = [*r.zones, Zone(node=node, name=m["zone"], free_kb=free, free_blocks=blocks, block_types=types)]
            r.highmem = r.highmem or m["zone"] == "HighMem"
        return True
    if m := _HUGEPAGES.match(s):
        size = int(m[3])
        r.hugetlb_kb = (r.hugetlb_kb or 0) + int(m[1]) * size
        if m[2] is not None:
            r.hugetlb_free_kb = (r.hugetlb_free_kb or 0) + int(m[2]) * size
        r.hugepage_sizes_kb = r.hugepage_sizes_kb | {size}
        return True
    if m := _NODE_LRU_LINE.match(s):
        # "isolated(anon)" is the summary's isolated_anon
        lru = {k.replace("(", "_").rstrip(")"): int(v) for k, v in _NODE_LRU.findall(s)}
        r.node_lru_kb = {**r.node_lru_kb, int(m[1]): lru}
        return True
    return False


def _read_oom_kill_line(r: OomReport, no: int, s: str, task: re.Match | None) -> None:
    """5.0+ "oom-kill:constraint=%s,nodemask=%*pbl,cpuset=%s,mems_allowed=%*pbl,{oom_memcg=%s|global_oom},
    task_memcg=%s,task=%s,pid=%d,uid=%d". Node lists and paths may hold commas, so read it by anchors (`task`:
    the _OOM_KILL_TASK match)."""
    if (m := _OOM_KILL.match(s)) is None:
        r.problems.append(f"line {no}: could not read the 'oom-kill:' line: {s!r}")
        r.unread_choice = r.unread_choice or no
        return
    r.constraint = m["constraint"]
    if m := _OOM_KILL_NODEMASK.search(s):
        r.nodemask = m[1]
    if m := _OOM_KILL_MEMS.search(s):
        r.mems_allowed = m[1]
    if m := _OOM_KILL_CPUSET.search(s):
        r.cpuset = m[1]
    if m := _OOM_KILL_OOM_MEMCG.search(s):
        r.oom_memcg = m[1]
    if m := _OOM_KILL_TASK_MEMCG.search(s):
        r.task_memcg = m[1]
    if m := task:  # the victim (dump_oom_summary(oc, victim)), never the trigger
        r.oom_kill_pid, r.oom_kill_comm = int(m["pid"]), m["comm"]
    else:
        r.problems.append(f"line {no}: could not read the victim on the 'oom-kill:' line: {s!r}")
        r.unread_choice = r.unread_choice or no
