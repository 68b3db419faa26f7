"""`oomtui lab` on the real kernel, and its safety as root.

The experiments run only where the machine allows them (root, cgroup v1 memory + freezer,
x86_64 glibc, Linux >= 5.15); elsewhere those tests are skipped with the reason. The assertions
are what kernel-model.md sections 10 and 11 report for Linux 6.18: they fail if the kernel behaves
otherwise. One `oomtui lab --all --json --yes --trials 30` run (~30 s) feeds most of them,
including the check that the kernel model agrees with the real run (tests/lab/test_model.py
tests the model side alone, everywhere). The safety tests plant links where the lab used to
write, SIGKILL it mid-run, and leave groups of dead runs for `--cleanup`.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.cli import build_parser
from oomtui.errors import UserError
from oomtui.kernel.policy import policy_for_release
from oomtui.lab import cgroup, experiments, runner
from oomtui.lab.cgroup import FREEZER_ROOT, MEMCG_ROOT, PREFIX, run_groups, write_control
from oomtui.lab.experiments import EXPERIMENTS
from oomtui.lab.model import run_model
from oomtui.lab.pthread import FUTEX_OWNER_DIED, FUTEX_TID_MASK

ROOT = Path(__file__).resolve().parents[2]


def _lab_unavailable() -> str | None:
    try:
        runner.check_machine()
    except UserError as e:
        return str(e)
    return None


needs_lab = pytest.mark.skipif(_lab_unavailable() is not None, reason=f"real-kernel lab: {_lab_unavailable()}")


def _args(*argv: str):
    return build_parser().parse_args(["lab", *argv])


def _cli(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The command without a terminal (stdin /dev/null, its own session: no controlling terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "oomtui.cli", *argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )


def _leftovers(owner_pid: int) -> list[str]:
    return [str(p) for p in run_groups(owner_pid)]


# --- everywhere ------------------------------------------------------------------------------
def test_refuses_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match=r"the lab cannot run here; it needs .*root"):
        runner.main(_args("mrelease", "--yes"))


def test_unknown_experiment_lists_the_valid_names() -> None:
    with pytest.raises(UserError) as e:
        runner.main(_args("nope", "--yes"))
    assert "unknown experiment 'nope'" in str(e.value)
    for name in ("memcg-oom", "frozen-victim", "mrelease", "robust-futex", "frozen-robust-oom", "clone-vm-frozen",
                 "v2-frozen", "d-state", "lmkd-race"):
        assert name in str(e.value)


def test_trials_out_of_range_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"--trials must be 1\.\.2000, got 0"):
        runner.main(_args("lmkd-race", "--trials", "0", "--yes"))


def test_no_experiment_named_is_a_user_error() -> None:
    with pytest.raises(UserError, match="name an experiment"):
        runner.main(_args())


def test_list_describes_every_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(_args("--list")) == 0
    out = capsys.readouterr().out
    for name, exp in EXPERIMENTS.items():
        assert re.search(rf"^{re.escape(name)}\s+\S", out, re.M)
        assert exp.describe() in out


# --- on the real kernel ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab_json() -> dict:
    """One run for all the checks below; each test reports its own experiment's error or difference."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "oomtui.cli", "lab", "--all", "--json", "--yes", "--trials", "30"], cwd=ROOT, text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    out, err = proc.communicate(timeout=240)
    assert out, err
    doc = json.loads(out)  # the whole of stdout is the JSON document
    doc["returncode"], doc["pid"] = proc.returncode, proc.pid
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
        assert set(e) == {"name", "real", "model", "agree", "facts", "error"}
        assert set(e["real"]) == {"outcome", "measured"}
        assert e["model"]["policy"] == policy_for_release(os.uname().release)
        assert e["model"]["outcome"].keys() == e["real"]["outcome"].keys()
        assert e["facts"] and all(set(f) == {"fact", "real", "model", "agree"} for f in e["facts"])
        assert e["agree"] == all(f["agree"] for f in e["facts"])
        for f in e["facts"]:  # a leaf of outcome(), its key path joined by dots, a kind of dmesg line, a race count
            if f["fact"].startswith("dmesg."):
                assert e["real"]["measured"]["dmesg"]["report"] and e["model"]["dmesg"]
                continue
            if f["fact"].startswith("race."):
                _, placement, count = f["fact"].split(".")
                assert f["model"].startswith("{}/{} = ".format(*e["model"]["details"]["counts"][placement][count]))
                continue
            real, model = e["real"]["outcome"], e["model"]["outcome"]
            for key in f["fact"].split("."):
                real, model = real[key], model[key]
            assert (f["real"], f["model"], f["agree"]) == (real, model, real == model)
    # the OOM experiments compare their dmesg lines' formats; the others print none
    dmesg_facts = {e["name"]: [f["fact"] for f in e["facts"] if f["fact"].startswith("dmesg.")]
                   for e in lab_json["experiments"]}
    assert "dmesg.invoked" in dmesg_facts["memcg-oom"] and "dmesg.Killed process" in dmesg_facts["frozen-victim"]
    for name in ("frozen-robust-oom", "clone-vm-frozen", "v2-frozen", "d-state"):
        assert "dmesg.oom-kill" in dmesg_facts[name]
    assert dmesg_facts["mrelease"] == dmesg_facts["robust-futex"] == dmesg_facts["lmkd-race"] == []


@needs_lab
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_model_agrees_with_the_real_kernel(lab_json: dict, name: str) -> None:
    """Every fact of outcome() (victim role, errno per call, waiter fate, whether the reaper acted)
    is the same on the real kernel and in the model under the running kernel's policy. The lmkd race's
    counts move with the machine's load (docs/races.md); its structure is checked below instead."""
    e = _entry(lab_json, name)
    assert [f for f in e["facts"] if not f["agree"] and not f["fact"].startswith("race.")] == []


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
def test_frozen_robust_holder_is_thawed_and_its_waiter_wakes(lab_json: dict) -> None:
    """S2 on 6.18: every thread of the v1-frozen victim is thawed, the mutex holder (a second thread) runs
    its robust-list walk, the waiter gets EOWNERDEAD well before its timeout; no reaper line."""
    m = _entry(lab_json, "frozen-robust-oom")["real"]["measured"]
    assert m["owner_states_frozen"] == ["D", "D"]
    assert m["oom"]["victim_role"] == "owner" and m["oom"]["exit_after_kill_line_ms"] < 500
    assert m["waiter_rc"] == 130 and m["waiter_waited_s"] < 2
    assert m["oom"]["reaper_line"] is False


@needs_lab
def test_clone_vm_sharers_both_exit(lab_json: dict) -> None:
    """S6: one OOM kill (one Killed line), and both processes of the mm exit at once: the frozen one is
    thawed by mark_oom_victim() (chosen itself) or by a later OOM's silent task_will_free_mem() path."""
    m = _entry(lab_json, "clone-vm-frozen")["real"]["measured"]
    assert m["sibling_states_frozen"] == ["D"]
    assert m["oom"]["victim_role"] in ("victim", "sibling")
    assert m["oom"]["killed_roles"][0] == m["oom"]["victim_role"] and "trigger" not in m["oom"]["killed_roles"][:1]
    assert all(ms is not None and ms < 1000 for ms in m["exit_after_kill_line_ms"].values())
    assert m["oom"]["reaper_line"] is False


@needs_lab
def test_v2_frozen_victim_and_cgroup_kill(lab_json: dict) -> None:
    """S4: a v2-frozen task sleeps in do_freezer_trap() (S, not D); SIGKILL gets through the v2 freezer,
    from the OOM killer and from cgroup.kill alike."""
    m = _entry(lab_json, "v2-frozen")["real"]["measured"]
    assert m["victim_states_frozen"] == ["S"] * 5 and m["kill_states_frozen"] == ["S"] * 3
    assert m["oom"]["victim_role"] == "victim" and m["oom"]["exit_after_kill_line_ms"] < 500
    assert m["kill_exit_ms"] is not None and m["kill_exit_ms"] < 500


@needs_lab
def test_d_state_vfork_holder_is_killable(lab_json: dict) -> None:
    """S5 with a killable D: the vfork() waiter is chosen (its child, in_vfork, never is), the kill ends
    the wait, the holder exits and wakes the waiter; the child, sharing the mm, is killed too."""
    m = _entry(lab_json, "d-state")["real"]["measured"]
    assert m["holder_states"] == ["S", "D"] and m["vfork_child_states"] == ["S"]
    assert m["oom"]["victim_role"] == "holder" and m["oom"]["exit_after_kill_line_ms"] < 500
    assert m["vfork_child_exited"] is True and "vfork" not in m["oom"]["killed_roles"]
    assert m["waiter_rc"] == 130


@needs_lab
def test_lmkd_race_counts_by_placement(lab_json: dict) -> None:
    e = _entry(lab_json, "lmkd-race")
    assert e["real"]["outcome"] == {"hung_with_esrch": 0}  # -ESRCH: every thread passed futex cleanup
    configs = e["real"]["measured"]["configs"]
    assert list(configs) == ["killer-cpu", "other-cpu", "unpinned", "unpinned-busy", "other-cpu-1ms"]
    for c in configs.values():
        assert c["trials"] == 30
        assert c["hung"] + c["eownerdead"] == c["mrelease_ok"] + c["esrch"] + c["other"] == 30
        assert c["mappings_above_head"] > 10  # libc, ld.so, vdso, stack ... lie above the main thread's TLS
        assert 0 <= c["other_cpu_idle"] <= 1
    # /proc/PID/stat of the zombie says where the victim exited: pinned, where it was pinned
    assert configs["other-cpu"]["ran_other"] == configs["other-cpu-1ms"]["ran_other"] == 30
    assert configs["killer-cpu"]["ran_other"] == 0
    # the lab's busy loop keeps the other CPU from idling, so the unpinned victim stays beside the killer in most
    # trials (/proc/stat counts 10 ms ticks: a 30-trial row is some 30 of them, a tick either end is 3 % each);
    # a few still move: 0 - 2 of 30 in most runs, 3 and 4 in two full-suite runs on 2 December, as docs/races.md
    # says a moved victim's share varies from run to run with the host
    assert configs["unpinned-busy"]["ran_other"] <= 6
    assert configs["unpinned-busy"]["other_cpu_idle"] < 0.15
    idle = e["model"]["details"]["idle"]  # the model's unpinned rows take the share that moved
    assert idle["unpinned"] == round(configs["unpinned"]["ran_other"] / 30, 3) and idle["killer-cpu"] == 0
    # on the killer's CPU the woken victim preempts the killer and exits first; on the other CPU it cannot
    # have finished by the time the killer's next system call runs
    assert configs["killer-cpu"]["esrch"] > configs["other-cpu"]["esrch"]
    assert configs["other-cpu"]["esrch"] <= 2
    assert [f["fact"] for f in e["facts"]][1:] == [f"race.{p}.{k}" for p in configs for k in ("hung", "esrch")]
    build = Path(e["real"]["measured"]["build_dir"])
    assert build.name.startswith("oomtui-lab-lmkd-") and not build.exists()  # removed with the binary


@needs_lab
def test_lab_removes_its_groups(lab_json: dict) -> None:
    assert _leftovers(lab_json["pid"]) == []


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
    proc = _cli("lab", "mrelease", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "process_mrelease -> -1 (EINVAL)" in proc.stdout
    assert f"real kernel vs model: policy {policy_for_release(os.uname().release)}" in proc.stdout
    assert re.search(r"errno\.live\s+│ EINVAL\s+│ EINVAL\s+│ ✓", proc.stdout)
    assert "The model reproduces every fact of the real run." in proc.stdout


# --- safe as root (issue 10 section 5) ---------------------------------------------------------
def test_list_and_model_only_never_ask() -> None:
    # no terminal and no --yes: neither touches the machine, so neither asks
    assert _cli("lab", "--list").returncode == 0
    proc = _cli("lab", "--all", "--model-only", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [e["name"] for e in json.loads(proc.stdout)["experiments"]] == list(EXPERIMENTS)


def test_swap_without_swap_accounting_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A memcg at its limit swaps out freely where v1 does not account swap (no memory.memsw.*)."""
    swaps, memcg = tmp_path / "swaps", tmp_path / "memory"
    memcg.mkdir()
    swaps.write_text("Filename\tType\tSize\tUsed\tPriority\n/dev/vda2  partition\t1048572\t0\t-2\n")
    monkeypatch.setattr(cgroup, "PROC_SWAPS", swaps)
    monkeypatch.setattr(cgroup, "MEMCG_ROOT", memcg)
    with pytest.raises(UserError, match=r"it needs .*swap accounting for its memcg"):
        runner.main(_args("memcg-oom", "--yes"))
    with pytest.raises(RuntimeError, match="refusing to create a memcg"):
        cgroup.LabGroups("swap", 64).create()
    assert list(memcg.iterdir()) == []
    (memcg / "memory.memsw.limit_in_bytes").write_text("9223372036854771712\n")
    assert cgroup.swap_unaccounted() is None  # accounted: the memsw limit caps memory + swap
    (memcg / "memory.memsw.limit_in_bytes").unlink()
    swaps.write_text("Filename\tType\tSize\tUsed\tPriority\n")
    assert cgroup.swap_unaccounted() is None  # no swap at all


@needs_lab
def test_without_a_terminal_it_refuses_unless_yes() -> None:
    proc = _cli("lab", "memcg-oom")
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "add --yes" in proc.stderr


def _read_pty(fd: int, until: bytes | None, timeout: float = 30) -> str:
    """What the program wrote on the terminal, up to `until` (None: until it closed it)."""
    data = b""
    deadline = time.monotonic() + timeout
    while until is None or until not in data:
        left = deadline - time.monotonic()
        assert left > 0, f"waited for {until!r}, got {data!r}"
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side is closed
                chunk = b""
            if not chunk:
                break
            data += chunk
    return data.decode()


@needs_lab
@pytest.mark.parametrize("answer", ["n", "y"])
def test_asks_on_a_terminal_first(answer: str) -> None:
    """stdin and stderr on a terminal, stdout a pipe (as in `oomtui lab X --json > out.json`)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "oomtui.cli", "lab", "memcg-oom"], cwd=ROOT, stdin=slave,
                            stdout=subprocess.PIPE, stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        question = " ".join(_read_pty(master, b"Proceed? [y/N] ").split())
        assert "run 1 experiment" in question and "memcg-oom" in question and f"{PREFIX}{proc.pid}-NAME" in question
        assert _leftovers(proc.pid) == []  # nothing happens before the answer
        os.write(master, answer.encode() + b"\n")
        out, _ = proc.communicate(timeout=60)
        rest = _read_pty(master, None)
    finally:
        os.close(master)
    if answer == "n":
        assert proc.returncode == 2 and out == b"" and "not confirmed: nothing was done" in rest
    else:
        assert proc.returncode == 0 and b"The model reproduces every fact of the real run." in out
    assert _leftovers(proc.pid) == []


@needs_lab
@pytest.mark.parametrize("planted", ["symlink", "file"])
def test_the_mutex_page_has_no_name_to_plant(tmp_path: Path, planted: str) -> None:
    """The lab once wrote /dev/shm/oomtui-lab-<pid>-robust-thaw with a write that followed links (any local
    user could make root overwrite any file), then unlinked it: now the page is a memfd."""
    old_name = Path("/dev/shm") / f"{PREFIX}{os.getpid()}-robust-thaw"
    target = tmp_path / "precious"
    target.write_bytes(b"root's file")
    if planted == "symlink":
        old_name.symlink_to(target)
    else:
        old_name.write_bytes(b"someone's file")
    shm_before = sorted(os.listdir("/dev/shm"))
    try:
        trial = experiments.RobustFutexExperiment().trial(mrelease_first=False)
        assert trial.waiter_fate == "EOWNERDEAD"  # the experiment itself ran as before
        assert target.read_bytes() == b"root's file"
        if planted == "symlink":
            assert old_name.is_symlink() and os.readlink(old_name) == str(target)
        else:
            assert old_name.read_bytes() == b"someone's file"
        assert sorted(os.listdir("/dev/shm")) == shm_before
    finally:
        old_name.unlink(missing_ok=True)


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int(d.joinpath("stat").read_text().rpartition(")")[2].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            parents.setdefault(ppid, []).append(int(d.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _running(pids: list[int]) -> list[int]:
    """The pids that are still processes; a zombie is not (this VM's init reaps no orphans)."""
    return [p for p in pids if _state(p) not in (None, "Z")]


def _sees_eof(f, timeout: float = 2.0) -> bool:
    fd = f.fileno()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if select.select([fd], [], [], left)[0] and not os.read(fd, 65536):
            return True
    return False


@needs_lab
@pytest.mark.parametrize("experiment", ["frozen-victim", "clone-vm-frozen", "v2-frozen"])
def test_sigkilled_with_a_frozen_child_leaves_nothing_behind(experiment: str) -> None:
    """SIGKILL the lab while a child is frozen (v1; a CLONE_VM sibling the lab did not start itself; cgroup v2):
    its watchdog thaws, kills and removes the run's groups (it promises a second; the test allows two), and
    nothing holds the caller's stdout or stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "oomtui.cli", "lab", experiment, "--yes"], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    root = cgroup.unified_root() if experiment == "v2-frozen" else FREEZER_ROOT
    assert root is not None
    freezer = root / f"{PREFIX}{proc.pid}-{experiment}"
    deadline = time.monotonic() + 60
    while not _frozen(freezer):
        assert proc.poll() is None and time.monotonic() < deadline, "the lab never froze its victim"
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGSTOP)  # hold the lab there: its victim stays frozen until the kill
    run = _descendants(proc.pid)  # the watchdog and the experiment's children (and theirs)
    frozen = cgroup.members(freezer)
    assert _frozen(freezer) and frozen and set(frozen) <= set(run)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 2.0
    while (_leftovers(proc.pid) or _running(run)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _leftovers(proc.pid) == []
    assert _running(run) == []
    assert _sees_eof(proc.stdout) and _sees_eof(proc.stderr)


def _frozen(group: Path) -> bool:
    """v1: freezer.state says FROZEN; v2: cgroup.events says `frozen 1`."""
    for control, frozen in (("freezer.state", "FROZEN"), ("cgroup.events", "frozen 1")):
        try:
            return frozen in (group / control).read_text().splitlines()
        except FileNotFoundError:
            continue
    return False


@needs_lab
def test_cleanup_removes_only_groups_of_runs_that_are_gone() -> None:
    # a lab run that is gone: a zombie, as a lab SIGKILLed under a parent that never reaps it stays
    gone = subprocess.Popen(["true"])
    while _state(gone.pid) != "Z":
        time.sleep(0.001)
    dead = f"{PREFIX}{gone.pid}-test-cleanup"
    live = f"{PREFIX}{os.getpid()}-test-cleanup"  # this process: a run still going
    groups = [MEMCG_ROOT / dead, FREEZER_ROOT / dead, MEMCG_ROOT / live]
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        for g in groups:
            g.mkdir()
        write_control(MEMCG_ROOT / dead / "cgroup.procs", str(sleeper.pid))
        write_control(FREEZER_ROOT / dead / "cgroup.procs", str(sleeper.pid))
        write_control(FREEZER_ROOT / dead / "freezer.state", "FROZEN")
        refused = _cli("lab", "--cleanup")  # no terminal, no --yes
        assert refused.returncode == 2 and "add --yes" in refused.stderr
        assert all(g.exists() for g in groups) and sleeper.poll() is None
        done = _cli("lab", "--cleanup", "--yes")
        assert done.returncode == 0, done.stderr
        assert sleeper.wait(timeout=10) == -signal.SIGKILL  # thawed, then killed
        assert not (MEMCG_ROOT / dead).exists() and not (FREEZER_ROOT / dead).exists()
        assert f"removed {MEMCG_ROOT / dead}" in done.stdout
        assert (MEMCG_ROOT / live).exists()
    finally:
        sleeper.kill()
        cgroup.remove_groups([g for g in groups if g.exists()])
        sleeper.wait()
        gone.wait()


@needs_lab
def test_a_disagreement_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def model_says_outsider(name: str, release: str, measured: dict | None):
        m = run_model(name, release, measured)
        m.outcome["victim_role"] = "outsider"
        return m

    monkeypatch.setattr(runner, "run_model", model_says_outsider)
    assert runner.main(_args("memcg-oom", "--json", "--yes")) == 1
    (e,) = json.loads(capsys.readouterr().out)["experiments"]
    assert e["agree"] is False
    assert [(f["fact"], f["real"], f["model"]) for f in e["facts"] if not f["agree"]] == [
        ("victim_role", "hog", "outsider")
    ]
