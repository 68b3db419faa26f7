"""dump_tasks() tables in an OOM storm: a dump shares the chunks of rows that did not change since the
last one (kernel/dmesg.py dump_task_rows), and prints what rows formatted afresh print."""

from __future__ import annotations

from pathlib import Path

from oomtui.kernel import dmesg
from oomtui.kernel import events as ev
from oomtui.scene.load import loads
from oomtui.scene.sim import Simulation

STORM = Path(__file__).resolve().parents[1] / "data" / "engine" / "storm-600.toml"


def test_task_dumps_share_their_unchanged_chunks_and_print_what_fresh_rows_print(monkeypatch):
    def dumps(sim):
        sim.run(dmesg=False)
        return [e for e in sim.k.events if type(e) is ev.DmesgLines], sim.k.dmesg()

    shared, lines = dumps(Simulation(loads(STORM.read_text(), "storm-600.toml")))
    real = dmesg.dump_task_rows
    monkeypatch.setattr(dmesg, "dump_task_rows", lambda v, tasks, memo: real(v, tasks, {}))  # nothing kept
    fresh, fresh_lines = dumps(Simulation(loads(STORM.read_text(), "storm-600.toml")))
    assert lines == fresh_lines and len(shared) >= 5
    for before, after in zip(shared, shared[1:]):
        kept = {id(c) for c in before.chunks}
        again = sum(1 for c in after.chunks if id(c) in kept)
        assert again >= len(after.chunks) // 2  # most rows do not change from one dump to the next
    assert all(id(c) not in {id(x) for x in a.chunks} for a, b in zip(fresh, fresh[1:]) for c in b.chunks)
