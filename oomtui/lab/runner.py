"""`oomtui lab`: run the experiments on this machine's kernel and print what it did.

JSON (`--json`) is `{"kernel": RELEASE, "experiments": [ENTRY, ...]}` with one ENTRY per experiment:

    {"name": "mrelease",
     "real":  {"outcome": {...}, "measured": {...}} | null,   # null only if the run failed
     "model": null,      # the kernel model's result for the same situation: not wired in yet
     "agree": null,      # will be real.outcome == model.outcome once `model` exists
     "error": null | "what went wrong"}

`outcome` holds the facts a model must reproduce (victim role, errno per call, waiter fate,
whether the reaper acted); `measured` is the full msgspec result (pids, timings, dmesg lines).
The model side is a later step: it will fill `model` with the same {"outcome": ...} shape.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import signal
import sys
from collections.abc import Iterator
from typing import Any

import msgspec

from ..errors import UserError
from ..kernel.version import KernelVersion
from .cgroup import missing_prerequisites, remove_stale_groups
from .experiments import EXPERIMENTS, remove_stale_shm


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


def run_experiment(name: str) -> dict[str, Any]:
    try:
        result = EXPERIMENTS[name].run()
    except (RuntimeError, OSError) as e:  # a timeout or a refused write: report it, keep the others going
        return {"name": name, "real": None, "model": None, "agree": None, "error": str(e)}
    real = {"outcome": result.outcome(), "measured": msgspec.to_builtins(result)}
    return {"name": name, "real": real, "model": None, "agree": None, "error": None, "_result": result}


def main(args: argparse.Namespace) -> int:
    if args.list:
        _print_list()
        return 0
    if args.all:
        names = list(EXPERIMENTS)
    elif args.experiment:
        if args.experiment not in EXPERIMENTS:
            raise UserError(f"unknown experiment {args.experiment!r}; valid: {', '.join(EXPERIMENTS)}")
        names = [args.experiment]
    else:
        raise UserError(f"name an experiment ({', '.join(EXPERIMENTS)}), or use --all or --list")
    check_machine()
    remove_stale_groups()
    remove_stale_shm()
    with _terminate_as_interrupt():
        entries = []
        for name in names:
            if not args.json:
                print(f"running {name} ...", file=sys.stderr, flush=True)
            entries.append(run_experiment(name))
    results = [e.pop("_result", None) for e in entries]
    if args.json:
        doc = {"kernel": os.uname().release, "experiments": entries}
        sys.stdout.write(msgspec.json.encode(doc).decode() + "\n")
    else:
        _print_results(entries, results)
    return 1 if any(e["error"] for e in entries) else 0


def _print_list() -> None:
    width = max(map(len, EXPERIMENTS))
    for name, exp in EXPERIMENTS.items():
        print(f"{name:<{width}}  {exp.describe()}")
    print("\nRun one with `oomtui lab NAME`, all with `oomtui lab --all [--json]` (root, cgroup v1 memory + freezer).")


def _print_results(entries: list[dict[str, Any]], results: list[Any]) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = Console()
    for entry, result in zip(entries, results):
        name = entry["name"]
        if result is None:
            console.print(Panel(Text(entry["error"], style="red"), title=f"{name}: failed", title_align="left"))
            continue
        body = Table.grid(padding=(0, 1))
        body.add_column()
        for sentence in result.summary():
            body.add_row(Text(sentence))
        body.add_row(Text("outcome (what the model must reproduce):", style="bold"))
        outcome = Table(show_header=False)
        outcome.add_column(style="bold")
        outcome.add_column()
        for key, value in _flatten(entry["real"]["outcome"]):
            outcome.add_row(key, str(value))
        body.add_row(outcome)
        dmesg = getattr(result, "dmesg", None)
        if dmesg is not None and dmesg.all():
            body.add_row(Text("dmesg:", style="bold"))
            for line in dmesg.all():
                body.add_row(Text("  " + line, style="dim", overflow="fold"))
        body.add_row(Text("model: not compared yet (the kernel model side of the lab is a later step)", style="italic"))
        console.print(Panel(body, title=f"{name} on Linux {os.uname().release}", title_align="left"))


def _flatten(d: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v
