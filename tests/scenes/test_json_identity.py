"""`oomtui run --json` stays byte-identical while the engine is made faster (issue 10 §6).

The digests in tests/data/engine/run-json.sha256 are of the output before the speed work (`python -m
tests.scenes.test_json_identity` rewrites them; do that only for a change that means to alter the
output). Every built-in scene under every policy, each walkthrough as the player, and an OOM storm
(600 processes, repeated task dumps) in each era's dump_tasks format.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path

import msgspec
import pytest

from oomtui.cli import main
from oomtui.kernel.policy import POLICIES
from oomtui.report.cli import RunReport, _json, _json_dmesg
from oomtui.scene.load import builtin_ids, load_scene
from oomtui.scene.sim import Simulation

DATA = Path(__file__).resolve().parents[1] / "data" / "engine"
DIGESTS = DATA / "run-json.sha256"
STORM = DATA / "storm-600.toml"


def cases() -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for sid in builtin_ids():
        out += [("run", sid, "--json", "--policy", pol) for pol in POLICIES]
        if load_scene(sid).scene.walkthrough:
            out.append(("run", sid, "--json", "--autoplay"))
    storm = str(STORM.relative_to(DATA.parents[2]))
    out += [("run", storm, "--json", "--policy", pol) for pol in POLICIES]
    # the dump_tasks table of each era (4.0, 4.15, 4.19, 6.8) and the pre-5.1 sacrifice-child line
    out += [("run", storm, "--json", "--policy", "linux-4.6", "--kernel", v) for v in ("4.9", "4.15", "4.19", "6.8")]
    return out


def digest(argv: tuple[str, ...]) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(list(argv)) == 0
    return hashlib.sha256(buf.getvalue().encode()).hexdigest()


def expected() -> dict[str, str]:
    rows = (line.split("  ", 1) for line in DIGESTS.read_text().splitlines() if line)
    return {argv: h for h, argv in rows}


@pytest.mark.parametrize("argv", cases(), ids=" ".join)
def test_run_json_unchanged(argv, monkeypatch):
    monkeypatch.chdir(DATA.parents[2])  # the storm scene's path is relative to the repository
    assert digest(argv) == expected()[" ".join(argv)]


@pytest.mark.parametrize("n", [0, 1, 3, 25_001])  # none, one, a few, and more than two chunks
def test_streamed_dmesg_is_the_whole_report_indented(n):
    """run --json writes dmesg as it formats it: the bytes _json() gives for the whole report."""
    o = Simulation(load_scene("first-oom")).run(dmesg=False)
    odd = ['quote " backslash \\ slash /', "tab \t nl \n esc \x1b del \x7f", "é ü 雪 \u2028 \U0001f600", ""]
    lines = [f"[{i:5d}.000000] " + odd[i % len(odd)] for i in range(n)]
    report = RunReport(**msgspec.structs.asdict(o), game=None)
    whole, streamed = io.StringIO(), io.StringIO()
    with redirect_stdout(whole):
        _json(msgspec.structs.replace(report, dmesg=lines))
    with redirect_stdout(streamed):
        _json_dmesg(report, iter(lines))
    assert streamed.getvalue() == whole.getvalue()
    assert json.loads(streamed.getvalue())["dmesg"] == lines


if __name__ == "__main__":
    import os

    os.chdir(DATA.parents[2])
    DIGESTS.write_text("".join(f"{digest(a)}  {' '.join(a)}\n" for a in cases()))
    print(f"wrote {DIGESTS}", file=sys.stderr)
