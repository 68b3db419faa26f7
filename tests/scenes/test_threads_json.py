"""`oomtui run --json --threads`: each thread's state changes with their times (issue 10 §2). Without
--threads the document is as before (tests/scenes/test_json_identity.py holds its digests)."""

from __future__ import annotations

import json

from oomtui.cli import main
from oomtui.output import json_schema


def run_json(capsys, *argv: str) -> dict:
    assert main(["run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def states(doc: dict) -> dict[int, list[tuple[int, str]]]:
    return {h["tid"]: [(s["t_ms"], s["state"]) for s in h["states"]] for h in doc["threads"]}


def test_threads_only_adds_their_histories(capsys):
    plain = run_json(capsys, "v1-split-freezer")
    doc = run_json(capsys, "v1-split-freezer", "--threads")
    assert "threads" not in plain
    assert {k: v for k, v in doc.items() if k != "threads"} == plain


def test_a_v1_frozen_victim_thawed_by_the_oom_kill_and_a_thread_thawed_by_a_move(capsys):
    st = states(run_json(capsys, "v1-split-freezer", "--threads"))
    kill = 716  # camera (100) is the OOM victim at 716 ms
    for tid in (100, 110, 111):  # 6.18's thaw_process(): every thread of the victim
        assert st[tid][:3] == [(0, "frozen_v1"), (kill, "S"), (kill, "exiting")]
        assert st[tid][-1][1] == "zombie" and st[tid][-1][0] >= kill
    for tid in (101, 120):  # gallery, moved to /thawed at 300 ms: freezer_attach() thaws it
        assert st[tid] == [(0, "frozen_v1"), (300, "S")]


def test_a_v1_frozen_victim_under_5_18_keeps_its_other_threads_frozen(capsys):
    st = states(run_json(capsys, "v1-split-freezer", "--policy", "linux-5.18", "--threads"))
    assert st[100][1] == (716, "S")  # mark_oom_victim() thaws the thread it marks, only
    assert st[110][0] == (0, "frozen_v1") and (716, "S") not in st[110]


def test_d_state_and_cgroup_v2_frozen_threads(capsys):
    st = states(run_json(capsys, "d-state-holder", "--threads"))
    assert st[101][:2] == [(0, "D"), (10000, "S")]  # d_for = "10s"
    st = states(run_json(capsys, "v2-frozen-victim", "--threads"))
    assert st[101][0] == (0, "frozen_v2") and st[101][1][1] == "exiting"  # SIGKILL gets a v2-frozen task out


def test_threads_needs_json_and_no_trials(capsys):
    assert main(["run", "first-oom", "--threads"]) == 2
    assert "--threads: only with --json" in capsys.readouterr().err
    assert main(["run", "first-oom", "--json", "--threads", "--trials", "2"]) == 2


def test_the_run_schema_documents_threads():
    run = json_schema("run")["$defs"]
    assert "threads" in run["RunReport"]["properties"] and "threads" not in run["RunReport"]["required"]
    assert set(run["ThreadHistory"]["required"]) == {"tid", "pid", "comm", "states"}
