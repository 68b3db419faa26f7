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
from oomtui.lab import model, runner
from oomtui.lab.experiments import EXPERIMENTS
from oomtui.lab.model import MODELS, compare, run_model, waiter_fate
from oomtui.scene.load import loads
from oomtui.scene.sim import Simulation

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


@pytest.mark.parametrize("name", list(SECTION_11))
def test_model_on_618_gives_what_section_11_saw(name: str) -> None:
    run = run_model(name, RELEASE_618)
    assert (run.policy, run.kernel) == ("linux-6.18", "6.18")
    assert run.outcome == SECTION_11[name]


@pytest.mark.parametrize("name", list(SECTION_11))
def test_outcome_has_the_same_keys_as_the_real_side(name: str) -> None:
    assert model.flatten(run_model(name, RELEASE_618).outcome).keys() == model.flatten(SECTION_11[name]).keys()


@pytest.mark.parametrize("name", list(MODELS))
def test_the_scene_text_loads_and_replays(name: str) -> None:
    """`scenes` in the JSON are real scene files: they parse, and replaying one gives the same events."""
    run = run_model(name, RELEASE_618)
    assert len(run.scenes) == len(run.simulated) == (2 if name == "robust-futex" else 1)
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
        assert e["model"]["outcome"] == SECTION_11[e["name"]]
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
