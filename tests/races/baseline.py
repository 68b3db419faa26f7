"""Digests of what every built-in scene produces with races off, taken from main before race trials
existed (tests/data/races/baseline.json). `python -m tests.races.baseline --write [--casts]` regenerates
them; only do that on a commit whose deterministic output is known to be right.

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


def cast_digest(scene_id: str, tmp: Path) -> str:
    from oomtui.cli import main

    out = tmp / f"{scene_id}.cast"
    assert main(["record", scene_id, "-o", str(out), "--size", CAST_SIZE, "--overwrite"]) == 0
    return hashlib.sha256(out.read_bytes()).hexdigest()


def main(argv: list[str]) -> int:
    import tempfile

    if "--write" not in argv:
        print(__doc__)
        return 2
    old = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    data = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sid in builtin_ids():
            entry = {"run": run_digest(sid, False), "autoplay": run_digest(sid, True)}
            if "--casts" in argv:
                entry["cast"] = cast_digest(sid, Path(tmp))
            elif "cast" in old.get(sid, {}):
                entry["cast"] = old[sid]["cast"]
            data[sid] = entry
    BASELINE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
