"""A win needs the lesson: each story scene declares the moves that would win without it ([[sidesteps]]),
each declared sidestep is a real win-without-the-lesson that is now refused or forfeited, and the
walkthrough never trips one. Plus the schema checks of [[sidesteps]], which name file, key and line."""

from __future__ import annotations

import pytest

from oomtui.kernel.policy import POLICIES
from oomtui.scene import actions as A
from oomtui.scene.goals import FORFEIT_TEXT, evaluate
from oomtui.scene.load import SceneError, load_scene
from oomtui.scene.sidesteps import Sidestep, SidestepRefused
from oomtui.scene.sim import Simulation
from tests.helpers import sim as inline_sim
from tests.scenes.test_story import STORY

SIDESTEPS = [(scene, i) for scene in STORY for i in range(len(load_scene(scene).scene.sidesteps))]


def _first_oom(scene: str) -> int:
    """The jiffy of the first OOM kill when the player does nothing."""
    s = Simulation(load_scene(scene))
    s.run()
    return s.oom_at() or 0


def _candidates(s: Simulation, side: Sidestep) -> list[A.Action]:
    """Concrete moves the sidestep's pattern covers (a left-out key: every target in the scene)."""
    k = s.k
    pids = [side.pid] if side.pid is not None else list(k.pids)
    if side.do == "oom":
        return [A.Oom(cgroup=c) for c in ([side.cgroup] if side.cgroup else [None, *k.cgroups])]
    if side.do in ("kill", "sigterm", "mrelease"):
        cls = {"kill": A.Kill, "sigterm": A.Sigterm, "mrelease": A.Mrelease}[side.do]
        return [cls(pid=p) for p in pids]
    if side.do == "set_adj":
        values = [side.value] if side.value is not None else [-1000, -997, -500, -1, 1, 500, 1000]
        return [A.SetAdj(pid=p, value=v) for p in pids for v in values]
    if side.do in ("freeze", "thaw"):
        cls = A.Freeze if side.do == "freeze" else A.Thaw
        return [cls(cgroup=c) for c in ([side.cgroup] if side.cgroup else [c for c in k.cgroups if c != "/"])]
    if side.do == "policy":
        return [A.SetPolicy(policy=p) for p in ([side.policy] if side.policy else POLICIES)]
    return [A.Unlock(futex=f) for f in ([side.futex] if side.futex else k.futexes)]


Plan = list[tuple[int, A.Action]]  # (jiffy, move)


def _run(scene: str, plan: Plan, *, enforce: bool) -> tuple[Simulation, object]:
    s = Simulation(load_scene(scene))
    if not enforce:
        s.sidesteps = []
    for at, move in plan:
        s.advance(max(0, at - s.k.jiffies))
        s.apply(move)
    return s, evaluate(s, s.run(), others=False)


def _play(scene: str, at: int, move: A.Action, *, enforce: bool) -> tuple[Simulation, object]:
    return _run(scene, [(at, move)], enforce=enforce)


# Sidesteps that win only together with other moves (found by the pair and triple search): the
# plan, in jiffies at HZ=250. Every other declared sidestep wins as a single move (found below).
COMBOS: dict[tuple[str, int], Plan] = {
    # client becomes the OOM victim just before the OOM (a dead waiter cannot hang), then loader is
    # killed by hand, so there is no second victim
    ("futex-race-2022", 6): [(596, A.SetAdj(pid=200, value=1000)), (621, A.Kill(pid=300))],
    # a reaper that frees the frozen victim at once, and client never hangs on the frozen worker's M
    ("frozen-android-app", 2): [(125, A.Unlock(futex="M")), (125, A.SetPolicy(policy="reap-frozen"))],
    ("frozen-android-app", 3): [(596, A.SetPolicy(policy="linux-4.6")), (621, A.Kill(pid=200))],
    # app killed by hand: launcher gets no SIGKILL, so the next OOM takes launcher itself (6.18 thaws it)
    ("shared-mm-frozen", 4): [(125, A.Kill(pid=150)), (150, A.Oom())],
    # unlock M, then kill and process_mrelease at once: no futex left to race on
    ("lmkd-player", 0): [(125, A.Unlock(futex="M")), (250, A.Kill(pid=100)), (250, A.Mrelease(pid=100))],
    # kill client too, then process_mrelease at once: no waiter left to hang
    ("lmkd-player", 1): [(250, A.Kill(pid=100)), (250, A.Kill(pid=200)), (250, A.Mrelease(pid=100))],
    # 5.18 reaps the heap first: process_mrelease at once no longer hits the worker's stack
    ("lmkd-player", 2): [(125, A.SetPolicy(policy="linux-5.18")), (250, A.Kill(pid=100)), (250, A.Mrelease(pid=100))],
    # 4.6's immediate reaper after a sysrq-f, D-state thread or not
    ("sigterm-einval", 0): [(125, A.SetPolicy(policy="linux-4.6")), (250, A.Oom())],
    # the player's own early OOM, then a second one thaws app's other thread before loader allocates
    ("livelock-if-unreaped", 4): [(0, A.Oom()), (25, A.Oom())],
}


def witness(scene: str, side: Sidestep) -> Plan:
    """A play whose move inside the sidestep's pattern and window wins when the scene does not declare it."""
    if (scene, side.index) in COMBOS:
        return COMBOS[scene, side.index]
    s = Simulation(load_scene(scene))
    hz, oom = s.k.hz, _first_oom(scene)
    times = [hz // 2, hz, 2 * hz, oom - 1, oom, oom + 1, oom + 5, oom + 25]
    for at in sorted({t for t in times if t >= 0}):
        for move in _candidates(s, side):
            probe = Simulation(load_scene(scene))
            probe.advance(at)
            if probe.sidestep(move) != side:
                continue  # outside this sidestep's window (or an earlier one matches first)
            try:
                _, result = _play(scene, at, move, enforce=False)
            except ValueError:  # KernelError: not possible then (target gone)
                continue
            if result.won:
                return [(at, move)]
    raise AssertionError(f"{scene}: sidesteps[{side.index}] ({side.do}) matches no winning move: drop it")


# ------------------------------------------------------------------------------ story scenes
@pytest.mark.parametrize("scene", STORY)
def test_the_walkthrough_wins_without_tripping_a_sidestep(scene):
    s = Simulation(load_scene(scene))
    s.autoplay()  # every step goes through apply()'s sidestep check as the player's move
    result = evaluate(s, s.run(), others=False)
    assert result.won and not s.forfeits and not result.forfeits
    assert all(g.text != FORFEIT_TEXT for g in result.goals)


@pytest.mark.parametrize("scene", STORY)
def test_every_story_scene_documents_its_sidestep_review(scene):
    """The decisions (sidestep or fair alternative) are written down in the scene file."""
    ls = load_scene(scene)
    assert "# Sidesteps:" in ls.text
    if ls.scene.game.par > 0:
        assert ls.scene.sidesteps, "a scene that asks for a move declares the moves that skip its lesson"


@pytest.mark.parametrize("scene,index", SIDESTEPS)
def test_a_declared_sidestep_is_a_real_win_that_no_longer_wins(scene, index):
    side = Simulation(load_scene(scene)).sidesteps[index]
    plan = witness(scene, side)
    _, free = _run(scene, plan, enforce=False)
    assert free.won  # undeclared, the play wins: the declaration is not dead weight
    s = Simulation(load_scene(scene))
    hits = 0
    for at, move in plan:
        s.advance(max(0, at - s.k.jiffies))
        if s.sidestep(move) != side:
            s.apply(move)
            continue
        hits += 1
        if side.refused:
            before = (len(s.k.events), s.k.jiffies, len(s.played))
            with pytest.raises(SidestepRefused) as e:
                s.apply(move)
            assert e.value.sidestep == side and side.reason in str(e.value)
            assert (len(s.k.events), s.k.jiffies, len(s.played)) == before  # nothing applied, no move counted
        else:
            s.apply(move)
    assert hits == 1
    result = evaluate(s, s.run())
    assert not result.won
    if side.refused:
        assert not result.forfeits  # the rest of the play, without the refused move, loses
    else:
        assert all(g.met for g in result.goals[:-1])  # the goals were met: it is the win that is forfeited
        assert result.score == 0 and result.saved_by == []
        assert [f.reason for f in result.forfeits] == [side.reason]
        assert result.goals[-1].text == FORFEIT_TEXT and side.reason in result.goals[-1].detail


def test_frozen_android_app_thaw_before_the_oom_is_refused_and_after_the_kill_is_fair():
    scene = "frozen-android-app"
    with pytest.raises(SidestepRefused, match="before the OOM"):
        _play(scene, 250, A.Thaw(cgroup="/cached"), enforce=True)
    # in the jiffy of the kill the kernel's OOM came first (deterministic order): the thaw is after it
    s, result = _play(scene, _first_oom(scene), A.Thaw(cgroup="/cached"), enforce=True)
    assert result.won and not s.forfeits


def test_futex_race_unlock_is_refused_and_the_policy_switch_wins():
    with pytest.raises(SidestepRefused, match="unlocking M"):
        _play("futex-race-2022", 250, A.Unlock(futex="M"), enforce=True)
    _, result = _play("futex-race-2022", 250, A.SetPolicy(policy="never-reap-robust"), enforce=True)
    assert result.won  # any policy with the 2 s delay is the lesson


def test_set_adj_bounds_match_only_values_inside():
    s = Simulation(load_scene("futex-race-2022"))
    assert s.sidestep(A.SetAdj(pid=100, value=-500)) is not None
    assert s.sidestep(A.SetAdj(pid=100, value=500)) is None  # app stays the victim: no sidestep
    assert s.sidestep(A.SetAdj(pid=300, value=1000)) is not None
    assert s.sidestep(A.SetAdj(pid=300, value=-1000)) is None


def test_an_oom_window_closes_at_the_first_kill():
    s = Simulation(load_scene("first-oom"))
    assert s.oom_at() is None and s.sidestep(A.Kill(pid=300)) is not None
    s.run()
    assert s.oom_at() is not None
    assert s.sidestep(A.Kill(pid=300)) is None  # after the OOM: killing loader is just a kill


def test_window_text_says_when_a_sidestep_applies():
    s = Simulation(load_scene("frozen-android-app"))
    hz = s.k.hz
    assert [x.window_text(hz) for x in s.sidesteps] == [
        "before the first OOM kill", "from the first OOM kill", "at any time", "at any time"]
    assert Sidestep(index=0, do="kill", reason="r", after=hz, before=2 * hz).window_text(hz) == \
        "from 1000 ms before 2000 ms"


def test_scripted_actions_are_never_sidesteps():
    """The scene's own [[actions]] are part of the scene: only a player's move is judged."""
    s = inline_sim(BASE.replace('at = "1s"', 'at = "3s"') + """
[[actions]]
at = "1s"
do = "kill"
pid = 100

[[sidesteps]]
do = "kill"
reason = "by hand"
""")
    s.run()
    assert s.k.pids[100].exited_at is not None and not s.forfeits and s.played == []
    with pytest.raises(SidestepRefused):
        s.apply(A.Kill(pid=100))  # the same move by the player is refused


# ------------------------------------------------------------------------------ schema
BASE = """
title = "t"
story = "s"
ram = "1 GiB"

[[cgroups]]
path = "/c"
freezer = "v1"

[[processes]]
pid = 100
comm = "a"
cgroup = "/c"
rss = "10 MiB"

[[walkthrough]]
at = "1s"
caption = "thaw"
do = "thaw"
cgroup = "/c"
"""


def error_for(tmp_path, extra: str) -> SceneError:
    f = tmp_path / "bad.toml"
    f.write_text(BASE + extra)
    with pytest.raises(SceneError) as e:
        Simulation(load_scene(str(f)))
    assert e.value.file == str(f)
    return e.value


def test_an_unknown_sidestep_key_is_named_with_its_line(tmp_path):
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "kill"\npid = 100\nreson = "x"\n')
    assert e.path == "sidesteps[0].reson" and "did you mean 'reason'" in str(e)
    assert e.line == BASE.count("\n") + 5


def test_a_bad_do_is_named(tmp_path):
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "explode"\nreason = "x"\n')
    assert e.path == "sidesteps[0].do" and "'explode'" in str(e)


def test_a_sidestep_needs_a_reason(tmp_path):
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "kill"\npid = 100\n')
    assert "missing required key 'reason'" in str(e)


def test_a_key_that_does_not_apply_to_do_is_named(tmp_path):
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "kill"\nfutex = "M"\nreason = "x"\n')
    assert e.path == "sidesteps[0].futex" and 'does not apply to do = "kill"' in str(e)


def test_a_sidestep_target_must_exist(tmp_path):
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "kill"\npid = 999\nreason = "x"\n')
    assert e.path == "sidesteps[0].pid" and "no process with pid 999" in str(e)
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "policy"\npolicy = "linux-9"\nreason = "x"\n')
    assert e.path == "sidesteps[0].policy" and "unknown policy" in str(e)


def test_a_freezer_sidestep_needs_a_cgroup_with_a_freezer(tmp_path):
    nofreezer = '\n[[cgroups]]\npath = "/plain"\n'
    for do in ("freeze", "thaw"):
        e = error_for(tmp_path, nofreezer + f'\n[[sidesteps]]\ndo = "{do}"\ncgroup = "/plain"\nreason = "x"\n')
        assert e.path == "sidesteps[0].cgroup" and "has no freezer" in str(e)
    f = tmp_path / "ok.toml"  # a move or a memcg OOM there needs no freezer
    f.write_text(BASE + nofreezer + '\n[[sidesteps]]\ndo = "move"\ncgroup = "/plain"\nreason = "x"\n'
                 '\n[[sidesteps]]\ndo = "oom"\ncgroup = "/plain"\nreason = "x"\n')
    assert [s.do for s in Simulation(load_scene(str(f))).sidesteps] == ["move", "oom"]


def test_a_bad_window_bound_says_oom_is_allowed(tmp_path):
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "kill"\nbefore = "soon"\nreason = "x"\n')
    assert e.path == "sidesteps[0].before" and '"oom"' in str(e)
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "kill"\nafter = "2s"\nbefore = "1s"\nreason = "x"\n')
    assert e.path == "sidesteps[0].after" and "empty" in str(e)


def test_a_walkthrough_that_matches_its_own_sidestep_is_an_error(tmp_path):
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "thaw"\ncgroup = "/c"\nreason = "skips it"\n')
    assert e.path == "sidesteps[0]" and "walkthrough[0]" in str(e)
    assert e.line == BASE.count("\n") + 2  # the [[sidesteps]] header
    # an "oom" bound is unknown at load time: it counts as possibly covering the step
    e = error_for(tmp_path, '\n[[sidesteps]]\ndo = "thaw"\nbefore = "oom"\nreason = "skips it"\n')
    assert "walkthrough[0]" in str(e)


def test_a_sidestep_outside_the_walkthrough_time_loads(tmp_path):
    f = tmp_path / "ok.toml"
    f.write_text(BASE + '\n[[sidesteps]]\ndo = "thaw"\ncgroup = "/c"\nbefore = "500ms"\nreason = "too early"\n'
                 '\n[[sidesteps]]\ndo = "set_adj"\npid = 100\nvalue_max = -1\nreason = "protects a"\n')
    s = Simulation(load_scene(str(f)))
    assert [x.do for x in s.sidesteps] == ["thaw", "set_adj"]
    assert s.sidesteps[0].before == s.k.hz // 2 and s.sidesteps[1].before is None


def test_refused_and_forfeit_on_an_inline_scene():
    s = inline_sim(BASE.replace('at = "1s"', 'at = "3s"') + """
[[sidesteps]]
do = "thaw"
before = "2s"
reason = "too early"

[[sidesteps]]
do = "kill"
verdict = "forfeit"
reason = "by hand"
""")
    with pytest.raises(SidestepRefused, match="refused: thaw /c: too early"):
        s.apply(A.Thaw(cgroup="/c"))
    assert s.played == [] and not s.forfeits
    s.apply(A.Kill(pid=100))
    assert len(s.played) == 1 and [x.reason for _, _, x in s.forfeits] == ["by hand"]
    s.advance(2 * s.k.hz)
    assert s.sidestep(A.Thaw(cgroup="/c")) is None  # the window is over
