"""The sequencer and the teach texts, without Textual: briefing, walkthrough steps, holds, caption
reading time and teach-mode stops at kernel decisions."""

from __future__ import annotations

import sys

import pytest

from oomtui.kernel import events as ev
from oomtui.scene.load import load_scene
from oomtui.tui import teach
from oomtui.tui.engine import Engine
from oomtui.tui.sequencer import BRIEFING, CARD, HOLD, READING, Sequencer


def engine(scene: str = "first-oom", **kw) -> Engine:
    return Engine(load_scene(scene), **kw)


def test_the_sequencer_imports_no_textual():
    import subprocess

    code = "import sys, oomtui.tui.sequencer; print(any(m.startswith(('textual', 'rich')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_briefing_holds_the_clock_at_zero_until_go_on():
    e = engine()
    s = Sequencer(e, briefing=True)
    assert s.waiting == BRIEFING
    assert s.advance(500) == [] and e.k.jiffies == 0
    assert s.go_on() == BRIEFING and s.waiting is None
    s.advance(10)
    assert e.k.jiffies == 10


def test_briefing_text_goals_verbatim_and_the_keys_its_walkthrough_uses():
    e = engine()
    sc = e.sim.scene
    b = teach.briefing(sc, e.sim.walkthrough, e.k.hz, key_of=lambda cid: {"adj": "a", "pause": "space",
                                                                             "help": "?"}[cid])
    assert b.goals == [g.describe(e.k.hz) for g in sc.goals] == ["db (pid 100) survives", "no second OOM victim"]
    keys = [k for k, _ in b.keys]
    assert keys == ["↑ ↓", "a", "space", "?"]  # first-oom's walkthrough sets oom_score_adj on a selected process
    assert b.text == sc.game.briefing
    # a scene without a short briefing falls back to the story's first sentences
    fr = load_scene("frozen-robust-holder").scene
    fb = teach.briefing(fr, [], 250, key_of=str)
    assert fb.text and fb.text in " ".join(fr.story.split()) and fb.goals == []


def test_reading_time_grows_with_words_and_shrinks_with_speed():
    assert teach.reading_time("one two three four") == pytest.approx(1 + 0.25 * 4)  # 240 words a minute
    assert teach.reading_time("one two three four", speed=2) == pytest.approx((1 + 1) / 2)
    assert teach.reading_time("x", speed=100) == teach.READ_MIN_S


def test_autoplay_opens_on_the_briefing_caption_and_each_caption_holds_time_while_read():
    e = engine()
    ran = []
    s = Sequencer(e, autoplay=True, run_step=ran.append)
    text, _, hold = s.caption
    assert text.startswith(e.sim.scene.title) and not hold
    assert s.waiting == READING
    need = teach.reading_time(text)
    s.tick(need / 2)
    assert s.waiting == READING and s.advance(100) == [] and e.k.jiffies == 0 and ran == []
    s.tick(need)
    assert s.waiting is None
    s.advance(1)  # the t=0 step runs, its caption is read before time moves on
    assert [st.at for st in ran] == [0] and s.waiting == READING and e.k.jiffies == 0
    s.go_on()
    # steps run at their exact jiffy: time stops at the next one
    s.advance(10_000)
    assert e.k.jiffies == e.sim.walkthrough[1].at == ran[-1].at


def test_a_hold_waits_for_go_on_and_holds_can_be_turned_off():
    e = engine()
    s = Sequencer(e, autoplay=True, reading=False)
    while s.waiting != HOLD and e.k.jiffies < e.sim.duration:
        s.advance(50)
    assert s.waiting == HOLD and s.caption[2]
    j = e.k.jiffies
    s.advance(50)
    assert e.k.jiffies == j
    s.go_on()
    s.advance(50)
    assert e.k.jiffies > j
    e2 = engine()
    s2 = Sequencer(e2, autoplay=True, reading=False, holds=False)
    s2.advance(e2.sim.duration)
    s2.advance(e2.sim.duration)
    assert s2.waiting is None and s2.step_i == len(e2.sim.walkthrough)


def test_teach_mode_stops_at_the_jiffy_of_each_kernel_decision():
    e = engine()
    s = Sequencer(e, teach_mode=True)
    events = s.advance(e.sim.duration)
    sel = [x for x in events if isinstance(x, ev.OomSelected)]
    assert len(sel) == 1 and e.k.jiffies == sel[0].t  # stopped at the decision, not later
    assert s.waiting == CARD
    card = s.card
    assert "out_of_memory()" in card.title and "select_bad_process()" in card.what and "db (100)" in card.what
    # the same jiffy armed the reaper's timer (6.18 keeps the 2 s delay): a second card, same time
    s.go_on()
    assert s.waiting == CARD and "queue_oom_reaper()" in s.card.title and e.k.jiffies == sel[0].t
    s.go_on()
    assert s.waiting is None
    s.advance(e.sim.duration)
    # db exits on its own; the timer fires two seconds after the kill and finds nothing to do
    assert s.waiting == CARD and "nothing to do" in s.card.title and "MMF_OOM_SKIP" in s.card.what
    assert e.k.jiffies == sel[0].t + 2 * e.k.hz


def test_without_teach_mode_time_runs_through_decisions():
    e = engine()
    s = Sequencer(e)
    s.advance(e.sim.duration)
    assert e.finished and s.waiting is None and not s.cards


def test_teach_cards_for_futex_fates_and_process_mrelease():
    # lmkd-player by its walkthrough: the worker's robust list is walked, the waiter gets EOWNERDEAD,
    # and process_mrelease returns 0
    e = engine("lmkd-player")
    sim = e.sim
    sim.autoplay()
    sim.advance(sim.duration - e.k.jiffies)
    cards = teach.cards(list(e.k.events), e.k)
    text = " | ".join(c.title for c in cards)
    assert "process_mrelease() returned 0" in text
    assert "a robust futex owner died" in text and "EOWNERDEAD" in text
    # thread 102 exits after the reap and faults on its list head, but it held no mutex: the card says so
    fault = next(c for c in cards if "exit_robust_list() could not read" in c.title)
    assert "held no robust mutex" in fault.what


def test_run_rest_runs_every_step_and_skips_what_waits_for_a_key():
    e = engine("frozen-android-app")
    ran = []
    s = Sequencer(e, autoplay=True, teach_mode=True, briefing=True, run_step=ran.append)
    s.run_rest()
    assert e.finished and len(ran) == len(e.sim.walkthrough) and s.waiting is None


def test_commands_depend_on_the_host_protocol_not_on_screens_or_the_palette():
    import ast
    from pathlib import Path

    import oomtui.tui.commands as commands

    tree = ast.parse(Path(commands.__file__).read_text())
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(m.startswith(("screens", "palette", "app")) or m.endswith(("help", "palette")) for m in imported), \
        imported
