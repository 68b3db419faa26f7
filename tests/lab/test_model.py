"""The model side of `oomtui lab`: every experiment as a scene, run by the kernel model.

These need no root and no particular kernel. Under linux-6.18 each experiment must give what
kernel-model.md section 11 reports for a real 6.18 kernel; under older policies the model must
show the differences section 5.3 and 6 describe (so the comparison can tell eras apart).
"""

from __future__ import annotations

import argparse
import json

import pytest

from oomtui.cli import build_parser
from oomtui.errors import UserError
from oomtui.kernel.policy import policy_for_release
from oomtui.lab import lmkd, model, runner
from oomtui.lab.experiments import EXPERIMENTS
from oomtui.lab.model import MODELS, compare, run_model, waiter_fate
from oomtui.scene.load import loads
from oomtui.scene.sim import Outcome, Simulation

RELEASE_618 = "6.18.44-fc-v595"

# kernel-model.md 11.1-11.4, in the words of each experiment's outcome()
SECTION_11 = {
    "memcg-oom": {"victim_role": "hog", "victim_exited": True, "reaper_acted": False},  # 11.1
    "frozen-victim": {"victim_role": "victim", "victim_exited": True, "reaper_acted": False},  # 11.2
    "mrelease": {  # 11.3
        "errno": {"live": "EINVAL", "killed_frozen": "OK", "again": "OK", "after_exit": "ESRCH"},
        "still_frozen_after_kill": True,
        "reaper_acted": True,
    },
    "robust-futex": {  # 11.4
        "waiter_fate": {"thaw": "EOWNERDEAD", "mrelease_then_thaw": "ETIMEDOUT"},
        "errno": {"mrelease": "OK"},
        "reaper_acted": True,
    },
}


# kernel-model.md section 10's scenarios as the lab runs them, on a real 6.18 (the lab's runs; 6.18's
# mark_oom_victim() thaws every thread of a v1-frozen victim, a SIGKILL wakes a TASK_KILLABLE sleep)
SECTION_10 = {
    "frozen-robust-oom": {"victim_role": "owner", "victim_exited": True, "reaper_acted": False,  # S2
                          "waiter_fate": "EOWNERDEAD"},
    "clone-vm-frozen": {"victim_role": "sibling", "victim_exited": True, "reaper_acted": False,  # S6
                        "exited": {"victim": True, "sibling": True}},
    "v2-frozen": {"states_frozen": "S", "victim_role": "victim", "victim_exited": True, "reaper_acted": False,  # S4
                  "cgroup_kill_exited": True},
    "d-state": {"holder_state": "SD", "victim_role": "holder", "victim_exited": True, "reaper_acted": False,  # S5
                "vfork_child_exited": True, "waiter_fate": "EOWNERDEAD"},
    "lmkd-race": {"hung_with_esrch": 0},  # S7: an -ESRCH never comes with a hang
}
EXPECTED_618 = SECTION_11 | SECTION_10


def test_every_experiment_has_a_model() -> None:
    assert list(MODELS) == list(EXPERIMENTS)


@pytest.mark.parametrize(
    "release,policy",
    [
        ("6.18.44-fc-v595", "linux-6.18"),
        ("6.19.0", "linux-6.18"),
        ("7.0.1", "linux-6.18"),
        ("6.17.9-arch1", "linux-5.18"),
        ("6.1.0-18-amd64", "linux-5.18"),
        ("5.18.0", "linux-5.18"),
        ("5.17.15", "linux-4.6"),
        ("5.15.0-105-generic", "linux-4.6"),
        ("4.19.0", "linux-4.6"),
    ],
)
def test_policy_for_release(release: str, policy: str) -> None:
    assert policy_for_release(release) == policy


@pytest.mark.parametrize("name", list(EXPECTED_618))
def test_model_on_618_gives_what_the_real_kernel_did(name: str) -> None:
    run = run_model(name, RELEASE_618)
    assert (run.policy, run.kernel) == ("linux-6.18", "6.18")
    assert run.outcome == EXPECTED_618[name]


@pytest.mark.parametrize("name", list(EXPECTED_618))
def test_outcome_has_the_same_keys_as_the_real_side(name: str) -> None:
    assert model.flatten(run_model(name, RELEASE_618).outcome).keys() == model.flatten(EXPECTED_618[name]).keys()


@pytest.mark.parametrize("name", list(MODELS))
def test_the_scene_text_loads_and_replays(name: str) -> None:
    """`scenes` in the JSON are real scene files: they parse, and replaying one gives the same events."""
    run = run_model(name, RELEASE_618)
    scenes = {"robust-futex": 2, "v2-frozen": 2, "lmkd-race": len(lmkd.CONFIGS)}.get(name, 1)
    assert len(run.scenes) == len(run.simulated) == scenes
    for text, simulated in zip(run.scenes, run.simulated):
        sim = Simulation(loads(text, name), "linux-6.18")
        replay = sim.run()
        assert (replay.kills, replay.waiters, replay.syscalls) == (simulated.kills, simulated.waiters, simulated.syscalls)


def test_frozen_victim_before_618_stays_frozen_and_is_reaped() -> None:
    """<= 6.17 mark_oom_victim() thaws only the marked thread; the other 4 stay in the refrigerator,
    mm_users stays > 0, and the reaper frees the memory at the 2 s timer (kernel-model.md 5.3)."""
    run = run_model("frozen-victim", "6.6.30")
    assert run.policy == "linux-5.18"
    assert run.outcome == {"victim_role": "victim", "victim_exited": False, "reaper_acted": True}


def test_memcg_oom_before_518_reaper_runs_at_once() -> None:
    """4.6-5.17: the reaper is woken at kill time and prints its line even for a victim that exits."""
    run = run_model("memcg-oom", "5.15.0")
    assert run.outcome["victim_role"] == "hog" and run.outcome["reaper_acted"] is True


def test_seed_v4_process_mrelease_skips_a_robust_owner() -> None:
    """The seed patch's policy: process_mrelease returns 0 without reaping a robust-list user, so the
    thawed owner runs its futex cleanup and the waiter gets EOWNERDEAD."""
    run = model.model_robust_futex("robust-delay")
    assert run.outcome == {
        "waiter_fate": {"thaw": "EOWNERDEAD", "mrelease_then_thaw": "EOWNERDEAD"},
        "errno": {"mrelease": "OK"},
        "reaper_acted": False,
    }


def test_frozen_robust_holder_before_618_stays_frozen_and_its_waiter_hangs() -> None:
    """S2 on <= 6.17: mark_oom_victim() thaws the leader only; the second thread, which holds the mutex,
    stays frozen, the reaper takes the memory at 2 s, and the waiter is never woken."""
    run = run_model("frozen-robust-oom", "6.6.30")
    assert run.outcome == {"victim_role": "owner", "victim_exited": False, "reaper_acted": True,
                           "waiter_fate": "ETIMEDOUT"}


def _d_state_without(line: str) -> Outcome:
    text = model.d_state_scene()
    assert line in text
    return Simulation(loads(text.replace(line, ""), "d-state"), "linux-6.18").run()


def test_an_uninterruptible_holder_is_not_woken_by_the_kill() -> None:
    """Without `killable` the D sleep is TASK_UNINTERRUPTIBLE: the OOM kill cannot end it, the reaper
    takes the memory at 2 s, and the holder's robust list is never walked (the waiter times out)."""
    out = _d_state_without("  killable = true\n")
    assert out.killed_pids()[0] == 100 and out.waiter(200).outcome in ("hung", "timedout")
    assert [r.by for r in out.reaps] == ["oom_reaper"]


def test_a_vfork_child_is_never_the_victim() -> None:
    """oom_badness() skips an in_vfork() task; without the flag the child ties with its parent and, scanned
    later, is chosen (5.9+ tie-break)."""
    assert run_model("d-state", RELEASE_618).details["killed_roles"][0] == "holder"
    assert _d_state_without("in_vfork = true\n").killed_pids()[0] == 150


def test_lmkd_race_model_counts_by_placement() -> None:
    """On the killer's CPU the woken victim preempts the killer and exits first (-ESRCH) most of the time;
    on the other CPU at once, never; the 1 ms delay lets it finish (docs/races.md). Unpinned on an idle
    machine it is moved to the other CPU, which has been idle long, and loses more often than one pinned
    there; beside a busy other CPU it stays with the killer."""
    counts = model.model_lmkd_race("linux-6.18", trials=200).details["counts"]
    share = {name: {k: c / n for k, (c, n) in v.items()} for name, v in counts.items()}
    assert share["killer-cpu"]["esrch"] > 0.5 and share["other-cpu"]["esrch"] < 0.02
    assert share["other-cpu-1ms"]["esrch"] > 0.8
    assert all(0 < s["hung"] < 0.4 for name, s in share.items() if name != "unpinned")
    assert share["unpinned"]["hung"] > 2 * share["other-cpu"]["hung"] and share["unpinned"]["esrch"] < 0.05
    assert share["unpinned-busy"]["esrch"] > 0.5


def test_the_unpinned_rows_follow_where_the_real_victim_ran() -> None:
    """The real run's share of unpinned trials whose victim ran on the other CPU is the model's `idle`:
    all of them, and the model's victim never exits before process_mrelease (-ESRCH) and hangs its waiter
    often; none, and it behaves as one pinned beside the killer. Without a real run: an idle machine."""
    def real(ran_other: int) -> dict:
        row = {"trials": 200, "ran_other": ran_other}
        return {"configs": {"unpinned": row, "unpinned-busy": {**row, "ran_other": 0}}}

    def shares(r: dict | None) -> dict:
        run = model.model_lmkd_race("linux-6.18", trials=200, real=r)
        return {name: {k: c / n for k, (c, n) in v.items()} for name, v in run.details["counts"].items()}

    moved, stayed = shares(real(200))["unpinned"], shares(real(0))["unpinned"]
    assert moved["esrch"] < 0.02 and moved["hung"] > 0.3
    assert stayed["esrch"] > 0.8 and stayed["hung"] < 0.15
    assert shares(None)["unpinned"] == moved
    assert model.lmkd_race_idle("any", {"trials": 200, "ran_other": 50}) == 0.25
    assert model.lmkd_race_idle("same", {"trials": 200, "ran_other": 0}) == 0.0


def test_a_race_count_agrees_within_the_widened_interval() -> None:
    """Real 18/100 against the model's 180/1000 agrees; 60/100 is outside even 10 points of load margin;
    a share just outside the model's interval but inside the margin agrees, and the value says the range."""
    model_counts = {"killer-cpu": {"hung": [180, 1000], "esrch": [750, 1000]}}

    def facts(hung: int, esrch: int) -> dict[str, dict]:
        real = {"killer-cpu": {"hung": [hung, 100], "esrch": [esrch, 100]}}
        return {f["fact"]: f for f in lmkd.count_facts(real, model_counts)}

    ok = facts(18, 75)
    assert [ok[k]["agree"] for k in ("race.killer-cpu.hung", "race.killer-cpu.esrch")] == [True, True]
    assert ok["race.killer-cpu.hung"]["real"] == "18/100 = 18.0 % (CI 11.7-26.7)"
    assert ok["race.killer-cpu.hung"]["model"] == "180/1000 = 18.0 % (CI 15.7-20.5), ±10: 5.7-30.5"
    assert facts(60, 75)["race.killer-cpu.hung"]["agree"] is False
    assert facts(18, 98)["race.killer-cpu.esrch"]["agree"] is False  # 93.0-99.4 % against at most 87.6 %
    assert facts(35, 90)["race.killer-cpu.esrch"]["agree"] is True  # 82.6-94.5 % meets 62.2-87.6 %
    model_only = lmkd.count_facts(None, model_counts)
    assert [(f["real"], f["agree"]) for f in model_only] == [(None, None), (None, None)]


def test_mrelease_model_follows_the_real_target_size() -> None:
    run = run_model("mrelease", RELEASE_618, {"target_mib": 32})
    assert run.details["target_mib"] == 32
    assert 32 * 1024 <= run.details["rss_before_kb"] < 48 * 1024
    assert run.outcome == SECTION_11["mrelease"]


def test_waiter_fate_words() -> None:
    assert waiter_fate("eownerdead", True) == "EOWNERDEAD"
    assert waiter_fate("acquired", True) == "OK"
    assert waiter_fate("timedout", True) == "ETIMEDOUT"
    assert waiter_fate("hung", True) == "ETIMEDOUT"  # no wake-up will come: a timed lock times out
    assert waiter_fate("hung", False) == "hung"


def test_compare_flags_each_differing_fact() -> None:
    real = {"a": 1, "errno": {"x": "OK", "y": "EINVAL"}}
    mod = {"a": 1, "errno": {"x": "OK", "y": "ESRCH"}}
    assert compare(real, mod) == [("a", 1, 1, True), ("errno.x", "OK", "OK", True), ("errno.y", "EINVAL", "ESRCH", False)]
    assert compare(None, mod)[0] == ("a", None, 1, None)


# --- `oomtui lab --model-only` through the runner ------------------------------------------------
def _args(experiment: str | None = None, *, all_: bool = False, json_: bool = False) -> argparse.Namespace:
    argv = ["lab", "--model-only", *([experiment] if experiment else []), *(["--all"] if all_ else []),
            *(["--json"] if json_ else [])]
    return build_parser().parse_args(argv)


def test_model_only_json_needs_no_root(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setattr("os.uname", lambda: _Uname(RELEASE_618))
    assert runner.main(_args(all_=True, json_=True)) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in doc["experiments"]] == list(EXPERIMENTS)
    for e in doc["experiments"]:
        assert e["real"] is None and e["agree"] is None and e["error"] is None
        assert e["model"]["policy"] == "linux-6.18"
        assert e["model"]["outcome"] == EXPECTED_618[e["name"]]
        assert set(e["model"]) == {"policy", "kernel", "outcome", "details", "scenes", "dmesg"}


def test_model_only_table(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("os.uname", lambda: _Uname(RELEASE_618))
    assert runner.main(_args("robust-futex")) == 0
    out = capsys.readouterr().out
    assert "robust-futex: model for Linux" in out and "policy linux-6.18" in out
    assert "waiter_fate.mrelease_then_thaw" in out and "ETIMEDOUT" in out
    assert "Model only: the real kernel was not run." in out


class _Uname:
    def __init__(self, release: str) -> None:
        self.release = release
        self.sysname, self.nodename, self.version, self.machine = "Linux", "test", "#1", "x86_64"


def test_a_name_and_all_are_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # `oomtui lab mrelease --all` used to run every experiment without a word
    monkeypatch.setattr(runner, "run_experiment", lambda *a, **k: pytest.fail("nothing may run"))
    with pytest.raises(UserError, match="not both"):
        runner.main(_args("mrelease", all_=True))
