"""`oomtui lab` on the real kernel.

The experiments run only where the machine allows them (root, cgroup v1 memory + freezer,
x86_64 glibc, Linux >= 5.15); elsewhere those tests are skipped with the reason. The assertions
are what kernel-model.md section 11 reports for Linux 6.18: they fail if the kernel behaves
otherwise. One `oomtui lab --all --json` run (~10 s) feeds most of them,
including the check that the kernel model agrees with the real run (tests/lab/test_model.py
tests the model side alone, everywhere).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from oomtui.errors import UserError
from oomtui.kernel.policy import policy_for_release
from oomtui.lab import experiments, runner
from oomtui.lab.cgroup import FREEZER_ROOT, MEMCG_ROOT, PREFIX
from oomtui.lab.experiments import EXPERIMENTS, SHM_DIR
from oomtui.lab.pthread import FUTEX_OWNER_DIED, FUTEX_TID_MASK

ROOT = Path(__file__).resolve().parents[2]


def _lab_unavailable() -> str | None:
    try:
        runner.check_machine()
    except UserError as e:
        return str(e)
    return None


needs_lab = pytest.mark.skipif(_lab_unavailable() is not None, reason=f"real-kernel lab: {_lab_unavailable()}")


def _args(experiment: str | None = None, *, list_: bool = False, all_: bool = False, json_: bool = False):
    return argparse.Namespace(experiment=experiment, list=list_, all=all_, json=json_, model_only=False)


def _cli(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oomtui.cli", *argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def _leftovers(owner_pid: int) -> list[str]:
    name = f"{PREFIX}{owner_pid}-"
    return [str(p) for root in (MEMCG_ROOT, FREEZER_ROOT, SHM_DIR) for p in root.glob(name + "*")]


# --- everywhere ------------------------------------------------------------------------------
def test_refuses_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match=r"the lab cannot run here; it needs .*root"):
        runner.main(_args("mrelease"))


def test_unknown_experiment_lists_the_valid_names() -> None:
    with pytest.raises(UserError) as e:
        runner.main(_args("nope"))
    assert "unknown experiment 'nope'" in str(e.value)
    for name in ("memcg-oom", "frozen-victim", "mrelease", "robust-futex"):
        assert name in str(e.value)


def test_no_experiment_named_is_a_user_error() -> None:
    with pytest.raises(UserError, match="name an experiment"):
        runner.main(_args())


def test_list_describes_every_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(_args(list_=True)) == 0
    out = capsys.readouterr().out
    for name, exp in EXPERIMENTS.items():
        assert re.search(rf"^{re.escape(name)}\s+\S", out, re.M)
        assert exp.describe() in out


# --- on the real kernel ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab_json() -> dict:
    """One run for all the checks below; each test reports its own experiment's error or difference."""
    proc = _cli("lab", "--all", "--json")
    assert proc.stdout, proc.stderr
    doc = json.loads(proc.stdout)
    doc["returncode"] = proc.returncode
    return doc


def _entry(doc: dict, name: str) -> dict:
    (entry,) = [e for e in doc["experiments"] if e["name"] == name]
    assert entry["error"] is None, entry["error"]
    return entry


@needs_lab
def test_exit_status_says_whether_everything_ran_and_agreed(lab_json: dict) -> None:
    ok = all(e["error"] is None and e["agree"] for e in lab_json["experiments"])
    assert lab_json["returncode"] == (0 if ok else 1)


@needs_lab
def test_json_shape_has_real_and_model_sides(lab_json: dict) -> None:
    assert lab_json["kernel"] == os.uname().release
    assert [e["name"] for e in lab_json["experiments"]] == list(EXPERIMENTS)
    assert all(e["error"] is None for e in lab_json["experiments"]), [e["error"] for e in lab_json["experiments"]]
    for e in lab_json["experiments"]:
        assert set(e) == {"name", "real", "model", "agree", "differ", "error"}
        assert set(e["real"]) == {"outcome", "measured"}
        assert e["model"]["policy"] == policy_for_release(os.uname().release)
        assert e["model"]["outcome"].keys() == e["real"]["outcome"].keys()


@needs_lab
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_model_agrees_with_the_real_kernel(lab_json: dict, name: str) -> None:
    """Every fact of outcome() (victim role, errno per call, waiter fate, whether the reaper acted)
    is the same on the real kernel and in the model under the running kernel's policy."""
    e = _entry(lab_json, name)
    assert e["differ"] == [], f"real {e['real']['outcome']} vs model {e['model']['outcome']}"
    assert e["agree"] is True


@needs_lab
def test_memcg_oom_kills_the_hog_and_exits_before_the_reaper_timer(lab_json: dict) -> None:
    e = _entry(lab_json, "memcg-oom")
    assert e["real"]["outcome"] == {"victim_role": "hog", "victim_exited": True, "reaper_acted": False}
    m = e["real"]["measured"]
    pid = m["victim_pid"]
    assert m["victim_end"] == "SIGKILL" and m["memcg_oom_kills"] == 1
    # 6.8+ formats (kernel-model.md 2.5 and 11.1)
    (summary,) = m["dmesg"]["oom_kill"]
    assert re.fullmatch(
        rf"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=\(null\),cpuset=\S+,mems_allowed=\S+,"
        rf"oom_memcg=/{PREFIX}\d+-memcg-oom,task_memcg=/{PREFIX}\d+-memcg-oom,task=lab-hog,pid={pid},uid=0",
        summary,
    )
    (killed,) = m["dmesg"]["killed"]
    assert re.fullmatch(
        rf"Memory cgroup out of memory: Killed process {pid} \(lab-hog\) total-vm:\d+kB, anon-rss:\d+kB, "
        r"file-rss:\d+kB, shmem-rss:\d+kB, UID:0 pgtables:\d+kB oom_score_adj:0",
        killed,
    )
    # the victim exits long before OOM_REAPER_DELAY (2 s): the timer finds MMF_OOM_SKIP, prints nothing
    assert m["dmesg"]["reaper"] == []


@needs_lab
def test_frozen_multithreaded_victim_is_thawed_and_exits(lab_json: dict) -> None:
    m = _entry(lab_json, "frozen-victim")["real"]["measured"]
    assert m["victim_states_frozen"] == ["D"] * 5  # v1-frozen threads sleep in __refrigerator
    assert m["victim_role"] == "victim" and m["victim_end"] == "SIGKILL"
    # 6.18 mark_oom_victim() -> thaw_process(): every thread leaves the refrigerator and exits (11.2)
    assert m["exit_after_kill_line_ms"] is not None and m["exit_after_kill_line_ms"] < 500
    assert m["reaper_line"] is False
    # the allocating process may be killed as well, right after (a race): never before the victim
    assert m["killed_roles"] in (["victim"], ["victim", "trigger"])
    assert m["trigger_survived"] == (m["killed_roles"] == ["victim"])


@needs_lab
def test_process_mrelease_errnos_and_reap(lab_json: dict) -> None:
    e = _entry(lab_json, "mrelease")
    assert e["real"]["outcome"]["errno"] == {
        "live": "EINVAL",  # not dying: task_will_free_mem() is false
        "killed_frozen": "OK",
        "again": "OK",
        "after_exit": "ESRCH",  # no thread has an mm any more
    }
    m = e["real"]["measured"]
    assert m["states_after_kill"] == ["D"]  # kill(2) does not thaw a v1-frozen task (11.3)
    assert m["rss_before_kb"] >= m["target_mib"] * 1024
    assert m["rss_after_kb"] < m["rss_before_kb"] // 10  # the private memory was unmapped synchronously
    assert m["killed_frozen"]["ms"] < 2000  # no OOM_REAPER_DELAY for process_mrelease
    assert m["exit_after_thaw_ms"] is not None


@needs_lab
def test_robust_futex_owner_dead_vs_lost_wakeup(lab_json: dict) -> None:
    m = _entry(lab_json, "robust-futex")["real"]["measured"]
    thaw, reaped = m["thaw"], m["mrelease_then_thaw"]
    # thawed, the owner exits and its robust-list walk marks the mutex OWNER_DIED (11.4)
    assert thaw["waiter_rc"] == 130 and thaw["waiter_fate"] == "EOWNERDEAD"
    assert thaw["waiter_waited_s"] < m["waiter_timeout_s"]
    # reaped first, the robust list head (in the owner's private TLS) is gone: no wake-up
    assert reaped["mrelease"]["errno"] == "OK"
    assert reaped["waiter_rc"] == 110 and reaped["waiter_fate"] == "ETIMEDOUT"
    word = int(reaped["futex_word_after"], 16)
    assert word & FUTEX_OWNER_DIED == 0 and word & FUTEX_TID_MASK != 0  # still the dead owner's TID


@needs_lab
def test_lab_removes_its_groups_and_files(lab_json: dict) -> None:
    # the --all run was a child process: nothing of it may remain
    leftovers = [
        p
        for root in (MEMCG_ROOT, FREEZER_ROOT, SHM_DIR)
        for p in root.glob(f"{PREFIX}*")
        if not Path(f"/proc/{p.name[len(PREFIX):].split('-')[0]}").exists()
    ]
    assert leftovers == []


@needs_lab
def test_interrupt_mid_experiment_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the mutex owner is frozen and SIGKILLed and the waiter waits."""
    spawned = []
    real_spawn = experiments.Session.spawn

    def spawn(self, *a, **kw):
        child = real_spawn(self, *a, **kw)
        spawned.append(child.pid)
        return child

    def interrupt(pidfd: int):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiments.Session, "spawn", spawn)
    monkeypatch.setattr(experiments, "process_mrelease", interrupt)
    with pytest.raises(KeyboardInterrupt):
        experiments.RobustFutexExperiment().trial(mrelease_first=True)
    assert len(spawned) == 2
    assert not any(Path(f"/proc/{pid}").exists() for pid in spawned)  # killed and reaped
    assert _leftovers(os.getpid()) == []


@needs_lab
def test_readable_output_of_one_experiment() -> None:
    proc = _cli("lab", "mrelease")
    assert proc.returncode == 0, proc.stderr
    assert "process_mrelease -> -1 (EINVAL)" in proc.stdout
    assert f"real kernel vs model: policy {policy_for_release(os.uname().release)}" in proc.stdout
    assert re.search(r"errno\.live\s+│ EINVAL\s+│ EINVAL\s+│ ✓", proc.stdout)
    assert "The model reproduces every fact of the real run." in proc.stdout
