"""`oomtui lab`: run the experiments on this machine's kernel and on the kernel model, side by side.

JSON (`--json`, nothing else on stdout; described by lab/output.py for `oomtui schema lab`) is
`{"format_version": 1, "kernel": RELEASE, "experiments": [ENTRY, ...]}` with one ENTRY per experiment:

    {"name": "mrelease",
     "real":  {"outcome": {...}, "measured": {...}} | null,   # null if the run failed (or model only)
     "model": {"policy": "linux-6.18", "kernel": "6.18", "outcome": {...}, "details": {...},
               "scenes": ["TOML", ...], "dmesg": ["line", ...]} | null,  # null only if the model failed
     "agree": true | false | null,   # every fact agrees; null when a side is missing
     "facts": [{"fact": "errno.live", "real": "EINVAL", "model": "EINVAL", "agree": true}, ...,
               {"fact": "dmesg.CPU", "real": "CPU: N UID: N PID: N ...", "model": "...", "agree": true},
               {"fact": "race.killer-cpu.hung", "real": "29/200 = 14.5 % (CI 10.3-20.0)",
                "model": "173/1000 = 17.3 % (CI 15.1-19.8), ±10: 5.1-29.8", "agree": true}],
     "error": null | "what went wrong"}

`outcome` holds the facts that repeat on every run (victim role, errno per call, waiter fate,
whether the reaper acted); `facts` are its leaves, flattened, then, for the experiments that read
OOM reports, one `dmesg.KIND` fact per kind of line: its format on each side (formats.py: values
masked); lmkd-race adds one `race.PLACEMENT.COUNT` fact per count over its trials, each with its 95 %
interval, agreeing within the model's interval widened for the machine's load (lmkd.py). `measured`
is the full msgspec result of the real run (pids, timings, dmesg lines: its `dmesg.report` is every
line of the OOM reports about the lab's children). The model side (lab/model.py) runs the same
situation as a scene under the policy of the running kernel; `scenes` are its TOML files (one per
trial or part; lmkd-race: one per placement, its counts in `details.counts`), which `oomtui run`
replays; `dmesg` its report lines.

Exit status: 0 every experiment ran and agrees, 1 a disagreement (or an experiment that failed),
2 refused or a usage error (one line on stderr). A real run explains itself and asks y/N on a
terminal first; without one it refuses unless `--yes`. `--list` and `--model-only` (no root
needed) never ask. `--watch` asks the same, then runs the experiments in a child `oomtui lab` while
`oomtui watch` shows them live (lab/live.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import signal
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from ..errors import UserError
from ..kernel.version import KernelVersion
from ..output import dumps
from . import watchdog
from .cgroup import PREFIX, members, missing_prerequisites, remove_groups, run_prefix, stale_groups, unified_root
from .experiments import EXPERIMENTS
from .formats import format_facts, not_modelled
from .lmkd import MAX_TRIALS, count_facts
from .model import compare, run_model
from .output import LabModel, LabReal


def check_machine() -> None:
    """Refuse clearly (UserError, listing everything missing) where the lab cannot run."""
    missing = []
    if platform.machine() != "x86_64":
        missing.append(f"x86_64 (its syscall numbers and glibc pthread_mutex_t layout); this is {platform.machine()}")
    if platform.libc_ver()[0] != "glibc":
        missing.append("glibc (the robust pthread mutexes are glibc's, driven through ctypes)")
    version = KernelVersion.parse(os.uname().release)
    if not version.has_process_mrelease:
        missing.append(f"Linux 5.15 or later (process_mrelease); this kernel is {version}")
    missing += missing_prerequisites()
    if missing:
        raise UserError("the lab cannot run here; it needs " + "; ".join(missing))


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM/SIGHUP unwind like Ctrl-C, so every `finally` removes the lab's processes and groups."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_experiment(name: str, *, real: bool = True) -> dict[str, Any]:
    """Run one experiment on the real kernel (unless `real` is False) and on the model."""
    entry: dict[str, Any] = {"name": name, "real": None, "model": None, "agree": None, "facts": [], "error": None}
    result = None
    if real:
        try:
            result = EXPERIMENTS[name].run()
        except (RuntimeError, OSError) as e:  # a timeout or a refused write: report it, keep the others going
            entry["error"] = str(e)
        else:
            entry["real"] = msgspec.structs.asdict(LabReal(result.outcome(), msgspec.to_builtins(result)))
    measured = entry["real"]["measured"] if entry["real"] else None
    try:
        m = run_model(name, os.uname().release, measured)
    except Exception as e:  # a model bug must not hide the real kernel's result
        entry["error"] = "; ".join(filter(None, [entry["error"], f"model: {type(e).__name__}: {e}"]))
    else:
        entry["model"] = {f: getattr(m, f) for f in LabModel.__struct_fields__}  # without its `simulated`
    real_outcome = entry["real"]["outcome"] if entry["real"] else None
    model_outcome = entry["model"]["outcome"] if entry["model"] else None
    entry["facts"] = [{"fact": fact, "real": r, "model": mo, "agree": same}
                      for fact, r, mo, same in compare(real_outcome, model_outcome)]
    if entry["model"] and "counts" in m.details:  # lmkd-race: counts over trials, compared by interval
        entry["facts"] += count_facts(result.counts() if result is not None else None, m.details["counts"])
    real_dmesg = getattr(result, "dmesg", None)
    if real_dmesg is not None and entry["model"]:  # the experiments that read OOM reports: their lines' formats
        entry["facts"] += format_facts(real_dmesg.report, entry["model"]["dmesg"])
    if entry["real"] and entry["model"]:
        entry["agree"] = all(f["agree"] for f in entry["facts"])
    entry["_result"] = result
    return entry


def main(args: argparse.Namespace) -> int:
    if args.list:
        _print_list()
        return 0
    if args.cleanup:
        if args.all or args.experiment or args.model_only:
            raise UserError("--cleanup runs alone (no experiment, --all or --model-only)")
        return _cleanup(args.yes)
    if args.trials is not None:
        if not 1 <= args.trials <= MAX_TRIALS:
            raise UserError(f"--trials must be 1..{MAX_TRIALS}, got {args.trials}")
        EXPERIMENTS["lmkd-race"].trials = args.trials
    if args.all and args.experiment:
        raise UserError(f"name one experiment ({args.experiment!r}) or use --all, not both")
    if args.all:
        names = list(EXPERIMENTS)
    elif args.experiment:
        if args.experiment not in EXPERIMENTS:
            raise UserError(f"unknown experiment {args.experiment!r}; valid: {', '.join(EXPERIMENTS)}")
        names = [args.experiment]
    else:
        raise UserError(f"name an experiment ({', '.join(EXPERIMENTS)}), or use --all, --list or --cleanup")
    if args.watch and (args.json or args.model_only):
        raise UserError("--watch shows a real run on the screen: not with --json or --model-only")
    if args.model_only:
        return _report([run_experiment(name, real=False) for name in names], args.json)
    check_machine()
    stale = stale_groups()
    if args.watch:
        from ..cli import need_terminal

        need_terminal()  # before asking: without a screen there is nothing to watch on
    _confirm(_plan(names, stale, args.watch), args.yes,
             "OOM-kills and freezes processes as root (`oomtui lab --list` says how)")
    if args.watch:  # the same run in a child (it removes the stale groups), the screen here
        from .live import run_watched

        trials = ["--trials", str(args.trials)] if args.trials is not None else []
        return run_watched((["--all"] if args.all else names) + trials)
    with watchdog.guard(), _terminate_as_interrupt():  # the watchdog starts before the first group exists
        remove_groups(stale)
        entries = []
        for name in names:
            if not args.json:
                print(f"running {name} ...", file=sys.stderr, flush=True)
            entries.append(run_experiment(name))
    return _report(entries, args.json)


def _report(entries: list[dict[str, Any]], as_json: bool) -> int:
    results = [e.pop("_result", None) for e in entries]
    if as_json:
        sys.stdout.write(dumps({"kernel": os.uname().release, "experiments": entries}) + "\n")
    else:
        _print_results(entries, results)
    failed = any(e["error"] for e in entries) or any(e["agree"] is False for e in entries)
    return 1 if failed else 0


def _plan(names: list[str], stale: list[Path], watch: bool = False) -> str:
    """What a real run will do to this machine, for the y/N question."""
    width = min(shutil.get_terminal_size((100, 24)).columns, 100) - 1
    indent = max(map(len, names)) + 4
    lines = [f"oomtui lab will run {len(names)} experiment{'s' * (len(names) > 1)} on this machine's kernel "
             f"(Linux {os.uname().release}) as root:"]
    lines += [textwrap.fill(EXPERIMENTS[name].describe(), width, initial_indent=f"  {name:<{indent - 4}}  ",
                            subsequent_indent=" " * indent) for name in names]
    prefix = run_prefix(os.getpid()) if not watch else f"{PREFIX}CHILD-"
    v2 = (f", and {unified_root() or 'the cgroup2 hierarchy'}/{prefix}v2-frozen[-kill]" if "v2-frozen" in names
          else "")
    lines.append(textwrap.fill(
        f"Each runs in cgroups of its own (/sys/fs/cgroup/{{memory,freezer}}/{prefix}NAME{v2}) that hold only "
        "the lab's own child processes (and those they clone), which it freezes, SIGKILLs and lets the OOM killer "
        "kill; their memory (and swap) is capped by the memcg's limit. No other process is touched. When the lab ends, is "
        "interrupted or is killed (a watchdog process), its groups and children are removed.", width,
        break_on_hyphens=False))
    if watch:
        lines.append(textwrap.fill(
            "With --watch, CHILD is the lab process started beside the screen (`oomtui watch` on its groups); "
            "quitting the screen before the run ends stops it, and its report is printed when you quit.", width,
            break_on_hyphens=False))
    if stale:
        lines.append(f"First it removes {len(stale)} group{'s' * (len(stale) > 1)} left by lab runs that are gone:")
        lines += [f"  {_describe_group(g)}" for g in stale]
    return "\n".join(lines)


def _describe_group(group: Path) -> str:
    pids = members(group)
    try:
        state = (group / "freezer.state").read_text().strip()
    except OSError:  # no freezer group, or gone
        state = "THAWED"
    head = f"{group}{' (' + state + ')' if state != 'THAWED' else ''}"
    if not pids:
        return f"{head}: empty"
    return f"{head}: " + ", ".join(f"{_comm(pid)} (pid {pid})" for pid in pids)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def _confirm(plan: str, yes: bool, action: str) -> None:
    """Ask y/N on the terminal (stdin and stderr; stdout may be JSON). No terminal: refuse unless --yes."""
    if yes:
        return
    if not (os.isatty(0) and os.isatty(2)):
        raise UserError(f"the lab asks before it {action}, and there is no terminal to ask on (stdin and stderr); "
                        "add --yes to go ahead without asking")
    sys.stderr.write(plan + "\nProceed? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UserError("not confirmed: nothing was done")


def _cleanup(yes: bool) -> int:
    """`lab --cleanup`: remove the groups (and their processes) of lab runs that are gone."""
    if os.geteuid() != 0:
        raise UserError("--cleanup needs root (it removes cgroups)")
    stale = stale_groups()
    if not stale:
        print("Nothing to clean up: no oomtui-lab- group belongs to a lab run that is gone.")
        return 0
    _confirm("oomtui lab --cleanup will thaw, SIGKILL and remove these groups of lab runs that are gone:\n"
             + "\n".join(f"  {_describe_group(g)}" for g in stale), yes, "kills and removes what dead runs left")
    try:
        remove_groups(stale)
    except RuntimeError as e:
        raise UserError(str(e)) from None
    for g in stale:
        print(f"removed {g}")
    return 0


def _print_list() -> None:
    width = max(map(len, EXPERIMENTS))
    for name, exp in EXPERIMENTS.items():
        print(f"{name:<{width}}  {exp.describe()}")
    print("\nRun one with `oomtui lab NAME`, all with `oomtui lab --all [--json]` (root, cgroup v1 memory + freezer).\n"
          "It asks first (without a terminal: add --yes); `oomtui lab --cleanup` removes what a killed run left.")


def _print_results(entries: list[dict[str, Any]], results: list[Any]) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = Console()
    release = os.uname().release
    for entry, result in zip(entries, results):
        name = entry["name"]
        real, model = entry["real"], entry["model"]
        if real is None and model is None:
            console.print(Panel(Text(entry["error"], style="red"), title=f"{name}: failed", title_align="left"))
            continue
        body = Table.grid(padding=(0, 1))
        body.add_column()
        if result is not None:
            for sentence in result.summary():
                body.add_row(Text(sentence))
        if entry["error"]:
            body.add_row(Text(entry["error"], style="red"))
        where = f"model: policy {model['policy']}, kernel {model['kernel']}" if model else "model: failed"
        body.add_row(Text(f"real kernel vs {where}:", style="bold"))
        table = Table()
        table.add_column("fact", style="bold")
        table.add_column("real")
        table.add_column("model")
        table.add_column("", justify="center")
        line_facts = [f for f in entry["facts"] if f["fact"].startswith("dmesg.")]
        for f in entry["facts"]:
            if f in line_facts and f["agree"]:
                continue  # a matching format is summed up below, not printed twice
            same = f["agree"]
            mark = Text("✓", style="green") if same else Text("✗", style="bold red") if same is False else Text("")
            table.add_row(f["fact"], "—" if real is None else str(f["real"]), "—" if model is None else str(f["model"]),
                          mark)
        body.add_row(table)
        if line_facts and result is not None:
            body.add_row(Text(_formats_sentence(line_facts, result.dmesg.report)))
        if entry["agree"] is True:
            body.add_row(Text("The model reproduces every fact of the real run.", style="green"))
        elif entry["agree"] is False:
            differ = [f["fact"] for f in entry["facts"] if f["agree"] is False]
            body.add_row(Text(f"The model DISAGREES with the real kernel on: {', '.join(differ)}.",
                              style="bold red"))
        elif real is None and model is not None:
            body.add_row(Text("Model only: the real kernel was not run.", style="italic"))
        if model is not None:
            for note in _model_notes(name, model):
                body.add_row(Text(note, style="italic"))
        dmesg = getattr(result, "dmesg", None)
        if dmesg is not None and dmesg.all():
            body.add_row(Text("dmesg:", style="bold"))
            for line in dmesg.all():
                body.add_row(Text("  " + line, style="dim", overflow="fold"))
        title = f"{name} on Linux {release}" if real is not None else f"{name}: model for Linux {release}"
        console.print(Panel(body, title=title, title_align="left"))


def _formats_sentence(line_facts: list[dict[str, Any]], report: list[str]) -> str:
    same = [f["fact"].removeprefix("dmesg.") for f in line_facts if f["agree"]]
    skipped = ", ".join(f"{n} {kind} lines" for kind, n in not_modelled(report).items())
    return (f"dmesg, line by line: {len(same)} of {len(line_facts)} kinds of line in the same format on both "
            f"sides ({', '.join(same)})" + (f"; not modelled, so not compared: {skipped}." if skipped else "."))


def _model_notes(name: str, model: dict[str, Any]) -> list[str]:
    """What the model did beyond outcome(), in a sentence or two."""
    d = model["details"]
    notes = []
    if "kill_ms" in d and d["kill_ms"] is not None:
        exited = f"it exited at {d['exit_ms']} ms" if d.get("exit_ms") is not None else "it had not exited at the end"
        notes.append(f"model: killed {', '.join(d['killed_roles'])} at {d['kill_ms']} ms; {exited}.")
    if "trigger" in d.get("roles", ()):  # lab-trigger allocated: the experiments under pressure
        notes.append("The real allocating process is sometimes OOM-killed too, ms after the victim (a race, "
                     "not compared); the model " + ("kills it too." if "trigger" in d["killed_roles"] else "does not."))
    if "waiter_raw" in d:
        notes.append("model waiter outcomes: " + ", ".join(f"{k} {v}" for k, v in d["waiter_raw"].items())
                     + " (a timed waiter whose owner died without a wake-up returns ETIMEDOUT).")
    if "rss_before_kb" in d:
        notes.append(f"model: RSS {d['rss_before_kb'] // 1024} MiB -> {d['rss_after_kb'] // 1024} MiB after "
                     f"process_mrelease; thread states after kill(2): {', '.join(d['states_after_kill'])}.")
    if "idle" in d:  # lmkd-race: the unpinned rows' condition, from the real run when there is one
        notes.append("model: the share of wake-ups that find the other CPU idle (an unpinned victim moves there): "
                     + ", ".join(f"{k} {v:g}" for k, v in d["idle"].items() if k.startswith("unpinned")) + ".")
    return notes
