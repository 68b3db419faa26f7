"""Honest feedback: an action's effect() says what a move did, from its events and the state after it, not what
was asked for ("kill -TERM 300" is not "killed loader" when loader has a SIGTERM handler)."""

from __future__ import annotations

import pytest

from oomtui.kernel.core import KernelError
from oomtui.scene import actions as A
from oomtui.scene.load import load_scene
from oomtui.scene.sim import Simulation
from tests.helpers import HEAD, sim as inline_sim


def said(s: Simulation, action: A.Action) -> str:
    return action.effect(s.apply(action), s.k)


def story(scene: str, at: int = 0) -> Simulation:
    s = Simulation(load_scene(scene))
    s.sidesteps = []  # feedback is about the model, not the game's rules
    s.advance(at)
    return s


INLINE = HEAD + """
[[cgroups]]
path = "/c"
freezer = "v1"

[[processes]]
pid = 100
comm = "app"
cgroup = "/c"
rss = "100 MiB"
handles_sigterm = {handler}
  [[processes.threads]]
  tid = 100
  [[processes.threads]]
  tid = 101

[[processes]]
pid = 200
comm = "other"
rss = "10 MiB"
"""


def inline(handler: str = "true", policy: str | None = None) -> Simulation:
    return inline_sim(INLINE.format(handler=handler), policy)


def test_sigterm_to_a_process_with_a_handler_says_it_keeps_running():
    s = story("sigterm-einval")
    text = said(s, A.Sigterm(pid=100))
    assert text == "SIGTERM to app 100: it has a handler and keeps running"
    assert not s.k.pids[100].group_exit  # and the model agrees: no SIGNAL_GROUP_EXIT


def test_sigterm_without_a_handler_is_fatal():
    s = inline("false")
    assert said(s, A.Sigterm(pid=100)) == "SIGTERM to app 100: no handler, fatal: dying"
    assert s.k.pids[100].group_exit


def test_sigkill_says_dying_and_names_what_cannot_exit_yet():
    assert said(story("first-oom"), A.Kill(pid=100)) == "SIGKILL to db 100: dying"
    s = story("sigterm-einval")
    assert said(s, A.Kill(pid=100)) == "SIGKILL to app 100: dying; thread 101 in D state: exits when the sleep ends"
    s.advance(1)
    assert said(s, A.Kill(pid=100)).startswith("SIGKILL to app 100: already dying")
    s = inline()
    s.apply(A.Freeze(cgroup="/c"))
    assert said(s, A.Kill(pid=100)) == "SIGKILL to app 100: dying; threads 100, 101 frozen (v1): cannot exit until thawed"


def test_sigkill_to_an_exited_process():
    s = inline()
    s.apply(A.Kill(pid=200))
    s.advance(25)
    assert said(s, A.Kill(pid=200)) == "SIGKILL to other 200: it has already exited, nothing to signal"


def test_oom_score_adj_says_old_and_new_values():
    s = story("first-oom")
    assert said(s, A.SetAdj(pid=100, value=-500)) == "oom_score_adj of db 100: 0 → -500"
    s.advance(1)
    assert said(s, A.SetAdj(pid=100, value=300)) == "oom_score_adj of db 100: -500 → 300"
    assert said(story("lmkd-player"), A.SetAdj(pid=100, value=0)) == "oom_score_adj of app 100: 900 → 0"


def test_oom_score_adj_of_an_mm_sharer_names_the_other_process():
    # __set_oom_adj(): every process sharing the mm gets the value (5.x+)
    text = said(story("shared-mm-frozen"), A.SetAdj(pid=150, value=-100))
    assert text == "oom_score_adj of app 150: 0 → -100; also launcher 100 (shares its mm)"


def test_freeze_and_thaw_say_the_freezer_state_and_who_now_exits():
    s = inline()
    assert said(s, A.Freeze(cgroup="/c")) == "freeze /c: FROZEN"
    s.apply(A.Kill(pid=100))
    assert said(s, A.Thaw(cgroup="/c")) == "thaw /c: THAWED; app 100 now exits (SIGKILL was pending)"


def test_freeze_with_a_d_state_thread_is_freezing():
    # freeze_task(): a task in uninterruptible sleep freezes only on its way back to user space
    s = inline_sim(INLINE.format(handler="true").replace("  tid = 101", '  tid = 101\n  state = "D"\n  d_for = "1s"'))
    assert said(s, A.Freeze(cgroup="/c")) == "freeze /c: FREEZING; thread 101 in D state: freezes when the sleep ends"


def test_oom_says_who_was_killed_or_why_it_aborted():
    assert said(story("first-oom"), A.Oom()) == "OOM: killed db 100"
    s = inline(policy="linux-5.18")  # before 6.18 mark_oom_victim() thaws only the thread it marks
    s.apply(A.Freeze(cgroup="/c"))
    assert said(s, A.Oom(cgroup="/c")) == "memcg OOM in /c: killed app 100; mark_oom_victim() thawed thread 100"
    # app is frozen: a pending victim without MMF_OOM_SKIP aborts every later memcg OOM in /c
    assert said(s, A.Oom(cgroup="/c")) == "memcg OOM in /c: aborted, blocked by pending victim 100 (app)"
    # out_of_memory() reports one abort per blocker: the next one has no event, the text is the same
    assert said(s, A.Oom(cgroup="/c")) == "memcg OOM in /c: aborted, blocked by pending victim 100 (app)"


def test_oom_on_an_already_dying_victim_is_a_shortcut_or_thaws_a_thread():
    s = story("shared-mm-frozen", 666)  # app was killed at 2644 ms and exited; frozen launcher shares its mm
    assert said(s, A.Oom()) == "OOM: launcher 100 is already dying: marked as a victim, nothing new killed"
    s = story("frozen-android-app", 599)  # before 6.18 a second kill thaws the next thread of the victim
    assert said(s, A.Oom()) == "OOM: killed app 100; mark_oom_victim() thawed thread 101"


def test_process_mrelease_says_einval_or_that_it_reaps():
    s = story("sigterm-einval")
    text = said(s, A.Mrelease(pid=100))
    assert text.startswith("process_mrelease(app 100) = -1 EINVAL: not dying")
    s.apply(A.Kill(pid=100))
    assert said(s, A.Mrelease(pid=100)) == "process_mrelease(app 100): reaping in the caller's context"
    s.advance(50)
    assert said(s, A.Mrelease(pid=100)).startswith("process_mrelease(app 100) = 0")


def test_unlock_says_who_got_the_mutex_and_refuses_an_unlocked_one():
    s = story("futex-race-2022")
    assert said(s, A.Unlock(futex="M")) == "unlock M: waiter 200 acquired it"
    assert said(s, A.Unlock(futex="M")) == "unlock M: free now, nobody was waiting"  # client 200 unlocks in turn
    with pytest.raises(KernelError, match="not locked"):
        s.apply(A.Unlock(futex="M"))


def test_policy_switch_names_the_rule():
    text = said(story("futex-race-2022"), A.SetPolicy(policy="linux-5.18"))
    assert text.startswith("kernel policy now linux-5.18 (2 s delay for every victim)")


def test_a_move_says_what_it_thawed_and_what_stayed_charged():
    s = story("v1-split-freezer")
    assert said(s, A.Move(pid=100, cgroup="/thawed")) == "camera 100 now in /thawed (freezer hierarchy): thawed"
    assert said(s, A.Move(pid=100, cgroup="/frozen")).endswith(": its threads freeze")
    s = story("moved-charges")
    assert said(s, A.Move(pid=100, cgroup="/apps")) == (
        "indexer 100 now in /apps (memory hierarchy); 900 MiB stay charged to the memcg it left")
