"""Digests of what every built-in scene produces with races off, taken from main without race trials
(tests/data/races/baseline.json; last from main at 1562a58; the casts retaken since at each change of what
the screen shows only: the caption countdown, the objective line's keys, "nothing to do for", the footer's
word for space; a [races] scene's whole cast kept from main). `python tests/races/baseline.py --check --casts` compares every
scene and recording (the tests record two); `--write [--casts]` regenerates them, with PYTHONPATH pointing
at a tree of main (`git archive main oomtui scenes`) when main's display changed: never from this branch's
own output, or the test proves nothing.

The run digest covers the content of `oomtui run` (the JSON outcome, the timeline rows, dmesg, the
outcome lines and the game result), with and without --autoplay; the cast digest is `oomtui record`.
Rendering by Rich is left out: its version is not pinned, the content is what must not change.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import msgspec

from oomtui.report.cli import RunReport, summary_lines
from oomtui.report.timeline import timeline
from oomtui.scene.goals import evaluate
from oomtui.scene.load import builtin_ids, load_scene
from oomtui.scene.sim import Simulation

BASELINE = Path(__file__).resolve().parents[1] / "data" / "races" / "baseline.json"
CAST_SIZE = "100x30"


def run_digest(scene_id: str, autoplay: bool) -> str:
    sim = Simulation(load_scene(scene_id))
    if autoplay:
        sim.autoplay()
    o = sim.run()
    result = evaluate(sim, o) if sim.scene.goals else None
    h = hashlib.sha256()
    h.update(msgspec.json.encode(RunReport(**msgspec.structs.asdict(o), game=result)))
    for row in timeline(sim.k):
        h.update(repr(row).encode())
    for line in summary_lines(o):
        h.update(line.encode())
    return h.hexdigest()


RESULT_BADGES = (" YOU WON ", " NOT THIS TIME ")


def cast_digests(scene_id: str, tmp: Path) -> tuple[str, str]:
    """The whole cast's digest, and the digest of its lines before the result screen first shows
    (a scene with [races] adds its race trials to that screen, and only there)."""
    from oomtui.cli import main

    out = tmp / f"{scene_id}.cast"
    assert main(["record", scene_id, "-o", str(out), "--size", CAST_SIZE, "--overwrite"]) == 0
    data = out.read_bytes()
    lines = data.decode().splitlines(keepends=True)
    end = next((i for i, ln in enumerate(lines) if any(b in ln for b in RESULT_BADGES)), len(lines))
    return hashlib.sha256(data).hexdigest(), hashlib.sha256("".join(lines[:end]).encode()).hexdigest()


def check(casts: bool) -> int:
    """Compare every scene (and with casts=True every recording, about 2 s each) with the baseline."""
    import tempfile

    base = json.loads(BASELINE.read_text())
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for sid in builtin_ids():
            got = {"run": run_digest(sid, False), "autoplay": run_digest(sid, True)}
            if casts:
                got["cast"], got["cast_before_result"] = cast_digests(sid, Path(tmp))
                if load_scene(sid).scene.races is not None:
                    del got["cast"]  # its result screen shows the race trials
            bad += [f"{sid} {what}" for what, digest in got.items() if base[sid][what] != digest]
    print("\n".join(bad) or f"all {len(base)} scenes as on main")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    import tempfile

    if "--check" in argv:
        return check("--casts" in argv)
    if "--write" not in argv:
        print(__doc__)
        return 2
    old = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    data = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sid in builtin_ids():
            entry = {"run": run_digest(sid, False), "autoplay": run_digest(sid, True)}
            if "--casts" in argv:
                entry["cast"], entry["cast_before_result"] = cast_digests(sid, Path(tmp))
            else:
                entry.update({k: v for k, v in old.get(sid, {}).items() if k.startswith("cast")})
            data[sid] = entry
    BASELINE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":  # run as a file, so that PYTHONPATH may point at another tree
    sys.exit(main(sys.argv[1:]))
