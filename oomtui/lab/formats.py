"""dmesg lines of the real kernel against the model's, by format (issue 10 section 3).

Each OOM report line is given a kind (the printk it comes from) and masked: what varies from run to run
(pids, sizes and counters, comms, cgroup paths, and the machine's CPU number, taint, release, build and
preemption model) becomes a placeholder; flag names, masks (gfp_mask=0xcc0), field names, order and
punctuation stay. For every kind either side printed, the set of masked lines must be the same.
Two kinds are not modelled and not compared: dump_stack()'s call trace and registers (the build's, not
the era's) and the memory.stat dump after "Memory cgroup stats for" (counters the model does not keep).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

NOT_MODELLED = ("dump_stack", "memory.stat")

_KINDS = [
    ("invoked", re.compile(r"^.+? invoked oom-killer: ")),
    ("CPU", re.compile(r"^CPU: \d+ ")),
    ("Hardware name", re.compile(r"^Hardware name: ")),
    ("dump_stack", re.compile(r"^(Call Trace:|\s*</?TASK>|\s+(\? )?\S+\+0x[0-9a-f]+/0x[0-9a-f]+|(RIP|Code|RSP|FS|CS|CR2"
                              r"|DR[0-9]|PKRU|R[A-Z0-9]{2}): )")),
    ("memory", re.compile(r"^memory: usage ")),
    ("memory+swap", re.compile(r"^memory\+swap: usage ")),
    ("kmem", re.compile(r"^kmem: usage ")),
    ("swap", re.compile(r"^swap: usage ")),
    ("memory.stat", re.compile(r"^(Memory cgroup stats for |[a-z_]+ \d+$)")),
    ("Tasks state", re.compile(r"^Tasks state ")),
    ("dump_tasks header", re.compile(r"^\[\s+pid\s+\]")),
    ("dump_tasks row", re.compile(r"^\[\s*\d+\]")),
    ("oom-kill", re.compile(r"^oom-kill:")),
    ("Killed process", re.compile(r"Killed process \d+ ")),
    ("oom_reaper", re.compile(r"^oom_reaper: ")),
]

# value -> placeholder, in this order (comms before numbers: a comm may hold digits)
_MASKS = [
    (re.compile(r"^.+?(?= invoked oom-killer: )"), "COMM"),
    (re.compile(r"(?<=Comm: ).{1,20}?(?= (Not tainted|Tainted: ))"), "COMM"),
    # dump_stack_print_info(): "%s%s %s %.*s[ %s ]": taint, release, build (#N ...), preemption model
    (re.compile(r"(Not tainted|Tainted: [A-Z ]*?) \d\S* #\S+( (PREEMPT\S*|VOLUNTARY|NONE))?"), r"TAINT RELEASE #N\2"),
    (re.compile(r"(?<=#N )(PREEMPT\S*|VOLUNTARY|NONE)"), "MODEL"),
    (re.compile(r"(?<=#N )[0-9a-f]{20,}"), "BUILD_ID"),  # CONFIG_STACKTRACE_BUILD_ID
    (re.compile(r"(?<=task=).*?(?=,pid=)"), "COMM"),
    (re.compile(r"(?:(?<=process )|(?<=pid:))(\d+) \(.*?\)(?=[, ]|$)"), r"\1 (COMM)"),
    (re.compile(r"\b(oom_memcg|task_memcg|cpuset)=[^,]*"), r"\1=PATH"),
]
_NUMBER = re.compile(r"0x[0-9a-fA-F]+| *-?\d+")
_ROW_COMM = re.compile(r"^(\[\s*\d+\](?:\s+-?\d+)*) .*$")  # dump_tasks(): the name after the last number
_STAMP = re.compile(r"^\[\s*\d+\.\d+\] ")


def kind(line: str) -> str:
    return next((name for name, pattern in _KINDS if pattern.search(line)), "other")


def mask(line: str) -> str:
    """The line's format: its values replaced by COMM, PATH, N (a number with its padding) ..."""
    for pattern, placeholder in _MASKS:
        line = pattern.sub(placeholder, line)
    if kind(line) == "dump_tasks row":
        line = _ROW_COMM.sub(r"\1 COMM", line)
    # hex stays (gfp_mask=0xcc0 is format); a right-aligned number's padding collapses to one space
    return _NUMBER.sub(lambda m: m[0] if m[0].startswith("0x") else (" N" if m[0].startswith(" ") else "N"), line)


def unstamped(lines: Iterable[str]) -> list[str]:
    """Model dmesg lines without printk's "[seconds.micros] " (the kernel's /dev/kmsg records have none)."""
    return [_STAMP.sub("", ln) for ln in lines]


def report_lines(lines: Iterable[str], pids: set[int] | None = None) -> list[str]:
    """The OOM reports in `lines`: each from its "invoked oom-killer" line to its "Killed process" line,
    and the oom_reaper lines. With `pids`, only reports whose invoking task (the CPU line's PID) or victim
    is one of them, and reaper lines about them: other OOMs on the machine are not the experiment's."""
    out: list[str] = []
    block: list[str] = []
    for line in lines:
        k = kind(line)
        if k == "invoked":
            block = [line]
        elif block:
            block.append(line)
            if k == "Killed process":
                if pids is None or _block_pids(block) & pids:
                    out += block
                block = []
        elif k == "oom_reaper" and (pids is None or _pids_in(line) & pids):
            out.append(line)
    return out


def _pids_in(line: str) -> set[int]:
    return {int(m) for m in re.findall(r"(?:PID: |pid=|process |pid:)(\d+)", line)}


def _block_pids(block: list[str]) -> set[int]:
    return {pid for line in block if kind(line) in ("CPU", "oom-kill", "Killed process") for pid in _pids_in(line)}


def formats(lines: Iterable[str]) -> dict[str, list[str]]:
    """kind -> its distinct masked lines, in first-seen order (the kinds not modelled left out)."""
    out: dict[str, list[str]] = {}
    for line in lines:
        k = kind(line)
        if k in NOT_MODELLED:
            continue
        m = mask(line)
        if k == "other":
            k = f"other: {m[:40]}"
        seen = out.setdefault(k, [])
        if m not in seen:
            seen.append(m)
    return out


def not_modelled(lines: Iterable[str]) -> dict[str, int]:
    """How many lines of each kind that is not compared."""
    counts = {k: 0 for k in NOT_MODELLED}
    for line in lines:
        if (k := kind(line)) in counts:
            counts[k] += 1
    return {k: n for k, n in counts.items() if n}


def format_facts(real: list[str], model: list[str]) -> list[dict[str, Any]]:
    """One fact per kind of line either side printed: `dmesg.KIND`, its masked format on each side (one
    string, or a list when a kind has several), agree when both sides printed the same formats."""
    r, m = formats(real), formats(model)

    def value(fmts: list[str] | None) -> Any:
        return None if fmts is None else fmts[0] if len(fmts) == 1 else sorted(fmts)

    return [
        {"fact": f"dmesg.{k}", "real": value(r.get(k)), "model": value(m.get(k)),
         "agree": sorted(r.get(k, [])) == sorted(m.get(k, []))}
        for k in [*r, *(k for k in m if k not in r)]
    ]
