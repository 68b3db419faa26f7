"""`oomtui run --json` stays byte-identical while the engine is made faster (issue 10 §6).

The digests in tests/data/engine/run-json.sha256 are of the output before the speed work (`python -m
tests.scenes.test_json_identity` rewrites them; do that only for a change that means to alter the
output). Every built-in scene under every policy, each walkthrough as the player, and an OOM storm
(600 processes, repeated task dumps) in each era's dump_tasks format.
"""

from __future__ import annotations

import hashlib
import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from oomtui.cli import main
from oomtui.kernel.policy import POLICIES
from oomtui.scene.load import builtin_ids, load_scene

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


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(DATA.parents[2])  # the storm scene's path is relative to the repository


@pytest.mark.parametrize("argv", cases(), ids=" ".join)
def test_run_json_unchanged(argv):
    assert digest(argv) == expected()[" ".join(argv)]


if __name__ == "__main__":
    import os

    os.chdir(DATA.parents[2])
    DIGESTS.write_text("".join(f"{digest(a)}  {' '.join(a)}\n" for a in cases()))
    print(f"wrote {DIGESTS}", file=sys.stderr)
