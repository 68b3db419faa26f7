"""Headless subcommands: run, compare, check, policies."""

from __future__ import annotations

import argparse
import sys
from itertools import islice
from typing import Annotated, Iterable

import msgspec

from ..errors import UserError
from ..kernel import events as ev
from ..kernel.core import KernelError
from ..kernel.state import DISK, EXITING, FROZEN, RUNNING, SLEEPING, STOPPED_V2, ZOMBIE
from ..kernel.policy import POLICIES
from ..output import dumps
from ..scene.load import load_playable, load_scene
from ..scene.goals import Result, evaluate
from ..scene.sim import Outcome, Simulation
from ..scene.trials import MAX_TRIALS, Distribution, distribution_groups, distribution_lines, run_trials
from ..scene.units import parse_duration
from ..text import visible

STYLE = {
    "kill": "bold red", "oom": "yellow", "reap": "magenta", "futex-ok": "green", "futex-bad": "bold white on red",
    "freezer": "cyan", "syscall": "bold blue", "exit": "dim", "alarm": "bold white on red", "action": "bold cyan",
}


def _sim(args: argparse.Namespace, scene: str | None = None, policy: str | None = None) -> Simulation:
    ls = load_playable(scene or args.scene, getattr(args, "report", None))
    return Simulation(ls, policy or getattr(args, "policy", None), getattr(args, "kernel", None))


def _until(args: argparse.Namespace, sim: Simulation) -> int | None:
    if not args.until:
        return None
    try:
        return parse_duration(args.until, sim.k.hz)
    except ValueError as e:
        raise UserError(f"--until: {e}") from None


def _run(sim: Simulation, until: int | None, dmesg: bool = True) -> Outcome:
    try:
        return sim.run(until, dmesg=dmesg)
    except KernelError as e:  # a scripted action that the model refuses
        raise UserError(f"{sim.loaded.name}: {e}") from None


def _json(obj) -> None:
    """A command's --json document, indented for reading."""
    sys.stdout.write(dumps(obj, indent=2) + "\n")


_EMPTY_DMESG = '\n  "dmesg": [],\n'  # a top-level key: a newline inside a JSON string is escaped
_DMESG_CHUNK = 10_000


def _json_dmesg(report: RunReport, lines: Iterable[str]) -> None:
    """_json(report) with `lines` as its dmesg, byte for byte, written as it is made: an OOM storm of
    100 000 processes prints millions of lines, and the whole text three times over (encoded, decoded,
    indented) needed more than a GiB."""
    head, sep, tail = dumps(report, indent=2).partition(_EMPTY_DMESG)
    assert sep and not report.dmesg, "the report's own dmesg is empty, printed from `lines`"
    write, encode, it = sys.stdout.write, msgspec.json.encode, iter(lines)
    write(head)
    opening = '\n  "dmesg": [\n    '
    while chunk := list(islice(it, _DMESG_CHUNK)):
        write(opening + ",\n    ".join([encode(line).decode() for line in chunk]))
        opening = ",\n    "
    write((_EMPTY_DMESG if opening.startswith("\n") else "\n  ],\n") + tail + "\n")


def _console():
    from rich.console import Console

    return Console(highlight=False)


def summary_lines(o: Outcome) -> list[str]:
    """The outcome in words, shared by `run` and the comparison."""
    out = []
    victims = [k for k in o.kills if k.reason == "oom"]
    if victims:
        out.append("OOM victims: " + ", ".join(f"{k.comm} ({k.pid}) at {k.t_ms} ms" for k in victims))
    else:
        out.append("the OOM killer killed nobody")
    for f in o.freed:
        out.append(f"memory back: {f.freed_kb // 1024} MiB of {f.pid} by {f.by} at {f.t_ms} ms")
    for w in o.waiters:
        at = f" at {w.t_ms} ms" if w.t_ms is not None else ""
        out.append(f"futex {w.futex}: waiter {w.tid} {w.outcome.upper() if w.outcome == 'hung' else w.outcome}{at}")
    out.append(f"OOM killer blocked by a pending victim: {o.oom_blocked_ms} ms")
    if o.livelock:
        until = f" until {o.livelock.until_ms} ms (a user action)" if o.livelock.until_ms is not None else ""
        out.append(f"LIVELOCK from {o.livelock.t_ms} ms{until}: {o.livelock.reason}")
    if o.panic:
        out.append(f"kernel panic: {o.panic}")
    return out


class StateChange(msgspec.Struct):
    t_ms: int
    state: str  # R, S, D, frozen_v1, frozen_v2, exiting, zombie


class ThreadHistory(msgspec.Struct):
    """One thread's states: the first at 0 ms (after any frozen-at-start cgroup froze it), then each change."""

    tid: int
    pid: int
    comm: str
    states: list[StateChange]


# the model's thread states as `run --json --threads` names them: ps's letters where ps has one (a
# v1-frozen task shows D there, a v2-frozen one S: the JSON says which freezer holds it)
STATE_NAME = {RUNNING: "R", SLEEPING: "S", DISK: "D", FROZEN: "frozen_v1", STOPPED_V2: "frozen_v2",
              EXITING: "exiting", ZOMBIE: "zombie"}


class ThreadWatch:
    """What `--threads` needs from a simulation before it runs: every thread's state and where the
    event log stands; history() then reads the ThreadState events since."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        self.mark = len(sim.k.events)
        self.start = [(t.tid, t.process.pid, t.process.comm, t.state) for t in sim.k.tids.values()]

    def history(self) -> list[ThreadHistory]:
        k = self.sim.k
        out = {tid: ThreadHistory(tid, pid, comm, [StateChange(0, STATE_NAME[state])])
               for tid, pid, comm, state in self.start}
        for e in islice(k.events, self.mark, None):
            if type(e) is ev.ThreadState:
                out[e.tid].states.append(StateChange(k.ms(e.t), STATE_NAME[e.state]))
        return sorted(out.values(), key=lambda h: h.tid)


class RunReport(Outcome, kw_only=True):
    """`oomtui run --json`: the outcome, plus the game result when the scene has goals."""

    game: Result | None = None
    threads: Annotated[list[ThreadHistory] | msgspec.UnsetType, msgspec.Meta(description=(
        "with --threads only: each thread's state changes, by tid"))] = msgspec.UNSET


class RaceRunReport(RunReport, kw_only=True):
    """`oomtui run --json` of a scene with [races]: the deterministic outcome plus its race trials."""

    races: Distribution


def _trials(args: argparse.Namespace, sim: Simulation) -> tuple[int, int] | None:
    """(trials, seed) asked for by --trials, or by the scene's [races]; None: no trials."""
    races = sim.scene.races
    trials = args.trials if args.trials is not None else (races.trials if races is not None else None)
    if trials is None:
        if args.seed is not None:
            raise UserError("--seed: only with --trials N (or a scene with [races])")
        return None
    if not 1 <= trials <= MAX_TRIALS:
        raise UserError(f"--trials: expected 1..{MAX_TRIALS}, got {trials}")
    if args.seed is not None and args.seed < 0:
        raise UserError(f"--seed: expected 0 or more, got {args.seed}")
    return trials, args.seed if args.seed is not None else (races.seed if races is not None else 0)


def _run_trials(sim: Simulation, trials: int, seed: int, until: int | None, autoplay: bool,
                policy: str | None = None) -> Distribution:
    try:
        return run_trials(sim.loaded, trials, seed, policy=policy or sim.policy_override,
                          kernel=sim.kernel_override, until=until, moves="autoplay" if autoplay else "scripted")
    except KernelError as e:
        raise UserError(f"{sim.loaded.name}: {e}") from None


def trials_header(d: Distribution) -> str:
    killer = f"thread {d.killer}" if d.killer is not None else "a task of its own on CPU 0"
    pinned = ", ".join(f"{tid} on CPU {cpu}" for tid, cpu in d.pinned.items()) or "none"
    return (f"{d.trials} trials, seed {d.seed}, policy {d.policy}: {d.cpus} CPUs, system calls by {killer}, "
            f"pinned: {pinned}")


def _print_trials(con, d: Distribution) -> None:
    from rich.text import Text

    con.print(Text(trials_header(d), style="dim"), soft_wrap=True)
    for line in distribution_lines(d):
        hung = line.lstrip().startswith(("hung ", "LIVELOCK"))
        con.print(Text("  " + line, style="bold white on red" if hung else ("bold" if line[0] != " " else "")),
                  soft_wrap=True)


def run_main(args: argparse.Namespace) -> int:
    sim = _sim(args)
    until = _until(args, sim)
    autoplay = getattr(args, "autoplay", False)
    trials = _trials(args, sim)
    if args.threads and (not args.json or args.trials is not None):
        raise UserError("--threads: only with --json, and not with --trials (a trial's threads are not kept)")
    watch = ThreadWatch(sim) if args.threads else None
    if trials is not None and args.trials is not None:
        d = _run_trials(sim, *trials, until, autoplay)
        if args.json:
            _json(d)
            return 0
        from rich.text import Text

        con = _console()
        con.print(Text(sim.scene.title, style="bold"))
        _print_trials(con, d)
        return 0
    if autoplay:
        try:
            sim.autoplay(until)
        except KernelError as e:
            raise UserError(f"{sim.loaded.name}: walkthrough: {e}") from None
    o = _run(sim, until, dmesg=not args.json)
    result = evaluate(sim, o) if sim.scene.goals else None
    dist = _run_trials(sim, *trials, until, autoplay) if trials is not None else None
    if args.json:
        fields = msgspec.structs.asdict(o)
        report = RunReport(**fields, game=result) if dist is None else RaceRunReport(**fields, game=result, races=dist)
        if watch is not None:
            report.threads = watch.history()
        _json_dmesg(report, sim.k.dmesg_lines())
        return 0
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from .timeline import timeline

    k = sim.k
    con = _console()
    con.print(Panel(Text(" ".join(sim.scene.story.split())), title=Text(sim.scene.title, style="bold"),
                    subtitle=f"policy {k.policy.id} ({k.policy.title}), kernel {k.policy.version}, HZ={k.hz}"))
    t = Table(title="Timeline", show_edge=False, pad_edge=False)
    t.add_column("time", justify="right", style="bold")
    t.add_column("what happened")
    for j, kind, text in timeline(k):
        t.add_row(f"{j * 1000 / k.hz:.0f} ms", Text(text, style=STYLE.get(kind, "")))
    con.print(t)
    con.print("\n[b]dmesg[/b]")
    for line in o.dmesg:
        # kernel-exact lines: never wrapped, so they can be copied and grepped
        con.print(Text(line, style="dim" if line.split("] ", 1)[-1].startswith("[") else ""), soft_wrap=True)
    con.print("\n[b]Outcome[/b]")
    for line in summary_lines(o):
        style = "bold white on red" if ("HUNG" in line or "LIVELOCK" in line or "panic" in line) else ""
        con.print(Text("  " + line, style=style))
    if result is not None:
        con.print(f"\n[b]Goals[/b] ({'won' if result.won else 'lost'}: {result.score}/{result.max_score} points, "
                  f"{result.actions} player action{'s' if result.actions != 1 else ''}, par {result.par})")
        for g in result.goals:
            con.print(Text(f"  {'✓' if g.met else '✗'} {g.text}: {g.detail}", style="green" if g.met else "red"))
        saved = ", ".join(result.saved_by) or "none"
        con.print(f"  the same play wins under: {saved}")
    if dist is not None:
        con.print("\n[b]Race trials[/b] (the same run with the races inside each jiffy let loose; "
                  "the goals are judged on the run above)")
        _print_trials(con, dist)
    return 0


class PolicyRow(msgspec.Struct):
    policy: str
    kernel: str
    victims: list[str]
    memory_back_ms: int | None
    oom_blocked_ms: int
    reaper: list[str]
    waiters: dict[str, str]
    syscalls: list[str]
    livelock_ms: int | None
    livelock_until_ms: int | None


class Comparison(msgspec.Struct):
    scene: str
    title: str
    policies: list[PolicyRow]


def compare_rows(scene: str, until: int | None = None) -> Comparison:
    ls = load_scene(scene)
    rows = []
    for pid in POLICIES:
        sim = Simulation(ls, pid)
        o = _run(sim, until)
        victims = [k for k in o.kills if k.reason == "oom"]
        first_victim = victims[0] if victims else None
        back = None
        if first_victim is not None:
            # the victim's memory: reaped or unmapped by exit_mmap (shared mm: any sharer's exit)
            times = [f.t_ms for f in o.freed if f.t_ms >= first_victim.t_ms and f.freed_kb >= 1024]
            back = min(times) - first_victim.t_ms if times else None
        rows.append(PolicyRow(
            policy=pid, kernel=o.kernel,
            victims=[f"{k.comm} ({k.pid}) at {k.t_ms} ms" for k in victims],
            memory_back_ms=back, oom_blocked_ms=o.oom_blocked_ms,
            reaper=[f"{r.by} {r.result} at {r.t_ms} ms" for r in o.reaps],
            waiters={f"{w.futex}/{w.tid}": w.outcome for w in o.waiters},
            syscalls=[f"{s.ret}{' ' + s.errno if s.errno else ''} at {s.t_ms} ms" for s in o.syscalls],
            livelock_ms=o.livelock.t_ms if o.livelock else None,
            livelock_until_ms=o.livelock.until_ms if o.livelock else None,
        ))
    return Comparison(scene=ls.ref, title=ls.scene.title, policies=rows)


class TrialsComparison(msgspec.Struct):
    """`oomtui compare SCENE --trials N --json`: the race trials under every policy."""

    scene: str
    title: str
    trials: int
    seed: int
    policies: list[Distribution]


def compare_main(args: argparse.Namespace) -> int:
    until = None
    if args.until:
        try:
            until = parse_duration(args.until, load_playable(args.scene, getattr(args, "report", None)).scene.hz)
        except ValueError as e:
            raise UserError(f"--until: {e}") from None
    if args.trials is not None:
        return _compare_trials(args, until)
    if args.seed is not None:
        raise UserError("--seed: only with --trials N")
    c = compare_rows(args.scene, until)
    if args.json:
        _json(c)
        return 0
    from rich.table import Table
    from rich.text import Text

    # c.scene is the reference as given (a path may hold control characters); the title is already visible
    t = Table(title=Text.assemble((c.title, "bold"), "  ", (f"({visible(c.scene)})", "dim")))
    cols = ["policy", "OOM victims", "memory back", "OOM blocked", "reaper", "futex waiters", "process_mrelease"]
    rows = []
    for r in c.policies:
        waiters = Text()
        for name, outcome in r.waiters.items():
            waiters.append(f"{name} {outcome.upper() if outcome == 'hung' else outcome}\n",
                           style="bold white on red" if outcome == "hung" else ("green" if outcome == "eownerdead" else ""))
        waiters.rstrip()
        blocked = Text(f"{r.oom_blocked_ms} ms")
        if r.livelock_ms is not None:
            until = f" to {r.livelock_until_ms} ms" if r.livelock_until_ms is not None else " on"
            blocked = Text(f"LIVELOCK {r.livelock_ms} ms{until}", style="bold white on red")
        rows.append([Text.assemble(r.policy, " ", (r.kernel, "dim")), Text("\n".join(r.victims) or "-"),
                     Text("-" if r.memory_back_ms is None else f"+{r.memory_back_ms} ms"), blocked,
                     Text("\n".join(r.reaper) or "-"), waiters if r.waiters else Text("-"),
                     Text("\n".join(r.syscalls) or "-")])
    # leave out columns with nothing to say for this scene
    keep = [i for i in range(len(cols)) if i < 2 or any(str(row[i]) != "-" for row in rows)]  # Text or str
    for i in keep:
        t.add_column(cols[i], no_wrap=i == 0)
    for row in rows:
        t.add_row(*[row[i] for i in keep])
    _console().print(t)
    return 0


def _compare_trials(args: argparse.Namespace, until: int | None) -> int:
    sim = Simulation(load_scene(args.scene))
    trials, seed = _trials(args, sim)  # type: ignore[misc]
    c = TrialsComparison(sim.id, sim.scene.title, trials, seed,
                         [_run_trials(sim, trials, seed, until, False, policy) for policy in POLICIES])
    if args.json:
        _json(c)
        return 0
    from rich.table import Table
    from rich.text import Text

    t = Table(title=Text.assemble((c.title, "bold"), "  ", (f"({visible(c.scene)}, {trials} trials, seed {seed})", "dim")))
    groups = [dict(distribution_groups(d)) for d in c.policies]
    headings = list(dict.fromkeys(h for g in groups for h in g))  # every policy's, in order
    t.add_column("policy", no_wrap=True)
    for heading in headings:
        t.add_column(heading)
    for d, g in zip(c.policies, groups):
        cells = []
        for heading in headings:
            cell = Text()
            for sh in g.get(heading, []):
                cell.append(f"{sh.value} {sh.count}/{trials} ({sh.low * 100:.0f}-{sh.high * 100:.0f} %)\n",
                            style="bold white on red" if sh.value == "hung" else "")
            cell.rstrip()
            cells.append(cell if cell.plain else Text("-"))
        t.add_row(Text.assemble(d.policy, " ", (d.kernel, "dim")), *cells)
    _console().print(t)
    return 0


def check_main(args: argparse.Namespace) -> int:
    failed = 0
    for f in args.files:
        try:
            ls = load_scene(f)
            Simulation(ls)
        except UserError as e:
            failed += 1
            print(f"oomtui: {e}", file=sys.stderr)
            continue
        print(f"ok {ls.name}: {ls.scene.title}")
    return 2 if failed else 0


def policies_main(args: argparse.Namespace) -> int:
    from ..kernel.policy import DEFAULT_POLICY

    width = max(map(len, POLICIES))
    for p in POLICIES.values():
        mark = " (default)" if p.id == DEFAULT_POLICY else ""
        print(f"{p.id:<{width}}  {p.kernels:<30} {p.title}{mark}")
    return 0
