"""Race trials: the sub-jiffy model (kernel/sched.py) and its counts (scene/trials.py)."""

from __future__ import annotations

import json

import msgspec
import pytest

from oomtui.cli import main
from oomtui.kernel import events as ev
from oomtui.kernel.sched import RaceParams, Races
from oomtui.lab.model import frozen_victim_scene, lmkd_scene
from oomtui.scene.actions import Kill, Mrelease
from oomtui.scene.load import load_scene, loads
from oomtui.scene.sim import Simulation
from oomtui.scene.trials import run_trials, wilson

from ..helpers import loaded


def counts(text: str, trials: int = 200, seed: int = 0, params: RaceParams | None = None) -> dict[str, int]:
    """hung / eownerdead / ESRCH / reaped counts over `trials` trials (params: a changed model)."""
    ls = loads(text, "t.toml")
    out = {"hung": 0, "eownerdead": 0, "ESRCH": 0, "0": 0, "hung_with_ESRCH": 0}
    for i in range(trials):
        sim = Simulation(ls, race_seed=seed * 1000 + i)
        if params is not None:
            sim.k.race.p = params
        o = sim.run()
        fate = o.waiter(200).outcome
        call = next(s for s in o.syscalls if s.name == "process_mrelease")
        result = call.errno or "0"
        out[fate] = out.get(fate, 0) + 1
        out[result] = out.get(result, 0) + 1
        out["hung_with_ESRCH"] += fate == "hung" and result == "ESRCH"
    return out


# ------------------------------------------------------------------ the mechanisms of 11.7
def test_the_wake_up_on_the_killers_cpu_preempts_it_and_process_mrelease_finds_no_mm():
    always = RaceParams(preempt=1.0)
    c = counts(lmkd_scene(0), 50, params=always)
    assert c["ESRCH"] == 50 and c["hung"] == 0  # every thread passed exit_mm before the call
    never = RaceParams(preempt=0.0)
    c = counts(lmkd_scene(0), 50, params=never)
    assert c["ESRCH"] == 0 and c["hung"] > 25  # the killer walks down to the TLS while the victim waits


def test_on_another_cpu_the_main_thread_loses_in_a_fraction_and_never_with_esrch():
    c = counts(lmkd_scene(1), 400)
    assert 0 < c["hung"] < 400 and c["ESRCH"] == 0
    c = counts(lmkd_scene(None), 400)
    assert c["hung_with_ESRCH"] == 0 and c["ESRCH"] > 0 and c["hung"] > 0


def test_an_unpinned_victim_moves_to_the_other_cpu_only_when_it_is_idle():
    """select_idle_sibling(): beside a busy other CPU the victim stays on the killer's CPU and preempts
    it (-ESRCH); when the other CPU is idle it runs there, never before process_mrelease."""
    busy = counts(lmkd_scene(None, idle=0.0), 300)
    assert busy["ESRCH"] > 250 and busy["hung"] < 40
    idle = counts(lmkd_scene(None, idle=1.0), 300)
    assert idle["ESRCH"] == 0 and idle["hung"] > 0


def test_a_victim_moved_to_a_long_idle_cpu_wakes_slower_than_one_that_ran_there():
    """The moved wake-up reaches a CPU that ran none of its work: on an idle machine the waiter hangs
    more often than with the victim pinned to that CPU; the less that CPU idles, the sooner it wakes."""
    assert counts(lmkd_scene(None, idle=1.0), 300)["hung"] > 2 * counts(lmkd_scene(1), 300)["hung"]

    def median_us(idle: float) -> float:
        r = Races(1000, 0, 2, {}, 50, idle)
        return sorted(r.moved_wake_us() for _ in range(301))[150]

    assert median_us(0.3) < median_us(0.7) < median_us(1.0)


def test_how_many_mappings_lie_above_the_robust_list_head_decides_the_race():
    shallow = counts(lmkd_scene(1), 300, params=RaceParams(mappings_above_tls=0))
    deep = counts(lmkd_scene(1), 300, params=RaceParams(mappings_above_tls=60))
    assert shallow["hung"] > 250 and deep["hung"] < shallow["hung"] // 3


def test_a_delay_between_kill_and_process_mrelease_narrows_the_race():
    at_once = counts(lmkd_scene(1), 400)
    later = counts(lmkd_scene(1, delay_us=20_000), 400)
    assert later["hung"] < at_once["hung"] // 2 and later["ESRCH"] > 300


def test_before_6_18_the_forward_walk_reaches_the_heap_first():
    idle = RaceParams(busy=0.0)  # the other CPU always idle: only the fast wake-up races
    assert counts(lmkd_scene(1), 300, params=idle)["hung"] > 0
    assert counts(lmkd_scene(1, policy="linux-5.18"), 300, params=idle)["hung"] == 0


def test_the_oom_reaper_woken_at_kill_time_races_the_victim_before_5_18():
    """kernel-model.md 10 S1: 4.6-5.17 wake the oom_reaper at once; 5.18+ wait 2 s."""
    text = lmkd_scene(None)
    text = text[:text.index("[[actions]]")] + '[[actions]]\nat = "1s"\ndo = "oom"\n'  # sysrq-f: app dies

    def hung(policy: str) -> int:
        d = run_trials(loads(text, "t.toml"), 300, 0, policy=policy)
        assert [s.value for s in d.victims] == ["owner (100)"]
        return next((s.count for s in d.waiters[0].outcomes if s.value == "hung"), 0)

    assert 0 < hung("linux-4.6") < 150
    assert hung("linux-5.18") == 0


def test_the_starved_worker_of_lmkd_player_hangs_when_released_at_its_20_ms_and_not_after():
    ls = load_scene("lmkd-player")

    def hung(delay_jiffies: int) -> int:
        d = run_trials(ls, 100, 0, moves=[(250, Kill(pid=100)), (250 + delay_jiffies, Mrelease(pid=100))])
        return next((s.count for s in d.waiters[0].outcomes if s.value == "hung"), 0)

    assert hung(0) == 100 and hung(4) == 100  # 16 ms: it still cannot run
    assert 0 < hung(5) < 100  # 20 ms: who gets there first
    assert hung(10) == 0


def test_the_allocator_is_killed_too_when_the_victim_drops_out_of_the_memcg_scan():
    """lab frozen-victim: the dying victim is invisible to the memcg walk while its last thread still
    unmaps (css_task_iter skips a dying leader without live threads), or after MMF_OOM_SKIP with its
    last pages still gathered: the trigger, retrying, is killed as well in some trials."""
    ls = loads(frozen_victim_scene(), "fv.toml")
    assert [k.pid for k in Simulation(ls).run().kills if k.reason == "oom"] == [100]  # deterministic: never
    d = run_trials(ls, 100, 0)
    both = next(s.count for s in d.victims if s.value == "lab-victim (100), lab-trigger (200)")
    assert 10 < both < 90


def test_exit_mmap_sets_mmf_oom_skip_before_its_last_gathered_pages_are_uncharged():
    lab = loads(frozen_victim_scene(), "fv.toml")

    def usage(race_seed):
        """The memcg's usage when the victim's mm got MMF_OOM_SKIP, and when exit_mmap was done."""
        sim = Simulation(lab, race_seed=race_seed)
        k, memcg, mm = sim.k, sim.k.cgroups["/lab"], sim.k.pids[100].init_mm
        seen = []

        def set_mm_flag(m, flag, set_mm_flag=k.set_mm_flag):
            if m is mm and flag == "MMF_OOM_SKIP":
                seen.append(memcg.usage)
            set_mm_flag(m, flag)

        def emit(e, emit=k.emit):
            if isinstance(e, ev.ExitMmap) and e.phase == "done":
                seen.append(memcg.usage)
            emit(e)

        k.set_mm_flag = set_mm_flag
        k.emit = emit
        sim.run()
        return seen[:2]

    at_skip, at_done = usage(None)
    assert at_skip == at_done  # whole jiffies: set, then uncharged at once
    gaps = [a - b for a, b in map(usage, range(5))]
    assert max(gaps) > 0  # the last gather batches were still charged when MMF_OOM_SKIP appeared


# ------------------------------------------------------------------ the counts
def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson(0, 10)
    assert low == 0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    low, high = wilson(31, 200)
    assert (low, high) == (pytest.approx(0.1113, abs=1e-4), pytest.approx(0.2116, abs=1e-4))


def test_trials_are_deterministic_for_a_seed_and_differ_between_seeds():
    ls = loads(lmkd_scene(None), "t.toml")
    a = msgspec.json.encode(run_trials(ls, 60, 7))
    assert a == msgspec.json.encode(run_trials(ls, 60, 7))
    assert a != msgspec.json.encode(run_trials(ls, 60, 8))


def test_a_scene_without_races_is_the_deterministic_model_in_every_run():
    sim = Simulation(loads(lmkd_scene(None, killer=None), "t.toml"))
    assert sim.k.race is None
    assert Simulation(loads(lmkd_scene(None, killer=None), "t.toml"), race_seed=3).k.race is not None


# ------------------------------------------------------------------ scene keys
@pytest.mark.parametrize("cpu, where, needle", [
    (2, "processes[2].threads[0].cpu", "CPU 2 does not exist: the machine has cpus = 2"),
    (-1, "processes[2].threads[0].cpu", ">= 0"),
])
def test_a_bad_cpu_is_refused_with_its_key_path(cpu, where, needle):
    from oomtui.errors import UserError

    with pytest.raises(UserError) as e:
        Simulation(loaded(lmkd_scene(cpu)))
    assert where in str(e.value) and needle in str(e.value)


def test_an_unknown_killer_is_refused():
    from oomtui.errors import UserError

    with pytest.raises(UserError, match=r"test.toml:10: no thread with tid 77 at races.killer"):
        Simulation(loaded(lmkd_scene(None, killer=77)))


# ------------------------------------------------------------------ the command line
def test_run_trials_json_has_the_documented_shape(capsys, tmp_path):
    f = tmp_path / "lmkd.toml"
    f.write_text(lmkd_scene(None))
    assert main(["run", str(f), "--trials", "40", "--seed", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {"scene", "title", "policy", "kernel", "trials", "seed", "confidence", "cpus", "killer", "pinned",
            "moves", "waiters", "mrelease", "victims", "robust_list_lost"} <= set(d)
    assert d["trials"] == 40 and d["seed"] == 2 and d["killer"] == 50 and d["pinned"] == {"50": 0}
    (w,) = d["waiters"]
    assert (w["futex"], w["tid"]) == ("M", 200)
    assert sum(s["count"] for s in w["outcomes"]) == 40
    for s in w["outcomes"]:
        assert s["low"] <= s["share"] <= s["high"] and s["share"] == s["count"] / 40
    assert [c["call"] for c in d["mrelease"]] == [1]


def test_a_scene_that_opts_in_shows_its_trials_after_the_deterministic_run(capsys):
    assert main(["run", "lmkd-player", "--autoplay", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["waiters"][0]["outcome"] == "eownerdead" and d["game"]["won"]  # the deterministic run, as before
    races = d["races"]
    assert (races["trials"], races["killer"], races["moves"]) == (200, 50, "autoplay")
    assert races["waiters"][0]["outcomes"][0] == {"value": "eownerdead", "count": 200, "share": 1.0,
                                                  "low": pytest.approx(0.9812, abs=1e-4), "high": 1.0}
    assert main(["run", "lmkd-player"]) == 0
    out = capsys.readouterr().out
    assert out.index("Goals") < out.index("Race trials") and "blocked  200 of 200" in out


def test_compare_trials_runs_every_policy(capsys):
    assert main(["compare", "lmkd-mrelease", "--trials", "20", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    fates = {p["policy"]: p["waiters"][0]["outcomes"][0]["value"] for p in d["policies"]}
    assert fates["linux-6.18"] == "hung" and fates["linux-5.18"] == "eownerdead"


@pytest.mark.parametrize("args, needle", [
    (["run", "lmkd-mrelease", "--trials", "0"], "--trials: expected 1..100000, got 0"),
    (["run", "lmkd-mrelease", "--seed", "3"], "--seed: only with --trials N"),
    (["run", "lmkd-mrelease", "--trials", "5", "--seed", "-1"], "--seed: expected 0 or more"),
    (["compare", "lmkd-mrelease", "--seed", "3"], "--seed: only with --trials N"),
])
def test_bad_trial_arguments_exit_2_with_one_line(args, needle, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


# ------------------------------------------------------------------ the result screen
async def test_the_result_screen_of_a_race_scene_shows_the_trials_of_the_moves_played(tmp_path, monkeypatch):
    from oomtui.tui.app import make_app
    from oomtui.tui.screens.game import ResultScreen

    monkeypatch.setenv("HOME", str(tmp_path))  # best scores go there
    app = make_app("lmkd-player", paused=True, teach=False)
    async with app.run_test(size=(110, 48)) as pilot:
        app.advance(250)
        app.apply_action(Kill(pid=100))
        app.advance(5)  # 20 ms: the starved worker reaches its robust list just as the walk does
        app.apply_action(Mrelease(pid=100))
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen) and app.screen.result.won  # judged on one run
        text = app.screen.body().plain
        assert "The same moves, 200 times" in text
        import re

        m = re.search(r"waiter 200 \(futex M\) hung in (\d+) of 200 trials \(([\d.]+) %, 95 % CI ([\d.]+)-([\d.]+) %\)",
                      text)
        hung, share, low, high = int(m[1]), float(m[2]), float(m[3]), float(m[4])
        assert 0 < hung < 200 and share == hung / 2 and low < share < high
