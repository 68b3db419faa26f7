"""Look for moves that win a story scene without its lesson: prints findings, asserts nothing.

    python benchmarks/sidesteps.py [SCENE ...] [--pairs] [--raw]

Tries every single player move (each action kind x each pid, cgroup, futex, policy and a few
oom_score_adj values) at 0, 0.5, 1, 2 and 3 s and around the first OOM kill; with --pairs, every
pair of moves too (the second 0-300 ms after the first: minutes per scene). A winning move is
printed with what the scene's [[sidesteps]] make of it: "refused", "forfeit", or "ALLOWED" (a fair
alternative, or a sidestep still to declare: the scene file's "# Sidesteps:" comment says which).
--raw ignores the declared sidesteps (what the player could win before they were declared).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oomtui.kernel.core import KernelError  # noqa: E402
from oomtui.kernel.policy import POLICIES  # noqa: E402
from oomtui.scene import actions as A  # noqa: E402
from oomtui.scene.goals import evaluate  # noqa: E402
from oomtui.scene.load import builtin_ids, load_scene  # noqa: E402
from oomtui.scene.sidesteps import SidestepRefused  # noqa: E402
from oomtui.scene.sim import Simulation  # noqa: E402


def story() -> list[str]:
    games = [(load_scene(s).scene.game, s) for s in builtin_ids()]
    return [s for g, s in sorted(((g.order, s) for g, s in games if g and g.order))]


def moves(s: Simulation) -> list[A.Action]:
    k = s.k
    out: list[A.Action] = [A.Oom()]
    for path, c in k.cgroups.items():
        if path != "/":
            out.append(A.Oom(cgroup=path))
        if c.freezer:
            out += [A.Freeze(cgroup=path), A.Thaw(cgroup=path)]
    for pid in k.pids:
        out += [A.Kill(pid=pid), A.Sigterm(pid=pid), A.Mrelease(pid=pid)]
        out += [A.SetAdj(pid=pid, value=v) for v in (-1000, -997, -500, 0, 500, 1000)]
    out += [A.SetPolicy(policy=p) for p in POLICIES if p != k.policy.id]
    out += [A.Unlock(futex=f) for f in k.futexes]
    return out


def play(scene: str, plan, raw: bool) -> tuple[bool, str] | None:
    """(won, verdict) of a play; None if a move was impossible then."""
    s = Simulation(load_scene(scene))
    if raw:
        s.sidesteps = []
    verdict = "ALLOWED"
    for at, move in plan:
        s.advance(max(0, at - s.k.jiffies))
        try:
            s.apply(move)
        except SidestepRefused:
            return False, "refused"
        except KernelError:
            return None
    if s.forfeits:
        verdict = "forfeit"
    r = evaluate(s, s.run(), others=False)
    return r.won or bool(s.forfeits and all(g.met for g in r.goals[:-1])), verdict


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenes", nargs="*")
    ap.add_argument("--pairs", action="store_true")
    ap.add_argument("--raw", action="store_true")
    a = ap.parse_args()
    for scene in a.scenes or story():
        base = Simulation(load_scene(scene))
        if not a.scenes and not (base.scene.game and base.scene.game.par):
            print(f"== {scene}: won by watching (par 0): no move can skip its lesson, skipped")
            continue
        hz = base.k.hz
        base.run()
        oom = base.oom_at()
        times = {ms * hz // 1000 for ms in (0, 500, 1000, 2000, 3000)}
        if oom is not None:
            times |= {oom - 1, oom, oom + 1, oom + 5, oom + 25}
        times = sorted(t for t in times if 0 <= t < base.duration)
        lesson = [st.action.describe() for st in base.walkthrough if st.action]
        print(f"== {scene}: first OOM kill at {None if oom is None else oom * 1000 // hz} ms; lesson: {lesson}")
        ms = moves(base)
        refused_pairs: dict[str, int] = {}
        for m in ms:
            found: dict[str, list[int]] = {}
            for t in times:
                res = play(scene, [(t, m)], a.raw)
                if res is None:
                    continue
                won, verdict = res
                if verdict == "refused":
                    refused_pairs[m.describe()] = refused_pairs.get(m.describe(), 0) + 1
                elif won:
                    found.setdefault(verdict, []).append(t * 1000 // hz)
            for verdict, at in found.items():
                print(f"   {verdict:8s} {m.describe():45s} at {at} ms")
        for d, n in refused_pairs.items():
            print(f"   refused  {d:45s} ({n} of the times tried)")
        if a.pairs:
            for m1 in ms:
                for m2 in ms:
                    for t in times:
                        for dt in (0, 1, 5, 10, 25, 75):
                            plan = [(t, m1), (t + dt, m2)]
                            res = play(scene, plan, a.raw)
                            if not (res and res[0]):
                                continue
                            alone = [play(scene, [p], a.raw) for p in plan]
                            if not any(x and x[0] for x in alone):  # a win neither move makes alone
                                print(f"   {res[1]:8s} {m1.describe()} at {t * 1000 // hz} ms, then "
                                      f"{m2.describe()} {dt * 1000 // hz} ms later")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
